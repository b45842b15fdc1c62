"""Every kind of notice sent through the fake WeChat API as WeChat checks it (the default mapping and a
custom one), each with a working link to its full text; the fake refuses what WeChat would refuse."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from chatbot.app import create_app
from chatbot.config import Config
from chatbot.notify.compose import fits
from chatbot.notify.delivery import deliver_due
from chatbot.notify.message import LINK_GRACE_DAYS, link_token
from chatbot.notify.templates import load_templates
from chatbot.store.models import Account, OutboxMessage
from chatbot.store.notice_kinds import NoticeKind
from chatbot.store.outbox import enqueue
from chatbot.timeutil import SHANGHAI
from chatbot.wechat.api import ApiError, make_client
from chatbot.wechat.fake_api import ARGUMENT_INVALID, INVALID_TEMPLATE, FakeWeChatServer
from tests.conftest import Backend, fake_wechat_env

UNION = "西吉县宁夏回族自治区电力供应服务有限责任公司第一分公司工会委员会"
BASE = "https://nj.example.cn/"
CUSTOM = """
[templates.results]
id = "MY-RESULTS"
title = "评比结果通知"
kinds = ["result_published", "result_final"]
fields = [
    { key = "name01", source = "union", label = "单位" },
    { key = "phrase02", source = "stars", label = "等级" },
    { key = "thing03", source = "summary", label = "说明" },
    { key = "date04", source = "sent", label = "日期" },
]

[templates.everything]
id = "MY-NOTICES"
title = "工作通知"
kinds = [
    "self_check_due", "self_check_submitted", "self_check_withdrawn", "review_due", "self_check_returned",
    "evaluation_open", "evaluation_closing", "objection_filed", "re_review_due", "re_review_overdue",
    "report_due", "coverage_warning", "remediation_due", "remediation_reported", "remediation_checked",
    "grid_overdue", "objection_decided",
]
fields = [
    { key = "thing1", source = "subject", label = "事项" },
    { key = "thing2", source = "union", label = "单位" },
    { key = "thing3", source = "summary", label = "内容" },
    { key = "thing4", source = "action", label = "办理" },
    { key = "time5", source = "sent", label = "时间" },
]
"""


def long_text(kind: NoticeKind) -> str:
    """A notice as long as the real ones, with a mobile number (an objection may quote one)."""
    return (
        f"{UNION} 2026 年度{kind.label}：四星级，87.5 分。请于 2026-12-12 前办理，"
        "发送“结果”查看详情；如有疑问请联系 13812345678。\n第二段：更多说明。"
    )


def service(backend: Backend, fake: FakeWeChatServer, tmp_path: Path, templates: str) -> Flask:
    config = Config.from_env(
        fake_wechat_env(backend, fake, tmp_path, WECHAT_TEMPLATES_FILE=templates, PUBLIC_BASE_URL=BASE)
    )
    assert config.template_map is not None
    fake.state.templates = {t.id: t for t in config.template_map.templates}
    return create_app(config, **backend.parts())


def queue_every_kind(app: Flask, now: datetime) -> dict[str, str]:
    """One notice of every kind, each to its own account; openid → the notice's full text."""
    texts = {}
    with app.extensions["nianjian.sessions"].begin() as session:
        for kind in NoticeKind:
            account = Account(openid=f"o-{kind.value}")
            session.add(account)
            session.flush()
            facts = {"union": UNION, "stars": "四星级", "score": "87.5", "round": 1, "result": "已退回"}
            texts[account.openid] = long_text(kind)
            enqueue(session, account.id, kind, f"k-{kind.value}", long_text(kind), now, "2026-12-12", facts)
    return texts


@pytest.mark.parametrize("templates", ["default", "custom"])
def test_every_kind_arrives_whole_with_a_link_to_its_full_text(
    backend: Backend, fake: FakeWeChatServer, tmp_path: Path, templates: str
) -> None:
    if templates == "custom":
        (tmp_path / "mine.toml").write_text(CUSTOM, encoding="utf-8")
        templates = str(tmp_path / "mine.toml")
    app = service(backend, fake, tmp_path, templates)
    now = datetime(2026, 12, 6, 1, tzinfo=UTC)
    texts = queue_every_kind(app, now)
    config = app.extensions["nianjian.config"]
    sessions = app.extensions["nianjian.sessions"]
    report = deliver_due(sessions, make_client(config, sessions), config, now)
    assert (report.sent, report.failed, report.errors) == (len(NoticeKind), 0, [])
    refused = [call for call in fake.state.calls if call.get("errcode") not in (0, None)]
    assert refused == []  # WeChat would have taken every send whole
    client = app.test_client()
    for call in fake.sends():
        body, template = call["body"], fake.state.templates[call["body"]["template_id"]]
        types = {field.key: field.type for field in template.fields}
        for key, field in body["data"].items():
            assert fits(types[key], field["value"]), (call["touser"], key, field)  # no field WeChat cuts
        assert call["seen"][-1] == f"详情：{body['url']}"
        assert body["url"].startswith(BASE + "n/")
        page = client.get(urlsplit(body["url"]).path)
        assert page.status_code == 200, call["touser"]
        shown = html.unescape(page.get_data(as_text=True))
        full = texts[call["touser"]]
        for line in full.replace("13812345678", "138****5678").splitlines():
            assert line in shown
        assert "13812345678" not in shown  # a mobile number is masked
        assert (
            'name="viewport" content="width=device-width' in shown
            and "https://" not in shown.split("<main>")[0]
        )
        assert "请在公众号对话框中发送" in shown and "<strong>结果</strong>" in page.get_data(as_text=True)
        assert (
            page.headers["Cache-Control"] == "no-store"
            and "default-src 'self'" in page.headers["Content-Security-Policy"]
        )
    app.extensions["nianjian.engine"].dispose()


def test_the_page_names_the_last_day_its_link_opens(
    backend: Backend, fake: FakeWeChatServer, tmp_path: Path
) -> None:
    """A link ends at midnight after its grace days: the page names the day before, to 23:59."""
    app = service(backend, fake, tmp_path, "default")
    now = datetime.now(UTC)
    due_day = now.astimezone(SHANGHAI).date()
    with app.extensions["nianjian.sessions"].begin() as session:
        account = Account(openid="o-due")
        session.add(account)
        session.flush()
        text = long_text(NoticeKind.SELF_CHECK_DUE)
        enqueue(session, account.id, NoticeKind.SELF_CHECK_DUE, "due", text, now, due_day.isoformat())
        notice = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == "due"))
    assert notice is not None
    page = app.test_client().get(f"/n/{link_token('test-secret', notice)}").get_data(as_text=True)
    last = due_day + timedelta(days=LINK_GRACE_DAYS)
    assert f"有效至 {last.year}年{last.month}月{last.day}日 23:59" in page
    app.extensions["nianjian.engine"].dispose()


def test_an_unknown_or_expired_link_reveals_nothing(
    backend: Backend, fake: FakeWeChatServer, tmp_path: Path
) -> None:
    app = service(backend, fake, tmp_path, "default")
    long_ago = datetime.now(UTC) - timedelta(days=40)
    with app.extensions["nianjian.sessions"].begin() as session:
        account = Account(openid="o-old")
        session.add(account)
        session.flush()
        due = (long_ago + timedelta(days=5)).astimezone(SHANGHAI).date().isoformat()
        enqueue(
            session,
            account.id,
            NoticeKind.SELF_CHECK_DUE,
            "old",
            long_text(NoticeKind.SELF_CHECK_DUE),
            long_ago,
            due,
        )
        old = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == "old"))
    assert old is not None
    client = app.test_client()
    token = link_token("test-secret", old)
    gone = client.get(f"/n/{token}")
    assert gone.status_code == 410 and "链接已失效" in gone.get_data(as_text=True)
    for wrong in (
        link_token("another-secret", old),
        f"{old}",
        "1.AAAAAAAAAAAAAAAAAAAAAA",
        link_token("test-secret", 99999),
    ):
        page = client.get(f"/n/{wrong}")
        assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True)
    for page in (gone, client.get("/n/x")):
        body = page.get_data(as_text=True)
        assert UNION not in body and "自查自评" not in body  # nothing of the notice
    app.extensions["nianjian.engine"].dispose()


def test_the_fake_refuses_what_wechat_would_refuse(
    backend: Backend, fake: FakeWeChatServer, tmp_path: Path
) -> None:
    app = service(backend, fake, tmp_path, "default")
    config = app.extensions["nianjian.config"]
    client = make_client(config, app.extensions["nianjian.sessions"])
    template = load_templates("default").by_kind[NoticeKind.RESULT_PUBLISHED]
    good = {"thing1": {"value": "供电公司工会"}, "phrase2": {"value": "四星级"}, "number3": {"value": "87.5"}}
    client.send_template("o-1", template.id, good, BASE + "n/1.x")
    wrong = [
        ("NO-SUCH-TEMPLATE", good, INVALID_TEMPLATE),
        (template.id, good | {"thing1": {"value": "供" * 21}}, ARGUMENT_INVALID),
        (template.id, good | {"thing1": {"value": "第一行\n第二行"}}, ARGUMENT_INVALID),
        (template.id, good | {"keyword3": {"value": "说明"}}, ARGUMENT_INVALID),
        (template.id, good | {"phrase2": {"value": "四星级（优秀）"}}, ARGUMENT_INVALID),
        (template.id, good | {"number3": {"value": "87.5 分"}}, ARGUMENT_INVALID),
    ]
    for template_id, data, code in wrong:
        with pytest.raises(ApiError) as refused:
            client.send_template("o-1", template_id, data)
        assert refused.value.errcode == code, data
    assert len(fake.sends()) == 1
    app.extensions["nianjian.engine"].dispose()


def test_notices_preview_shows_each_field_and_the_link(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_TEMPLATES_FILE", "default")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    shown = cli("notices", "preview", "result_published")
    assert "模板：考核结果通知（DEFAULT_RESULT_TEMPLATE_ID）" in shown
    assert "考核等级（phrase2，phrase）：四星级" in shown and "考核得分（number3，number）：87.5" in shown
    assert "未设置 PUBLIC_BASE_URL" in shown  # no link, and it says so
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE)
    assert f"详情链接：{BASE}n/" in cli("notices", "preview", "self_check_due")
    monkeypatch.delenv("WECHAT_TEMPLATES_FILE")
    assert "没有模板" in cli("notices", "preview", "self_check_due")  # customer-service text only
    assert "不是通知类型" in cli.refused("notices", "preview", "no_such_kind")

"""Reminders and delivery against the fake WeChat API, a real HTTP server on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import organisations
from chatbot.notify.tick import run_due
from chatbot.store.engine import make_engine, session_factory
from chatbot.store.models import Account, OutboxMessage
from chatbot.store.outbox import enqueue
from chatbot.timeutil import SHANGHAI
from chatbot.wechat.api import make_client
from chatbot.wechat.fake_api import FakeWeChatServer
from tests.conftest import Backend, fake_wechat_env
from tests.helpers import assess, self_check, setup_county

NINE = (9, 0)


@pytest.fixture
def env(backend: Backend, fake: FakeWeChatServer, tmp_path: Path) -> dict[str, str]:
    return fake_wechat_env(backend, fake, tmp_path)


Tick = Callable[[datetime], None]


def ticker(env: dict[str, str], **extra: str) -> Tick:
    config = Config.from_env(env | extra)
    sessions = session_factory(make_engine(config.database_url))
    client = make_client(config, sessions)

    def tick(now: datetime) -> None:
        run_due(sessions, config, now, client)

    return tick


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def sends_by(fake: FakeWeChatServer) -> dict[str, list[str]]:
    """openid → the texts (or template keyword3) sent to it, in order."""
    found: dict[str, list[str]] = defaultdict(list)
    for call in fake.sends():
        body = call["body"]
        text = body["text"]["content"] if "text" in body else body["data"]["keyword3"]["value"]
        found[call["touser"]].append(text)
    return found


def test_the_seeds_2_30_is_the_last_day_of_february(cli) -> None:
    out = cli("campaign", "open", "2026", "--self-check-due", "2026-12-20", "--review-due", "2027-01-20")
    assert "总结报送截止：2027-02-28（设定为次年 02-30）" in out and "2027 年没有 2月30日" in out
    assert "总结报送截止：2028-02-29" in cli("campaign", "open", "2027")
    assert "总结报送截止：2027-03-15" in cli("campaign", "open", "2026", "--report-due", "03-15")
    shown = cli("campaign", "show", "2026")
    assert "自评截止：    2026-12-20" in shown and "考评截止：    2027-01-20" in shown


def test_every_reminder_fires_at_its_offsets_and_not_before(
    env: dict[str, str], fake: FakeWeChatServer, db: Session, user, cli
) -> None:
    today = datetime.now(SHANGHAI).date()
    codes = setup_county(db, 4)
    self_due, review_due = today + timedelta(days=20), today + timedelta(days=40)
    _campaign_opens_with_its_deadlines(cli, self_due, review_due)
    _admins_of_the_city_and_two_counties_bind(db, user)
    _unions_stand_at_every_stage(user, codes, cli, today)
    sent_on = _every_day_is_ticked_twice(env, fake, today)
    _each_reminder_fell_on_its_offsets(sent_on, fake, today, self_due, review_due)


def _campaign_opens_with_its_deadlines(cli, self_due: date, review_due: date) -> None:
    cli(
        "campaign",
        "open",
        "2026",
        "--self-check-due",
        self_due.isoformat(),
        "--review-due",
        review_due.isoformat(),
    )


def _admins_of_the_city_and_two_counties_bind(db: Session, user) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        admins = {
            code: organisations.create_invitation(db, code, "admin").code for code in ("GY", "YZ", "XJ")
        }
    for code, invitation in admins.items():
        user(f"admin-{code}").say(f"绑定 {invitation}")


def _unions_stand_at_every_stage(user, codes: dict[str, str], cli, today: date) -> None:
    user("chair1").say(f"绑定 {codes['chair1']}")  # never submits
    self_check(user("chair2"), codes["chair2"])  # waits for the evaluator
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    # U03: rated, published, objected → a re-review is due in 10 days.
    self_check(user("chair3"), codes["chair3"])
    assess(evaluator, "U03", {})
    cli("results", "confirm", "--year", "2026", "--reason", "其余单位本年度暂不评定")
    cli("publish", "--year", "2026")
    objector = user("member3")
    objector.say(f"绑定 {codes['member3']}")
    assert "异议已收到" in objector.say("异议 第2项与实际不符")
    # U04: an evaluation closing in 10 days; one member votes, one does not.
    voter, idle = user("voter4"), user("idle4")
    voter.say(f"绑定 {codes['member4']}")
    idle.say(f"绑定 {codes['member4']}")
    cli("evaluation", "open", "--org", "U04", "--closes", (today + timedelta(days=10)).isoformat())
    voter.say("测评")
    for answer in ("1",) * 8 + ("无",):
        voter.say(answer)
    cli("report", "received", "--county", "XJ", "--year", "2026")
    cli("report", "received", "--county", "XJ", "--year", "2026", "--paper")


def _every_day_is_ticked_twice(
    env: dict[str, str], fake: FakeWeChatServer, today: date
) -> dict[tuple[str, str], list[date]]:
    """(openid, subject) → the days a reminder was sent, from today to past the report's due date."""
    tick = ticker(env, WECHAT_TEMPLATE_ID="TPL-DEFAULT")  # templates: no 48-hour window in the way
    fake.state.calls.clear()
    sent_on: dict[tuple[str, str], list[date]] = defaultdict(list)
    day = today
    while day <= date(2027, 3, 2):
        before = len(fake.sends())
        tick(at(day))
        tick(at(day, 15))  # a second tick the same day sends nothing new
        for call in fake.sends()[before:]:
            sent_on[(call["touser"], call["body"]["data"]["keyword1"]["value"])].append(day)
        day += timedelta(days=1)
    return sent_on


def _each_reminder_fell_on_its_offsets(
    sent_on: dict[tuple[str, str], list[date]],
    fake: FakeWeChatServer,
    today: date,
    self_due: date,
    review_due: date,
) -> None:
    def on(openid: str, subject: str) -> list[date]:
        return sent_on.get((openid, subject), [])

    offsets = lambda deadline, days: [deadline - timedelta(days=d) for d in days]  # noqa: E731
    assert on("chair1", "自查自评截止提醒") == offsets(self_due, (7, 3, 1))
    assert on("chair2", "自查自评截止提醒") == []
    assert on("evaluator", "组织评定截止提醒") == offsets(review_due, (7, 3, 1))
    assert on("idle4", "民主测评即将结束") == offsets(today + timedelta(days=10), (3, 1))
    assert on("voter4", "民主测评即将结束") == []
    re_due = today + timedelta(days=10)
    assert on("evaluator", "复查评定截止提醒") == offsets(re_due, (3, 1))
    assert on("admin-GY", "复查评定已逾期") == [re_due + timedelta(days=1)]
    assert on("admin-YZ", "年检覆盖率预警") == offsets(review_due, (30, 14, 7))
    assert on("admin-YZ", "年检工作情况总结上报提醒") == offsets(date(2027, 2, 28), (14, 7, 3, 1))
    assert on("admin-XJ", "年检工作情况总结上报提醒") == []  # both copies received
    deadlines = [call["body"]["data"]["keyword2"]["value"] for call in fake.sends()]
    assert "2027年2月28日" in deadlines  # the summary's due date, in the form WeChat takes
    values = [field["value"] for call in fake.sends() for field in call["body"]["data"].values()]
    assert all(len(value) <= 20 and "\n" not in value for value in values)  # nothing WeChat would cut
    assert all(call["body"]["template_id"] == "TPL-DEFAULT" for call in fake.sends())
    assert fake.state.token_fetches == 1  # one token for every message


def _queue(db: Session, openids: list[str], count: int = 1, kind: str = "result_final") -> None:
    """Queue test notices, due a moment ago."""
    now = datetime.now(UTC) - timedelta(seconds=2)
    db.rollback()  # end the read transaction of earlier checks
    with db.begin():
        for openid in openids:
            account = db.scalar(select(Account).where(Account.openid == openid))
            if account is None:
                account = Account(openid=openid, last_message_at=now)
                db.add(account)
                db.flush()
            for n in range(count):
                enqueue(db, account.id, kind, f"{kind}:{openid}:{n}", f"测试通知 {n}", now)


def _statuses(db: Session) -> dict[str, str]:
    db.expire_all()
    return {row.dedup_key: row.status for row in db.scalars(select(OutboxMessage))}


def test_busy_errors_are_retried_with_backoff_then_delivered_once(env, fake, db: Session) -> None:
    _queue(db, ["u-busy"])
    tick = ticker(env)
    now = datetime.now(UTC)
    fake.state.fail_next.extend([-1, -1])
    tick(now)
    assert _statuses(db) == {"result_final:u-busy:0": "pending"}
    tick(now + timedelta(seconds=30))  # before the backoff: nothing
    assert len([c for c in fake.state.calls if c["api"] == "message/custom/send"]) == 1
    tick(now + timedelta(minutes=1))
    tick(now + timedelta(minutes=7))
    assert _statuses(db) == {"result_final:u-busy:0": "sent"}
    assert [c["errcode"] for c in fake.state.calls if c["api"] == "message/custom/send"] == [-1, -1, 0]
    tick(now + timedelta(hours=1))
    assert len(fake.sends()) == 1


def test_an_unsubscribed_user_is_recorded_and_never_retried(env, fake, db: Session) -> None:
    _queue(db, ["u-gone", "u-here"])
    fake.state.fail_openid["u-gone"] = 43004
    tick = ticker(env)
    now = datetime.now(UTC)
    tick(now)
    assert _statuses(db) == {"result_final:u-gone:0": "failed", "result_final:u-here:0": "sent"}
    failed = db.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
    assert failed is not None and failed.last_error and failed.last_error.startswith("43004")
    assert db.scalar(select(Account.subscribed).where(Account.openid == "u-gone")) is False
    _queue(db, ["u-gone"], kind="result_published")
    for hours in (1, 5, 24):
        tick(now + timedelta(hours=hours))
    gone_calls = [c for c in fake.state.calls if c.get("body", {}).get("touser") == "u-gone"]
    assert len(gone_calls) == 1  # the later notice is undeliverable without another call
    assert "undeliverable" in _statuses(db).values()


def test_template_when_configured_else_text_inside_the_window_only(env, fake, db: Session) -> None:
    now = datetime.now(UTC)
    _queue(db, ["u-recent"], count=6)
    db.rollback()
    with db.begin():
        db.add(Account(openid="u-old", last_message_at=now - timedelta(hours=49)))
        db.add(Account(openid="u-clicked", last_event_at=now - timedelta(seconds=20)))
    _queue(db, ["u-old", "u-clicked"], count=4, kind="result_published")
    ticker(env)(now)
    calls = fake.sends()
    assert {c["api"] for c in calls} == {"message/custom/send"}
    by = sends_by(fake)
    assert len(by["u-recent"]) == 5  # five within 48 h of the user's last message
    assert len(by["u-clicked"]) == 3  # three within a minute of a click
    assert "u-old" not in by  # outside the window: no call wasted
    statuses = _statuses(db)
    assert sorted(statuses.values()).count("undeliverable") == 1 + 1 + 4
    ticker(env, WECHAT_TEMPLATE_ID="TPL-1", WECHAT_TEMPLATE_ID_RESULT_PUBLISHED="TPL-RESULT")(now)
    assert fake.sends() == calls  # nothing pending was left to send
    _queue(db, ["u-old"], count=1, kind="result_final")  # the same key again: not queued twice
    db.rollback()
    with db.begin():
        account = db.scalar(select(Account).where(Account.openid == "u-old"))
        assert account is not None
        enqueue(db, account.id, "result_published", "fresh:u-old", "新的公示通知", now)
    ticker(env, WECHAT_TEMPLATE_ID="TPL-1", WECHAT_TEMPLATE_ID_RESULT_PUBLISHED="TPL-RESULT")(now)
    template_call = fake.sends()[-1]
    assert (
        template_call["api"] == "message/template/send"
        and template_call["body"]["template_id"] == "TPL-RESULT"
    )
    assert template_call["body"]["data"]["keyword1"]["value"] == "年检结果公示"


def test_a_rejected_token_is_refreshed_once(env, fake, db: Session) -> None:
    _queue(db, ["u-token"], count=2)
    tick = ticker(env)
    now = datetime.now(UTC)
    _queue(db, ["u-token-2"])
    tick(now)
    assert fake.state.token_fetches == 1
    fake.state.tokens.clear()  # WeChat invalidated it (40001)
    _queue(db, ["u-token-3"])
    tick(now + timedelta(seconds=1))
    assert fake.state.token_fetches == 2
    assert set(_statuses(db).values()) == {"sent"}


def _tick_process(env: dict[str, str], now: datetime) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        "from chatbot.cli import main; main()",
        "tick",
        "--now",
        now.isoformat(),
    ]
    return subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _until(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Whether ``condition`` came true within ``seconds`` (polled: a wait for an event, not a timing)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_two_concurrent_ticks_send_each_notice_once(env, fake, db: Session) -> None:
    _queue(db, [f"u-c{n}" for n in range(12)])
    now = datetime.now(UTC)
    processes = [_tick_process(env, now) for _ in range(2)]
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
    assert sorted(c["touser"] for c in fake.sends()) == sorted(f"u-c{n}" for n in range(12))
    assert set(_statuses(db).values()) == {"sent"}


def test_a_restart_in_the_middle_of_a_delivery_sends_nothing_twice(env, fake, db: Session) -> None:
    _queue(db, ["u-r0", "u-r1", "u-r2"])
    now = datetime.now(UTC)
    fake.state.send_delay = 2.0
    process = _tick_process(env, now)
    assert _until(lambda: fake.state.sends_in_flight == 1)  # the first send is in flight
    process.kill()
    process.wait()
    fake.state.send_delay = 0
    assert _until(lambda: fake.state.sends_in_flight == 0)  # the fake answered the request it had
    assert [call["touser"] for call in fake.sends()] == ["u-r0"]
    tick = ticker(env)
    tick(now + timedelta(seconds=10))
    tick(now + timedelta(minutes=10))  # past the claim's lease
    counts: dict[str, int] = defaultdict(int)
    for call in fake.sends():
        counts[call["touser"]] += 1
    # The send cut off mid-way reached WeChat once and is not repeated; the two never tried are sent.
    assert counts == {"u-r0": 1, "u-r1": 1, "u-r2": 1}
    assert _statuses(db) == {
        "result_final:u-r0:0": "unconfirmed",
        "result_final:u-r1:0": "sent",
        "result_final:u-r2:0": "sent",
    }


def test_menu_push_creates_the_menu(env, fake, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from chatbot.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["menu", "push"])
    assert result.exit_code == 0, result.output
    menu = next(c for c in fake.state.calls if c["api"] == "menu/create")["body"]
    assert [b["key"] for b in menu["button"]] == ["SELF_CHECK", "EVALUATION", "RESULT", "HELP"]
    kinds = CliRunner().invoke(main, ["notices", "kinds"])
    assert "无（48 小时内以客服消息发送）" in kinds.output
    header, *rows = kinds.output.splitlines()
    assert header.startswith("通知事项")  # the Chinese name first; the key only inside the variable
    report = next(row for row in rows if "年检工作情况总结上报提醒" in row)
    assert report.startswith("年检工作情况总结上报提醒") and "WECHAT_TEMPLATE_ID_REPORT_DUE" in report


def test_the_evaluation_qr_code_carries_wechats_scene_url(env, fake, db: Session, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from chatbot.cli import main

    setup_county(db, 1)
    png = tmp_path / "eval.png"
    result = CliRunner().invoke(main, ["evaluation", "open", "--org", "U01", "--qr", str(png)], env=env)
    assert result.exit_code == 0, result.output
    code = result.output.strip().splitlines()[-1]
    created = [c for c in fake.state.calls if c["api"] == "qrcode/create"]
    assert created and created[0]["body"]["action_info"]["scene"]["scene_str"] == f"eval:{code}"
    assert png.read_bytes().startswith(b"\x89PNG")


def test_a_tick_forgets_handled_messages_after_a_week(env, db: Session) -> None:
    from chatbot.store.models import InboundMessage

    now = datetime.now(UTC)
    with db.begin():
        db.add(
            InboundMessage(dedup_key="msg:old", openid="o", reply="{}", created_at=now - timedelta(days=8))
        )
        db.add(
            InboundMessage(dedup_key="msg:new", openid="o", reply="{}", created_at=now - timedelta(days=1))
        )
    ticker(env)(now)
    db.expire_all()
    assert list(db.scalars(select(InboundMessage.dedup_key))) == ["msg:new"]


def test_notices_list_refuses_an_unknown_status_and_says_when_none_has_it(cli, db: Session) -> None:
    _queue(db, ["reader-1"], count=3)
    refused = cli.refused("notices", "list", "--status", "bogus")
    assert "错误：--status 的值无效：“bogus”不是通知的状态；可选：待发送（pending）" in refused
    assert "失败（failed）" in refused and "无法送达（undeliverable）" in refused
    assert cli("notices", "list", "--status", "待发送").count("测试通知") == 3  # the Chinese word too
    failed = cli("notices", "list", "--status", "failed")
    assert "没有状态为“失败”（failed）的通知。" in failed and "测试通知" not in failed
    pending = cli("notices", "list", "--status", "pending")
    assert pending.count("测试通知") == 3 and "没有状态" not in pending

"""What people type never reaches the chat as markup (issue 19, point 2): an objection, an opinion (意见),
a reason, a suggestion, a remediation report or a union's name imported from a file carrying
``<a href="http://evil.example/login">点此查看复查结果</a>`` shows as text in every reply and notice — no
tappable link but the service's own ``weixin://bizmsgmenu`` ones, no bare address WeChat would make
tappable — and a cut to length never ends inside a tag or an entity.

Through the webhook and the fake WeChat API on SQLite and on PostgreSQL + Redis; the renderer and the
cuts by Hypothesis over random text.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from chatbot.inspection import campaigns, organisations
from chatbot.wechat.fake_api import FakeWeChatServer
from chatbot.wechat.protocol import links_of, render_text, truncate
from dialogs import markup
from dialogs.engine import MAX_REPLY_BYTES, Choice, Reply, fit, reply_bytes
from tests.conftest import Backend, fake_wechat_env
from tests.helpers import deductions, self_check
from tests.test_notices import sends_by, ticker


def hostile(label: str) -> str:
    """A link to a phishing page, with ``label`` as the words to tap."""
    return f'<a href="http://evil.example/login">{label}</a>'


HOSTILE = hostile("点此查看复查结果")
#: The service's own links, the only markup a reply may hold.
OWN_LINK = re.compile(r'<a href="weixin://bizmsgmenu\?msgmenucontent=[^&"<>]*&msgmenuid=\d+">[^<>&]*</a>')
#: What WeChat would make tappable in plain text: a scheme, a domain name.
ADDRESS = re.compile(r"[A-Za-z0-9+.\-]:\s*/\s*/|[A-Za-z0-9-]\.[A-Za-z]{2}")
PROPERTIES = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def foreign(rendered: str) -> list[str]:
    """What in a rendered reply or notice could act as markup or a link, the service's own links aside."""
    rest = OWN_LINK.sub("", rendered)
    return [c for c in "<>&" if c in rest] + ADDRESS.findall(rest)


# ---------------------------------------------------------------- the renderer and the cuts, by property

MARKUP_BITS = [
    "<",
    ">",
    "&",
    '"',
    "'",
    "/",
    ":",
    ".",
    "<a href=",
    "</a>",
    "&lt;",
    "&#60;",
    "&amp;",
    "http://",
    "HTTPS://",
    "weixin://bizmsgmenu?msgmenucontent=提交&msgmenuid=1",
    "www.",
    "evil.example",
    "]]>",
]
texts = st.lists(
    st.one_of(
        st.sampled_from(MARKUP_BITS), st.text(min_size=1, max_size=8), st.sampled_from(["字", "工会", "\n"])
    ),
    max_size=400,
).map("".join)
choices = st.lists(
    st.builds(Choice, st.text(max_size=12) | texts.map(lambda t: t[:12]), texts.map(lambda t: t[:20])),
    max_size=7,
)


@PROPERTIES
@given(texts, choices)
def test_a_rendered_reply_holds_no_markup_but_its_own_links_and_fits(
    text: str, given_choices: list[Choice]
) -> None:
    reply = Reply(text, tuple(given_choices))
    rendered = render_text(reply)
    assert len(rendered.encode("utf-8")) <= MAX_REPLY_BYTES
    assert foreign(rendered) == [], rendered
    found = links_of(rendered)
    if found:  # all of them, each as neutral text
        expected = [(markup.neutral(c.label), markup.attribute(c.content)) for c in given_choices]
        assert found == expected
    else:
        assert rendered in (markup.neutral(text), truncate(markup.neutral(text)))


@PROPERTIES
@given(texts, st.lists(st.sampled_from(["满分", "同", "上一项", "1", "2.5"]), max_size=7), texts)
def test_fit_keeps_the_question_and_its_links_whatever_the_prefix(
    prefix: str, words: list[str], question: str
) -> None:
    reply = Reply(question[:300], tuple(Choice(w, w) for w in words))
    fitted = fit(prefix, reply)
    assert reply_bytes(fitted) <= MAX_REPLY_BYTES
    rendered = render_text(fitted)
    assert links_of(rendered) == [(w, w) for w in words]
    assert foreign(rendered) == []


@PROPERTIES
@given(texts, st.integers(0, 3000))
def test_a_cut_ends_between_characters_never_inside_a_tag_or_an_entity(text: str, limit: int) -> None:
    neutral = markup.neutral(text)
    cut = markup.cut(text, limit)
    assert text.startswith(cut) and markup.size(cut) <= limit
    assert len(markup.cut(text, limit + 3)) >= len(cut)  # the longest start that fits
    shown = truncate(neutral, max(limit, 3))
    assert len(shown.encode()) <= max(limit, 3) and foreign(shown) == []
    assert markup.neutral(neutral) == neutral  # neutral twice is neutral once


def test_neutral_text_reads_the_same_and_is_understood_when_typed_back() -> None:
    assert markup.neutral(HOSTILE) == '＜a href="http：//evil．example/login"＞点此查看复查结果＜/a＞'
    assert markup.neutral("3.5分，第1.2项") == "3.5分，第1.2项"  # numbers keep their point
    assert markup.attribute('考评 A"&B') == "考评 A＂＆B"
    from dialogs.parsing import normalise

    assert normalise(markup.attribute("考评 A&B")) == "考评 A&B"  # a tapped choice folds back


# ---------------------------------------------------------------- an attacker's words, through the webhook


@pytest.fixture
def env(backend: Backend, fake: FakeWeChatServer, tmp_path: Path) -> dict[str, str]:
    """The service's environment for delivering notices to the fake WeChat API."""
    return fake_wechat_env(backend, fake, tmp_path)


def import_a_hostile_union(db: Session, cli, tmp_path: Path) -> dict[str, str]:
    """A city, a county and a village union whose name, imported from a CSV file, carries a link."""
    file = tmp_path / "unions.csv"
    with file.open("w", newline="", encoding="utf-8") as out:
        rows = csv.writer(out)
        rows.writerow(["code", "name", "rubric", "parent", "members"])
        rows.writerow(["GY", "固原市总工会", "", "", ""])
        rows.writerow(["YZ", "原州区总工会", "", "GY", ""])
        rows.writerow(["U01", hostile("本单位名称") + "社区工会", "village", "YZ", "40"])
    cli("org", "import", str(file))
    with db.begin():
        campaigns.open_year(db, 2026)
        return {
            "chair": organisations.create_invitation(db, "U01", "chair").code,
            "member": organisations.create_invitation(db, "U01", "member", uses=5).code,
            "evaluator": organisations.create_invitation(db, "YZ", "evaluator").code,
        }


def test_no_text_a_person_typed_becomes_a_link_in_a_reply_or_a_notice(
    user, db: Session, cli, tmp_path: Path, env: dict[str, str], fake: FakeWeChatServer
) -> None:
    codes = import_a_hostile_union(db, cli, tmp_path)
    replies: list[str] = []

    def said(sim, text: str) -> str:
        reply = sim.say(text)
        replies.append(reply)
        return reply

    chair, member, evaluator = user("chair"), user("member"), user("evaluator")
    assert "本单位名称" in said(chair, f"绑定 {codes['chair']}")  # the union's name, as text
    replies.append(self_check(chair, codes["chair"]))
    said(evaluator, f"绑定 {codes['evaluator']}")
    assert "退回原因" in said(evaluator, f"退回 U01 {hostile('退回原因')}")
    assert "退回原因" in said(chair, "自评")  # the chair reads the reason
    said(chair, "提交")

    said(member, f"绑定 {codes['member']}")
    code = cli("evaluation", "open", "--org", "U01").strip().splitlines()[-1]
    said(member, f"测评 {code}")
    for _ in range(8):
        said(member, "3")
    assert "感谢参与" in said(member, hostile("建议内容"))  # a suggestion: stored, never shown in chat

    said(evaluator, "考评 U01")
    assert "结束原因" in said(evaluator, f"结束测评 {hostile('结束原因')}")
    said(evaluator, f"意见 {hostile('考评意见')}")
    said(evaluator, "方式 1 3")
    for no in range(1, 31):
        said(evaluator, deductions(50).get(no, "同"))
    assert "考评意见" in said(evaluator, "查看")  # the opinion, in the assessment's record
    assert "组织评定已提交" in said(evaluator, "提交")
    cli("publish", "--year", "2026", "--days", "7")

    assert "异议已收到" in said(member, f"异议 {HOSTILE}")
    assert "点此查看复查结果" in said(evaluator, "进度")  # the objection, shortened
    assert "点此查看复查结果" in said(evaluator, "复查 U01")
    said(evaluator, f"5 {hostile('改分理由')}")  # a changed score's reason
    for _ in range(2, 31):
        said(evaluator, "同")
    assert "复查评定已提交" in said(evaluator, "提交")
    tick = ticker(env)
    tick(datetime.now(UTC) + timedelta(minutes=1))  # the notices so far, inside WeChat's 48 hours
    tick(datetime.now(UTC) + timedelta(days=8))  # the publication ends: final, below the standard
    said(chair, f"补课完成 {hostile('补课说明')}")
    assert "补课说明" in said(chair, "补课")
    assert "补课说明" in said(evaluator, "补课验收 U01")
    tick(datetime.now(UTC) + timedelta(minutes=2))

    notices = [text for texts in sends_by(fake).values() for text in texts]
    assert any("收到异议" in text and "点此查看复查结果" in text for text in notices), notices
    assert any("退回原因" in text for text in notices), notices
    assert any("补课说明" in text for text in notices), notices
    for shown in replies + notices:
        assert foreign(shown) == [], shown

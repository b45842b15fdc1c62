"""Template notice values under attack: union names of 40 emoji, combining characters, direction marks,
line breaks, ``\\u2028``, zero-width joiners, control characters; deadlines and scores at their edges.
Every field WeChat would get is within its typed limit however WeChat counts (characters, or UTF-16
units), on one line, with nothing that turns the text's direction, never cut inside a surrogate pair,
an emoji sequence, a character and its combining marks, or a number — by Hypothesis over the composer
of every template of the shipped and the legacy mapping."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chatbot.notify.compose import LIMITS, FieldType, fit, fits
from chatbot.notify.message import NoticeFacts, compose
from chatbot.notify.templates import load_templates
from chatbot.store.notice_kinds import NoticeKind

TEMPLATES = load_templates("default")
NOW = datetime(2026, 12, 6, 1, tzinfo=UTC)
#: Line and paragraph breaks of any kind, and what turns the direction of the text after it.
BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
DIRECTION = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ZWJ, VS16 = "\u200d", "\ufe0f"

NASTY_PARTS = [
    "😀" * 40,
    "👨‍👩‍👧‍👦" * 6,
    "e\u0301\u0302\u0303" * 8,
    "\u202e工会\u202c",
    "\u200f\u200e",
    "第一行\n第二行\r\n第三行",
    "甲\u2028乙\u2029丙\x85丁",
    "工\u200d会",
    "\x00\x07\x1b",
    "\U0001f1e8\U0001f1f3" * 12,
    "12345678901234567890123456789",
    "有限责任公司工会委员会" * 3,
    "<a href='x'>{{ x }}</a>",
]


def utf16(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me") or ch in (ZWJ, VS16) or 0x1F3FB <= ord(ch) <= 0x1F3FF


def check_field(kind: FieldType, value: str, source: str) -> None:
    assert fits(kind, value), (kind, value)
    assert utf16(value) <= LIMITS[kind] or (kind is FieldType.NAME and utf16(value) <= 20), (kind, value)
    assert not BREAKS.search(value) and not DIRECTION.search(value), (kind, value)
    assert not any(unicodedata.category(ch) == "Cc" for ch in value), (kind, value)
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if value.endswith("…"):  # cut: never inside an emoji sequence
        assert not value.removesuffix("…").endswith(ZWJ), (kind, value)
    # No number cut: each run of digits shown is a whole run of what it was made from.
    whole_runs = set(re.findall(r"\d+", unicodedata.normalize("NFKC", source)))
    for run in re.findall(r"\d+", value.removesuffix("…")):
        if value.endswith("…") and value.removesuffix("…").endswith(run):
            assert run in whole_runs, (kind, value, source)


UNION = st.one_of(
    st.lists(st.sampled_from(NASTY_PARTS), min_size=1, max_size=4).map("".join),
    st.text(min_size=0, max_size=60),
    st.text(
        st.sampled_from(["😀", "\u0301", ZWJ, "\u202e", "\u2028", "\n", "工", "会", "1", "a", VS16]),
        max_size=45,
    ),
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    union=UNION,
    due=st.one_of(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)).map(date.isoformat), st.just("")
    ),
    days_before=st.integers(min_value=0, max_value=800),
    score=st.sampled_from(
        ["87.5", "100", "-0", "0.005", "99.995", "NaN", "Infinity", "1e40", "abc", "", "３"]
    ),
)
@example(union="😀" * 40, due="2026-12-31", days_before=400, score="1e40")
def test_every_field_fits_whatever_the_union_and_the_dates(
    union: str, due: str, days_before: int, score: str
) -> None:
    created = NOW - timedelta(days=days_before)
    data = json.dumps({"union": union, "score": score, "stars": "四星级", "round": 1, "result": union})
    text = f"{union}：请于 {due} 前办理，发送“结果”查看。{union}"
    for kind in NoticeKind:
        template = TEMPLATES.by_kind.get(kind)
        if template is None:
            continue
        notice = NoticeFacts(1, kind.value, kind.label, due, text, data, created)
        values = compose(template, notice, NOW)
        for field in template.fields:
            check_field(field.type, values[field.key]["value"], union + text + score)


@settings(max_examples=150, deadline=None, database=None)
@given(value=UNION, kind=st.sampled_from(list(FieldType)))
def test_any_text_fits_any_text_field(value: str, kind: FieldType) -> None:
    if kind in (FieldType.TIME, FieldType.DATE):
        return
    check_field(kind, fit(kind, value), value)


def test_a_cut_keeps_what_shows_as_one_character_whole() -> None:
    family, flag, accented = "👨‍👩‍👧‍👦", "\U0001f1e8\U0001f1f3", "e\u0301\u0302"
    for unit in (family, flag, accented, "👍🏽", "❤️", "😀"):
        for lead in range(0, 6):
            value = fit(FieldType.THING, "工" * lead + unit * 20)
            kept = value.removesuffix("…").removeprefix("工" * lead)
            assert value.endswith("…") and utf16(value) <= 20
            assert kept == unit * (len(kept) // len(unit)), (unit, lead, value)  # whole units only
    assert fit(FieldType.THING, "第" + "1234567890" * 3 + "号") == "第…"  # a number is never cut
    assert fit(FieldType.NUMBER, "-0") == "0" and fit(FieldType.NUMBER, "NaN") == "0"
    assert fit(FieldType.NUMBER, "1e40") == "0" and fit(FieldType.NUMBER, "87.50") == "87.5"


def test_nasty_union_names_reach_the_fake_wechat_whole(backend, tmp_path) -> None:
    """End to end: every kind of notice for unions with these names is sent through the fake WeChat
    API, which refuses what WeChat would refuse (a field over its limit, a line break, a wrong form)."""
    from chatbot.notify.delivery import deliver_due
    from chatbot.store.models import Account
    from chatbot.store.outbox import enqueue
    from chatbot.wechat.api import make_client
    from chatbot.wechat.fake_api import FakeWeChatServer
    from tests.test_notice_links import service

    fake = FakeWeChatServer().start()
    try:
        app = service(backend, fake, tmp_path, "default")
        with app.extensions["nianjian.sessions"].begin() as session:
            # PostgreSQL's text holds no NUL: no union's name can carry one there.
            for n, union in enumerate(part.replace("\x00", "") for part in NASTY_PARTS):
                for kind in NoticeKind:
                    account = Account(openid=f"o-{n}-{kind.value}")
                    session.add(account)
                    session.flush()
                    facts = {
                        "union": union,
                        "stars": "四星级",
                        "score": "87.5",
                        "round": "1",
                        "result": union,
                    }
                    text = f"{union}：请于 2026-12-12 前办理，发送“结果”查看。"
                    enqueue(session, account.id, kind, f"k-{n}-{kind.value}", text, NOW, "2026-12-12", facts)
        config = app.extensions["nianjian.config"]
        sessions = app.extensions["nianjian.sessions"]
        sent = 0
        while True:  # a delivery takes a batch at a time
            report = deliver_due(sessions, make_client(config, sessions), config, NOW)
            assert report.failed == 0 and report.errors == []
            sent += report.sent
            if report.claimed == 0:
                break
        refused = [call for call in fake.state.calls if call.get("errcode") not in (0, None)]
        assert refused == [] and sent == len(NASTY_PARTS) * len(NoticeKind)
        for call in fake.sends():
            for value in call["body"]["data"].values():
                assert not BREAKS.search(value["value"]) and not DIRECTION.search(value["value"])
        app.extensions["nianjian.engine"].dispose()
    finally:
        fake.stop()

"""Hostile voice messages (语音) through the signed webhook: recognition with markup, links, CDATA
breakers, control characters, 10 kB of text, nothing, only punctuation. The reply is always a
well-formed XML reply WeChat can show (never a 500), echoes what was heard as text — never as markup or
a tappable address — and stays within WeChat's 2048 bytes."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.wechat.protocol import links_of
from chatbot.wechat.simulator import Simulator
from dialogs.engine import MAX_REPLY_BYTES
from dialogs.texts.common import HEARD_LENGTH, VOICE_NOT_HEARD
from dialogs.voice import spoken
from tests.conftest import APP_ID, TOKEN, transport_for

OWN_LINK = re.compile(r'<a href="weixin://bizmsgmenu\?msgmenucontent=[^&"<>]*&msgmenuid=\d+">[^<>&]*</a>')
ADDRESS = re.compile(r"[A-Za-z0-9+.\-]:\s*/\s*/|[A-Za-z0-9-]\.[A-Za-z]{2}")
#: What XML 1.0 does not allow in a document, even in CDATA (WeChat's client would not show the reply).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

#: Marks that turn the direction of what follows them: an echo holding one could be read backwards.
DIRECTION = re.compile("[\u202a-\u202e\u2066-\u2069]")


def foreign(reply: str) -> list[str]:
    rest = OWN_LINK.sub("", reply)
    return [c for c in "<>&" if c in rest] + ADDRESS.findall(rest)


HOSTILE = [
    '<a href="http://evil.example/login">点此查看复查结果</a>',
    "满分]]><MsgType>text</MsgType><![CDATA[",
    "]]>]]>]]>",
    "三分\x00\x01\x07\x1b[31m",
    "\x0b\x0c",
    "＜script＞alert(1)＜/script＞ &amp; &#60;",
    "www.evil.example/login 点这里",
    "weixin://dl/business/?t=abc",
    "测" * 10_000,
    "a" * 10_000 + "<b>",
    "。。。！？",
    "…………",
    "   ",
    "\u202e满分\u200d\u2028第二行",
]


def _check(reply_xml: tuple[int, str], sim: Simulator) -> str:
    status, body = reply_xml
    assert status == 200, body
    assert not NOT_XML.search(body), "the reply carries characters XML does not allow"
    text = sim.reply_text(status, body)
    assert len(text.encode("utf-8")) <= MAX_REPLY_BYTES
    assert foreign(text) == [], text[:200]
    return text


def test_hostile_recognition_is_echoed_as_text(user, city) -> None:
    chair = user("attack-voice")
    for said in HOSTILE:
        text = _check(chair.voice(said), chair)
        if spoken(NOT_XML.sub("", said)) == "":
            assert VOICE_NOT_HEARD in text and "听到" not in text, said
        else:
            echo = text.split("\n", 1)[0]
            assert echo.startswith("听到：") and len(echo) <= len("听到：") + HEARD_LENGTH, said
            assert not DIRECTION.search(text) and "\u2028" not in echo, said
    # A typed message with a control character pasted in is read too, not refused.
    assert "绑定 邀请码" in _check(chair.text("\x01帮助\x1f"), chair)
    # A voice without Recognition at all: how to answer instead.
    assert VOICE_NOT_HEARD in _check(chair.voice(), chair)
    assert ("帮助", "帮助") in links_of(chair.speak())


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(said=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300))
def test_any_recognition_gets_a_showable_reply(client, said: str) -> None:
    sim = Simulator(transport_for(client), "attack-voice-h", TOKEN, APP_ID)
    _check(sim.voice(said), sim)

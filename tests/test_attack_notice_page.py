"""The notice page ``/n/<token>`` under attack: forged, truncated, re-signed, expired, another notice's
token; markup and template syntax in what a notice says; mobile numbers however written; the headers
that keep it out of shared caches and search engines; and never a 500 for any path under /n/."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from chatbot.app import create_app
from chatbot.notify.message import LINK_GRACE_DAYS, link_token
from chatbot.store.models import Account, OutboxMessage
from chatbot.store.notice_kinds import NoticeKind
from chatbot.store.outbox import enqueue
from chatbot.timeutil import SHANGHAI
from tests.conftest import Backend, make_config

SECRET = "test-secret"
EVIL_UNION = '<script>alert("x")</script>{{ 7*7 }}{% if 1 %}TPL{% endif %}工会'
PHONES = [
    "13812345678",
    "+8613812345678",
    "86 138 1234 5678",
    "138-1234-5678",
    "１３８１２３４５６７８",
    "138 1234 5678",
]


@pytest.fixture
def page_app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        make_config(backend, tmp_path, PUBLIC_BASE_URL="https://nj.example.cn/"), **backend.parts()
    )
    yield app
    app.extensions["nianjian.engine"].dispose()


def queue(app: Flask, key: str, text: str, created: datetime, due: str, union: str = EVIL_UNION) -> int:
    with app.extensions["nianjian.sessions"].begin() as session:
        account = Account(openid=f"o-{key}")
        session.add(account)
        session.flush()
        enqueue(session, account.id, NoticeKind.SELF_CHECK_DUE, key, text, created, due, {"union": union})
        found = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key))
    assert found is not None
    return found


def assert_private(response) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def test_markup_and_template_syntax_in_a_notice_show_as_text(page_app: Flask) -> None:
    now = datetime.now(UTC)
    text = f"{EVIL_UNION} 请于近日完成自评，发送“<b>自评</b>”开始。\n联系：" + "；".join(PHONES)
    text += "\n身份证号 64042219900101123X、640422199001011234。"
    notice = queue(page_app, "evil", text, now, "")
    response = page_app.test_client().get(f"/n/{link_token(SECRET, notice)}")
    assert response.status_code == 200
    assert_private(response)
    body = response.get_data(as_text=True)
    assert "<script>" not in body and "<b>" not in body and "&lt;script&gt;" in body
    assert "49" not in body and "TPL" not in body.replace("{% if 1 %}TPL{% endif %}", "")
    assert '<meta name="robots" content="noindex' in body
    shown = html.unescape(body)
    for digits in ("12345678", "1234 5678", "1234-5678", "１２３４５６７８"):
        assert digits not in shown, digits  # every mobile number masked, however written
    assert shown.count("********") == 2 and shown.replace("********", "#").count("****") == len(PHONES)
    assert "64042219900101" not in shown and "640422********123X" in shown


def test_a_token_it_did_not_make_reveals_nothing(page_app: Flask) -> None:
    now = datetime.now(UTC)
    mine = queue(page_app, "mine", "西吉县甲工会：请完成自评，联系 13812345678。", now, "")
    other = queue(page_app, "other", "隆德县乙工会：请完成自评。", now, "", union="隆德县乙工会")
    client = page_app.test_client()
    token = link_token(SECRET, mine)
    number, mac = token.split(".")
    forged = [
        token[:-1],
        token + "A",
        f"{number}.{mac[:-1]}B" if mac[-1] != "B" else f"{number}.{mac[:-1]}C",
        link_token("another-secret", mine),
        f"{other}.{mac}",  # another notice's id with this one's mac
        f"0{token}",
        f"+{token}",
        f" {token}",
        token + "\n",
        token.upper() if token.upper() != token else token.lower(),
        f"{mine}",
        f"{mine}.",
        "9" * 19 + "." + mac,
        "9" * 40 + "." + mac,
    ]
    for wrong in forged:
        response = client.get(f"/n/{quote(wrong, safe='')}")
        assert response.status_code == 404, wrong
        assert_private(response)
        body = response.get_data(as_text=True)
        assert "西吉县" not in body and "隆德县" not in body and "5678" not in body, wrong
    other_page = html.unescape(client.get(f"/n/{link_token(SECRET, other)}").get_data(as_text=True))
    assert "隆德县乙工会" in other_page and "西吉县" not in other_page  # one notice, nobody else's


def test_a_link_works_to_the_last_minute_of_its_grace_days_then_reveals_nothing(page_app: Flask) -> None:
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI).date()
    last_day = (today - timedelta(days=LINK_GRACE_DAYS)).isoformat()  # opens to 23:59 today
    gone_day = (today - timedelta(days=LINK_GRACE_DAYS + 1)).isoformat()
    created = now - timedelta(days=20)
    still = queue(page_app, "still", "西吉县甲工会：自评截止。", created, last_day)
    gone = queue(page_app, "gone", "西吉县甲工会：自评截止。", created, gone_day)
    undated = queue(page_app, "undated", "西吉县甲工会：说明。", now - timedelta(days=31), "")
    client = page_app.test_client()
    assert client.get(f"/n/{link_token(SECRET, still)}").status_code == 200
    for notice in (gone, undated):
        response = client.get(f"/n/{link_token(SECRET, notice)}")
        assert response.status_code == 410
        assert_private(response)
        assert "西吉县" not in response.get_data(as_text=True)


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.one_of(
        st.text(max_size=80),
        st.from_regex(r"\A[0-9]{1,25}\.[A-Za-z0-9_=+/-]{0,30}\Z"),
        st.text(alphabet="./%?#&;:\\\x00\n~", max_size=20),
    ),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]),
)
def test_no_path_under_n_is_a_server_error(page_app: Flask, path: str, method: str) -> None:
    client = page_app.test_client()
    for url in (f"/n/{quote(path, safe='')}", f"/n/{quote(path, safe='/')}"):
        response = client.open(url, method=method)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code in (200, 404, 410) and url.count("/") == 2 and method == "GET":
            assert_private(response)

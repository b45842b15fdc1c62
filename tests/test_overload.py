"""A push that waited too long is answered 系统繁忙 at once and applies nothing (issue 23, point 3), on
both backends, through signed pushes to the webhook: one signed seconds ago stands for one that waited
in the socket's queue that long. WeChat's retry of it (the same query again, or a new one) or a later
message applies it exactly once; the busy answers are logged once per burst; a turn waiting for the
user's lock gives up within the reply budget."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.store.models import Account, InboundMessage, ItemScore
from chatbot.store.state import StorageKey
from chatbot.wechat.admission import BUSY, request_start
from chatbot.wechat.simulator import Simulator
from tests.conftest import AES_KEY, APP_ID, TOKEN, Backend, City, make_config, transport_for

#: The default limit (WECHAT_BUSY_AFTER), which the other tests raise to the most allowed.
BUSY_AFTER = {"WECHAT_BUSY_AFTER": "2"}

_msg_ids = count(880_000_000)


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    """The service with the default limit of a push's wait."""
    application = create_app(make_config(backend, tmp_path, **BUSY_AFTER), **backend.parts())
    yield application
    application.extensions["nianjian.engine"].dispose()


TURN_BUSY = "您的上一条消息还在处理中"


def _sender(app: Flask, openid: str, ago: float = 0.0, aes_key: str | None = None) -> Simulator:
    """A user whose pushes are signed ``ago`` seconds before they reach the webhook."""
    return Simulator(
        transport_for(app.test_client()), openid, TOKEN, APP_ID, aes_key, lambda: time.time() - ago
    )


def _text(openid: str, content: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def _scores(db: Session) -> dict[int, Decimal]:
    db.rollback()
    return {row.item_no: row.self_score for row in db.scalars(select(ItemScore))}


def _recorded(db: Session, msg_id: int) -> int:
    db.rollback()
    return db.scalar(select(func.count()).where(InboundMessage.dedup_key.contains(str(msg_id)))) or 0


def _chair_at_first_item(app: Flask, city: City, openid: str, aes_key: str | None = None) -> Simulator:
    chair = _sender(app, openid, aes_key=aes_key)
    assert "绑定成功" in chair.say(f"绑定 {city.chair_code}")
    assert "【1/43】" in chair.say("自评")
    return chair


def _exactly_once(
    db: Session, old: Simulator, fresh: Simulator, retry: Callable[[], tuple[int, str]], msg_id: int
) -> None:
    """The push signed long ago was answered busy with nothing applied; ``retry`` applies it, and a
    re-push of it under a new query gets the stored reply without applying it again."""
    assert _scores(db) == {} and _recorded(db, msg_id) == 0
    applied = fresh.reply_text(*retry())
    assert "【2/43】" in applied
    assert _scores(db) == {1: Decimal("5.0")} and _recorded(db, msg_id) == 1
    again = fresh.reply_text(*fresh.send(*fresh.sign(_text(fresh.openid, "5", msg_id))))
    assert again == applied
    assert "【3/43】" in fresh.say("4")  # the dialog moved on once: item 2 is next, not item 3
    assert _scores(db) == {1: Decimal("5.0"), 2: Decimal("4.0")} and _recorded(db, msg_id) == 1


def test_a_push_that_waited_too_long_applies_nothing_and_its_retry_applies_once(
    app: Flask, db: Session, city: City
) -> None:
    fresh = _chair_at_first_item(app, city, "busy-chair")
    old = _sender(app, "busy-chair", ago=4)
    msg_id = next(_msg_ids)
    pushed = old.sign(_text("busy-chair", "5", msg_id))
    assert old.reply_text(*old.send(*pushed)) == BUSY
    # WeChat's retry under the first push's query: its timestamp is old, but it is the same message.
    _exactly_once(db, old, fresh, lambda: old.send(*pushed), msg_id)


def test_the_user_sends_it_again_under_a_new_query(app: Flask, db: Session, city: City) -> None:
    fresh = _chair_at_first_item(app, city, "busy-again")
    old = _sender(app, "busy-again", ago=4)
    msg_id = next(_msg_ids)
    assert old.reply_text(*old.send(*old.sign(_text("busy-again", "5", msg_id)))) == BUSY
    _exactly_once(db, old, fresh, lambda: fresh.send(*fresh.sign(_text("busy-again", "5", msg_id))), msg_id)


def test_in_safe_mode_too(backend: Backend, tmp_path: Path, db: Session, city: City) -> None:
    app = create_app(
        make_config(backend, tmp_path, WECHAT_ENCODING_AES_KEY=AES_KEY, **BUSY_AFTER), **backend.parts()
    )
    fresh = _chair_at_first_item(app, city, "busy-safe", AES_KEY)
    old = _sender(app, "busy-safe", ago=4, aes_key=AES_KEY)
    msg_id = next(_msg_ids)
    pushed = old.sign(_text("busy-safe", "5", msg_id))
    assert old.reply_text(*old.send(*pushed)) == BUSY
    _exactly_once(db, old, fresh, lambda: old.send(*pushed), msg_id)
    app.extensions["nianjian.engine"].dispose()


def test_busy_answers_are_counted_and_logged_once_per_burst(
    app: Flask, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="chatbot.wechat.admission")
    for n in range(12):
        late = _sender(app, f"late-{n}", ago=4 + n % 3)
        assert late.say("自评") == BUSY
    assert app.extensions["nianjian.shedding"].total == 12
    assert [record.getMessage()[:11] for record in caplog.records] == ["overloaded:"]
    db.rollback()  # not even the sender's account: the database was not asked
    assert db.scalar(select(func.count()).select_from(Account)) == 0
    assert db.scalar(select(func.count()).select_from(InboundMessage)) == 0
    # Within the limit of 2 s: answered. The signed second is whole, so half a second back reads as
    # 0.5–1.49 s (one second back read as up to 1.99 s, busy after a few milliseconds more).
    assert "未绑定" in _sender(app, "late-ok", ago=0.5).say("自评")


def test_a_turn_waiting_for_the_users_lock_answers_within_the_budget(
    backend: Backend, app: Flask, db: Session, city: City
) -> None:
    fresh = _chair_at_first_item(app, city, "busy-locked")
    late = _sender(app, "busy-locked", ago=0.5)  # waited 0.5–1.49 s: at most 2 s left for the lock
    msg_id = next(_msg_ids)
    with backend.lock.hold(StorageKey("busy-locked", APP_ID), wait=1):
        started = time.monotonic()
        reply = late.reply_text(*late.send(*late.sign(_text("busy-locked", "5", msg_id))))
        waited = time.monotonic() - started
    assert TURN_BUSY in reply and waited < 3.5  # not the 4 s a fresh push may wait for the lock
    _exactly_once(db, late, fresh, lambda: fresh.send(*fresh.sign(_text("busy-locked", "5", msg_id))), msg_id)


def test_a_signed_second_minutes_old_is_a_clock_apart_not_a_wait(app: Flask) -> None:
    """The replay window takes a timestamp up to five minutes off (tests/test_webhook.py): a clock that
    far from WeChat's is let in, not answered busy forever."""
    assert "未绑定" in _sender(app, "skewed", ago=290).say("自评")
    assert _sender(app, "queued", ago=50).say("自评") == BUSY


def test_a_proxys_request_start_is_read_in_every_unit() -> None:
    assert request_start("t=1765000000.250") == 1765000000.25  # nginx ${msec}
    assert request_start("t=1765000000250000") == 1765000000.25  # HAProxy, Heroku: microseconds
    assert request_start("1765000000250") == 1765000000.25  # milliseconds
    assert request_start(None) is None and request_start("t=soon") is None and request_start("") is None


def _stamped(client: FlaskClient, user: Simulator, stamp: float) -> str:
    """The reply to 自评 from ``user``, stamped by the front proxy as taken at ``stamp``."""
    params, body = user.sign(_text(user.openid, "自评", next(_msg_ids)))
    response = client.post(
        "/wechat",
        query_string=params,
        data=body,
        content_type="text/xml",
        headers={"X-Request-Start": f"t={stamp:.3f}"},
    )
    return user.reply_text(response.status_code, response.get_data(as_text=True))


def test_a_trusted_proxy_stamp_decides_instead_of_the_signed_second(
    backend: Backend, tmp_path: Path, db: Session, city: City
) -> None:
    app = create_app(
        make_config(backend, tmp_path, WECHAT_REQUEST_START="1", **BUSY_AFTER), **backend.parts()
    )
    client = app.test_client()
    user = Simulator(transport_for(client), "proxied", TOKEN, APP_ID)
    assert _stamped(client, user, time.time() - 2.5) == BUSY
    # Signed long ago (a slow clock at WeChat's end, say) but stamped by the proxy just now: let in.
    late = Simulator(transport_for(client), "proxied-late", TOKEN, APP_ID, clock=lambda: time.time() - 4)
    assert "未绑定" in _stamped(client, late, time.time())
    app.extensions["nianjian.engine"].dispose()

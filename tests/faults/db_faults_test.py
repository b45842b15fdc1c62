"""Database lost (issue 14, point 4): PostgreSQL unreachable — a closed port, a server that went away
mid-conversation, a host that swallows connections — gives every message a Chinese apology (never a
500), one log line per failure burst, and the service recovers by itself when the database is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from cut_proxy import PASS, REFUSE, SWALLOW, CutProxy
from flask import Flask
from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.config import Config
from chatbot.store.counters import MemoryRateCounter
from chatbot.store.engine import make_engine, session_factory
from chatbot.store.models import InboundMessage, ItemScore
from chatbot.store.state import MemoryStateStore, MemoryUserLock
from chatbot.wechat.simulator import Simulator
from tests.conftest import APP_ID, TOKEN, reset_postgres, service_url, transport_for
from tests.helpers import VILLAGE, setup_county

UNAVAILABLE = "抱歉，系统暂时无法处理消息，您的这条消息没有记录"


def _app(database_url: str, tmp_path: Path, migrate: bool) -> Flask:
    config = Config.from_env(
        {
            "DATABASE_URL": database_url,
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_APP_ID": APP_ID,
            "NIANJIAN_INSTANCE": str(tmp_path / "instance"),
            "SECRET_KEY": "test-secret",
        }
    )
    parts = {"store": MemoryStateStore(), "lock": MemoryUserLock(), "counter": MemoryRateCounter()}
    return create_app(config, run_migrations=migrate, **parts)


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "chatbot.service.turn" and r.levelno >= logging.WARNING]


def _turn(call: Callable[[], tuple[int, str]]) -> tuple[int, str]:
    """A turn in a thread: a hang (no connect timeout) fails the test instead of wedging it."""
    result: list[tuple[int, str]] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert result, "the turn did not come back"
    return result[0]


def test_a_closed_port_gives_an_apology_and_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = CutProxy(("127.0.0.1", 9))
    closed.set(REFUSE)
    app = _app(f"postgresql+psycopg://postgres@127.0.0.1:{closed.port}/nowhere", tmp_path, migrate=False)
    user = Simulator(transport_for(app.test_client()), "user-closed", TOKEN, APP_ID)
    caplog.set_level(logging.INFO, logger="chatbot")
    try:
        for text in ("帮助", "自评", "3", "绑定 ABCD1234", "进度"):
            status, body = _turn(lambda t=text: user.text(t))  # type: ignore[misc]
            assert status == 200 and UNAVAILABLE in user.reply_text(status, body)
        status, body = _turn(lambda: user.event("CLICK", "SELF_CHECK"))
        assert status == 200 and UNAVAILABLE in user.reply_text(status, body)
    finally:
        closed.stop()
        app.extensions["nianjian.engine"].dispose()
    lines = _outage_lines(caplog)
    assert len(lines) == 1 and lines[0].levelname == "ERROR" and lines[0].exc_info is None
    assert "database unavailable" in lines[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for an outage


@pytest.fixture
def postgres_proxy() -> Iterator[tuple[CutProxy, str, str]]:
    """A proxy in front of the test PostgreSQL: (proxy, URL through it, direct URL)."""
    url = Config.from_env({"DATABASE_URL": service_url("TEST_DATABASE_URL") or ""}).database_url
    reset_postgres(url)
    direct = make_url(url)
    proxy = CutProxy((direct.host or "127.0.0.1", direct.port or 5432))
    through = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield proxy, through, url
    proxy.stop()


@contextmanager
def _chair_at_item_2(
    through: str, direct: str, tmp_path: Path, openid: str
) -> Iterator[tuple[Simulator, Session]]:
    """A chair of a county's union through ``through``, item 1 of the self-check answered, and a
    session straight to the database; both apps' engines disposed after."""
    app = _app(through, tmp_path, migrate=True)
    engine = make_engine(direct)
    db = session_factory(engine)()
    try:
        codes = setup_county(db, 1)
        chair = Simulator(transport_for(app.test_client()), openid, TOKEN, APP_ID)
        chair.say(f"绑定 {codes['chair1']}")
        chair.say("自评")
        assert "【2/30】" in chair.say("满分")
        yield chair, db
    finally:
        db.close()
        engine.dispose()
        app.extensions["nianjian.engine"].dispose()


def _self_scores(db: Session) -> dict[int, Decimal]:
    return {no: s for no, s in db.execute(select(ItemScore.item_no, ItemScore.self_score))}


@pytest.mark.parametrize("failure", [REFUSE, SWALLOW])
def test_postgres_lost_mid_conversation_then_back(
    postgres_proxy: tuple[CutProxy, str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    proxy, through, direct = postgres_proxy
    with _chair_at_item_2(through, direct, tmp_path, "chair-pg") as (chair, db):
        handled = db.scalar(select(func.count()).select_from(InboundMessage))
        caplog.set_level(logging.INFO, logger="chatbot")
        caplog.clear()
        # PostgreSQL gone, or a host that never answers (only the connect timeout ends the wait; the
        # watchdog in _turn fails the test if nothing does); the pooled connections are dropped.
        proxy.set(failure)
        for answer in ("1", "0"):
            status, body = _turn(lambda a=answer: chair.text(a))  # type: ignore[misc]
            assert status == 200 and UNAVAILABLE in chair.reply_text(status, body)
        db.rollback()
        assert db.scalar(select(func.count()).select_from(InboundMessage)) == handled
        lines = _outage_lines(caplog)
        assert [r.levelname for r in lines] == ["ERROR"] and "database unavailable" in lines[0].getMessage()
        proxy.set(PASS)  # back, without restarting anything
        assert "【3/30】" in chair.say("1")
        db.rollback()
        assert _self_scores(db) == {
            1: Decimal(VILLAGE.item(1).points),
            2: Decimal("1"),
        }  # acknowledged, once each
        lines = _outage_lines(caplog)
        assert len(lines) == 2 and "available again" in lines[1].getMessage()
        assert not [r for r in caplog.records if r.exc_info]


def test_a_connection_dropped_while_idle_is_replaced_within_the_turn(
    postgres_proxy: tuple[CutProxy, str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The pool lends without a ping: a pooled connection the server (or a proxy) closed while idle
    fails the turn's first statement, and the turn runs once more on a new one — answered, applied once,
    nothing logged as an outage."""
    proxy, through, direct = postgres_proxy
    with _chair_at_item_2(through, direct, tmp_path, "chair-idle") as (chair, db):
        handled = db.scalar(select(func.count()).select_from(InboundMessage))
        db.rollback()
        caplog.set_level(logging.INFO, logger="chatbot")
        caplog.clear()
        proxy.close_all()  # every pooled connection cut while idle; new ones pass
        assert "【3/30】" in _turn(lambda: chair.text("1"))[1]
        assert _self_scores(db) == {1: Decimal(VILLAGE.item(1).points), 2: Decimal("1")}
        assert db.scalar(select(func.count()).select_from(InboundMessage)) == handled + 1
        assert _outage_lines(caplog) == []

"""WeChat API faults against the fake WeChat API on loopback (issue 14, point 5): every call has a
connect and a read timeout; a rejected token is refreshed once and the call repeated once; busy
answers, gateway errors and refused connections are retried with backoff; an answer that never came
makes the notice unconfirmed, never sent twice; 45015 closes the user's window."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.config import Config, ConfigError
from chatbot.notify.tick import run_due
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import Account, OutboxMessage
from chatbot.store.outbox import enqueue
from chatbot.wechat.api import make_client
from chatbot.wechat.fake_api import FakeWeChatServer, Fault
from tests.conftest import Backend, fake_wechat_env

SEND = "message/custom/send"


@pytest.fixture
def env(backend: Backend, fake: FakeWeChatServer, tmp_path: Path) -> dict[str, str]:
    # A short read timeout, so that a call held by the fake outlives it.
    return fake_wechat_env(backend, fake, tmp_path, WECHAT_API_TIMEOUT="2,0.5")


@pytest.fixture
def db(env: dict[str, str]) -> Iterator[Session]:
    engine = make_engine(env["DATABASE_URL"])
    migrate(engine)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


class Ticker:
    """The scheduler's tick at chosen instants, with the API client of one process."""

    def __init__(self, env: dict[str, str]) -> None:
        self.config = Config.from_env(env)
        self.engine = make_engine(self.config.database_url)
        self.sessions = session_factory(self.engine)
        self.client = make_client(self.config, self.sessions)

    def __call__(self, now: datetime) -> None:
        run_due(self.sessions, self.config, now, self.client)


@pytest.fixture
def tick(env: dict[str, str]) -> Iterator[Ticker]:
    ticker = Ticker(env)
    yield ticker
    ticker.engine.dispose()


def queue(db: Session, openid: str, count: int = 1) -> None:
    """``count`` notices to ``openid``, as customer-service text inside the 48-hour window."""
    now = datetime.now(UTC) - timedelta(seconds=2)
    db.rollback()
    with db.begin():
        account = db.scalar(select(Account).where(Account.openid == openid))
        if account is None:
            account = Account(openid=openid, last_message_at=now)
            db.add(account)
            db.flush()
        for n in range(count):
            enqueue(db, account.id, "result_final", f"fault:{openid}:{n}", f"测试通知 {n}", now)


def rows(db: Session) -> dict[str, tuple[str, str | None]]:
    db.rollback()
    return {r.dedup_key: (r.status, r.last_error) for r in db.scalars(select(OutboxMessage))}


def statuses(db: Session) -> dict[str, str]:
    return {key: status for key, (status, _error) in rows(db).items()}


def send_codes(fake: FakeWeChatServer) -> list[object]:
    """The errcode (or HTTP status) of every send the fake received, in order."""
    return [c.get("status") or c["errcode"] for c in fake.state.calls if c["api"] == SEND]


def test_timeouts_come_from_the_environment_and_bad_ones_are_refused(tmp_path: Path) -> None:
    base = {"NIANJIAN_INSTANCE": str(tmp_path)}
    assert Config.from_env(base).wechat_api_timeout == (3.05, 10.0)
    assert Config.from_env(base | {"WECHAT_API_TIMEOUT": "2,8"}).wechat_api_timeout == (2.0, 8.0)
    assert Config.from_env(base | {"WECHAT_API_TIMEOUT": "4"}).wechat_api_timeout == (4.0, 4.0)
    for bad in ("0,5", "slow", "1,2,3", "5,600"):
        with pytest.raises(ConfigError, match="WECHAT_API_TIMEOUT"):
            Config.from_env(base | {"WECHAT_API_TIMEOUT": bad})


def test_a_send_whose_answer_never_comes_is_unconfirmed_and_never_repeated(
    env, fake: FakeWeChatServer, db: Session, tick: Ticker
) -> None:
    queue(db, "u-hang")
    fake.state.faults.append(Fault(SEND, 1, hang=1.5))  # WeChat takes it, answers after the read timeout
    now = datetime.now(UTC)
    tick(now)
    ((status, error),) = rows(db).values()
    assert status == "unconfirmed"
    assert error is not None and "无法确认是否送达" in error and "ReadTimeout" in error
    deadline = time.monotonic() + 10
    while not fake.sends() and time.monotonic() < deadline:
        time.sleep(0.05)  # the fake finishes the call the client gave up on
    for later in (timedelta(minutes=10), timedelta(hours=5), timedelta(days=1)):
        tick(now + later)
    assert len(fake.sends()) == 1  # it reached the user once, and is never sent again


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_gateway_error_is_retried_with_backoff_and_sent_once(
    env, fake: FakeWeChatServer, db: Session, tick: Ticker, status: int
) -> None:
    queue(db, f"u-{status}")
    fake.state.faults.append(Fault(SEND, 2, status=status))
    now = datetime.now(UTC)
    tick(now)
    assert statuses(db) == {f"fault:u-{status}:0": "pending"}
    tick(now + timedelta(seconds=30))  # inside the backoff: not tried
    assert send_codes(fake) == [status]
    tick(now + timedelta(minutes=1))
    tick(now + timedelta(minutes=7))
    assert statuses(db) == {f"fault:u-{status}:0": "sent"}
    assert send_codes(fake) == [status, status, 0]
    tick(now + timedelta(hours=6))
    assert len(fake.sends()) == 1


def test_a_gateway_timeout_504_is_unconfirmed(env, fake: FakeWeChatServer, db: Session, tick: Ticker) -> None:
    queue(db, "u-504")
    fake.state.faults.append(Fault(SEND, 1, status=504))
    now = datetime.now(UTC)
    tick(now)
    tick(now + timedelta(hours=2))
    assert statuses(db) == {"fault:u-504:0": "unconfirmed"}
    assert send_codes(fake) == [504]


def test_a_refused_connection_is_retried_and_the_notice_sent_once_wechat_is_back(
    env, fake: FakeWeChatServer, db: Session
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    queue(db, "u-down")
    down = Ticker(env | {"WECHAT_API_BASE_URL": f"http://127.0.0.1:{closed_port}/cgi-bin/"})
    now = datetime.now(UTC)
    down(now)
    ((status, error),) = rows(db).values()
    assert status == "pending" and error is not None and "token fetch failed" in error
    down.engine.dispose()
    back = Ticker(env)
    back(now + timedelta(minutes=2))
    back(now + timedelta(hours=3))
    back.engine.dispose()
    assert statuses(db) == {"fault:u-down:0": "sent"}
    assert len(fake.sends()) == 1


def test_a_token_fetch_failing_with_503_sends_nothing_and_is_retried(
    env, fake: FakeWeChatServer, db: Session, tick: Ticker
) -> None:
    queue(db, "u-token-503")
    fake.state.faults.append(Fault("token", 1, status=503))
    now = datetime.now(UTC)
    tick(now)
    assert statuses(db) == {"fault:u-token-503:0": "pending"}
    assert send_codes(fake) == []
    tick(now + timedelta(minutes=2))
    assert statuses(db) == {"fault:u-token-503:0": "sent"}
    assert fake.state.token_fetches == 1


@pytest.mark.parametrize("code", [40001, 42001])
def test_a_rejected_token_is_refreshed_once_and_the_send_repeated_once(
    env, fake: FakeWeChatServer, db: Session, tick: Ticker, code: int
) -> None:
    queue(db, f"u-{code}")
    now = datetime.now(UTC)
    tick(now)  # the first token
    assert fake.state.token_fetches == 1
    queue(db, f"u-{code}-again")
    fake.state.fail_next.append(code)  # WeChat says the token expired
    tick(now + timedelta(seconds=1))
    assert fake.state.token_fetches == 2
    assert send_codes(fake) == [0, code, 0]
    assert set(statuses(db).values()) == {"sent"}


def test_a_token_rejected_again_after_its_refresh_is_not_refreshed_in_a_loop(
    env, fake: FakeWeChatServer, db: Session, tick: Ticker
) -> None:
    queue(db, "u-loop")
    fake.state.fail_next.extend([40001] * 10)  # every call rejected
    now = datetime.now(UTC)
    tick(now)
    assert fake.state.token_fetches == 2  # the first fetch and one refresh: no recursion
    assert send_codes(fake) == [40001, 40001]
    assert statuses(db) == {"fault:u-loop:0": "pending"}  # retried later with backoff
    fake.state.fail_next.clear()
    tick(now + timedelta(minutes=2))
    assert statuses(db) == {"fault:u-loop:0": "sent"}


def test_45015_makes_the_text_undeliverable_and_closes_the_users_window(
    env, fake: FakeWeChatServer, db: Session, tick: Ticker
) -> None:
    queue(db, "u-window", count=3)
    fake.state.fail_openid["u-window"] = 45015
    now = datetime.now(UTC)
    tick(now)
    tick(now + timedelta(hours=1))
    assert set(statuses(db).values()) == {"undeliverable"}
    assert send_codes(fake) == [45015]  # the two behind it did not try the closed window
    errors = {error for _status, error in rows(db).values()}
    assert any(e and "48 小时" in e for e in errors)

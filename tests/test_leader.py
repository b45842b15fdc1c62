"""One scheduler leads (scheduler/leader.py): two instances on one Redis, on one PostgreSQL, and on one
lock file beside a SQLite database; and the Runner, which runs what is due only while it leads.

The Redis and PostgreSQL tests skip locally (and fail under CI=true) without TEST_REDIS_URL /
TEST_DATABASE_URL."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

import scheduler.leader as leader
from chatbot.config import Config
from chatbot.store.models import InboundMessage
from scheduler.leader import (
    ADVISORY_KEY,
    CONNECTION_LOST,
    LEADERSHIP_LOST,
    FileLeadership,
    Leadership,
    PostgresLeadership,
    RedisLeadership,
    make_leadership,
)
from scheduler.runner import Runner
from tests.conftest import Backend, make_config, service_url

LEADER_KEY = "nianjian:scheduler:leader"


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# ---------------------------------------------------------------- Redis


@pytest.fixture
def redis_clients() -> Iterator[tuple[redis.Redis, redis.Redis]]:
    """Two clients of one Redis, as two processes have."""
    url = service_url("TEST_REDIS_URL")
    assert url
    first, second = redis.Redis.from_url(url), redis.Redis.from_url(url)
    first.delete(LEADER_KEY)
    yield first, second
    first.delete(LEADER_KEY)
    first.close()
    second.close()


def test_two_instances_on_one_redis_only_one_leads(redis_clients: tuple[redis.Redis, redis.Redis]) -> None:
    client, other = redis_clients
    a, b = RedisLeadership(client), RedisLeadership(other)
    assert a.acquire() is True
    assert b.acquire() is False
    assert a.acquire() is True  # the leader renews its lease …
    client.pexpire(LEADER_KEY, 5_000)
    assert a.acquire() is True
    assert client.pttl(LEADER_KEY) > 5_000  # … to the whole lease again
    assert b.acquire() is False
    a.release()
    assert client.exists(LEADER_KEY) == 0
    assert b.acquire() is True
    assert a.acquire() is False
    b.release()
    assert a.acquire() is True
    a.release()


def test_a_lost_redis_lease_is_noticed(
    redis_clients: tuple[redis.Redis, redis.Redis],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(leader, "LEASE_SECONDS", 1)
    client, other = redis_clients
    a, b = RedisLeadership(client), RedisLeadership(other)
    assert a.acquire() is True
    assert _until(lambda: client.exists(LEADER_KEY) == 0, 5)  # a stalled past its lease
    assert b.acquire() is True
    with caplog.at_level(logging.WARNING, logger="scheduler.leader"):
        assert a.acquire() is False  # it notices, and does not lead beside b
    assert LEADERSHIP_LOST in caplog.text
    assert b.acquire() is True
    b.release()
    # Again; this time the stalled leader steps down before it notices: b's lock stays b's.
    assert a.acquire() is True
    assert _until(lambda: client.exists(LEADER_KEY) == 0, 5)
    assert b.acquire() is True
    a.release()
    assert client.exists(LEADER_KEY) == 1 and b.acquire() is True
    assert a.acquire() is False
    b.release()


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_url() -> str:
    url = service_url("TEST_DATABASE_URL")
    assert url
    return url


@pytest.fixture
def pg_engines(pg_url: str) -> Iterator[tuple[Engine, Engine, Engine]]:
    """Two engines, as two processes have, and one to look on with."""
    engines = tuple(create_engine(pg_url) for _ in range(3))
    yield engines  # type: ignore[misc]
    for engine in engines:
        engine.dispose()


def _advisory_holders(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = 0 AND objid = :key AND objsubid = 1"
                ),
                {"key": ADVISORY_KEY},
            )
        )


def test_two_instances_on_one_postgresql_only_one_leads(pg_engines: tuple[Engine, Engine, Engine]) -> None:
    first, second, onlooker = pg_engines
    a, b = PostgresLeadership(first), PostgresLeadership(second)
    try:
        assert a.acquire() is True
        assert b.acquire() is False
        assert second.pool.checkedout() == 0  # a failed attempt gives its connection back
        assert a.acquire() is True
        assert len(_advisory_holders(onlooker)) == 1
        a.release()
        assert _advisory_holders(onlooker) == [] and first.pool.checkedout() == 0
        assert b.acquire() is True
        assert a.acquire() is False
    finally:
        a.release()
        b.release()


def test_a_postgresql_leader_whose_connection_dies_loses_the_lead_and_notices(
    pg_engines: tuple[Engine, Engine, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    first, second, onlooker = pg_engines
    a, b = PostgresLeadership(first), PostgresLeadership(second)
    try:
        assert a.acquire() is True
        [pid] = _advisory_holders(onlooker)
        with onlooker.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        assert _until(lambda: _advisory_holders(onlooker) == [])
        assert b.acquire() is True
        with caplog.at_level(logging.WARNING, logger="scheduler.leader"):
            assert a.acquire() is False
        assert CONNECTION_LOST in caplog.text
        assert b.acquire() is True
    finally:
        b.release()


LEADER_PROCESS = """
import sys
from sqlalchemy import create_engine
from scheduler.leader import PostgresLeadership
leadership = PostgresLeadership(create_engine(sys.argv[1]))
print("leading" if leadership.acquire() else "following", flush=True)
sys.stdin.read()
"""


def test_when_the_leading_process_dies_another_leads(
    pg_url: str, pg_engines: tuple[Engine, Engine, Engine]
) -> None:
    _, second, onlooker = pg_engines
    process = subprocess.Popen(
        [sys.executable, "-c", LEADER_PROCESS, pg_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    b = PostgresLeadership(second)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"leading"
        assert b.acquire() is False
        process.kill()
        process.wait(10)
        assert _until(b.acquire)
        assert len(_advisory_holders(onlooker)) == 1
    finally:
        process.kill()
        b.release()


def test_a_postgresql_leader_does_not_sit_in_an_open_transaction(
    pg_engines: tuple[Engine, Engine, Engine],
) -> None:
    first, _, onlooker = pg_engines
    a = PostgresLeadership(first)
    try:
        assert a.acquire() is True
        assert a.acquire() is True  # a tick later: renewed
        [pid] = _advisory_holders(onlooker)
        with onlooker.connect() as conn:
            state = conn.execute(
                text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
        assert state == "idle"
    finally:
        a.release()


# ---------------------------------------------------------------- the lock file (SQLite)


def test_two_instances_on_one_lock_file_only_one_leads(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "scheduler.lock"
    a, b = FileLeadership(path), FileLeadership(path)
    assert a.acquire() is True
    assert b.acquire() is False
    assert a.acquire() is True
    a.release()
    assert b.acquire() is True
    assert a.acquire() is False
    b.release()
    assert a.acquire() is True
    a.release()


FILE_LEADER_PROCESS = """
import sys
from pathlib import Path
from scheduler.leader import FileLeadership
leadership = FileLeadership(Path(sys.argv[1]))
print("leading" if leadership.acquire() else "following", flush=True)
sys.stdin.read()
"""


def test_when_the_process_holding_the_lock_file_dies_another_leads(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.lock"
    process = subprocess.Popen(
        [sys.executable, "-c", FILE_LEADER_PROCESS, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    b = FileLeadership(path)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"leading"
        assert b.acquire() is False
        process.kill()
        process.wait(10)
        assert b.acquire() is True
        assert path.read_text() == str(os.getpid())
    finally:
        process.kill()
        b.release()


def test_the_lock_file_keeps_the_leaders_pid_while_others_try(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.lock"
    a, b = FileLeadership(path), FileLeadership(path)
    try:
        assert a.acquire() is True
        assert path.read_text() == str(os.getpid())
        assert b.acquire() is False
        assert path.read_text() == str(os.getpid())
    finally:
        a.release()


# ---------------------------------------------------------------- make_leadership and the Runner


def _config(backend: Backend, tmp_path: Path, with_redis: bool) -> Config:
    redis_url = {"REDIS_URL": os.environ["TEST_REDIS_URL"]} if with_redis else {}
    return make_config(backend, tmp_path, **redis_url)


def _old_message(db: Session, key: str) -> None:
    db.rollback()
    with db.begin():
        db.add(
            InboundMessage(
                dedup_key=key, openid="o", reply="{}", created_at=datetime.now(UTC) - timedelta(days=8)
            )
        )


def _kept(db: Session, key: str) -> bool:
    db.rollback()
    found = db.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.dedup_key == key))
    db.rollback()
    return found == 1


def _kinds(backend: Backend) -> list[tuple[bool, type[Leadership]]]:
    """(with REDIS_URL, the leadership it gives) for the backend's database."""
    if backend.name == "sqlite":
        return [(False, FileLeadership)]
    return [(False, PostgresLeadership), (True, RedisLeadership)]


def test_only_the_leading_runner_runs_what_is_due(backend: Backend, db: Session, tmp_path: Path) -> None:
    """A tick drops handled messages older than a week: the follower's tick leaves them."""
    for with_redis, kind in _kinds(backend):
        config = _config(backend, tmp_path, with_redis)
        leading, following = Runner(config), Runner(config)
        try:
            assert type(leading.leadership) is kind and type(following.leadership) is kind
            assert leading.leadership.acquire() is True
            _old_message(db, f"msg:old-1-{kind.__name__}")
            following.tick()
            assert _kept(db, f"msg:old-1-{kind.__name__}")
            leading.tick()
            assert not _kept(db, f"msg:old-1-{kind.__name__}")
            _old_message(db, f"msg:old-2-{kind.__name__}")
            following.tick()
            assert _kept(db, f"msg:old-2-{kind.__name__}")
            leading.leadership.release()  # the leader stops: the next tick of the other runs
            following.tick()
            assert not _kept(db, f"msg:old-2-{kind.__name__}")
            _old_message(db, f"msg:old-3-{kind.__name__}")
            leading.tick()  # now a follower
            assert _kept(db, f"msg:old-3-{kind.__name__}")
        finally:
            for runner in (leading, following):
                runner.leadership.release()
                runner.engine.dispose()


def test_make_leadership_picks_redis_then_postgresql_then_the_lock_file(
    backend: Backend, tmp_path: Path
) -> None:
    for with_redis, kind in _kinds(backend):
        config = _config(backend, tmp_path, with_redis)
        engine = create_engine(config.database_url)
        try:
            made = make_leadership(config, engine)
            assert type(made) is kind
            if isinstance(made, FileLeadership):
                assert made.acquire() is True
                assert (config.instance_dir / "scheduler.lock").exists()
                made.release()
        finally:
            engine.dispose()


def test_the_scheduler_speaks_chinese_in_shanghai_time() -> None:
    """Walk item 23: what staff see in the serve terminal is Chinese, stamped in Asia/Shanghai."""
    from chatbot.notify.delivery import DeliveryReport
    from chatbot.notify.tick import TickReport
    from scheduler.logs import StaffFormatter
    from scheduler.runner import tick_line

    line = tick_line(TickReport(queued=2, finalised=["YZ-001"], delivery=DeliveryReport(sent=3)))
    assert line == "定时任务：新增通知 2 条，结果确定 1 个（YZ-001），发出通知 3 条。"
    record = logging.LogRecord("scheduler.runner", logging.INFO, __file__, 1, line, None, None)
    record.created = datetime(2026, 12, 5, 22, 1, tzinfo=UTC).timestamp()
    assert StaffFormatter().format(record) == f"2026-12-06 06:01:00 信息 {line}"

"""One scheduler leads among many processes: a Redis lock, a PostgreSQL advisory lock, or — on
SQLite — a file lock beside the database."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO

import redis
from sqlalchemy import Connection, Engine, text

from chatbot.config import Config

log = logging.getLogger(__name__)
#: What the serve terminal says when this process stops leading the scheduler.
LEADERSHIP_LOST = "定时任务：本进程不再是主进程（锁已过期），由其他进程接替。"
CONNECTION_LOST = "定时任务：与数据库的连接断开，本进程不再是主进程，稍后重新竞选。"

LEASE_SECONDS = 180
ADVISORY_KEY = 0x6E69616E  # "nian"


class Leadership(ABC):
    @abstractmethod
    def acquire(self) -> bool:
        """True while this process leads; called before every run, it also renews the lease."""

    @abstractmethod
    def release(self) -> None: ...


class RedisLeadership(Leadership):
    def __init__(self, client: redis.Redis) -> None:
        self._lock = client.lock("nianjian:scheduler:leader", timeout=LEASE_SECONDS)
        self._held = False

    def acquire(self) -> bool:
        if self._held:
            try:
                self._lock.reacquire()
                return True
            except redis.exceptions.LockError:
                self._held = False
                log.warning(LEADERSHIP_LOST)
        self._held = bool(self._lock.acquire(blocking=False))
        return self._held

    def release(self) -> None:
        if self._held:
            with contextlib.suppress(redis.exceptions.LockError):
                self._lock.release()
            self._held = False


class PostgresLeadership(Leadership):
    """A session-level advisory lock, held on one connection for as long as the process leads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                self._connection.commit()  # never sit idle in a transaction while leading
                return True
            except Exception:  # noqa: BLE001 — a broken connection means the lock is gone
                log.warning(CONNECTION_LOST)
                self._connection = None
        connection = self._engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
        connection.commit()
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self._connection is not None:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None


class FileLeadership(Leadership):
    """For SQLite installations: an exclusive lock on instance/scheduler.lock."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a+")  # not "w": a process that fails to lead must not erase the pid
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def make_leadership(config: Config, engine: Engine) -> Leadership:
    if config.redis_url:
        return RedisLeadership(redis.Redis.from_url(config.redis_url, socket_timeout=5))
    if engine.dialect.name == "postgresql":
        return PostgresLeadership(engine)
    return FileLeadership(config.instance_dir / "scheduler.lock")

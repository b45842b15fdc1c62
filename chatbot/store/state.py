"""Dialog state storage and per-user event isolation, in Redis or in process.

Modelled on aiogram's FSM storage: one frozen StorageKey, one KeyBuilder that makes every key, a small
StateStore interface with memory and Redis implementations, and the user lock as its own interface.
The memory store JSON-encodes on every write, so state that would not survive Redis fails in tests.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from chatbot.store.counters import MemoryRateCounter, RateCounter, RedisRateCounter

STATE_TTL_SECONDS = 30 * 24 * 3600


class LockTimeout(Exception):
    """The user's previous message is still being handled."""


@dataclass(frozen=True)
class StorageKey:
    """Whose data a key holds: one WeChat user of one official account."""

    openid: str
    app_id: str = ""


@dataclass(frozen=True)
class KeyBuilder:
    """Makes every key the service stores, so that keys never collide across parts or accounts."""

    prefix: str = "nianjian"

    def build(self, key: StorageKey, part: str) -> str:
        return ":".join((self.prefix, key.app_id or "-", key.openid, part))


class StateStore(ABC):
    """Dialog state, with an expiry."""

    @abstractmethod
    def get(self, key: StorageKey) -> dict[str, Any] | None: ...

    @abstractmethod
    def set(self, key: StorageKey, state: dict[str, Any], ttl: int = STATE_TTL_SECONDS) -> None: ...

    @abstractmethod
    def delete(self, key: StorageKey) -> None: ...


class UserLock(ABC):
    """Per-user event isolation: one user's messages are handled one at a time."""

    @abstractmethod
    @contextmanager
    def hold(self, key: StorageKey, wait: float) -> Iterator[None]: ...


class MemoryStateStore(StateStore):
    """In-process store for a single process (the embedded default and tests)."""

    def __init__(self, builder: KeyBuilder | None = None) -> None:
        self._builder = builder or KeyBuilder()
        self._data: dict[str, tuple[float, str]] = {}
        self._mutex = threading.Lock()

    def _read(self, name: str) -> str | None:
        entry = self._data.get(name)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._data.pop(name, None)
            return None
        return entry[1]

    def get(self, key: StorageKey) -> dict[str, Any] | None:
        with self._mutex:
            raw = self._read(self._builder.build(key, "state"))
        return None if raw is None else json.loads(raw)

    def set(self, key: StorageKey, state: dict[str, Any], ttl: int = STATE_TTL_SECONDS) -> None:
        encoded = json.dumps(state, ensure_ascii=False)
        with self._mutex:
            self._data[self._builder.build(key, "state")] = (time.monotonic() + ttl, encoded)

    def delete(self, key: StorageKey) -> None:
        with self._mutex:
            self._data.pop(self._builder.build(key, "state"), None)

    def flush(self) -> None:
        with self._mutex:
            self._data.clear()


class RedisStateStore(StateStore):
    """Redis store shared by every app process."""

    def __init__(self, client: redis.Redis, builder: KeyBuilder | None = None) -> None:
        self._redis = client
        self._builder = builder or KeyBuilder()

    def get(self, key: StorageKey) -> dict[str, Any] | None:
        raw = self._redis.get(self._builder.build(key, "state"))
        return None if raw is None else json.loads(raw)

    def set(self, key: StorageKey, state: dict[str, Any], ttl: int = STATE_TTL_SECONDS) -> None:
        self._redis.set(self._builder.build(key, "state"), json.dumps(state, ensure_ascii=False), ex=ttl)

    def delete(self, key: StorageKey) -> None:
        self._redis.delete(self._builder.build(key, "state"))


class MemoryUserLock(UserLock):
    """Per-user locks inside one process; a lock is dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locks: dict[StorageKey, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: StorageKey, wait: float) -> Iterator[None]:
        with self._mutex:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            if not lock.acquire(timeout=wait):
                raise LockTimeout(key.openid)
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._mutex:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class RedisUserLock(UserLock):
    """Per-user locks across processes (redis-py's Lock, with an expiry so a crash cannot wedge a user)."""

    def __init__(self, client: redis.Redis, builder: KeyBuilder | None = None, expire: float = 30.0) -> None:
        self._redis = client
        self._builder = builder or KeyBuilder()
        self._expire = expire

    @contextmanager
    def hold(self, key: StorageKey, wait: float) -> Iterator[None]:
        lock = self._redis.lock(self._builder.build(key, "lock"), timeout=self._expire, blocking_timeout=wait)
        if not lock.acquire():
            raise LockTimeout(key.openid)
        try:
            yield
        finally:
            with contextlib.suppress(redis.exceptions.LockNotOwnedError):
                lock.release()


def make_state(redis_url: str | None) -> tuple[StateStore, UserLock, RateCounter]:
    """Redis-backed store, lock and counters when a URL is configured, else in-process ones."""
    if redis_url:
        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        return RedisStateStore(client), RedisUserLock(client), RedisRateCounter(client)
    return MemoryStateStore(), MemoryUserLock(), MemoryRateCounter()

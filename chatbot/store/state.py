"""Dialog state storage and per-user event isolation, in Redis or in process.

Modelled on aiogram's FSM storage: one frozen StorageKey, one KeyBuilder that makes every key, a small
StateStore interface with memory and Redis implementations, and the user lock as its own interface.
The memory store JSON-encodes on every write, so state that would not survive Redis fails in tests.
``Conversations`` joins the two for a chat turn: the lock taken and the state read before it, the new
state saved and the lock released after it — in two Redis round trips with Redis.

Redis is asked with short timeouts and one retry (a connection closed by a Redis restart is reopened
once), so that a Redis that is down or stalled costs a turn at most ``REDIS_WORST_CASE_SECONDS`` —
far inside WeChat's 5 seconds; every Redis failure surfaces as ``StateUnavailable``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from chatbot.store.counters import (
    Kept,
    KeptOther,
    MemoryRateCounter,
    RateCounter,
    RedisRateCounter,
    keep,
    kept_value,
    queue_keep,
)

STATE_TTL_SECONDS = 30 * 24 * 3600
#: Seconds to open a connection to Redis, and to wait for one answer.
REDIS_CONNECT_TIMEOUT = 1.0
REDIS_SOCKET_TIMEOUT = 1.0
#: Retries of a failed Redis call, at once, on a new connection.
REDIS_RETRIES = 1
#: The longest one Redis call can take before it fails: every attempt connects and waits in vain.
REDIS_WORST_CASE_SECONDS = (REDIS_RETRIES + 1) * (REDIS_CONNECT_TIMEOUT + REDIS_SOCKET_TIMEOUT)


class LockTimeout(Exception):
    """The user's previous message is still being handled."""


class StateUnavailable(Exception):
    """Redis (dialog state and the users' locks) did not answer: the turn cannot be handled now."""


#: What a turn's use of Redis raises when Redis is down: the state's own error, and the rate counters'
#: (store/counters.py) Redis errors as they come.
STATE_ERRORS: tuple[type[Exception], ...] = (StateUnavailable, redis.RedisError)


@contextmanager
def _redis_errors() -> Iterator[None]:
    """Redis's errors as ``StateUnavailable``, with the cause kept."""
    try:
        yield
    except redis.RedisError as error:
        raise StateUnavailable(f"{type(error).__name__}: {error}") from error


def _decode(raw: str | bytes | None) -> dict[str, Any] | None:
    """A saved state, or None when there is none or it cannot be read (the database is the truth: a
    state that is not an object is dropped, and the dialog starts again from the stored answers)."""
    if raw is None:
        return None
    try:
        state = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return state if isinstance(state, dict) else None


def redis_client(url: str) -> redis.Redis:
    """A client for the dialog state: bounded timeouts, one immediate retry (see the module's doc)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        retry=Retry(NoBackoff(), REDIS_RETRIES),
    )


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
        return _decode(raw)

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
        with _redis_errors():
            raw = self._redis.get(self._builder.build(key, "state"))
        return _decode(raw)

    def set(self, key: StorageKey, state: dict[str, Any], ttl: int = STATE_TTL_SECONDS) -> None:
        with _redis_errors():
            self._redis.set(self._builder.build(key, "state"), json.dumps(state, ensure_ascii=False), ex=ttl)

    def delete(self, key: StorageKey) -> None:
        with _redis_errors():
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


#: Deletes the lock only if it still holds this holder's token (an expired lock taken over is not ours).
#: How long a user's lock outlives a process killed while holding it. A turn is over within WeChat's
#: 5 seconds (its lock wait, a connect timeout and Redis's bound included); should one overrun, the
#: database's row locks still keep two turns of one inspection apart.
LOCK_EXPIRE_SECONDS = 10.0
RELEASE_SCRIPT = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
)
POLL_SECONDS = (0.005, 0.01, 0.02, 0.05)


class RedisUserLock(UserLock):
    """Per-user locks across processes: SET NX with an expiry (a crash cannot wedge a user), released
    only by its holder."""

    def __init__(
        self, client: redis.Redis, builder: KeyBuilder | None = None, expire: float = LOCK_EXPIRE_SECONDS
    ) -> None:
        self._redis = client
        self._builder = builder or KeyBuilder()
        self._expire_ms = int(expire * 1000)

    def _acquire(
        self, key: StorageKey, wait: float, read: str | None = None, kept: Kept | None = None
    ) -> tuple[str, bytes | None]:
        """Take the lock (polling until ``wait`` runs out) and, in the same round trip, read ``read``
        and keep ``kept`` (the counters' ``remember``, in MULTI with the rest); KeptOther, the lock
        not held, when another value is kept under its key."""
        token = secrets.token_hex(16)
        name = self._builder.build(key, "lock")
        deadline = time.monotonic() + wait
        attempt = 0
        while True:
            pipe = self._redis.pipeline(transaction=kept is not None)
            pipe.set(name, token, nx=True, px=self._expire_ms)
            if read is not None:
                pipe.get(read)
            if kept is not None:
                queue_keep(pipe, kept)
            with _redis_errors():
                results = pipe.execute()
            if kept is not None:
                self._refuse_kept_other(key, token if results[0] else None, kept, results[-1])
                kept = None  # kept by the first attempt: a later one only polls the lock
            if results[0]:
                return token, results[1] if read is not None else None
            if time.monotonic() >= deadline:
                raise LockTimeout(key.openid)
            time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
            attempt += 1

    def _refuse_kept_other(self, key: StorageKey, token: str | None, kept: Kept, raw: bytes | None) -> None:
        """KeptOther when ``raw`` is not ``kept``'s value, the lock released if ``token`` took it."""
        if kept_value(kept.value, raw) == kept.value:
            return
        if token is not None:
            self._release(key, token)
        raise KeptOther(kept.key)

    def _release(self, key: StorageKey, token: str, write: tuple[str, str, int] | None = None) -> None:
        """Release the lock and, in the same round trip, write ``(name, value, ttl)``."""
        pipe = self._redis.pipeline(transaction=False)
        if write is not None:
            pipe.set(write[0], write[1], ex=write[2])
        pipe.eval(RELEASE_SCRIPT, 1, self._builder.build(key, "lock"), token)
        with _redis_errors():
            pipe.execute()

    @contextmanager
    def hold(self, key: StorageKey, wait: float) -> Iterator[None]:
        token, _ = self._acquire(key, wait)
        try:
            yield
        finally:
            self._release(key, token)


@dataclass
class Turn:
    """One user's turn: the state saved before it; ``new`` is saved after it (None: left as it was)."""

    saved: dict[str, Any] | None
    new: dict[str, Any] | None = None


class Conversations(ABC):
    """A chat turn's bracket: ``kept`` kept first (the counters' ``remember``; KeptOther and no turn
    when another value is kept under its key), the user's lock held and their state read; on a
    normal exit the new state saved; the lock released in every case."""

    @abstractmethod
    @contextmanager
    def turn(self, key: StorageKey, wait: float, kept: Kept | None = None) -> Iterator[Turn]: ...


class LockedConversations(Conversations):
    """Any lock, store and counter, one call after the other."""

    def __init__(self, store: StateStore, lock: UserLock, counter: RateCounter | None = None) -> None:
        self.store, self.lock = store, lock
        self.counter = counter if counter is not None else MemoryRateCounter()

    @contextmanager
    def turn(self, key: StorageKey, wait: float, kept: Kept | None = None) -> Iterator[Turn]:
        if kept is not None:
            keep(self.counter, kept)
        with self.lock.hold(key, wait):
            current = Turn(self.store.get(key))
            yield current
            if current.new is not None:
                self.store.set(key, current.new)


class RedisConversations(Conversations):
    """Redis lock, state and counters in two round trips: [keep ``kept``, take the lock, read the
    state], then [save the state, release the lock]."""

    def __init__(self, lock: RedisUserLock, builder: KeyBuilder | None = None) -> None:
        self._lock = lock
        self._builder = builder or KeyBuilder()

    @contextmanager
    def turn(self, key: StorageKey, wait: float, kept: Kept | None = None) -> Iterator[Turn]:
        name = self._builder.build(key, "state")
        token, raw = self._lock._acquire(key, wait, read=name, kept=kept)
        current = Turn(_decode(raw))
        write = None
        try:
            yield current
            if current.new is not None:
                write = (name, json.dumps(current.new, ensure_ascii=False), STATE_TTL_SECONDS)
        finally:
            self._lock._release(key, token, write)


def conversations(store: StateStore, lock: UserLock, counter: RateCounter | None = None) -> Conversations:
    """The turn bracket for a store, a lock and the counters: pipelined when all live in the same
    Redis."""
    if (
        isinstance(store, RedisStateStore)
        and isinstance(lock, RedisUserLock)
        and isinstance(counter, RedisRateCounter)
        and store._redis is lock._redis is counter._redis
        and store._builder == lock._builder
    ):
        return RedisConversations(lock, store._builder)
    return LockedConversations(store, lock, counter)


@dataclass(frozen=True)
class RedisProblem:
    """Why Redis cannot be used now: where it was looked for (without a password) and the error."""

    place: str
    db: int
    error: redis.RedisError


def redis_problem(url: str) -> RedisProblem | None:
    """Why Redis at ``url`` cannot be used now (None when it answers a PING), for `serve` to refuse
    or warn with (``chatbot.cli.failures`` words it)."""
    client = redis_client(url)
    where = client.connection_pool.connection_kwargs
    place = where.get("path") or f"{where.get('host', '?')}:{where.get('port', '?')}"
    try:
        client.ping()
    except redis.RedisError as error:
        return RedisProblem(place, int(where.get("db", 0)), error)
    finally:
        client.close()
    return None


def make_state(redis_url: str | None) -> tuple[StateStore, UserLock, RateCounter]:
    """Redis-backed store, lock and counters when a URL is configured, else in-process ones."""
    if redis_url:
        client = redis_client(redis_url)
        return RedisStateStore(client), RedisUserLock(client), RedisRateCounter(client)
    return MemoryStateStore(), MemoryUserLock(), MemoryRateCounter()

"""Rate counters: how often something happened within a window (wrong codes per user and for the whole
account, failed console sign-ins per account and address), in Redis or in process; and values kept for
a window (``remember``: the body a signed webhook query first came with). Separate from the dialog
state: a counter is named by a plain string key, not by a WeChat user."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import redis

PREFIX = "nianjian:count:"
VALUE_PREFIX = "nianjian:kept:"
#: The in-process store drops expired values once it holds this many (or twice what it kept last time).
SWEEP_AT = 10_000


@dataclass(frozen=True)
class Kept:
    """A value to keep under ``key`` for ``window`` seconds unless one is kept there already."""

    key: str
    value: str
    window: int


class KeptOther(Exception):
    """Another value is kept under the key (a signed query that came with another message)."""


def keep(counter: RateCounter, kept: Kept) -> bool:
    """Keep ``kept``'s value: True when it is new, False when it was kept already; KeptOther when
    another is kept under its key."""
    value, new = counter.remember(kept.key, kept.value, kept.window)
    if value != kept.value:
        raise KeptOther(kept.key)
    return new


class RateCounter(ABC):
    """Counts events per key; a count expires ``window`` seconds after its first event."""

    @abstractmethod
    def count(self, key: str, window: int) -> int:
        """The events of ``key`` within the window that started with the first one."""

    @abstractmethod
    def hit(self, key: str, window: int) -> int:
        """Count one more event of ``key``; returns the new count. Counting and reading the new
        count are one atomic step: of N parallel hits, each sees a different count."""

    @abstractmethod
    def take_back(self, key: str) -> None:
        """Uncount one event of ``key`` (one that turned out not to count), if its window still runs;
        never below zero, never starting a new window."""

    @abstractmethod
    def remember(self, key: str, value: str, window: int) -> tuple[str, bool]:
        """Keep ``value`` under ``key`` for ``window`` seconds unless a value is kept there already;
        returns the value kept (``value`` itself when the key was new) and whether it was kept by this
        call — one atomic step."""


class MemoryRateCounter(RateCounter):
    """In-process counts (one process: the embedded default and tests)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}
        self._values: dict[str, tuple[float, str]] = {}
        self._sweep_at = SWEEP_AT
        self._mutex = threading.Lock()

    def _current(self, key: str) -> tuple[float, int] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[0] < time.monotonic():
            del self._counts[key]
            return None
        return entry

    def count(self, key: str, window: int) -> int:
        with self._mutex:
            entry = self._current(key)
        return entry[1] if entry else 0

    def hit(self, key: str, window: int) -> int:
        with self._mutex:
            entry = self._current(key)
            expires, value = entry if entry else (time.monotonic() + window, 0)
            self._counts[key] = (expires, value + 1)
            return value + 1

    def take_back(self, key: str) -> None:
        with self._mutex:
            entry = self._current(key)
            if entry is not None and entry[1] > 0:
                self._counts[key] = (entry[0], entry[1] - 1)

    def remember(self, key: str, value: str, window: int) -> tuple[str, bool]:
        with self._mutex:
            now = time.monotonic()
            kept = self._values.get(key)
            if kept is not None and kept[0] >= now:
                return kept[1], False
            if len(self._values) >= self._sweep_at:  # drop the expired ones, at a cost amortised
                self._values = {k: v for k, v in self._values.items() if v[0] >= now}
                self._sweep_at = max(SWEEP_AT, 2 * len(self._values))
            self._values[key] = (now + window, value)
            return value, True

    def flush(self) -> None:
        with self._mutex:
            self._counts.clear()
            self._values.clear()


#: DECR only a count that exists and is above zero: a key whose window ended is not revived, without
#: an expiry, by a late take-back.
TAKE_BACK = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
if value > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisRateCounter(RateCounter):
    """Counts shared by every process: INCR with an expiry set by the first event, in one round trip."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._take_back = client.register_script(TAKE_BACK)

    def count(self, key: str, window: int) -> int:
        return int(self._redis.get(PREFIX + key) or 0)

    def hit(self, key: str, window: int) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(PREFIX + key)
        pipe.expire(PREFIX + key, window, nx=True)
        value, _ = pipe.execute()
        return int(value)

    def take_back(self, key: str) -> None:
        self._take_back(keys=[PREFIX + key])

    def remember(self, key: str, value: str, window: int) -> tuple[str, bool]:
        pipe = self._redis.pipeline(transaction=True)  # MULTI/EXEC: SET NX and GET as one step
        queue_keep(pipe, Kept(key, value, window))
        new, kept = pipe.execute()
        return kept_value(value, kept), bool(new)


def queue_keep(pipe: Any, kept: Kept) -> None:
    """Queue ``remember``'s two commands on a Redis pipeline (in MULTI: one step): the SET NX's result
    says whether the value is new, the GET's is what ``kept_value`` reads."""
    pipe.set(VALUE_PREFIX + kept.key, kept.value, nx=True, ex=kept.window)
    pipe.get(VALUE_PREFIX + kept.key)


def kept_value(value: str, raw: bytes | str | None) -> str:
    """The value kept, from the GET queued by ``queue_keep``."""
    if raw is None:  # expired between the two: nobody else holds it
        return value
    return raw.decode() if isinstance(raw, bytes) else str(raw)

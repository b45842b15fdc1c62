"""Rate counters: how often something happened within a window (failed binding codes per user, failed
console sign-ins per account and address), in Redis or in process. Separate from the dialog state: a
counter is named by a plain string key, not by a WeChat user."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod

import redis

PREFIX = "nianjian:count:"


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


class MemoryRateCounter(RateCounter):
    """In-process counts (one process: the embedded default and tests)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}
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

    def flush(self) -> None:
        with self._mutex:
            self._counts.clear()


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

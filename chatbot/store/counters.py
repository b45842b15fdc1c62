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
        """Count one more event of ``key``; returns the new count."""


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

    def flush(self) -> None:
        with self._mutex:
            self._counts.clear()


class RedisRateCounter(RateCounter):
    """Counts shared by every process: INCR with an expiry set by the first event, in one round trip."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def count(self, key: str, window: int) -> int:
        return int(self._redis.get(PREFIX + key) or 0)

    def hit(self, key: str, window: int) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(PREFIX + key)
        pipe.expire(PREFIX + key, window, nx=True)
        value, _ = pipe.execute()
        return int(value)

"""Admission of a push by how long it waited before a worker took it (issue 23, point 3).

WeChat gives up on a push after 5 s and sends it again, up to three times. Under load a push waits in
the listening socket's queue, where gunicorn cannot see it; what can be seen is when it was sent:
WeChat's signed ``timestamp`` (whole seconds, so the age read from it is the real wait plus less than
one second) or, more finely, a front proxy's ``X-Request-Start`` when one is trusted to set it. A push
that waited past ``Config.busy_after`` is answered ``BUSY`` at once, before the database is touched:
nothing is applied or recorded under its dedup key, so the user's next message — or WeChat's retry,
should it come — is applied once. Answering those cheaply is also what drains the queue. A push let in
gets a lock wait that ends before ``REPLY_BUDGET_SECONDS`` (``lock_wait``).

``Shedding`` counts the busy answers and logs one line when a burst of them starts and one when it is
over (with the count), not one per push.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: What a push that waited too long is answered; nothing of it was applied or recorded.
BUSY = "系统繁忙，您的这条消息没有记录，请稍等片刻再发一次。"
#: Every push is answered within this many seconds of being sent (WeChat waits 5).
REPLY_BUDGET_SECONDS = 4.5
#: What a turn needs after it holds the user's lock (its transaction, saving the state, the reply).
TURN_RESERVE_SECONDS = 2.0
#: A signed second older than this is a clock apart from WeChat's, not a wait in the queue (which the
#: busy answers keep to seconds): such a push is let in, as before shedding.
CLOCKS_APART_SECONDS = 60.0
#: A burst of busy answers is over once none was given for this long.
QUIET_SECONDS = 10.0
#: nginx's ``t=1700000000.123`` (seconds), HAProxy's and Heroku's microseconds, or milliseconds.
_REQUEST_START = re.compile(r"\s*(?:t=)?(\d{9,16}(?:\.\d+)?)\s*")


def request_start(header: str | None) -> float | None:
    """The Unix time a front proxy took the request, from its ``X-Request-Start`` header (seconds,
    milliseconds or microseconds, told apart by size); None when absent or not a time."""
    match = _REQUEST_START.fullmatch(header or "")
    if match is None:
        return None
    value = float(match.group(1))
    for scale in (1.0, 1e3, 1e6):
        if value / scale < 1e10:  # before the year 2286: the right unit
            return value / scale
    return None


def waited(sent: int, proxy_start: float | None, now: float) -> float:
    """Seconds the push has waited: from the proxy's stamp when there is one (the service's own clock,
    to the millisecond), else from WeChat's signed second. Never negative: a sender's clock ahead of
    this one reads as no wait; a signed second more than ``CLOCKS_APART_SECONDS`` old reads as clocks
    that disagree, not as a wait (the replay window takes up to five minutes either way)."""
    if proxy_start is not None:
        return max(0.0, now - proxy_start)
    age = now - sent
    return age if 0.0 < age <= CLOCKS_APART_SECONDS else 0.0


def lock_wait(age: float, cap: float) -> float:
    """How long the turn may wait for the user's lock so that it still answers within the budget."""
    return max(0.0, min(cap, REPLY_BUDGET_SECONDS - TURN_RESERVE_SECONDS - age))


@dataclass
class _Burst:
    since: float
    last: float
    count: int
    oldest: float


class Shedding:
    """Counts the pushes answered busy; one log line when a burst starts, one when it is over."""

    def __init__(self, logger: logging.Logger = log, quiet: float = QUIET_SECONDS) -> None:
        self._log = logger
        self._quiet = quiet
        self._mutex = threading.Lock()
        self._burst: _Burst | None = None
        #: Pushes answered busy since the process started.
        self.total = 0

    def shed(self, age: float) -> None:
        """Count one push answered busy after waiting ``age`` seconds."""
        now = time.monotonic()
        with self._mutex:
            self.total += 1
            ended = self._take_ended(now)
            burst = self._burst
            if burst is None:
                self._burst = _Burst(now, now, 1, age)
            else:
                burst.last, burst.count, burst.oldest = now, burst.count + 1, max(burst.oldest, age)
        if ended is not None:
            self._report(ended)
        if burst is None:
            self._log.warning(
                "overloaded: a message waited %.1f s before a worker took it; messages that waited too "
                "long are answered busy until the queue drains",
                age,
            )

    def admitted(self) -> None:
        """A push let in: ends a burst that has been quiet long enough."""
        if self._burst is None:  # the common case, without the mutex
            return
        with self._mutex:
            ended = self._take_ended(time.monotonic())
        if ended is not None:
            self._report(ended)

    def _take_ended(self, now: float) -> _Burst | None:
        burst = self._burst
        if burst is None or now - burst.last < self._quiet:
            return None
        self._burst = None
        return burst

    def _report(self, burst: _Burst) -> None:
        self._log.warning(
            "overload over after %.1f s: %d messages were answered busy (the longest wait %.1f s)",
            burst.last - burst.since,
            burst.count,
            burst.oldest,
        )

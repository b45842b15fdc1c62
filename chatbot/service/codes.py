"""Wrong codes (邀请码 for `绑定`, 测评码 for `测评`): a limit per sender and one across all senders.

A sender may get ``PER_SENDER`` codes of a kind wrong an hour; the whole account ``per_minute`` (the
config's WRONG_CODES_PER_MINUTE) in a window of a minute, whoever sends them — so changing openids does
not buy guesses. Once the account's limit is reached, every code waits until the window ends, the right
ones too: a guesser learns nothing during it, a person with a real code is asked to try again shortly.
The check is made before a code is looked up and the count after a wrong one, so under concurrency at
most the requests already past the check are looked up: a wrong code counted past the limit is answered
as the lockout is, never as "wrong", so that at most ``per_minute`` codes a minute are told wrong.

The moment the limit is reached is recorded in the audit log (``LOCKED``, one entry per tripped window:
every process and the console see it) and logged once per burst (trips within ``BURST_SECONDS``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import audit
from chatbot.store.counters import RateCounter
from chatbot.store.models import AuditEntry
from dialogs.binding import FAILED_ATTEMPT_WINDOW, MAX_FAILED_ATTEMPTS

log = logging.getLogger(__name__)

#: Wrong codes of one kind one sender may send within ``SENDER_WINDOW`` seconds.
PER_SENDER = MAX_FAILED_ATTEMPTS
SENDER_WINDOW = FAILED_ATTEMPT_WINDOW
#: The account's window, in seconds.
ACCOUNT_WINDOW = 60
#: Trips closer together than this are one burst: one log line.
BURST_SECONDS = 600
#: The audit log's action for a tripped window.
LOCKED = "wrong_codes_locked"
#: The kinds of code, as their counters are named.
BIND, EVALUATION = "bind", "eval"


class Limit(StrEnum):
    """Why a code is not looked up (or not told wrong): the sender's own hour, or the account's minute."""

    SENDER = "sender"
    ACCOUNT = "account"


@dataclass(frozen=True)
class WrongCodes:
    """The wrong-code limits of one official account."""

    counter: RateCounter
    app_id: str
    per_minute: int

    def _sender_key(self, kind: str, openid: str) -> str:
        return f"{kind}-failures:{self.app_id}:{openid}"

    @property
    def _account_key(self) -> str:
        return f"wrong-codes:{self.app_id}"

    def refused(self, kind: str, openid: str) -> Limit | None:
        """Whether a code of ``kind`` from ``openid`` waits, before it is looked up."""
        if self.counter.count(self._sender_key(kind, openid), SENDER_WINDOW) >= PER_SENDER:
            return Limit.SENDER
        if self.counter.count(self._account_key, ACCOUNT_WINDOW) >= self.per_minute:
            return Limit.ACCOUNT
        return None

    def failed(self, session: Session, kind: str, openid: str, now: datetime) -> Limit | None:
        """Count a wrong code; ``Limit.ACCOUNT`` when it came past the account's limit (answer it as
        the lockout, not as a wrong code). The code that reaches the limit is recorded in the audit log
        in the caller's transaction."""
        self.counter.hit(self._sender_key(kind, openid), SENDER_WINDOW)
        total = self.counter.hit(self._account_key, ACCOUNT_WINDOW)
        if total == self.per_minute:
            self._tripped(session, now)
        return Limit.ACCOUNT if total > self.per_minute else None

    def _tripped(self, session: Session, now: datetime) -> None:
        facts = {"wrong_codes": self.per_minute, "seconds": ACCOUNT_WINDOW}
        session.add(
            AuditEntry(
                at=now, actor="wechat", action=LOCKED, entity="wechat_account", after=audit.encode(facts)
            )
        )
        if self.counter.hit(f"wrong-codes-burst:{self.app_id}", BURST_SECONDS) == 1:
            log.warning(
                "%d wrong codes within %d s from all senders: every code waits until the window ends "
                "(further trips within %d s are in the audit log, not logged)",
                self.per_minute,
                ACCOUNT_WINDOW,
                BURST_SECONDS,
            )


def wrong_codes(counter: RateCounter, config: Config) -> WrongCodes:
    """The limits of the configured account."""
    return WrongCodes(counter, config.wechat_app_id, config.wrong_codes_per_minute)


@dataclass(frozen=True)
class Lockouts:
    """The account's wrong-code lockouts of the last day, for the console's dashboard."""

    last: datetime  # when the last one began
    count: int  # how many windows were locked
    wrong_codes: int  # the wrong codes that lock a window (the limit when it tripped)
    seconds: int  # the window


def recent_lockouts(session: Session, now: datetime, hours: int = 24) -> Lockouts | None:
    """The lockouts of the last ``hours`` before ``now``; None when there were none."""
    since = now - timedelta(hours=hours)
    count = session.scalar(select(func.count()).where(AuditEntry.action == LOCKED, AuditEntry.at >= since))
    if not count:
        return None
    last = session.scalars(
        select(AuditEntry).where(AuditEntry.action == LOCKED).order_by(AuditEntry.id.desc()).limit(1)
    ).one()
    facts = json.loads(last.after or "{}")
    return Lockouts(
        last.at, count, int(facts.get("wrong_codes", 0)), int(facts.get("seconds", ACCOUNT_WINDOW))
    )

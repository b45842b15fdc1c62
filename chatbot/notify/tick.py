"""Everything due at one instant, once: reminders queued, publications finalised, evidence photos
downloaded from WeChat, the outbox delivered.

Run by `nianjian tick` and, every minute, by the scheduler's leader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from chatbot.config import Config
from chatbot.inspection import privacy, results
from chatbot.notify import reminders
from chatbot.notify.delivery import DeliveryReport, deliver_due
from chatbot.notify.evidence import FetchReport, fetch_due
from chatbot.store.models import InboundMessage
from chatbot.wechat.api import ApiClient

INBOUND_KEPT = timedelta(days=7)
#: A tick delivers batch after batch for up to this long, leaving the rest to the next minute (and to
#: `nianjian deliver` workers, who share the queue).
DELIVERY_BUDGET_SECONDS = 45.0
#: Photos are downloaded first, for up to this long (WeChat keeps them 3 days; the rest next minute).
EVIDENCE_BUDGET_SECONDS = 10.0


@dataclass(frozen=True)
class TickReport:
    queued: int
    finalised: list[str]
    delivery: DeliveryReport | None
    evidence: FetchReport | None = None


def run_due(
    sessions: sessionmaker[Session], config: Config, now: datetime, client: ApiClient | None
) -> TickReport:
    now = now.astimezone(UTC)  # stored times are UTC; SQLite compares them as written
    with sessions.begin() as session:
        finalised = results.finalise_due(session, config, now)
    with sessions.begin() as session:
        queued = reminders.enqueue_due(session, config, now)
        # WeChat retries a push within seconds; a week of handled messages is plenty to drop retries.
        session.execute(delete(InboundMessage).where(InboundMessage.created_at < now - INBOUND_KEPT))
    with sessions.begin() as session:
        privacy.seal_due(session, now)  # closed evaluations: voters and ballots made unlinkable
    evidence = (
        fetch_due(sessions, client, config, now, budget=EVIDENCE_BUDGET_SECONDS)
        if client is not None
        else None
    )
    delivery = (
        deliver_due(sessions, client, config, now, budget=DELIVERY_BUDGET_SECONDS)
        if client is not None
        else None
    )
    return TickReport(queued, finalised, delivery, evidence)

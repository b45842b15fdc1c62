"""Delivers the outbox (design §8): template message where one is configured, else customer-service
text inside WeChat's window, else recorded as undeliverable. Exactly once or visibly not at all.

A tick claims due rows (``claimed``); right before its API call a row becomes ``sending``, committed;
after it, ``sent``, ``failed`` (a permanent error), ``pending`` again (a transient one, with backoff)
or ``undeliverable``. When a process dies, its leases run out: a ``claimed`` row was never tried and
goes back to ``pending``; a ``sending`` row may have reached the user and becomes ``unconfirmed``,
never sent again — WeChat has no idempotency key, so a second send could repeat a message the user
already has. So a restart sends nothing twice and skips nothing it had not tried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from chatbot.config import Config
from chatbot.store.models import Account, OutboxMessage
from chatbot.timeutil import as_utc
from chatbot.wechat.api import PERMANENT_ERRORS, ApiClient, ApiError

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
MESSAGE_WINDOW = timedelta(hours=48)
MESSAGE_ALLOWANCE = 5
EVENT_WINDOW = timedelta(minutes=1)
EVENT_ALLOWANCE = 3
BATCH = 200
INTERRUPTED = "发送过程中断，无法确认是否送达；为避免重复，不再自动重发"


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    undeliverable: int = 0
    unconfirmed: int = 0
    errors: list[str] = field(default_factory=list)


def template_data(row: OutboxMessage) -> dict[str, dict[str, str]]:
    """The default template's keyword fields: 事项, 截止时间, 说明 (first/remark are dropped by WeChat)."""
    return {
        "keyword1": {"value": row.subject},
        "keyword2": {"value": row.due or "—"},
        "keyword3": {"value": row.text},
    }


def deliver_due(
    sessions: sessionmaker[Session], client: ApiClient, config: Config, now: datetime
) -> DeliveryReport:
    now = now.astimezone(UTC)  # stored times are UTC; SQLite compares them as written
    report = DeliveryReport()
    report.unconfirmed = _expire_claims(sessions, now)
    for row_id in _claim(sessions, now):
        _deliver_one(sessions, client, config, row_id, now, report)
    return report


def _expire_claims(sessions: sessionmaker[Session], now: datetime) -> int:
    """Leases of a process that died: untried rows go back to the queue, an interrupted send stops."""
    with sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "claimed", OutboxMessage.claimed_until < now)
            .values(status="pending", claimed_until=None)
        )
        # An UPDATE's result is a CursorResult (the one with .rowcount); Session.execute is typed wider.
        result = cast(
            "CursorResult[Any]",
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now)
                .values(status="unconfirmed", last_error=INTERRUPTED)
            ),
        )
        return result.rowcount or 0


def _claim(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    """Take due rows for this process; concurrent ticks take disjoint rows."""
    with sessions.begin() as session:
        query = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        claimed = []
        for row_id in session.scalars(query).all():
            # The status check makes the claim safe where SKIP LOCKED is not available (SQLite).
            taken = cast(
                "CursorResult[Any]",
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
                    .values(status="claimed", claimed_until=now + CLAIM_LEASE)
                ),
            )
            if taken.rowcount:
                claimed.append(row_id)
        return claimed


def _window_channel(account: Account, now: datetime) -> str | None:
    """Which customer-service allowance is open for the account, if any (and count one message)."""
    in_message_window = account.last_message_at and now - as_utc(account.last_message_at) < MESSAGE_WINDOW
    if in_message_window and account.cs_since_message < MESSAGE_ALLOWANCE:
        account.cs_since_message += 1
        return "text"
    in_event_window = account.last_event_at and now - as_utc(account.last_event_at) < EVENT_WINDOW
    if in_event_window and account.cs_since_event < EVENT_ALLOWANCE:
        account.cs_since_event += 1
        return "text"
    return None


def _deliver_one(
    sessions: sessionmaker[Session],
    client: ApiClient,
    config: Config,
    row_id: int,
    now: datetime,
    report: DeliveryReport,
) -> None:
    with sessions.begin() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        account = session.get(Account, row.account_id, with_for_update=True)
        assert account is not None
        template_id = config.template_for(row.kind)
        channel = "template" if template_id else _window_channel(account, now)
        if not account.subscribed:
            channel = None
        if channel is None:
            row.status = "undeliverable"
            row.last_error = (
                "用户已取消关注" if not account.subscribed else "未配置模板消息，且不在 48 小时客服消息窗口内"
            )
            report.undeliverable += 1
            return
        row.channel = channel
        row.status = "sending"
        row.attempts += 1
        openid, text, data = account.openid, row.text, template_data(row)
    try:
        if channel == "template":
            client.send_template(openid, template_id, data)
        else:
            client.send_text(openid, text)
    except ApiError as error:
        _record_failure(sessions, row_id, error, now, report)
        return
    with sessions.begin() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.status, row.sent_at, row.claimed_until, row.last_error = "sent", now, None, None
    report.sent += 1


def _record_failure(
    sessions: sessionmaker[Session], row_id: int, error: ApiError, now: datetime, report: DeliveryReport
) -> None:
    with sessions.begin() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.claimed_until = None
        row.last_error = f"{error.errcode}: {PERMANENT_ERRORS.get(error.errcode or 0, error.message)}"[:500]
        if error.permanent or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            report.failed += 1
            if error.errcode == 43004:
                account = session.get(Account, row.account_id)
                if account is not None:
                    account.subscribed = False
        else:
            row.status = "pending"
            row.next_attempt_at = now + BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
            report.retried += 1
    report.errors.append(f"outbox {row_id}: {error}")
    log.warning("notice %s not delivered: %s", row_id, error)

"""Delivers the outbox (design §8): template message where one is configured, else customer-service
text inside WeChat's window, else recorded as undeliverable. Exactly once or visibly not at all.

A tick claims due rows (``claimed``); right before its API call a row becomes ``sending``, committed;
after it, ``sent``, ``failed`` (a permanent error), ``pending`` again (a transient one, with backoff)
or ``undeliverable``. When a process dies, its leases run out: a ``claimed`` row was never tried and
goes back to ``pending``; a ``sending`` row may have reached the user and becomes ``unconfirmed``,
never sent again — WeChat has no idempotency key, so a second send could repeat a message the user
already has. So a restart sends nothing twice and skips nothing it had not tried.

Several processes deliver at once (the scheduler's leader in its tick, `nianjian deliver` workers):
each claims its batch in one statement (``WITH due AS MATERIALIZED (SELECT … FOR UPDATE SKIP LOCKED)
UPDATE … RETURNING``), so no row is taken twice (on SQLite, where one writer runs at a time, the same
statement without the lock clause). Rows go out by due time, deadline reminders first, then by id. A
row is sent only while its claim's lease holds: a batch that runs long puts its untried rows back.

A call's failure decides the row's next state: a rejected token (40001/42001) is refreshed once
and the call repeated once, inside the API client; a failure to connect, WeChat's ``-1`` (busy) or a
gateway's 5xx other than 504 go back to ``pending`` with backoff (``BACKOFF``, at most
``MAX_ATTEMPTS``); a read timeout, a connection cut after the request went out, or a 504 make the row
``unconfirmed`` at once — the message may have arrived, so it is not sent again; 43004 (unsubscribed)
and the other ``PERMANENT_ERRORS`` make it ``failed`` (43004 also marks the account unsubscribed);
45015/45047 on a customer-service text make it ``undeliverable`` and use up the account's window.

WeChat caps calls per day (45009, "reach max api daily quota limit"). When a send hits it, the notice's
kind pauses until the next Asia/Shanghai midnight (a ``delivery_pauses`` row every process reads): the
notice goes back to ``pending`` as it was (not counted as an attempt), its kind is held in order, other
kinds go on. When the day's access_token fetches are used up no call can be made at all: every send
pauses (kind ``*``) until midnight.

A `deliver` worker overlaps its calls (``DELIVERY_CONCURRENCY``, a thread pool): this thread still
claims, commits each row ``sending`` before its call and records each outcome; only the HTTP calls
run in the pool, at most that many in flight, and the ``sent`` marks of the calls that came back
together are one statement. So the claim, the lease and the states above are unchanged: a crash
leaves at most the calls in flight ``sending`` (then ``unconfirmed``), never one sent twice. Rows
start in delivery order; with calls overlapped they may finish in another. After a 45009 the calls
already in flight end as WeChat answers them; no new call of the paused kind starts. The scheduler's
own delivery (its tick) sends one call at a time.
"""

from __future__ import annotations

import logging
import threading
import time as monotonic_time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import Exists

from chatbot.config import Config
from chatbot.notify.message import NoticeFacts, TemplateMessage, template_message
from chatbot.store.models import Account, DeliveryPause, OutboxMessage
from chatbot.store.notice_kinds import DEADLINE_KINDS, label_of
from chatbot.timeutil import SHANGHAI, as_utc
from chatbot.wechat.api import PERMANENT_ERRORS, WINDOW_CLOSED, ApiClient, ApiError, TokenQuotaError

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
#: A batch stops this long before its lease runs out; its untried rows go back to the queue.
LEASE_MARGIN = timedelta(minutes=1)
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
NO_ANSWER = "已发出但未收到微信的答复（超时或连接中断），无法确认是否送达；为避免重复，不再自动重发"
#: The pause of every send (the access_token quota), beside the pauses of single kinds.
EVERY_KIND = "*"
#: WeChat's usual daily template quota, for estimates until a 45009 has measured the real one.
DAILY_TEMPLATE_QUOTA = 100_000
BACKLOG = ("pending", "claimed")


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    undeliverable: int = 0
    unconfirmed: int = 0
    #: rows this run took, and those put back untried because their kind is paused (45009)
    claimed: int = 0
    held: int = 0
    paused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        for name in ("sent", "retried", "failed", "undeliverable", "unconfirmed", "claimed", "held"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.paused.extend(kind for kind in other.paused if kind not in self.paused)
        self.errors.extend(other.errors)

    def summary(self) -> str:
        held = f", held {self.held} (paused: {' '.join(self.paused)})" if self.held or self.paused else ""
        return (
            f"sent {self.sent}, retrying {self.retried}, failed {self.failed}, "
            f"undeliverable {self.undeliverable}, unconfirmed {self.unconfirmed}{held}"
        )


def template_send(config: Config, row: NoticeFacts, now: datetime) -> TemplateMessage | None:
    """What a template send of this notice carries: the kind's template, its typed fields composed to
    fit (chatbot.notify.message) and the link to the full text; None when the kind has no template."""
    template = config.template_of(row.kind)
    if template is None:
        return None
    return template_message(template, row, now, config.public_base_url, config.secret_key)


def notice_facts(row: OutboxMessage) -> NoticeFacts:
    return NoticeFacts(row.id, row.kind, row.subject, row.due, row.text, row.facts, row.created_at)


def deliver_due(
    sessions: sessionmaker[Session],
    client: ApiClient,
    config: Config,
    now: datetime,
    budget: float = 0.0,
    concurrency: int = 1,
) -> DeliveryReport:
    """Deliver what is due at ``now``: one batch, then more while rows remain and ``budget`` seconds last;
    up to ``concurrency`` calls in flight at once."""
    now = now.astimezone(UTC)  # stored times are UTC; SQLite compares them as written
    report = DeliveryReport()
    started = monotonic_time.monotonic()
    with sessions() as quick, _call_pool(concurrency) as pool:
        # Single-statement steps commit on their own: one round trip each, no BEGIN and COMMIT.
        quick.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        run = _Run(sessions, quick, client, config, now, report, pool, concurrency)
        while True:
            report.unconfirmed += _expire_claims(sessions, now)
            claimed = _deliver_batch(run)
            if claimed < BATCH or monotonic_time.monotonic() - started >= budget:
                return report


@dataclass(frozen=True)
class _Run:
    """What every step of one delivery run shares."""

    sessions: sessionmaker[Session]
    quick: Session  # autocommit: each single-statement step commits by itself
    client: ApiClient
    config: Config
    now: datetime
    report: DeliveryReport
    #: The threads the calls run in (None: one call at a time, in this thread), and how many at once.
    pool: ThreadPoolExecutor | None = None
    concurrency: int = 1


@contextmanager
def _call_pool(concurrency: int) -> Iterator[ThreadPoolExecutor | None]:
    """Threads for ``concurrency`` calls in flight; None for one at a time."""
    if concurrency <= 1:
        yield None
        return
    with ThreadPoolExecutor(concurrency, thread_name_prefix="wechat-send") as pool:
        yield pool


def _deliver_batch(run: _Run) -> int:
    """Claim a batch and deliver it while its lease lasts (the rest goes back); how many were claimed."""
    batch = _claim(run.sessions, run.now)
    run.report.claimed += len(batch)
    lease = run.now + CLAIM_LEASE
    taken = monotonic_time.monotonic()
    if run.pool is not None:
        _deliver_overlapped(run, deque(batch), lease, taken)
        return len(batch)
    for n, (row_id, kind) in enumerate(batch):
        if _lease_ending(taken):
            _release(run.sessions, [row_id for row_id, _ in batch[n:]], lease)
            break
        _deliver_one(run, row_id, kind, lease)
    return len(batch)


def _lease_ending(taken: float) -> bool:
    """Whether the batch claimed at monotonic ``taken`` is within LEASE_MARGIN of its lease's end."""
    return monotonic_time.monotonic() - taken > (CLAIM_LEASE - LEASE_MARGIN).total_seconds()


def _deliver_overlapped(run: _Run, queue: deque[tuple[int, str]], lease: datetime, taken: float) -> None:
    """The batch with up to ``run.concurrency`` calls in flight: each row committed ``sending`` here
    before its call goes to the pool, each outcome recorded here as the calls come back."""
    in_flight: dict[Future[Any], int] = {}
    while queue or in_flight:
        if queue and _lease_ending(taken):
            _release(run.sessions, [row_id for row_id, _ in queue], lease)
            queue.clear()
        room = min(run.concurrency - len(in_flight), len(queue))
        if room > 0:
            assert run.pool is not None
            for row_id, send in _begin(run, [queue.popleft() for _ in range(room)], lease):
                in_flight[run.pool.submit(_call, run.client, send)] = row_id
        if in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            _record_outcomes(run, {in_flight.pop(future): future for future in done})


def _record_outcomes(run: _Run, outcomes: dict[int, Future[Any]]) -> None:
    """The calls that came back: the sent ones marked in one statement, each failure as it decides;
    an unexpected exception is raised once the others are recorded."""
    sent, unexpected = [], None
    for row_id, future in outcomes.items():
        error = future.exception()
        if error is None:
            sent.append(row_id)
        elif isinstance(error, ApiError):
            _record_failure(run.sessions, row_id, error, run.now, run.report)
        else:
            unexpected = error  # its row stays `sending`: unconfirmed when the lease runs out
    _mark_sent(run, sent)
    if unexpected is not None:
        raise unexpected


def _release(sessions: sessionmaker[Session], ids: list[int], lease: datetime) -> None:
    """Rows still claimed under this lease go back to the queue, untried, in their place."""
    with sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.status == "claimed",
                OutboxMessage.claimed_until == lease,
            )
            .values(status="pending", claimed_until=None)
        )


def run_worker(
    sessions: sessionmaker[Session],
    client: ApiClient,
    config: Config,
    once: bool = False,
    stop: threading.Event | None = None,
    poll_seconds: float = 5.0,
    clock: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """A delivery worker (`nianjian deliver`): batch after batch of what is due now, beside the leader's
    tick and other workers; with ``once``, until nothing due is left, else until ``stop`` is set."""
    stop = stop or threading.Event()
    total = DeliveryReport()
    while not stop.is_set():
        now = clock() if clock else datetime.now(UTC)
        report = deliver_due(sessions, client, config, now, concurrency=config.delivery_concurrency)
        total.add(report)
        if report.claimed < BATCH:  # nothing more is due (or other workers hold the rest)
            if once:
                break
            stop.wait(poll_seconds)
    return total


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


def delivery_order() -> tuple[Any, ...]:
    """Due time, then deadline reminders before other notices, then id."""
    deadline_first = case((OutboxMessage.kind.in_(sorted(DEADLINE_KINDS)), 0), else_=1)
    return (OutboxMessage.next_attempt_at, deadline_first, OutboxMessage.id)


def _claim(sessions: sessionmaker[Session], now: datetime) -> list[tuple[int, str]]:
    """Take a batch of due rows for this process, in delivery order; concurrent claims take disjoint rows.

    One statement: the rows are chosen and locked (``FOR UPDATE SKIP LOCKED``: rows another process
    is claiming are passed over, not waited for) and marked claimed together
    (``WITH due AS MATERIALIZED (SELECT … FOR UPDATE SKIP LOCKED) UPDATE … RETURNING``). SQLite ignores the lock
    clause; there the statement holds the database's one write lock, which is just as exclusive.
    """
    with sessions.begin() as session:
        paused = active_pauses(session, now)
        if EVERY_KIND in paused:
            return []
        due = select(OutboxMessage.id).where(
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now
        )
        if paused:
            due = due.where(OutboxMessage.kind.not_in(sorted(paused)))
        # MATERIALIZED: chosen once. As a plain subquery PostgreSQL may rescan it for every outer row,
        # and each rescan locks the next rows it can get — the whole queue in one claim.
        chosen = (
            due.order_by(*delivery_order())
            .limit(BATCH)
            .with_for_update(skip_locked=True)
            .cte("due")
            .prefix_with("MATERIALIZED")
        )
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(select(chosen.c.id)), OutboxMessage.status == "pending")
            .values(status="claimed", claimed_until=now + CLAIM_LEASE)
            .returning(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.next_attempt_at)
            .execution_options(synchronize_session=False)
        ).all()
    # RETURNING comes in no particular order: sort the batch as the SELECT chose it.
    rows = sorted(claimed, key=lambda r: (as_utc(r.next_attempt_at), r.kind not in DEADLINE_KINDS, r.id))
    return [(row.id, row.kind) for row in rows]


def next_midnight(now: datetime) -> datetime:
    """The next Asia/Shanghai midnight after ``now`` (when WeChat's daily quotas renew), in UTC."""
    day = now.astimezone(SHANGHAI).date() + timedelta(days=1)
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def active_pauses(session: Session, now: datetime) -> dict[str, DeliveryPause]:
    """The pauses still running at ``now``, by kind (``*``: every send)."""
    return {
        pause.kind: pause
        for pause in session.scalars(select(DeliveryPause).where(DeliveryPause.until > now.astimezone(UTC)))
    }


def _pause(session: Session, kind: str, channel: str | None, reason: str, now: datetime) -> None:
    """Record (or renew) the pause of ``kind`` until midnight, with the day's sends as the quota measured."""
    midnight = next_midnight(now) - timedelta(days=1)
    sent = select(func.count()).where(OutboxMessage.status == "sent", OutboxMessage.sent_at >= midnight)
    if channel is not None:
        sent = sent.where(OutboxMessage.channel == channel)
    values = {
        "kind": kind,
        "paused_at": now,
        "until": next_midnight(now),
        "reason": reason[:500],
        "sent_today": session.scalar(sent) or 0,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(DeliveryPause).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["kind"], set_={k: v for k, v in values.items() if k != "kind"}
        )
    )
    log.warning("notices of kind %s paused until %s: %s", kind, values["until"], reason)


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


@dataclass(frozen=True)
class _Send:
    """One API call to make, decided and committed as ``sending`` before it is made."""

    channel: str
    openid: str
    template_id: str
    text: str
    data: dict[str, dict[str, str]]
    #: The template message's link to the notice's full text ("" for none).
    url: str = ""


def _deliver_one(run: _Run, row_id: int, kind: str, lease: datetime) -> None:
    """One notice: ``sending`` committed, the call, then ``sent`` (or the failure) committed."""
    begun = _begin(run, [(row_id, kind)], lease)
    if not begun:
        return
    ((_, send),) = begun
    try:
        _call(run.client, send)
    except ApiError as error:
        _record_failure(run.sessions, row_id, error, run.now, run.report)
        return
    _mark_sent(run, [row_id])


def _begin(run: _Run, rows: list[tuple[int, str]], lease: datetime) -> list[tuple[int, _Send]]:
    """The rows committed ``sending``, in order, with the calls to make (those with nothing to send
    left out): the template ones in one statement, the others one by one."""
    templates = {row_id: run.config.template_for(kind) for row_id, kind in rows}
    templates = {row_id: template for row_id, template in templates.items() if template}
    started = _start_templates(run.quick, run.config, templates, lease, run.now) if templates else {}
    begun = []
    for row_id, _kind in rows:
        send = started.get(row_id) or _start(run, row_id, lease)
        if send is not None:
            begun.append((row_id, send))
    return begun


def _call(client: ApiClient, send: _Send) -> None:
    """The API call itself (ApiError when it failed); safe to run in the pool's threads."""
    if send.channel == "template":
        client.send_template(send.openid, send.template_id, send.data, send.url)
    else:
        client.send_text(send.openid, send.text)


def _mark_sent(run: _Run, row_ids: list[int]) -> None:
    """The rows whose calls WeChat accepted, ``sent`` in one statement."""
    if not row_ids:
        return
    run.quick.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(row_ids))
        .values(status="sent", sent_at=run.now, claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    run.report.sent += len(row_ids)


def _paused(now: datetime) -> Exists:
    """Whether the outbox row's kind (or every send) is paused at ``now``: a correlated EXISTS."""
    return (
        select(DeliveryPause.kind)
        .where(DeliveryPause.kind.in_([OutboxMessage.kind, EVERY_KIND]), DeliveryPause.until > now)
        .exists()
    )


def _ours(row_id: int, lease: datetime) -> tuple[Any, ...]:
    """The row is still claimed by this run: its lease has not run out and been taken by another."""
    return (
        OutboxMessage.id == row_id,
        OutboxMessage.status == "claimed",
        OutboxMessage.claimed_until == lease,
    )


def _start_templates(
    quick: Session, config: Config, templates: dict[int, str], lease: datetime, now: datetime
) -> dict[int, _Send]:
    """The common case in one statement for rows by id (with their template): a template to a
    subscribed user, its kind not paused, the row still ours. A row left out is paused, unsubscribed
    or no longer ours: the general path (``_start``) tells which."""
    subscribed = (
        select(Account.id)
        .where(Account.id == OutboxMessage.account_id, Account.subscribed.is_(True))
        .exists()
    )
    openid = select(Account.openid).where(Account.id == OutboxMessage.account_id).scalar_subquery()
    notice = (
        OutboxMessage.kind,
        OutboxMessage.subject,
        OutboxMessage.due,
        OutboxMessage.text,
        OutboxMessage.facts,
        OutboxMessage.created_at,
    )
    found = quick.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(templates)),
            OutboxMessage.status == "claimed",
            OutboxMessage.claimed_until == lease,
            subscribed,
            ~_paused(now),
        )
        .values(status="sending", channel="template", attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id, openid, *notice)
        .execution_options(synchronize_session=False)
    ).all()
    started: dict[int, _Send] = {}
    for row in found:
        row_id, to, kind, subject, due, body, facts, created = cast(
            "tuple[int, str, str, str, str | None, str, str | None, datetime]", tuple(row)
        )
        facts_row = NoticeFacts(row_id, kind, subject, due or "", body, facts or "", created)
        send = template_send(config, facts_row, now)
        assert send is not None  # ``templates`` holds only the rows whose kind has one
        started[row_id] = _Send("template", to, send.template_id, body, send.data, send.url)
    return started


def _start(run: _Run, row_id: int, lease: datetime) -> _Send | None:
    """Decide the channel and commit ``sending`` (one attempt more); None when nothing is to be sent."""
    now, report = run.now, run.report
    with run.sessions.begin() as session:
        found = session.execute(
            select(OutboxMessage, Account.openid, Account.subscribed, _paused(now))
            .join(Account, Account.id == OutboxMessage.account_id)
            .where(*_ours(row_id, lease))
        ).one_or_none()
        if found is None:  # the lease ran out and the row went back to the queue: not ours to send
            return None
        row, openid, subscribed, is_paused = found
        if is_paused:  # another process (or this one) met the daily quota
            row.status, row.claimed_until = "pending", None
            report.held += 1
            return None
        template = template_send(run.config, notice_facts(row), now)
        if template is not None and subscribed:  # the common case: no customer-service allowance to count
            row.channel, row.status, row.attempts = "template", "sending", row.attempts + 1
            return _Send("template", openid, template.template_id, row.text, template.data, template.url)
        account = session.get(Account, row.account_id, with_for_update=True)
        assert account is not None
        channel = _window_channel(account, now) if account.subscribed else None
        if channel is None:
            row.status = "undeliverable"
            row.last_error = (
                "用户已取消关注" if not account.subscribed else "未配置模板消息，且不在 48 小时客服消息窗口内"
            )
            report.undeliverable += 1
            return None
        row.channel, row.status, row.attempts = channel, "sending", row.attempts + 1
        return _Send(channel, account.openid, "", row.text, {})  # the full wording, in the window


def _record_failure(
    sessions: sessionmaker[Session], row_id: int, error: ApiError, now: datetime, report: DeliveryReport
) -> None:
    with sessions.begin() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.claimed_until = None
        row.last_error = f"{error.errcode}: {PERMANENT_ERRORS.get(error.errcode or 0, error.message)}"[:500]
        if error.daily_quota:
            _hold_for_the_day(session, row, error, now, report)
            return
        if error.unconfirmed:  # it may have reached the user: sending again could repeat it
            row.status, row.last_error = "unconfirmed", f"{NO_ANSWER}（{error}）"[:500]
            report.unconfirmed += 1
        elif error.errcode in WINDOW_CLOSED and row.channel == "text":
            _window_closed(session, row, error, report)
        elif error.permanent or row.attempts >= MAX_ATTEMPTS:
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


def _window_closed(session: Session, row: OutboxMessage, error: ApiError, report: DeliveryReport) -> None:
    """45015/45047: WeChat says the customer-service window is shut whatever our count said — the
    notice is undeliverable (as when no window was open), and the account's allowance is used up
    until the user writes again, so the notices behind it do not try the same."""
    row.status = "undeliverable"
    row.last_error = f"{error.errcode}: {PERMANENT_ERRORS.get(error.errcode or 0, error.message)}"[:500]
    report.undeliverable += 1
    account = session.get(Account, row.account_id)
    if account is not None:
        account.cs_since_message, account.cs_since_event = MESSAGE_ALLOWANCE, EVENT_ALLOWANCE


def _hold_for_the_day(
    session: Session, row: OutboxMessage, error: ApiError, now: datetime, report: DeliveryReport
) -> None:
    """45009: the notice waits, untouched, for the quota to renew; its kind (or every send) pauses."""
    token_quota = isinstance(error, TokenQuotaError)
    kind = EVERY_KIND if token_quota else row.kind
    reason = (
        "access_token 今日获取次数已用完" if token_quota else f"{error.errcode}: 今日接口调用次数已达上限"
    )
    _pause(session, kind, None if token_quota else row.channel, reason, now)
    row.status = "pending"  # next_attempt_at unchanged: it keeps its place in the queue
    row.attempts -= 1
    row.last_error = f"{reason}，{next_midnight(now).astimezone(SHANGHAI):%m-%d %H:%M} 后继续发送"
    report.held += 1
    if kind not in report.paused:
        report.paused.append(kind)


# ---------------------------------------------------------------- the backlog, for the console


@dataclass(frozen=True)
class KindBacklog:
    kind: str
    subject: str
    pending: int
    #: the end of this kind's pause (the daily quota, or every send's), else None
    paused_until: datetime | None = None
    #: the daily quota as measured by the pause (sends that day before WeChat refused)
    quota: int | None = None


@dataclass(frozen=True)
class Backlog:
    """Notices waiting (pending or claimed) by kind, the send rate of the last hour and the expected
    finish: the queue ahead ÷ that rate, and for a paused kind its daily quota from the pause's end."""

    kinds: list[KindBacklog]
    pending: int
    sent_last_hour: int
    finish: datetime | None
    every_send_paused_until: datetime | None
    #: seconds the rate is measured over (``rate_window``)
    window: float = 3600.0

    @property
    def per_second(self) -> float:
        return self.sent_last_hour / self.window

    @property
    def per_minute(self) -> float:
        """The rate a minute: what the console shows when it is under one a second."""
        return self.sent_last_hour * 60 / self.window


#: The shortest time a send rate is measured over: the scheduler delivers once a minute.
SHORTEST_WINDOW = 60.0


def rate_window(first_sent: datetime | None, now: datetime) -> float:
    """Seconds the last hour's sends are spread over: from the first of them to now, at least a
    minute — not the whole hour, or seven notices sent in the last five minutes read as one every
    nine minutes and a backlog of eight as an hour and a half's work."""
    if first_sent is None:
        return 3600.0
    return min(3600.0, max(SHORTEST_WINDOW, (now - as_utc(first_sent)).total_seconds()))


def backlog(session: Session, now: datetime, accounts: Any = None) -> Backlog:
    """The backlog of the notices to ``accounts`` (a selectable of account ids; None: every account),
    with every paused kind, deadline reminders first."""
    now = now.astimezone(UTC)
    pauses = active_pauses(session, now)
    everything = pauses.get(EVERY_KIND)
    waiting = select(OutboxMessage.kind, func.count(), func.max(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.status.in_(BACKLOG)
    )
    if accounts is not None:
        waiting = waiting.where(OutboxMessage.account_id.in_(accounts))
    mine = {
        kind: (count, as_utc(last))
        for kind, count, last in session.execute(waiting.group_by(OutboxMessage.kind))
    }
    last_hour = select(func.count(), func.min(OutboxMessage.sent_at)).where(
        OutboxMessage.status == "sent", OutboxMessage.sent_at > now - timedelta(hours=1)
    )
    sent, first_sent = session.execute(last_hour).one()
    sent = sent or 0
    window = rate_window(first_sent, now)
    rate = sent * 3600 / window  # an hour's sends at the rate measured
    kinds, finishes = [], []
    for kind in sorted(set(mine) | (set(pauses) - {EVERY_KIND}), key=lambda k: (k not in DEADLINE_KINDS, k)):
        count, last_due = mine.get(kind, (0, now))
        pause = pauses.get(kind)
        until = max((as_utc(p.until) for p in (pause, everything) if p is not None), default=None)
        kinds.append(KindBacklog(kind, label_of(kind), count, until, pause.sent_today if pause else None))
        if count:
            finishes.append(_kind_finish(session, kind, last_due, now, rate, pause, everything, set(pauses)))
    return Backlog(
        kinds,
        sum(k.pending for k in kinds),
        sent,
        _latest(finishes),
        as_utc(everything.until) if everything is not None else None,
        window,
    )


def _latest(finishes: list[datetime | None]) -> datetime | None:
    """The last of the kinds' finishes; None when any of them is unknown (or there is nothing to send)."""
    known = [f for f in finishes if f is not None]
    return max(known) if known and len(known) == len(finishes) else None


def _kind_finish(
    session: Session,
    kind: str,
    last_due: datetime,
    now: datetime,
    rate: float,
    pause: DeliveryPause | None,
    everything: DeliveryPause | None,
    paused: set[str],
) -> datetime | None:
    """When the last of these notices of ``kind`` is expected out at ``rate`` an hour; None when nothing
    tells (no sends in the last hour). The queue ahead is every waiting notice, anyone's, that goes out before it."""
    ahead = select(func.count()).where(
        OutboxMessage.status.in_(BACKLOG), OutboxMessage.next_attempt_at <= last_due
    )
    if pause is not None:  # held until the quota renews, then at most a quota a day
        quota = pause.sent_today or DAILY_TEMPLATE_QUOTA
        queued = session.scalar(ahead.where(OutboxMessage.kind == kind)) or 0
        days, rest = divmod(max(queued - 1, 0), quota)
        start = max(as_utc(pause.until), as_utc(everything.until) if everything else now) + timedelta(
            days=days
        )
        return start + (timedelta(hours=(rest + 1) / rate) if rate else timedelta(0))
    if not rate:
        return None
    others = paused - {EVERY_KIND}
    queued = session.scalar(ahead.where(OutboxMessage.kind.not_in(sorted(others))) if others else ahead) or 0
    start = as_utc(everything.until) if everything is not None else now
    return max(start + timedelta(hours=queued / rate), last_due)

"""One inbound message → one reply, applied exactly once (docs/architecture.md draws the path).

take the user's lock → load dialog state → in one DB transaction: drop a duplicate (WeChat retries),
plan the turn (parse once, route), load the context it needs, run the dialog, apply its commands,
record the message with its reply → commit → save the state → reply.

When the database or Redis cannot be reached the turn answers ``UNAVAILABLE`` (nothing was recorded)
and ``Outages`` logs one line when the failures begin and one when a turn succeeds again, not one per
message. A turn committed before Redis failed keeps its reply: its answer is in the database, and the
next turn re-places the dialog from the stored answers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from chatbot.config import Config
from chatbot.inspection.errors import Refused
from chatbot.service.apply import Applier
from chatbot.service.codes import wrong_codes
from chatbot.service.context import load_context
from chatbot.store.counters import Kept, RateCounter
from chatbot.store.engine import is_unavailable
from chatbot.store.models import Account, InboundMessage
from chatbot.store.state import STATE_ERRORS, Conversations, LockTimeout, StorageKey, Turn
from dialogs.engine import Addendum, Choice, Outcome, Reply, UserInput, fit
from dialogs.router import plan, respond
from dialogs.texts import common as common_texts

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 4.0
BUSY = Reply("您的上一条消息还在处理中，请稍候几秒再发送。")
UNAVAILABLE = Reply("抱歉，系统暂时无法处理消息，您的这条消息没有记录，请过几分钟再发一次。")
#: The parts a turn needs, as the log names them.
DATABASE, STATE = "database", "Redis"


class Outages:
    """One log line when a part (the database, Redis) starts failing and one when turns succeed again
    — a failure burst, however many messages it refuses, is two lines in the log, not one per message."""

    def __init__(self, logger: logging.Logger = log) -> None:
        self._log = logger
        self._mutex = threading.Lock()
        self._down: dict[str, tuple[float, int]] = {}  # part → (since, failed turns)

    def failed(self, part: str, error: BaseException) -> None:
        with self._mutex:
            since, count = self._down.get(part, (time.monotonic(), 0))
            self._down[part] = (since, count + 1)
        if count == 0:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            self._log.error(
                "%s unavailable (%s: %s); turns answer with an apology until it is back",
                part,
                type(error).__name__,
                reason[:300],
            )

    def succeeded(self) -> None:
        if not self._down:  # the common case, without the mutex
            return
        with self._mutex:
            down, self._down = self._down, {}
        for part, (since, count) in down.items():
            self._log.warning(
                "%s available again after %.1f s; %d turns were answered with an apology",
                part,
                time.monotonic() - since,
                count,
            )

    @property
    def down(self) -> tuple[str, ...]:
        """The parts failing now (for a health check)."""
        return tuple(self._down)


@dataclass(frozen=True)
class Inbound:
    """One message as the webhook hands it over."""

    openid: str
    dedup_key: str
    user_input: UserInput
    #: Kept before the turn (the webhook's signed-query guard), in its first Redis round trip.
    kept: Kept | None = None


def encode_reply(reply: Reply) -> str:
    return json.dumps(
        {"text": reply.text, "choices": [[c.label, c.content] for c in reply.choices]}, ensure_ascii=False
    )


def decode_reply(stored: str) -> Reply:
    data = json.loads(stored)
    return Reply(data["text"], tuple(Choice(label, content) for label, content in data["choices"]))


@dataclass(frozen=True)
class Sender:
    """The account behind this turn's message: its id and openid (the row itself is not loaded)."""

    id: int
    openid: str


class Duplicate(Exception):
    """The message was handled before (WeChat's retry): the turn is undone, the stored reply stands."""


def echoed(user_input: UserInput, reply: Reply) -> Reply:
    """The reply to a voice message begins with what was heard (听到：三分). What was heard is never
    recorded — it may be a ballot's answer or its suggestion —: the record keeps the reply without it,
    and WeChat's retry, which carries the same recognition, is answered with it added again."""
    if not user_input.heard or not reply.text:
        return reply
    return fit(common_texts.heard(user_input.heard), reply)


def window(kind: str, now: datetime) -> dict[str, Any]:
    """What this message does to WeChat's customer-service window (and the subscription)."""
    if kind in ("click", "scan", "subscribe"):
        return {"last_event_at": now, "cs_since_event": 0, "subscribed": True}
    if kind == "unsubscribe":
        return {"subscribed": False}
    return {"last_message_at": now, "cs_since_message": 0}


_DIALECTS: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
#: The columns each kind of message changes (``window``'s keys), as the upsert's key.
_WINDOW_KINDS = ("text", "click", "unsubscribe")


def _account_upsert(insert: Callable[..., Any], changed: tuple[str, ...]) -> Executable:
    """The account's upsert for a message changing ``changed``; its values are the execute's
    parameters, a known account takes the changed ones from the row that was refused."""
    statement = insert(Account.__table__)
    return statement.on_conflict_do_update(
        index_elements=["openid"], set_={column: statement.excluded[column] for column in changed}
    ).returning(Account.__table__.c.id)


def _message_insert(insert: Callable[..., Any]) -> Executable:
    return (
        insert(InboundMessage.__table__)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(InboundMessage.__table__.c.id)
    )


#: The turn's two writes, built once per dialect (SQLAlchemy caches their compiled forms): run on the
#: session's connection, as Core, so that no ORM flush or ORM statement handling precedes them.
_UPSERTS = {
    (dialect, tuple(window(kind, datetime.min))): _account_upsert(insert, tuple(window(kind, datetime.min)))
    for dialect, insert in _DIALECTS.items()
    for kind in _WINDOW_KINDS
}
_RECORDS = {dialect: _message_insert(insert) for dialect, insert in _DIALECTS.items()}


class ChatService:
    """Handles messages for one official account."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        conversations: Conversations,
        counter: RateCounter,
        config: Config,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._conversations = conversations
        self._counter = counter
        self._config = config
        self._app_id = config.wechat_app_id
        self._clock = clock
        self.outages = Outages()

    def handle(self, inbound: Inbound, wait: float = LOCK_WAIT_SECONDS) -> Reply:
        """The reply to one message; ``UNAVAILABLE`` when the database or Redis cannot be reached,
        ``BUSY`` when the user's lock is not free within ``wait`` seconds; KeptOther, nothing applied,
        when another value is kept under ``inbound.kept``'s key."""
        key = StorageKey(inbound.openid, self._app_id)
        reply: Reply | None = None
        try:
            with self._conversations.turn(key, wait=wait, kept=inbound.kept) as slot:
                reply = self._handle_on_live_connection(slot, inbound)
        except LockTimeout:
            log.warning("lock wait timed out for %s", inbound.openid)
            return BUSY
        except STATE_ERRORS as error:
            self.outages.failed(STATE, error)
            # Handled and committed, only the state not saved: the reply stands (the next turn finds
            # the answers in the database); the lock expires by itself.
            return reply if reply is not None else UNAVAILABLE
        except Exception as error:
            if not is_unavailable(error):
                raise
            self.outages.failed(DATABASE, error)
            return UNAVAILABLE
        self.outages.succeeded()
        return reply

    def _handle_on_live_connection(self, slot: Turn, inbound: Inbound) -> Reply:
        """The turn, once more when its pooled connection turned out dropped (the pool lends without a
        ping, chatbot/store/engine.py; it has replaced its older connections by then). The first try
        was rolled back, or committed and then found a duplicate by the second: applied once."""
        try:
            return self._handle(slot, inbound)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        return self._handle(slot, inbound)

    def _handle(self, slot: Turn, inbound: Inbound) -> Reply:
        """The turn, in one transaction; the new state is left in ``slot`` once it is committed."""
        now = self._clock()
        try:
            with self._sessions.begin() as session:
                sender = self._sender(session, inbound, now)
                turn = plan(slot.saved, inbound.user_input)
                codes = wrong_codes(self._counter, self._config)
                context, loaded = load_context(session, sender, turn.needs, self._config, now, codes)
                outcome = respond(turn, context)
                applier = Applier(session, sender, self._config, now, self._counter, loaded)
                reply = self._apply(applier, outcome)
                kept = outcome.kept if outcome.kept is not None and reply is outcome.reply else reply
                if not self._record(session, inbound, kept, now):
                    raise Duplicate
        except Duplicate:
            return echoed(inbound.user_input, self._stored(inbound) or Reply(""))
        except Refused as refusal:
            return echoed(inbound.user_input, self._remember(inbound, Reply(refusal.message), now))
        slot.new = outcome.state.to_dict()
        return echoed(inbound.user_input, reply)

    @staticmethod
    def _apply(applier: Applier, outcome: Outcome) -> Reply:
        """Apply the turn's commands in order; a command whose outcome decides the reply gives it, or
        adds what only the database knows to the dialog's reply."""
        reply = outcome.reply
        for command in outcome.commands:
            decided = applier.apply(command)
            if isinstance(decided, Addendum):
                base = reply if reply is not None else Reply("")
                reply = Reply(base.text + decided.text, base.choices)
            elif decided is not None:
                reply = decided
        return reply if reply is not None else Reply("")

    @staticmethod
    def _record(session: Session, inbound: Inbound, reply: Reply, now: datetime) -> bool:
        """Record the message with its reply (the outcome's ``kept`` one where the sent reply must not be
        stored: a ballot's answer), unless it was recorded before; True when recorded now."""
        connection = session.connection()
        recorded = connection.execute(  # RETURNING: PostgreSQL reports no row count for this INSERT (-1)
            _RECORDS[connection.dialect.name],
            {
                "dedup_key": inbound.dedup_key,
                "openid": inbound.openid,
                "reply": encode_reply(reply),
                "created_at": now,
            },
        ).scalar()
        return recorded is not None

    def _stored(self, inbound: Inbound) -> Reply | None:
        with self._sessions.begin() as session:
            stored = session.scalar(
                select(InboundMessage.reply).where(InboundMessage.dedup_key == inbound.dedup_key)
            )
        return None if stored is None else decode_reply(stored)

    @staticmethod
    def _sender(session: Session, inbound: Inbound, now: datetime) -> Sender:
        """The sender's account, created on its first message, with WeChat's customer-service window
        restarted by this one — one statement."""
        changes = window(inbound.user_input.kind, now)
        created = {"openid": inbound.openid, "created_at": now, "subscribed": True} | changes
        connection = session.connection()
        upsert = _UPSERTS[connection.dialect.name, tuple(changes)]
        account_id = connection.execute(upsert, created).scalar()
        assert account_id is not None
        return Sender(account_id, inbound.openid)

    def _remember(self, inbound: Inbound, reply: Reply, now: datetime) -> Reply:
        """Record a refused turn so that WeChat's retry gets the same answer (the message still opens
        WeChat's window); a message handled before keeps the reply it got then."""
        with self._sessions.begin() as session:
            self._sender(session, inbound, now)
            if self._record(session, inbound, reply, now):
                return reply
        return self._stored(inbound) or reply

"""One inbound message → one reply, applied exactly once (docs/architecture.md draws the path).

take the user's lock → load dialog state → in one DB transaction: drop a duplicate (WeChat retries),
plan the turn (parse once, route), load the context it needs, run the dialog, apply its commands,
record the message with its reply → commit → save the state → reply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chatbot.config import Config
from chatbot.inspection.errors import Refused
from chatbot.service.apply import Applier
from chatbot.service.context import load_context
from chatbot.store.counters import RateCounter
from chatbot.store.models import Account, InboundMessage
from chatbot.store.state import LockTimeout, StateStore, StorageKey, UserLock
from dialogs.engine import Choice, Outcome, Reply, UserInput
from dialogs.router import plan, respond

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 4.0
BUSY = Reply("您的上一条消息还在处理中，请稍候几秒再发送。")


@dataclass(frozen=True)
class Inbound:
    """One message as the webhook hands it over."""

    openid: str
    dedup_key: str
    user_input: UserInput


def encode_reply(reply: Reply) -> str:
    return json.dumps(
        {"text": reply.text, "choices": [[c.label, c.content] for c in reply.choices]}, ensure_ascii=False
    )


def decode_reply(stored: str) -> Reply:
    data = json.loads(stored)
    return Reply(data["text"], tuple(Choice(label, content) for label, content in data["choices"]))


def handled(inbound: Inbound, reply: Reply, now: datetime) -> InboundMessage:
    """The record that this message was handled, with its reply, for WeChat's retries."""
    return InboundMessage(
        dedup_key=inbound.dedup_key, openid=inbound.openid, reply=encode_reply(reply), created_at=now
    )


class ChatService:
    """Handles messages for one official account."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: StateStore,
        lock: UserLock,
        counter: RateCounter,
        config: Config,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._lock = lock
        self._counter = counter
        self._config = config
        self._app_id = config.wechat_app_id
        self._clock = clock

    def handle(self, inbound: Inbound) -> Reply:
        key = StorageKey(inbound.openid, self._app_id)
        try:
            with self._lock.hold(key, wait=LOCK_WAIT_SECONDS):
                return self._handle_locked(key, inbound)
        except LockTimeout:
            log.warning("lock wait timed out for %s", inbound.openid)
            return BUSY

    def _handle_locked(self, key: StorageKey, inbound: Inbound) -> Reply:
        now = self._clock()
        saved = self._store.get(key)
        outcome: Outcome | None = None
        try:
            with self._sessions.begin() as session:
                stored = self._already_handled(session, inbound.dedup_key)
                if stored is not None:
                    return stored
                account = self._account(session, inbound, now)
                turn = plan(saved, inbound.user_input)
                context = load_context(session, account, turn.needs, self._config, now)
                outcome = respond(turn, context)
                applier = Applier(session, account, self._config, now, self._counter)
                reply = self._apply(applier, outcome)
                session.add(handled(inbound, reply, now))
        except Refused as refusal:
            reply = Reply(refusal.message)
            outcome = None
            self._remember(inbound, reply, now)
        except IntegrityError:
            # Another process recorded the same message first: answer as it did.
            with self._sessions.begin() as session:
                stored = self._already_handled(session, inbound.dedup_key)
            if stored is None:
                raise
            return stored
        if outcome is not None:
            self._store.set(key, outcome.state.to_dict())
        return reply

    @staticmethod
    def _apply(applier: Applier, outcome: Outcome) -> Reply:
        """Apply the turn's commands in order; a command whose outcome decides the reply gives it."""
        reply = outcome.reply
        for command in outcome.commands:
            decided = applier.apply(command)
            if decided is not None:
                reply = decided
        return reply if reply is not None else Reply("")

    @staticmethod
    def _already_handled(session: Session, dedup_key: str) -> Reply | None:
        stored = session.scalar(select(InboundMessage.reply).where(InboundMessage.dedup_key == dedup_key))
        return None if stored is None else decode_reply(stored)

    @staticmethod
    def _account(session: Session, inbound: Inbound, now: datetime) -> Account:
        """The sender's account, with WeChat's customer-service window restarted by this message."""
        account = session.scalar(select(Account).where(Account.openid == inbound.openid))
        if account is None:
            account = Account(openid=inbound.openid, created_at=now)
            session.add(account)
            session.flush()
        kind = inbound.user_input.kind
        if kind in ("click", "scan", "subscribe"):
            account.last_event_at, account.cs_since_event = now, 0
            account.subscribed = True
        elif kind == "unsubscribe":
            account.subscribed = False
        else:
            account.last_message_at, account.cs_since_message = now, 0
        return account

    def _remember(self, inbound: Inbound, reply: Reply, now: datetime) -> None:
        """Record a refused turn so that WeChat's retry of it gets the same answer; the message still
        opens WeChat's customer-service window."""
        try:
            with self._sessions.begin() as session:
                self._account(session, inbound, now)
                session.add(handled(inbound, reply, now))
        except IntegrityError:
            log.info("refusal for %s already recorded", inbound.dedup_key)

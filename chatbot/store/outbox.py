"""Queues notices in the outbox (design §8), in the caller's transaction; delivery is chatbot.delivery's.

A notice is queued at most once per dedup key, whoever queues it and however often: the insert skips
a key that exists (ON CONFLICT DO NOTHING), so two schedulers ticking at once cannot double a notice.
Many notices are queued in one statement (``enqueue_many``, ``enqueue_to_roles``: INSERT … SELECT from
one JSON parameter), whatever their number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    JSON,
    CursorResult,
    Integer,
    Select,
    String,
    Subquery,
    Text,
    bindparam,
    column,
    func,
    literal,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatbot.store.models import OutboxMessage, RoleBinding
from chatbot.store.notice_kinds import NoticeKind, notice_kind


def enqueue(
    session: Session,
    account_id: int,
    kind: NoticeKind,
    dedup_key: str,
    text: str,
    now: datetime,
    due: str = "",
    facts: Mapping[str, str] | None = None,
) -> bool:
    """Queue one notice unless one with the same dedup key exists; True when queued. ``facts``: what
    a template's fields are composed from (``facts_json``)."""
    kind = notice_kind(kind)  # a kind that is not declared is refused (ValueError)
    values = {
        "dedup_key": dedup_key,
        "account_id": account_id,
        "kind": kind.value,
        "subject": kind.label,
        "due": due,
        "text": text,
        "facts": facts_json(facts),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
    statement = (
        _insert(session)(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    return bool(_rowcount(session, statement))


def _rowcount(session: Session, statement: Any) -> int:
    """Execute an INSERT; the rows it inserted. SQLAlchemy keeps an INSERT's rowcount only when asked
    (``preserve_rowcount``): without it PostgreSQL reports -1, as if a skipped notice had been queued."""
    result = session.execute(statement, execution_options={"preserve_rowcount": True})
    # An INSERT's result is a CursorResult (the one with .rowcount); Session.execute is typed wider.
    return cast("CursorResult[Any]", result).rowcount


def _insert(session: Session) -> Any:
    """The dialect's INSERT, the one with ON CONFLICT DO NOTHING."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def accounts_with_role(session: Session, organisation_id: int, roles: Iterable[str]) -> list[int]:
    """Accounts bound to the organisation in any of the roles, oldest binding first, each once."""
    rows = session.scalars(
        select(RoleBinding.account_id)
        .where(RoleBinding.organisation_id == organisation_id, RoleBinding.role.in_(list(roles)))
        .order_by(RoleBinding.id)
    )
    return list(dict.fromkeys(rows))


# ---------------------------------------------------------------- in bulk


class Notice(NamedTuple):
    """A notice for several accounts: each gets ``text`` under ``key`` followed by its account id;
    ``facts`` (``facts_json``) are what a template's typed fields are composed from."""

    key: str
    text: str
    due: str = ""
    facts: str = ""


def facts_json(facts: Mapping[str, object] | None) -> str:
    """A notice's facts (union, stars, score, round, result…) as the outbox keeps them: JSON, "" for none."""
    kept = {key: str(value) for key, value in (facts or {}).items() if value not in (None, "")}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":")) if kept else ""


def json_rows(
    session: Session, name: str, rows: Iterable[Sequence[object]], **columns: type[Integer | Text]
) -> Subquery:
    """``rows`` as a subquery ``name`` with the named columns (Integer or Text, in order), sent as one
    JSON parameter: one statement whatever the number of rows, and no limit of bound parameters."""
    payload = json.dumps([list(row) for row in rows], ensure_ascii=False, separators=(",", ":"))
    param = bindparam(f"{name}_json", payload, type_=Text)
    if session.get_bind().dialect.name == "postgresql":
        elements = func.jsonb_array_elements(sql_cast(param, postgresql.JSONB)).table_valued(
            column("value", postgresql.JSONB)
        )
    else:
        elements = func.json_each(param).table_valued(column("value", JSON))
    value = elements.alias(f"{name}_elements").c.value
    picked = [
        (value[i].as_integer() if kind is Integer else value[i].as_string()).label(key)
        for i, (key, kind) in enumerate(columns.items())
    ]
    return select(*picked).subquery(name)


def enqueue_many(
    session: Session, kind: NoticeKind, notices: Iterable[tuple[Notice, Iterable[int]]], now: datetime
) -> int:
    """Queue each notice to each of its accounts (in their order), skipping dedup keys that exist: one
    statement whatever the number of notices; returns how many were new."""
    kind = notice_kind(kind)  # a kind that is not declared is refused (ValueError), even with no notices
    rows: list[tuple[int, str, str, str, str]] = []
    recipients: list[tuple[int, int, int]] = []
    for n, (notice, accounts) in enumerate(notices):
        rows.append((n, notice.key, notice.text, notice.due, notice.facts))
        recipients += [(n, place, account) for place, account in enumerate(dict.fromkeys(accounts))]
    if not recipients:
        return 0
    found = json_rows(session, "notices", rows, n=Integer, key=Text, text=Text, due=Text, facts=Text)
    to = json_rows(session, "recipients", recipients, n=Integer, place=Integer, account_id=Integer)
    query = (
        select(found.c.key, found.c.text, found.c.due, found.c.facts, to.c.account_id)
        .join(to, to.c.n == found.c.n)
        .where(to.c.account_id.is_not(None))
        .order_by(found.c.n, to.c.place)
    )
    return _insert_selected(session, kind, query, now)


def enqueue_to_roles(
    session: Session,
    kind: NoticeKind,
    notices: Iterable[tuple[Notice, int | None]],
    roles: Iterable[str],
    now: datetime,
) -> int:
    """Queue each notice to the accounts bound to its organisation (None: nobody) in any of ``roles``
    (each once, oldest binding first), as ``accounts_with_role`` lists them, skipping dedup keys that
    exist: one statement whatever the number of notices and accounts; returns how many were new."""
    kind = notice_kind(kind)  # a kind that is not declared is refused (ValueError), even with no notices
    rows = [
        (n, org, notice.key, notice.text, notice.due, notice.facts) for n, (notice, org) in enumerate(notices)
    ]
    if not rows:
        return 0
    found = json_rows(
        session, "notices", rows, n=Integer, org=Integer, key=Text, text=Text, due=Text, facts=Text
    )
    query = (
        select(found.c.key, found.c.text, found.c.due, found.c.facts, RoleBinding.account_id)
        .join(RoleBinding, RoleBinding.organisation_id == found.c.org)
        .where(RoleBinding.role.in_(list(roles)))
        .group_by(found.c.n, found.c.key, found.c.text, found.c.due, found.c.facts, RoleBinding.account_id)
        .order_by(found.c.n, func.min(RoleBinding.id))
    )
    return _insert_selected(session, kind, query, now)


def tell(
    session: Session,
    kind: NoticeKind,
    organisation_id: int | None,
    roles: Iterable[str],
    key: str,
    text: str,
    now: datetime,
    due: str = "",
    facts: Mapping[str, object] | None = None,
) -> int:
    """Queue one notice to the accounts bound to ``organisation_id`` (None: nobody) in any of ``roles``,
    each under ``key`` followed by its account id: the case of one of ``enqueue_to_roles``."""
    return enqueue_to_roles(
        session, kind, [(Notice(key, text, due, facts_json(facts)), organisation_id)], roles, now
    )


def _insert_selected(session: Session, kind: NoticeKind, query: Select[Any], now: datetime) -> int:
    """INSERT … SELECT … ON CONFLICT DO NOTHING of the notices of ``query``: (key stem, text, due,
    facts, account id) rows."""
    key, text, due, facts, account_id = query.selected_columns
    when = OutboxMessage.__table__.c.created_at.type
    rows = query.with_only_columns(
        (key + sql_cast(account_id, String)).label("dedup_key"),
        account_id,
        literal(kind.value, String).label("kind"),
        literal(kind.label, String).label("subject"),
        due,
        text,
        func.coalesce(facts, "").label("facts"),
        literal("pending", String).label("status"),
        literal(0, Integer).label("attempts"),
        literal(now, when).label("created_at"),
        literal(now, when).label("next_attempt_at"),
        maintain_column_froms=True,
    )
    names = ["dedup_key", "account_id", "kind", "subject", "due", "text", "facts", "status", "attempts"]
    statement = (
        _insert(session)(OutboxMessage)
        .from_select([*names, "created_at", "next_attempt_at"], rows)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    return _rowcount(session, statement)

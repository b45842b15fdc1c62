"""Writes the audit log (审计日志)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from chatbot.store.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> None:
    """Add one audit entry in the caller's transaction."""
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=encode(before),
            after=encode(after),
            reason=reason,
        )
    )


def record_many(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entries: Sequence[tuple[int | None, Any, Any, str | None]],
) -> None:
    """``record`` for many entries — (entity id, before, after, reason) — in one statement."""
    if entries:
        session.execute(
            insert(AuditEntry),
            [
                {
                    "actor": actor,
                    "action": action,
                    "entity": entity,
                    "entity_id": entity_id,
                    "before": encode(before),
                    "after": encode(after),
                    "reason": reason,
                }
                for entity_id, before, after, reason in entries
            ],
        )


def encode(value: Any) -> str | None:
    """A before/after value as the log keeps it: JSON, Chinese as written."""
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def decode(value: str | None) -> Any:
    """A before/after value as ``encode`` kept it (a text that is not JSON as it is)."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value

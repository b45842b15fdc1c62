"""Writes the audit log (审计日志)."""

from __future__ import annotations

import json
from typing import Any

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

    def encode(value: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str)

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

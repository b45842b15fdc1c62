"""Queues notices in the outbox (design §8), in the caller's transaction; delivery is the scheduler's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.models import OutboxMessage, RoleBinding

#: Kinds of notice and what each is about.
KINDS: dict[str, str] = {
    "self_check_submitted": "下级工会自评已提交，待考评",
    "self_check_returned": "自评被退回修改",
    "result_published": "年检结果公示",
    "objection_filed": "年检结果收到异议，待复查",
    "result_final": "年检结果已确定",
}


def enqueue(
    session: Session,
    account_id: int,
    kind: str,
    dedup_key: str,
    text: str,
    now: datetime,
    due: str = "",
) -> bool:
    """Queue one notice unless one with the same dedup key exists; True when queued."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind}")
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key))
    if exists is not None:
        return False
    session.add(
        OutboxMessage(
            dedup_key=dedup_key,
            account_id=account_id,
            kind=kind,
            subject=KINDS[kind],
            due=due,
            text=text,
            created_at=now,
            next_attempt_at=now,
        )
    )
    return True


def accounts_with_role(session: Session, organisation_id: int, roles: Iterable[str]) -> list[int]:
    """Accounts bound to the organisation in any of the roles, oldest binding first, each once."""
    rows = session.scalars(
        select(RoleBinding.account_id)
        .where(RoleBinding.organisation_id == organisation_id, RoleBinding.role.in_(list(roles)))
        .order_by(RoleBinding.id)
    )
    return list(dict.fromkeys(rows))

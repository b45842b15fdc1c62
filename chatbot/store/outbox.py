"""Queues notices in the outbox (design §8), in the caller's transaction; delivery is chatbot.delivery's.

A notice is queued at most once per dedup key, whoever queues it and however often: the insert skips
a key that exists (ON CONFLICT DO NOTHING), so two schedulers ticking at once cannot double a notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatbot.store.models import OutboxMessage, RoleBinding

#: Kinds of notice and what each is about (the template's 事项).
KINDS: dict[str, str] = {
    "self_check_due": "自查自评截止提醒",
    "self_check_submitted": "下级工会自评已提交，待考评",
    "review_due": "组织评定截止提醒",
    "self_check_returned": "自评被退回修改",
    "evaluation_open": "民主测评开始",
    "evaluation_closing": "民主测评即将结束",
    "result_published": "年检结果公示",
    "objection_filed": "年检结果收到异议，待复查",
    "re_review_due": "复查评定截止提醒",
    "re_review_overdue": "复查评定已逾期",
    "result_final": "年检结果已确定",
    "report_due": "年检工作情况总结上报提醒",
    "coverage_warning": "年检覆盖率预警",
    "remediation_due": "补课截止提醒",
    "remediation_reported": "下级工会补课完成，待验收",
    "remediation_checked": "补课验收结果",
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
    values = {
        "dedup_key": dedup_key,
        "account_id": account_id,
        "kind": kind,
        "subject": KINDS[kind],
        "due": due,
        "text": text,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # An INSERT's result is a CursorResult (the one with .rowcount); Session.execute is typed wider.
    result = cast(
        "CursorResult[Any]",
        session.execute(
            insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
        ),
    )
    return bool(result.rowcount)


def accounts_with_role(session: Session, organisation_id: int, roles: Iterable[str]) -> list[int]:
    """Accounts bound to the organisation in any of the roles, oldest binding first, each once."""
    rows = session.scalars(
        select(RoleBinding.account_id)
        .where(RoleBinding.organisation_id == organisation_id, RoleBinding.role.in_(list(roles)))
        .order_by(RoleBinding.id)
    )
    return list(dict.fromkeys(rows))

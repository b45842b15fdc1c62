"""Item scores (自评得分, 考评得分, the city's 抽查 score): validated, stored, counted, audited."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Executable, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.inspection.errors import Refused
from chatbot.inspection.rubric_versions import rubric_of
from chatbot.store.models import Inspection, ItemScore, utcnow
from rubrics import Rubric
from rubrics.scoring import ScoreError, validate_item_score

Column = Literal["self_score", "assessed_score", "city_score"]


def row_of(session: Session, inspection: Inspection, no: int) -> ItemScore:
    """Item ``no``'s row, from the inspection's scores (read with it, or now), added if it has none."""
    for row in inspection.item_scores:
        if row.item_no == no:
            return row
    row = ItemScore(inspection_id=inspection.id, item_no=no)
    inspection.item_scores.append(row)
    return row


def save(
    session: Session, inspection: Inspection, no: int, score: Decimal, column: Column
) -> tuple[Decimal | None, Decimal]:
    """Store a validated score of item ``no`` in ``column``; returns (before, after)."""
    score = validated(rubric_of(session, inspection), no, score)
    row = row_of(session, inspection, no)
    before = getattr(row, column)
    if before != score:
        setattr(row, column, score)
    return before, score


def validated(rubric: Rubric, no: int, score: Decimal) -> Decimal:
    """``score`` as item ``no`` of the sheet stores it; Refused, saying why, when it is not one."""
    item = rubric.item(no)
    try:
        return validate_item_score(score, item.points)
    except ScoreError as error:
        raise Refused(str(error)) from error


def upsert(connection: Connection, inspection_id: int, no: int, column: Column, score: Decimal) -> None:
    """Store item ``no``'s ``column`` as one Core upsert on the unique (inspection, item) — for a turn
    that read the inspection as Core rows (chatbot/service/context.py), with no ORM row to change."""
    statement = _UPSERTS[connection.dialect.name, column]
    connection.execute(
        statement, {"inspection_id": inspection_id, "item_no": no, column: score, "updated_at": utcnow()}
    )


def _upsert(insert: Callable[..., Any], column: Column) -> Executable:
    statement = insert(ItemScore.__table__)
    return statement.on_conflict_do_update(
        index_elements=["inspection_id", "item_no"],
        set_={column: statement.excluded[column], "updated_at": statement.excluded.updated_at},
    )


#: The upsert of each score column, per dialect, built once (SQLAlchemy caches its compiled form).
_UPSERTS = {
    (dialect, column): _upsert(insert, column)
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
    for column in get_args(Column)
}


def missing(session: Session, inspection: Inspection, column: Column) -> list[int]:
    """The items of the inspection's sheet without a score in ``column``, in order."""
    answered = set(
        session.scalars(
            select(ItemScore.item_no).where(
                ItemScore.inspection_id == inspection.id, getattr(ItemScore, column).is_not(None)
            )
        )
    )
    return [item.no for item in rubric_of(session, inspection).items if item.no not in answered]


def refuse_if_missing(session: Session, inspection: Inspection, column: Column, what: str) -> None:
    """Refused, naming the first twenty, while any item has no score in ``column``."""
    left = missing(session, inspection, column)
    if left:
        raise Refused(f"还有 {len(left)} 项未{what}（第 {'、'.join(map(str, left[:20]))} 项），未能提交。")


def audit_change(
    session: Session,
    actor: str,
    action: str,
    inspection: Inspection,
    no: int,
    before: Decimal | None,
    after: Decimal | None,
    reason: str | None = None,
) -> None:
    """One item's score change: before, after and why."""
    audit_change_of(session, actor, action, inspection.id, no, before, after, reason)


def audit_change_of(
    session: Session,
    actor: str,
    action: str,
    inspection_id: int,
    no: int,
    before: Decimal | None,
    after: Decimal | None,
    reason: str | None = None,
) -> None:
    """``audit_change`` by the inspection's id."""
    audit.record(
        session,
        actor,
        action,
        "inspection",
        inspection_id,
        before={"item": no, "score": before},
        after={"item": no, "score": after},
        reason=reason,
    )

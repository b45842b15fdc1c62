"""Item scores (自评得分, 考评得分, the city's 抽查 score): validated, stored, counted, audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.inspection.errors import Refused
from chatbot.inspection.rubric_versions import rubric_of
from chatbot.store.models import Inspection, ItemScore
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
    item = rubric_of(session, inspection).item(no)
    try:
        score = validate_item_score(score, item.points)
    except ScoreError as error:
        raise Refused(str(error)) from error
    row = row_of(session, inspection, no)
    before = getattr(row, column)
    if before != score:
        setattr(row, column, score)
    return before, score


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
    audit.record(
        session,
        actor,
        action,
        "inspection",
        inspection.id,
        before={"item": no, "score": before},
        after={"item": no, "score": after},
        reason=reason,
    )

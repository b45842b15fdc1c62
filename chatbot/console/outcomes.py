"""异议 on the inspection page: each objection with its outcome once its re-review decided it — kept or
changed (维持 / 改分 / 改星级, the result before and after), when, by whom (as the 办理记录 shows people)
and why (the item scores the re-review changed, each with its reason). Nothing of the objector beyond
where the objection came from (本单位工会主席 / 会员 / 公众)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from chatbot.console.timeline import Who, chinese_time, people
from chatbot.inspection import objections
from chatbot.store.models import Inspection, Objection
from rubrics.objections import outcome_words
from rubrics.scoring import format_score

#: The reason shown when the re-review changed no item's score.
NO_SCORE_CHANGED = "复查未改动子项得分"


@dataclass(frozen=True)
class ShownOutcome:
    label: str  # 维持 / 改分 / 改星级
    words: str  # 复查后维持原结果 88 分，四星级 …
    when: str
    who: Who | None  # None: decided before the audit log recorded who decided
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ShownObjection:
    objection: Objection
    outcome: ShownOutcome | None  # None while it waits


def _score(value: Decimal | None) -> str:
    return "—" if value is None else format_score(value)


def _reasons(decision: objections.Decision | None) -> tuple[str, ...]:
    if decision is None:
        return ()
    if not decision.changes:
        return (NO_SCORE_CHANGED,)
    return tuple(
        f"第 {c.item} 项 考评 {_score(c.before)} → {_score(c.after)} 分"
        + (f"：{c.reason}" if c.reason else "")
        for c in decision.changes
    )


def shown(session: Session, inspection: Inspection, found: list[Objection]) -> list[ShownObjection]:
    """The inspection's objections, each with its outcome as the console shows it."""
    decided = objections.decisions(session, inspection.id)
    who = people(session, inspection, {d.actor for d in decided.values()})
    rows = []
    for objection in found:
        outcome = objections.outcome_of(objection)
        if outcome is None or objection.resolved_at is None:
            rows.append(ShownObjection(objection, None))
            continue
        decision = decided.get(objection.id)
        rows.append(
            ShownObjection(
                objection,
                ShownOutcome(
                    outcome.label,
                    outcome_words(outcome),
                    chinese_time(objection.resolved_at),
                    who.get(decision.actor) if decision is not None else None,
                    _reasons(decision),
                ),
            )
        )
    return rows

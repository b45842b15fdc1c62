"""Moving an inspection through its lifecycle: checked in one place (``rubrics.lifecycle``), audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.inspection.errors import Refused
from chatbot.store.models import Inspection
from rubrics.lifecycle import IllegalTransition, InspectionState, check_transition


def move(
    session: Session, inspection: Inspection, target: InspectionState, actor: str, reason: str | None = None
) -> None:
    """current → target, audited; Refused (nothing changed) when the lifecycle does not allow it."""
    before = inspection.state
    try:
        inspection.state = check_transition(before, target)
    except IllegalTransition as error:
        raise Refused(error.message) from error
    audit.record(
        session,
        actor,
        "transition",
        "inspection",
        inspection.id,
        before=before,
        after=str(target),
        reason=reason,
    )

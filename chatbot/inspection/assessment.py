"""Actions on an inspection shared by the chat and the web console, each checked and audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.store import outbox
from chatbot.store.models import Inspection
from rubrics.lifecycle import InspectionState, check_transition


def return_self_check(
    session: Session, inspection: Inspection, reason: str, actor: str, now: datetime
) -> None:
    """Send a submitted self-check back to the chair (退回), with the reason; the chair is told.

    Raises IllegalTransition when the inspection is not submitted-and-unrated, ValueError without a reason.
    """
    if not reason.strip():
        raise ValueError("退回须写明原因。")
    before = inspection.state
    inspection.state = check_transition(before, InspectionState.RETURNED)
    inspection.return_reason = reason.strip()
    audit.record(
        session,
        actor,
        "transition",
        "inspection",
        inspection.id,
        before=before,
        after=InspectionState.RETURNED.value,
        reason=reason,
    )
    org = inspection.organisation
    for account_id in outbox.accounts_with_role(session, org.id, ("chair",)):
        outbox.enqueue(
            session,
            account_id,
            "self_check_returned",
            f"returned:{inspection.id}:{now.isoformat()}:{account_id}",
            f"{org.name} {inspection.campaign.year} 年度自评被上级工会退回修改。原因：{reason}\n"
            "发送“自评”修改后重新提交。",
            now,
        )

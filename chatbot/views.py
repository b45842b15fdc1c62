"""Builds the read-only snapshot (dialogs.context.UserContext) a dialog sees for one turn."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from chatbot.lifecycle import InspectionState
from chatbot.models import Account, Campaign, Evidence, Inspection, ItemScore, RoleBinding
from dialogs.context import RoleView, SelfCheckView, UserContext


def open_campaign(session: Session) -> Campaign | None:
    """The newest campaign that is not closed."""
    return session.scalar(
        select(Campaign).where(Campaign.closed_at.is_(None)).order_by(Campaign.year.desc()).limit(1)
    )


def self_check_view(session: Session, inspection: Inspection) -> SelfCheckView:
    scores = {
        no: Decimal(score)
        for no, score in session.execute(
            select(ItemScore.item_no, ItemScore.self_score).where(
                ItemScore.inspection_id == inspection.id, ItemScore.self_score.is_not(None)
            )
        )
    }
    evidence = dict(
        session.execute(
            select(Evidence.item_no, func.count())
            .where(Evidence.inspection_id == inspection.id)
            .group_by(Evidence.item_no)
        ).all()
    )
    state = InspectionState(inspection.state)
    return SelfCheckView(
        inspection_id=inspection.id,
        org_name=inspection.organisation.name,
        year=inspection.campaign.year,
        rubric_key=inspection.rubric_key,
        rubric_version=inspection.rubric_version,
        state_label=state.label,
        editable=state.self_check_editable,
        scores=scores,
        evidence=evidence,
    )


def load_context(session: Session, account: Account) -> UserContext:
    bindings = session.scalars(
        select(RoleBinding)
        .options(joinedload(RoleBinding.organisation))
        .where(RoleBinding.account_id == account.id)
        .order_by(RoleBinding.id)
    ).all()
    roles = tuple(RoleView(b.role, b.organisation.code, b.organisation.name) for b in bindings)
    campaign = open_campaign(session)
    chair_orgs = [b.organisation_id for b in bindings if b.role == "chair" and b.organisation.is_grassroots]
    view = None
    if campaign is not None and chair_orgs:
        inspection = session.scalar(
            select(Inspection)
            .options(joinedload(Inspection.organisation), joinedload(Inspection.campaign))
            .where(Inspection.campaign_id == campaign.id, Inspection.organisation_id.in_(chair_orgs))
            .order_by(Inspection.id)
            .limit(1)
        )
        if inspection is not None:
            view = self_check_view(session, inspection)
    return UserContext(roles=roles, self_check=view, campaign_year=campaign.year if campaign else None)

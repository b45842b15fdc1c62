"""The result listing shared by `nianjian results`, the exports and the web console."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from chatbot.config import Config
from chatbot.inspection import remediation, results
from chatbot.inspection.evaluations import figures
from chatbot.inspection.queries import descendants, item_scores
from chatbot.store.models import Campaign, Inspection, Organisation, Remediation
from rubrics import get_rubric
from rubrics.lifecycle import InspectionState
from rubrics.scoring import Stars, format_score, percent_score, raw_total


def scope_ids(session: Session, code: str) -> set[int]:
    """The organisation with this code and every organisation below it."""
    root = session.scalar(select(Organisation).where(Organisation.code == code))
    if root is None:
        raise ValueError(f"no organisation {code}")
    return descendants(session, root.id)


def _marks(inspection: Inspection, provisional: bool) -> str:
    marks = ["provisional"] if provisional else []
    if inspection.quota_capped:
        marks.append("capped")
    if inspection.quota_flagged:
        marks.append("flagged")
    if inspection.override_stars is not None:
        marks.append("overridden")
    if inspection.below_standard:
        marks.append("below-standard")
    return " ".join(marks)


def result_rows(
    session: Session, campaign: Campaign, config: Config, scope: set[int] | None = None
) -> list[dict[str, str]]:
    """One row per inspection (within ``scope``, organisation ids), as `nianjian results` shows it."""
    provisional = results.provisional_ids(session, campaign, config)
    remediations = {
        row.inspection_id: row.status
        for row in session.scalars(
            select(Remediation)
            .join(Inspection, Remediation.inspection_id == Inspection.id)
            .where(Inspection.campaign_id == campaign.id)
        )
    }
    query = (
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(Inspection.campaign_id == campaign.id)
    )
    if scope is not None:
        query = query.where(Inspection.organisation_id.in_(scope))
    now = datetime.now(UTC)
    rows = []
    for inspection in session.scalars(query.join(Organisation).order_by(Organisation.code)):
        rubric = get_rubric(inspection.rubric_key)
        own, assessed = item_scores(session, inspection.id)
        democratic = figures(session, inspection, now)
        rated = inspection.stars is not None and InspectionState(inspection.state).is_rated
        status = remediations.get(inspection.id)
        rows.append(
            {
                "id": str(inspection.id),
                "code": inspection.organisation.code,
                "name": inspection.organisation.name,
                "rubric": inspection.rubric_key,
                "state": InspectionState(inspection.state).label,
                "self_score": _percent(own, rubric.max_total),
                "assessed_score": _percent(assessed, rubric.max_total) if assessed else "",
                "democratic_score": format_score(democratic.score)
                if democratic and democratic.score is not None
                else "",
                "turnout": f"{format_score(democratic.turnout)}%"
                if democratic and democratic.turnout is not None
                else "",
                "stars": Stars(inspection.stars).label if rated and inspection.stars else "",
                "marks": _marks(inspection, inspection.id in provisional) if rated else "",
                "no_funding_support": "是" if rated and inspection.no_funding_support else "",
                "no_hardship_aid": "是" if rated and inspection.no_hardship_aid else "",
                "no_award_eligibility": "是" if rated and inspection.no_award_eligibility else "",
                "remediation": remediation.STATUS_LABELS.get(status, "") if status else "",
            }
        )
    return rows


def _percent(scores: dict[int, Decimal], max_total: int) -> str:
    return format_score(percent_score(raw_total(scores.values()), max_total)) if scores else ""

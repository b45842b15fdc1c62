"""The result listing shared by `nianjian results`, the exports and the web console.

A handful of queries whatever the number of inspections: the rows, the item totals (GROUP BY), the
democratic figures of the campaign, the remediations and the provisional marks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import remediation, results
from chatbot.inspection.evaluations import DemocraticFigures, figures_of_campaign
from chatbot.inspection.hierarchy import load_tree
from chatbot.inspection.queries import descendants
from chatbot.inspection.results import AnyRow
from chatbot.store.models import Campaign, Inspection, ItemScore, Organisation, Remediation
from chatbot.timeutil import SHANGHAI
from rubrics import get_rubric
from rubrics.lifecycle import InspectionState
from rubrics.scoring import Stars, format_score, percent_score


def scope_ids(session: Session, code: str) -> set[int]:
    """The organisation with this code and every organisation below it."""
    root = session.scalar(select(Organisation).where(Organisation.code == code))
    if root is None:
        raise ValueError(f"没有编号为 {code} 的组织。")
    return descendants(session, root.id)


#: The marks of a result (the ``marks`` field holds their keys, space-separated) as people read them.
MARK_LABELS: dict[str, str] = {
    "provisional": "预评",
    "capped": "超出五星级名额",
    "flagged": "同分待裁定",
    "overridden": "星级经调整",
    "below-standard": "未达标须补课",
    "re-review-late": "复查逾期",
    "remediation-overdue": "补课逾期",
}


def marks_words(marks: str) -> str:
    """A result's marks (keys, space-separated) as the CLI and the console show them:
    "capped flagged" → "超出五星级名额、同分待裁定"; an unknown key as it is."""
    return "、".join(MARK_LABELS.get(mark, mark) for mark in marks.split())


def _marks(inspection: AnyRow, provisional: bool, overdue: bool = False) -> str:
    marks = ["provisional"] if provisional else []
    if inspection.quota_capped:
        marks.append("capped")
    if inspection.quota_flagged:
        marks.append("flagged")
    if inspection.override_stars is not None:
        marks.append("overridden")
    if inspection.below_standard:
        marks.append("below-standard")
    if inspection.re_review_late:
        marks.append("re-review-late")
    if overdue:
        marks.append("remediation-overdue")
    return " ".join(marks)


def item_totals(session: Session, campaign: Campaign) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """(self total, assessed total) of each inspection of the campaign with item scores; None where
    no item has that score. One query (GROUP BY)."""
    rows = session.execute(
        select(
            ItemScore.inspection_id,
            func.sum(ItemScore.self_score),
            func.count(ItemScore.self_score),
            func.sum(ItemScore.assessed_score),
            func.count(ItemScore.assessed_score),
        )
        .join(Inspection, ItemScore.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id)
        .group_by(ItemScore.inspection_id)
    )
    return {
        inspection_id: (
            own if own_count else None,
            assessed if assessed_count else None,
        )
        for inspection_id, own, own_count, assessed, assessed_count in rows
    }


def result_rows(
    session: Session, campaign: Campaign, config: Config, scope: set[int] | None = None
) -> list[dict[str, str]]:
    """One row per inspection (within ``scope``, organisation ids), as `nianjian results` shows it."""
    provisional = results.provisional_ids(session, campaign, config, load_tree(session))
    remediations = _remediations_of(session, campaign)
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI).date()
    totals = item_totals(session, campaign)
    democratic_of = figures_of_campaign(session, campaign, now)
    query = (
        select(
            Inspection.id,
            Inspection.organisation_id,
            Inspection.rubric_key,
            Inspection.state,
            Inspection.stars,
            Inspection.quota_capped,
            Inspection.quota_flagged,
            Inspection.override_stars,
            Inspection.below_standard,
            Inspection.re_review_late,
            Inspection.no_funding_support,
            Inspection.no_hardship_aid,
            Inspection.no_award_eligibility,
            Organisation.code,
            Organisation.name,
        )
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Inspection.campaign_id == campaign.id)
        .order_by(Organisation.code)
    )
    rows = []
    for inspection in session.execute(query):
        if scope is not None and inspection.organisation_id not in scope:
            continue
        max_total = get_rubric(inspection.rubric_key).max_total
        own, assessed = totals.get(inspection.id, (None, None))
        rated = inspection.stars is not None and InspectionState(inspection.state).is_rated
        status, due_on = remediations.get(inspection.id, ("", today))
        overdue = bool(status) and remediation.is_overdue(status, due_on, today)
        rows.append(
            {
                "id": str(inspection.id),
                "code": inspection.code,
                "name": inspection.name,
                "rubric": inspection.rubric_key,
                "state": InspectionState(inspection.state).label,
                "self_score": _percent(own, max_total),
                "assessed_score": _percent(assessed, max_total),
                **_democratic_cells(democratic_of.get(inspection.id)),
                **_rated_cells(inspection, rated, inspection.id in provisional, overdue),
                "remediation": remediation.label(status, due_on, today) if status else "",
            }
        )
    return rows


def _remediations_of(session: Session, campaign: Campaign) -> dict[int, tuple[str, date]]:
    """The status and due day of each remediation of the campaign, by inspection id."""
    return {
        inspection_id: (status, due_on)
        for inspection_id, status, due_on in session.execute(
            select(Remediation.inspection_id, Remediation.status, Remediation.due_on)
            .join(Inspection, Remediation.inspection_id == Inspection.id)
            .where(Inspection.campaign_id == campaign.id)
        )
    }


def _democratic_cells(democratic: DemocraticFigures | None) -> dict[str, str]:
    """The democratic evaluation's score and turnout, empty where there is none."""
    score = democratic.score if democratic else None
    turnout = democratic.turnout if democratic else None
    return {
        "democratic_score": format_score(score) if score is not None else "",
        "turnout": f"{format_score(turnout)}%" if turnout is not None else "",
    }


#: The consequences of a result, each a column ("是" when it applies to a rated result).
CONSEQUENCES = ("no_funding_support", "no_hardship_aid", "no_award_eligibility")


def _rated_cells(inspection: AnyRow, rated: bool, provisional: bool, overdue: bool) -> dict[str, str]:
    """The stars, marks and consequences of a rated result, empty for one not rated."""
    if not rated:
        return dict.fromkeys(("stars", "marks", *CONSEQUENCES), "")
    return {
        "stars": Stars(inspection.stars).label if inspection.stars else "",
        "marks": _marks(inspection, provisional, overdue),
        **{key: "是" if getattr(inspection, key) else "" for key in CONSEQUENCES},
    }


def _percent(total: Decimal | None, max_total: int) -> str:
    return format_score(percent_score(total, max_total)) if total is not None else ""

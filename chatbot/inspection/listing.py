"""The result listing shared by `nianjian results`, the exports and the web console.

A handful of queries whatever the number of inspections: the rows, the item totals (GROUP BY), the
democratic figures of the campaign, the remediations and the provisional marks.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import Session, aliased

from chatbot.config import Config
from chatbot.inspection import remediation, results
from chatbot.inspection.evaluations import figures_of_campaign
from chatbot.inspection.hierarchy import OrgTree, load_tree
from chatbot.inspection.queries import descendants
from chatbot.inspection.results import AnyRow
from chatbot.inspection.rubric_versions import rubric_for
from chatbot.store.among import among
from chatbot.store.models import Campaign, Inspection, ItemScore, Organisation, Remediation
from chatbot.timeutil import SHANGHAI
from rubrics.democratic import DemocraticFigures
from rubrics.lifecycle import RATED, InspectionState, values
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


def item_totals(
    session: Session, campaign: Campaign, ids: Collection[int] | None = None
) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """(self total, assessed total) of each inspection of the campaign (of ``ids`` only, if given) with
    item scores; None where no item has that score. One query (GROUP BY)."""
    chosen = among(session, ItemScore.inspection_id, ids) if ids is not None else true()
    rows = session.execute(
        select(
            ItemScore.inspection_id,
            func.sum(ItemScore.self_score),
            func.count(ItemScore.self_score),
            func.sum(ItemScore.assessed_score),
            func.count(ItemScore.assessed_score),
        )
        .join(Inspection, ItemScore.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id, chosen)
        .group_by(ItemScore.inspection_id)
    )
    return {
        inspection_id: (
            own if own_count else None,
            assessed if assessed_count else None,
        )
        for inspection_id, own, own_count, assessed, assessed_count in rows
    }


def listed(
    session: Session, campaign: Campaign, tree: OrgTree, scope: set[int] | None = None
) -> list[AnyRow]:
    """The campaign's inspections (within ``scope``, organisation ids) in the listings' order, each with
    its organisation's code and name: what ``result_rows`` makes rows of."""
    place = official_places(tree)
    return sorted(
        (i for i in session.execute(_inspections(campaign)) if scope is None or i.organisation_id in scope),
        key=lambda i: (place.get(i.organisation_id, len(place)), i.code),
    )


def result_rows(
    session: Session,
    campaign: Campaign,
    config: Config,
    scope: set[int] | None = None,
    chosen: Sequence[AnyRow] | None = None,
    tree: OrgTree | None = None,
) -> list[dict[str, str]]:
    """One row per inspection (within ``scope``, organisation ids), as `nianjian results` shows it; or
    one per inspection of ``chosen`` (from ``listed``: a page of a list), its facts read for those only
    (``tree``: the one the caller loaded)."""
    tree = tree or load_tree(session)
    found = listed(session, campaign, tree, scope) if chosen is None else chosen
    facts = _facts(session, campaign, config, tree, None if chosen is None else [i.id for i in chosen])
    return [_row(inspection, facts) for inspection in found]


@dataclass(frozen=True)
class _Facts:
    """What the rows of a campaign's results are made of besides the inspections themselves, each
    loaded for the whole campaign at once."""

    provisional: set[int]
    remediations: dict[int, tuple[str, date]]
    totals: dict[int, tuple[Decimal | None, Decimal | None]]
    democratic: dict[int, DemocraticFigures]
    today: date
    max_totals: dict[tuple[str, str], int]  # per sheet and version


def _facts(
    session: Session, campaign: Campaign, config: Config, tree: OrgTree, ids: Collection[int] | None
) -> _Facts:
    now = datetime.now(UTC)
    chosen = among(session, Inspection.id, ids) if ids is not None else true()
    remediations = session.execute(
        select(Remediation.inspection_id, Remediation.status, Remediation.due_on)
        .join(Inspection, Remediation.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id, chosen)
    ).all()
    return _Facts(
        provisional=results.provisional_ids(session, campaign, config, tree, ids),
        remediations={inspection_id: (status, due_on) for inspection_id, status, due_on in remediations},
        totals=item_totals(session, campaign, ids),
        democratic=figures_of_campaign(session, campaign, now, ids),
        today=now.astimezone(SHANGHAI).date(),
        max_totals=_max_totals(session, campaign),
    )


def _max_totals(session: Session, campaign: Campaign) -> dict[tuple[str, str], int]:
    """The maximum of every sheet version the campaign's inspections use."""
    used = session.execute(
        select(Inspection.rubric_key, Inspection.rubric_version)
        .where(Inspection.campaign_id == campaign.id)
        .distinct()
    )
    return {(key, version): rubric_for(session, key, version).max_total for key, version in used}


@dataclass(frozen=True)
class Wanted:
    """What a page of ``listed_page`` keeps: a search in the code or name (any part, any case), a state
    and the stars of a rated result; "" or None where not asked for."""

    search: str = ""
    state: str = ""
    stars: int | None = None


def listed_page(
    session: Session,
    campaign: Campaign,
    scope: set[int] | None,
    wanted: Wanted,
    offset: int,
    limit: int,
) -> tuple[list[AnyRow], int]:
    """One page of ``listed`` — the rows ``offset`` to ``offset + limit`` of those ``wanted`` keeps, in
    the same order — and how many it keeps in all: three queries that read only the page's rows
    (``scope`` None: every organisation)."""
    tops = _tops()
    kept = [Inspection.campaign_id == campaign.id]
    if scope is not None:
        kept.append(among(session, Inspection.organisation_id, scope))
    if wanted.search:
        search = wanted.search.lower()
        kept.append(
            func.lower(Organisation.code).contains(search, autoescape=True)
            | func.lower(Organisation.name).contains(search, autoescape=True)
        )
    if wanted.state:
        kept.append(Inspection.state == wanted.state)
    if wanted.stars is not None:
        kept.append(Inspection.state.in_(values(RATED)) & (Inspection.stars == wanted.stars))
    joined = Organisation.id == Inspection.organisation_id
    total = session.scalar(
        select(func.count()).select_from(Inspection).join(Organisation, joined).where(*kept)
    )
    top, city = aliased(Organisation), aliased(Organisation)
    chosen = session.scalars(  # the page's ids: the sort carries no more than it needs
        select(Inspection.id)
        .join(Organisation, joined)
        .outerjoin(tops, tops.c.id == Organisation.id)
        .outerjoin(top, top.id == tops.c.top)
        .outerjoin(city, city.id == tops.c.city)
        .where(*kept)
        .order_by(
            tops.c.top.is_(None),  # not under a city's child: last, as ``official_places`` leaves it
            *_official(city),
            top.rubric_key.is_not(None),  # a city's counties first, then its direct unions
            *_official(top),
            _bytewise(session, Organisation.code),
        )
        .offset(offset)
        .limit(limit)
    ).all()
    place = {inspection_id: n for n, inspection_id in enumerate(chosen)}
    page = session.execute(_inspections(campaign).where(Inspection.id.in_(chosen))).all()
    return sorted(page, key=lambda row: place[row.id]), total or 0


def _bytewise(session: Session, column: Any) -> Any:
    """``column`` ordered as Python orders strings (by code point): PostgreSQL's "C" collation, also
    far quicker to sort by than a language's; SQLite's default (BINARY) already is."""
    return column.collate("C") if session.connection().dialect.name == "postgresql" else column


def _official(org: Any) -> tuple[Any, ...]:
    """``order.official_key`` as an ORDER BY: numbered ones by their number, then the others by id."""
    return org.sort_order.is_(None), org.sort_order, org.id


def _tops() -> Any:
    """Each organisation below a city with the city's child it is under (its county, or a city-direct
    union) and that city: a recursive CTE."""
    city = aliased(Organisation)
    child = aliased(Organisation)
    tops = (
        select(Organisation.id.label("id"), Organisation.id.label("top"), city.id.label("city"))
        .join(city, Organisation.parent_id == city.id)
        .where(city.parent_id.is_(None))
        .cte("tops", recursive=True)
    )
    return tops.union_all(select(child.id, tops.c.top, tops.c.city).where(child.parent_id == tops.c.id))


def _inspections(campaign: Campaign) -> Select[*tuple[Any, ...]]:
    """The campaign's inspections with what a row shows of each and its organisation."""
    return (
        select(
            Inspection.id,
            Inspection.organisation_id,
            Inspection.rubric_key,
            Inspection.rubric_version,
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
    )


def _row(inspection: AnyRow, facts: _Facts) -> dict[str, str]:
    return {
        "id": str(inspection.id),
        "code": inspection.code,
        "name": inspection.name,
        "rubric": inspection.rubric_key,
        "state": InspectionState(inspection.state).label,
        **_scores(inspection, facts),
        **_verdict(inspection, facts),
    }


def _scores(inspection: AnyRow, facts: _Facts) -> dict[str, str]:
    """The 百分制 scores of both totals and the democratic evaluation's figures; "" where none."""
    max_total = facts.max_totals[(inspection.rubric_key, inspection.rubric_version)]
    own, assessed = facts.totals.get(inspection.id, (None, None))
    democratic = facts.democratic.get(inspection.id)
    score = democratic.shown_score if democratic else None
    turnout = democratic.turnout if democratic else None
    return {
        "self_score": _percent(own, max_total),
        "assessed_score": _percent(assessed, max_total),
        "democratic_score": format_score(score) if score is not None else "",
        "turnout": f"{format_score(turnout)}%" if turnout is not None else "",
    }


def _verdict(inspection: AnyRow, facts: _Facts) -> dict[str, str]:
    """A rated result's stars, marks and disqualifications, and its remediation; "" before rating."""
    rated = inspection.stars is not None and InspectionState(inspection.state).is_rated
    status, due_on = facts.remediations.get(inspection.id, ("", facts.today))
    overdue = bool(status) and remediation.is_overdue(status, due_on, facts.today)
    verdict = {
        "stars": Stars(inspection.stars).label if rated and inspection.stars else "",
        "marks": _marks(inspection, inspection.id in facts.provisional, overdue) if rated else "",
        "remediation": remediation.label(status, due_on, facts.today) if status else "",
    }
    for key in ("no_funding_support", "no_hardship_aid", "no_award_eligibility"):
        verdict[key] = "是" if rated and getattr(inspection, key) else ""
    return verdict


def official_places(tree: OrgTree) -> dict[int, int]:
    """Each grassroots union's place in a listing: the counties in official order, the city-direct
    unions last, by code within each (``OrgTree.groups``)."""
    return {union: n for n, union in enumerate(u for group in tree.groups() for u in group.unions)}


@functools.lru_cache(maxsize=4096)
def _percent(total: Decimal | None, max_total: int) -> str:
    """A total as its 百分制 score shown; cached: a campaign's totals repeat across thousands of rows."""
    return format_score(percent_score(total, max_total)) if total is not None else ""

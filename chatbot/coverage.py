"""Coverage (覆盖率): how far each county/zone federation and the city-direct unions have come."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.deadlines import coverage_target
from chatbot.lifecycle import InspectionState
from chatbot.models import Campaign, Inspection, Organisation

S = InspectionState
SUBMITTED = {S.SELF_SUBMITTED, S.REVIEWING, S.RATED, S.PUBLISHED, S.OBJECTED, S.RE_REVIEWING, S.FINAL}
ASSESSED = {S.REVIEWING, S.RATED, S.PUBLISHED, S.OBJECTED, S.RE_REVIEWING, S.FINAL}
RATED = {S.RATED, S.PUBLISHED, S.OBJECTED, S.RE_REVIEWING, S.FINAL}
PUBLISHED = {S.PUBLISHED, S.OBJECTED, S.RE_REVIEWING, S.FINAL}
CITY_DIRECT = "市直基层工会"


@dataclass(frozen=True)
class CoverageRow:
    """One county/zone federation (or the city-direct unions, or the total)."""

    code: str
    name: str
    unions: int  # grassroots unions known
    in_scope: int  # inspected this year
    submitted: int
    assessed: int
    rated: int
    published: int
    final: int
    target: Decimal

    @property
    def share(self) -> Decimal:
        """The share of unions rated this year (年检覆盖率)."""
        return (
            Decimal(0) if self.unions == 0 else (Decimal(self.rated) / self.unions).quantize(Decimal("0.001"))
        )

    @property
    def on_target(self) -> bool:
        return self.share >= self.target


def target_of(campaign: Campaign) -> Decimal:
    if campaign.coverage_target is not None:
        return Decimal(campaign.coverage_target)
    return Decimal(str(coverage_target(campaign.year)))


def groups(session: Session) -> list[tuple[str, str, list[int]]]:
    """(code, name, grassroots union ids) for each county/zone federation, then the city-direct unions."""
    orgs = session.scalars(select(Organisation).order_by(Organisation.code)).all()
    children: dict[int | None, list[Organisation]] = {}
    for org in orgs:
        children.setdefault(org.parent_id, []).append(org)

    def unions_below(org_id: int) -> list[int]:
        found, frontier = [], [org_id]
        while frontier:
            node = frontier.pop()
            for child in children.get(node, []):
                if child.is_grassroots:
                    found.append(child.id)
                frontier.append(child.id)
        return found

    result: list[tuple[str, str, list[int]]] = []
    for root in children.get(None, []):
        direct = []
        for child in children.get(root.id, []):
            if child.is_grassroots:
                direct.append(child.id)
            else:
                result.append((child.code, child.name, unions_below(child.id)))
        if direct:
            result.append((root.code, CITY_DIRECT, direct))
    return result


def coverage(session: Session, campaign: Campaign) -> list[CoverageRow]:
    """One row per county/zone federation and for the city-direct unions, then the total."""
    states = dict(
        session.execute(
            select(Inspection.organisation_id, Inspection.state).where(Inspection.campaign_id == campaign.id)
        ).all()
    )
    target = target_of(campaign)
    rows = []
    for code, name, unions in groups(session):
        count: Counter[str] = Counter()
        for union in unions:
            if union not in states:
                continue
            state = InspectionState(states[union])
            count["in_scope"] += 1
            count["submitted"] += state in SUBMITTED
            count["assessed"] += state in ASSESSED
            count["rated"] += state in RATED
            count["published"] += state in PUBLISHED
            count["final"] += state == S.FINAL
        rows.append(
            CoverageRow(
                code,
                name,
                len(unions),
                count["in_scope"],
                count["submitted"],
                count["assessed"],
                count["rated"],
                count["published"],
                count["final"],
                target,
            )
        )
    total = CoverageRow(
        "",
        "合计",
        *(
            sum(getattr(r, f) for r in rows)
            for f in ("unions", "in_scope", "submitted", "assessed", "rated", "published", "final")
        ),
        target,
    )
    return [*rows, total]


def follow_ups(session: Session, campaign: Campaign) -> list[tuple[str, str, int, int]]:
    """回头看 (from 2025): unions rated in an earlier year, with that year and its stars, that are not
    yet rated in this campaign."""
    if campaign.year < 2025:
        return []
    earlier = session.execute(
        select(Organisation.code, Organisation.name, Campaign.year, Inspection.stars, Organisation.id)
        .join(Inspection, Inspection.organisation_id == Organisation.id)
        .join(Campaign, Inspection.campaign_id == Campaign.id)
        .where(Campaign.year < campaign.year, Inspection.state.in_([s.value for s in RATED]))
        .order_by(Organisation.code, Campaign.year.desc())
    ).all()
    rated_now = set(
        session.scalars(
            select(Inspection.organisation_id).where(
                Inspection.campaign_id == campaign.id, Inspection.state.in_([s.value for s in RATED])
            )
        )
    )
    seen: set[str] = set()
    found = []
    for code, name, year, stars, org_id in earlier:
        if code in seen or org_id in rated_now:
            continue
        seen.add(code)
        found.append((code, name, year, stars or 0))
    return found

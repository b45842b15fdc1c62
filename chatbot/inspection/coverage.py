"""Coverage (覆盖率): how far each county/zone federation and the city-direct unions have come.

Two shares: this year's (rated in this campaign) and the cumulative one the plan's target speaks of
("力争 3 年内对基层工会的星级评定率达 100%"): unions rated at least once in any campaign up to this
year. The yearly target (2023 30 %, 2024 70 %, then 100 %) is compared with the cumulative share.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import remediation
from chatbot.inspection.hierarchy import CITY_DIRECT, OrgTree, load_tree
from chatbot.store.models import Campaign, CountyPlan, Inspection, Organisation, Remediation
from chatbot.timeutil import SHANGHAI
from rubrics.deadlines import coverage_target
from rubrics.lifecycle import RATED, InspectionState, values
from rubrics.scoring import format_percent

S = InspectionState
__all__ = ["CITY_DIRECT", "COLUMNS", "CoverageRow", "coverage", "follow_ups", "shown", "target_of"]


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
    ever_rated: int = 0  # rated at least once, in this or an earlier campaign
    remediation_open: int = 0  # 补课 not yet done and checked (withdrawn ones are not counted)
    remediation_overdue: int = 0  # of those, open after their due date
    plan_target: Decimal | None = None  # the county's own target (its plan for the year), if recorded

    @property
    def share(self) -> Decimal:
        """The share of unions rated this year."""
        return _share(self.rated, self.unions)

    @property
    def cumulative_share(self) -> Decimal:
        """The share of unions rated at least once since the first campaign (年检覆盖率, cumulative)."""
        return _share(self.ever_rated, self.unions)

    @property
    def on_target(self) -> bool:
        return self.cumulative_share >= self.target

    @property
    def on_plan(self) -> bool | None:
        """Whether the cumulative share reaches the county's own target; None without a plan."""
        return None if self.plan_target is None else self.cumulative_share >= self.plan_target


def _share(part: int, whole: int) -> Decimal:
    return Decimal(0) if whole == 0 else (Decimal(part) / whole).quantize(Decimal("0.001"))


def target_of(campaign: Campaign) -> Decimal:
    if campaign.coverage_target is not None:
        return Decimal(campaign.coverage_target)
    return Decimal(str(coverage_target(campaign.year)))


def coverage(session: Session, campaign: Campaign, tree: OrgTree | None = None) -> list[CoverageRow]:
    """One row per county/zone federation and for the city-direct unions, then the total."""
    tree = tree or load_tree(session)
    states = dict(
        session.execute(
            select(Inspection.organisation_id, Inspection.state).where(Inspection.campaign_id == campaign.id)
        ).all()
    )
    ever = set(
        session.scalars(
            select(Inspection.organisation_id)
            .join(Campaign, Inspection.campaign_id == Campaign.id)
            .where(Campaign.year <= campaign.year, Inspection.state.in_(values(RATED)))
            .distinct()
        )
    )
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    remediating: set[int] = set()
    overdue: set[int] = set()
    for org_id, status, due_on in session.execute(
        select(Inspection.organisation_id, Remediation.status, Remediation.due_on)
        .join(Remediation, Remediation.inspection_id == Inspection.id)
        .where(Remediation.status.in_(remediation.PENDING))
    ):
        remediating.add(org_id)
        if remediation.is_overdue(status, due_on, today):
            overdue.add(org_id)
    target = target_of(campaign)
    plans = dict(
        session.execute(
            select(CountyPlan.organisation_id, CountyPlan.coverage_target).where(
                CountyPlan.campaign_id == campaign.id
            )
        ).all()
    )
    rows = []
    for group in tree.groups():
        county = tree.by_code(group.code)
        count: Counter[str] = Counter()
        for union in group.unions:
            count["ever_rated"] += union in ever
            count["remediation_open"] += union in remediating
            count["remediation_overdue"] += union in overdue
            if union not in states:
                continue
            state = InspectionState(states[union])
            count["in_scope"] += 1
            count["submitted"] += state.is_submitted
            count["assessed"] += state.is_assessed
            count["rated"] += state.is_rated
            count["published"] += state.is_published
            count["final"] += state == S.FINAL
        rows.append(
            CoverageRow(
                group.code,
                group.name,
                len(group.unions),
                count["in_scope"],
                count["submitted"],
                count["assessed"],
                count["rated"],
                count["published"],
                count["final"],
                target,
                count["ever_rated"],
                count["remediation_open"],
                count["remediation_overdue"],
                plans.get(county.id) if county is not None and county.parent_id is not None else None,
            )
        )
    total = CoverageRow(
        "",
        "合计",
        sum(r.unions for r in rows),
        sum(r.in_scope for r in rows),
        sum(r.submitted for r in rows),
        sum(r.assessed for r in rows),
        sum(r.rated for r in rows),
        sum(r.published for r in rows),
        sum(r.final for r in rows),
        target,
        sum(r.ever_rated for r in rows),
        sum(r.remediation_open for r in rows),
        sum(r.remediation_overdue for r in rows),
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
        .where(Campaign.year < campaign.year, Inspection.state.in_(values(RATED)))
        .order_by(Organisation.code, Campaign.year.desc())
    ).all()
    rated_now = set(
        session.scalars(
            select(Inspection.organisation_id).where(
                Inspection.campaign_id == campaign.id, Inspection.state.in_(values(RATED))
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


#: The coverage table as people read it — the CLI's table, the console's table and its CSV download:
#: each column's heading (in the lifecycle's words: 已评定 rated, 已公示 published at least once,
#: 已确定星级 final) and the figure it shows (``shown``'s keys).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("单位", "name"),
    ("基层工会", "unions"),
    ("纳入年检", "in_scope"),
    ("已提交", "submitted"),
    ("已评定", "rated"),
    ("已公示", "published"),
    ("已确定星级", "final"),
    ("本年覆盖率", "share"),
    ("累计覆盖率", "cumulative"),
    ("目标", "target"),
    ("本地目标", "plan_target"),
    ("补课中", "remediation_open"),
    ("补课逾期", "remediation_overdue"),
)


def shown(row: CoverageRow) -> dict[str, str | int]:
    """A row's figures as ``COLUMNS`` show them: counts as they are, shares as percentages (11.1%),
    no local target as —."""
    return {
        "name": row.name,
        "unions": row.unions,
        "in_scope": row.in_scope,
        "submitted": row.submitted,
        "rated": row.rated,
        "published": row.published,
        "final": row.final,
        "share": format_percent(row.share),
        "cumulative": format_percent(row.cumulative_share),
        "target": format_percent(row.target),
        "plan_target": "—" if row.plan_target is None else format_percent(row.plan_target),
        "remediation_open": row.remediation_open,
        "remediation_overdue": row.remediation_overdue,
    }

"""Campaign years (年度年检): opening a year with its unions (all, a list, or a share drawn per county),
its deadlines and coverage target, and the county summaries (年检工作情况总结) received."""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Integer,
    String,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from chatbot.inspection import audit, rubric_versions
from chatbot.inspection.errors import AdminError
from chatbot.inspection.hierarchy import OrgTree, load_tree
from chatbot.store.models import Campaign, CountyReport, Evaluation, Inspection, ItemScore, Organisation
from chatbot.store.outbox import json_rows
from rubrics.lifecycle import RATED, InspectionState, values
from rubrics.loader import RUBRIC_KEYS
from rubrics.scoring import format_score


@dataclass(frozen=True)
class Deadlines:
    """A campaign's deadlines; None leaves a stored one as it is."""

    self_check_due: date | None = None
    review_due: date | None = None
    report_due: tuple[int, int] | None = None  # month, day of the following year
    coverage_target: Decimal | None = None


@dataclass(frozen=True)
class CampaignScope:
    """Which grassroots unions a campaign year inspects, when not every one (2023: 30 %, 2024: 70 %):
    the codes of a list, or a share drawn per county with a recorded seed."""

    codes: tuple[str, ...] = ()
    share: Decimal | None = None
    seed: int | None = None
    note: str = ""


def open_year(
    session: Session,
    year: int,
    actor: str = "cli",
    deadlines: Deadlines | None = None,
    scope: CampaignScope | None = None,
) -> tuple[Campaign, int]:
    """Open campaign ``year`` with an inspection for every grassroots union (or those of ``scope``);
    returns (campaign, inspections added). A few statements whatever the number of unions."""
    if not 2000 <= year <= 2100:
        raise AdminError(f"年度 {year} 不在 2000–2100 之间。")
    campaign = session.scalar(select(Campaign).where(Campaign.year == year))
    if campaign is None:
        campaign = Campaign(year=year)
        session.add(campaign)
        rubric_versions.pin_latest(session, campaign)
        session.flush()
        audit.record(
            session,
            actor,
            "open",
            "campaign",
            campaign.id,
            after={"year": year, "rubric_versions": campaign.rubric_versions},
        )
    if deadlines is not None:
        _set_deadlines(session, campaign, deadlines, actor)
    if scope is not None:
        return campaign, _narrow(session, campaign, scope, actor)
    if campaign.scoped:
        return campaign, 0
    return campaign, _add_missing(session, campaign)


def _add_missing(session: Session, campaign: Campaign, *where: ColumnElement[bool]) -> int:
    """An inspection for every grassroots union (matching ``where``) that has none in the campaign, in
    one INSERT … SELECT; how many were added."""
    pins = {key: rubric_versions.pinned(campaign, key) for key in RUBRIC_KEYS}
    version = case(pins, value=Organisation.rubric_key)
    inspected = (
        select(Inspection.id)
        .where(Inspection.campaign_id == campaign.id, Inspection.organisation_id == Organisation.id)
        .exists()
    )
    missing = (
        select(
            literal(campaign.id, Integer),
            Organisation.id,
            Organisation.rubric_key,
            version,
            literal(InspectionState.NOT_STARTED.value, String),
        )
        .where(Organisation.rubric_key.is_not(None), ~inspected, *where)
        .order_by(Organisation.id)
    )
    statement = insert(Inspection).from_select(
        ["campaign_id", "organisation_id", "rubric_key", "rubric_version", "state"], missing
    )
    result = session.execute(statement, execution_options={"preserve_rowcount": True})
    return cast("CursorResult[Any]", result).rowcount


def _narrow(session: Session, campaign: Campaign, scope: CampaignScope, actor: str) -> int:
    """Set the campaign's unions to the scope: only while none of its inspections has begun."""
    begun = session.scalar(
        select(func.count())
        .select_from(Inspection)
        .where(
            Inspection.campaign_id == campaign.id,
            or_(
                Inspection.state != InspectionState.NOT_STARTED.value,
                Inspection.id.in_(select(ItemScore.inspection_id)),
                Inspection.id.in_(select(Evaluation.inspection_id)),
            ),
        )
    )
    if begun:
        raise AdminError(f"{campaign.year} 年度已有 {begun} 个单位开始年检，不能再调整年检范围。")
    tree = load_tree(session)
    if scope.codes:
        chosen = _listed(tree, scope.codes)
        note = scope.note or f"名单 {len(chosen)} 个"
    else:
        share = scope.share if scope.share is not None else Decimal(1)
        seed = scope.seed if scope.seed is not None else secrets.randbelow(2**31)
        chosen, fresh = _draw(tree, share, seed, rated_before(session, campaign.year))
        note = (
            f"各县区按 {format_score(share * 100)}% 随机抽取，从未评定过的单位优先"
            f"（本次 {fresh} 个未评定过、{len(chosen) - fresh} 个往年已评定），随机种子 {seed}"
        )
    # The chosen unions as one parameter, however many: no list of bound parameters to outgrow.
    picked = select(json_rows(session, "chosen", [(i,) for i in chosen], id=Integer).c.id)
    session.execute(
        delete(Inspection).where(
            Inspection.campaign_id == campaign.id, Inspection.organisation_id.not_in(picked)
        )
    )
    added = _add_missing(session, campaign, Organisation.id.in_(picked))
    campaign.scoped, campaign.scope_note = True, note
    audit.record(
        session,
        actor,
        "scope",
        "campaign",
        campaign.id,
        after={"note": note, "unions": len(chosen), "codes": [tree.nodes[i].code for i in chosen][:500]},
    )
    return added


def rated_before(session: Session, year: int) -> set[int]:
    """The unions rated in a campaign of an earlier year (counted in the cumulative coverage)."""
    return set(
        session.scalars(
            select(Inspection.organisation_id)
            .join(Campaign, Inspection.campaign_id == Campaign.id)
            .where(Campaign.year < year, Inspection.state.in_(values(RATED)))
            .distinct()
        )
    )


def _draw(tree: OrgTree, share: Decimal, seed: int, rated: set[int]) -> tuple[list[int], int]:
    """Each county's share (rounded up) drawn with ``seed``: first from its unions never rated in an
    earlier year, then, when those are fewer, from the others — so that the cumulative share moves
    toward the target. Returns the chosen unions and how many of them were never rated."""
    rng = random.Random(seed)
    chosen: list[int] = []
    fresh = 0
    for group in tree.groups():
        count = min(len(group.unions), math.ceil(share * len(group.unions)))
        never = [union for union in group.unions if union not in rated]
        again = [union for union in group.unions if union in rated]
        first = rng.sample(never, min(count, len(never)))
        chosen += sorted(first + rng.sample(again, count - len(first)))
        fresh += len(first)
    return chosen, fresh


def _listed(tree: OrgTree, codes: tuple[str, ...]) -> list[int]:
    """The grassroots unions named by ``codes``; AdminError naming every code that is not one."""
    problems = []
    chosen = []
    for code in dict.fromkeys(codes):
        node = tree.by_code(code)
        if node is None:
            problems.append(f"没有编号为 {code} 的单位")
        elif not node.is_grassroots:
            problems.append(f"{code} 不是基层工会（没有考评标准）")
        else:
            chosen.append(node.id)
    if problems:
        shown = "；".join(problems[:20]) + ("……" if len(problems) > 20 else "")
        raise AdminError(f"年检范围名单有 {len(problems)} 处错误，未作调整：{shown}。")
    return chosen


def _set_deadlines(session: Session, campaign: Campaign, deadlines: Deadlines, actor: str) -> None:
    before = {
        "self_check_due": campaign.self_check_due,
        "review_due": campaign.review_due,
        "report_due": f"{campaign.report_due_month:02d}-{campaign.report_due_day:02d}",
    }
    if deadlines.self_check_due is not None:
        campaign.self_check_due = deadlines.self_check_due
    if deadlines.review_due is not None:
        campaign.review_due = deadlines.review_due
    if deadlines.report_due is not None:
        campaign.report_due_month, campaign.report_due_day = deadlines.report_due
    if deadlines.coverage_target is not None:
        campaign.coverage_target = deadlines.coverage_target
    if campaign.self_check_due and campaign.review_due and campaign.review_due < campaign.self_check_due:
        raise AdminError("考评截止日期早于自评截止日期。")
    audit.record(
        session,
        actor,
        "deadlines",
        "campaign",
        campaign.id,
        before=before,
        after={
            "self_check_due": campaign.self_check_due,
            "review_due": campaign.review_due,
            "report_due": f"{campaign.report_due_month:02d}-{campaign.report_due_day:02d}",
        },
    )


def mark_report_received(
    session: Session, county_code: str, year: int, paper: bool, now: datetime, actor: str = "cli"
) -> CountyReport:
    """Mark a county's annual summary (年检工作情况总结) received: electronic, or the stamped paper copy."""
    campaign = session.scalar(select(Campaign).where(Campaign.year == year))
    if campaign is None:
        raise AdminError(f"{year} 年度年检尚未开启。")
    county = session.scalar(select(Organisation).where(Organisation.code == county_code))
    if county is None or county.is_grassroots:
        raise AdminError(f"{county_code} 不是县（区）或开发区总工会。")
    report = session.scalar(
        select(CountyReport).where(
            CountyReport.campaign_id == campaign.id, CountyReport.organisation_id == county.id
        )
    )
    if report is None:
        report = CountyReport(campaign_id=campaign.id, organisation_id=county.id)
        session.add(report)
    if paper:
        report.paper_received_at = report.paper_received_at or now
    else:
        report.electronic_received_at = report.electronic_received_at or now
    session.flush()
    audit.record(
        session,
        actor,
        "report_received",
        "county_report",
        report.id,
        after={"county": county_code, "year": year, "copy": "paper" if paper else "electronic"},
    )
    return report


def add_inspection(session: Session, campaign: Campaign, org: Organisation) -> int:
    exists = session.scalar(
        select(Inspection.id).where(
            Inspection.campaign_id == campaign.id, Inspection.organisation_id == org.id
        )
    )
    if exists is not None or org.rubric_key is None:
        return 0
    session.add(
        Inspection(
            campaign_id=campaign.id,
            organisation_id=org.id,
            rubric_key=org.rubric_key,
            rubric_version=rubric_versions.pinned(campaign, org.rubric_key),
            state=InspectionState.NOT_STARTED.value,
        )
    )
    return 1


def campaign_of_year(session: Session, year: int) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.year == year))
    if campaign is None:
        raise ValueError(f"{year} 年度年检尚未开启，请先运行 nianjian campaign open {year}。")
    return campaign

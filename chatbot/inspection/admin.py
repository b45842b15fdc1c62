"""Administration: organisations, invitations and campaigns (used by the CLI and the demo)."""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from chatbot.inspection import audit, evaluations
from chatbot.inspection.codes import new_code
from chatbot.inspection.hierarchy import OrgTree, load_tree
from chatbot.service.context import open_campaign
from chatbot.store import outbox
from chatbot.store.models import (
    Campaign,
    CountyReport,
    Evaluation,
    Inspection,
    Invitation,
    ItemScore,
    Organisation,
)
from chatbot.timeutil import SHANGHAI, end_of_day, local_date
from rubrics import get_rubric
from rubrics.lifecycle import InspectionState
from rubrics.loader import RUBRIC_KEYS
from rubrics.scoring import format_score

ROLES = ("chair", "evaluator", "member", "admin")
DEFAULT_EVALUATION_DAYS = 7
#: An evaluation is opened before the result is rated.
EVALUATION_STATES = (
    InspectionState.NOT_STARTED,
    InspectionState.SELF_CHECKING,
    InspectionState.SELF_SUBMITTED,
    InspectionState.RETURNED,
    InspectionState.REVIEWING,
)


class AdminError(ValueError):
    """An admin request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class OrgRow:
    """One organisation as given on the command line or in an import file."""

    code: str
    name: str
    rubric: str | None = None
    parent: str | None = None
    members: int | None = None


def check_row(row: OrgRow) -> None:
    if not row.code.strip() or len(row.code) > 32 or not row.code.replace("-", "").replace("_", "").isalnum():
        raise AdminError(f"invalid code {row.code!r}: letters, digits, '-' and '_', at most 32")
    if not row.name.strip():
        raise AdminError("the name is empty")
    if row.rubric is not None and row.rubric not in RUBRIC_KEYS:
        raise AdminError(f"unknown rubric {row.rubric!r}; one of {', '.join(RUBRIC_KEYS)}")
    if row.members is not None and row.members < 0:
        raise AdminError("members must not be negative")


def add_org(session: Session, row: OrgRow, actor: str = "cli") -> Organisation:
    """Add one organisation; a grassroots union joins the open campaign at once."""
    check_row(row)
    if session.scalar(select(Organisation.id).where(Organisation.code == row.code)) is not None:
        raise AdminError(f"organisation {row.code} already exists")
    parent = None
    if row.parent:
        parent = session.scalar(select(Organisation).where(Organisation.code == row.parent))
        if parent is None:
            raise AdminError(f"parent {row.parent} does not exist")
    elif row.rubric is not None:
        raise AdminError("a grassroots union needs --parent (its evaluator)")
    org = Organisation(
        code=row.code,
        name=row.name.strip(),
        rubric_key=row.rubric,
        parent_id=parent.id if parent else None,
        member_count=row.members,
    )
    session.add(org)
    session.flush()
    audit.record(session, actor, "create", "organisation", org.id, after=row.__dict__)
    campaign = open_campaign(session)
    if campaign is not None and org.is_grassroots and not campaign.scoped:
        _add_inspection(session, campaign, org)
    return org


def create_invitation(
    session: Session,
    org_code: str,
    role: str,
    uses: int = 1,
    days: int | None = 30,
    actor: str = "cli",
    now: datetime | None = None,
) -> Invitation:
    """A new binding code for ``role`` in the organisation."""
    if role not in ROLES:
        raise AdminError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if uses < 1:
        raise AdminError("--uses must be at least 1")
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise AdminError(f"organisation {org_code} does not exist")
    if role == "chair" and not org.is_grassroots:
        raise AdminError(f"{org_code} is a federation; chairs are bound to grassroots unions")
    now = now or datetime.now(UTC)
    invitation = Invitation(
        code=new_code(),
        organisation_id=org.id,
        role=role,
        max_uses=uses,
        expires_at=now + timedelta(days=days) if days else None,
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "invitation",
        invitation.id,
        after={"org": org_code, "role": role, "uses": uses, "days": days},
    )
    return invitation


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
    returns (campaign, inspections added)."""
    if not 2000 <= year <= 2100:
        raise AdminError(f"年度 {year} 不在 2000–2100 之间。")
    campaign = session.scalar(select(Campaign).where(Campaign.year == year))
    if campaign is None:
        campaign = Campaign(year=year)
        session.add(campaign)
        session.flush()
        audit.record(session, actor, "open", "campaign", campaign.id, after={"year": year})
    if deadlines is not None:
        _set_deadlines(session, campaign, deadlines, actor)
    if scope is not None:
        return campaign, _narrow(session, campaign, scope, actor)
    if campaign.scoped:
        return campaign, 0
    added = 0
    for org in session.scalars(select(Organisation).where(Organisation.rubric_key.is_not(None))):
        added += _add_inspection(session, campaign, org)
    return campaign, added


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
        rng = random.Random(seed)
        chosen = []
        for group in tree.groups():  # each county inspects at least its share (rounded up)
            count = min(len(group.unions), math.ceil(share * len(group.unions)))
            chosen += sorted(rng.sample(list(group.unions), count))
        note = f"各县区按 {format_score(share * 100)}% 随机抽取，随机种子 {seed}"
    session.execute(
        delete(Inspection).where(
            Inspection.campaign_id == campaign.id, Inspection.organisation_id.not_in(chosen)
        )
    )
    added = 0
    for org in session.scalars(select(Organisation).where(Organisation.id.in_(chosen))):
        added += _add_inspection(session, campaign, org)
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


def _add_inspection(session: Session, campaign: Campaign, org: Organisation) -> int:
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
            rubric_version=get_rubric(org.rubric_key).version,
            state=InspectionState.NOT_STARTED.value,
        )
    )
    return 1


def open_evaluation(
    session: Session,
    org_code: str,
    closes: date | None,
    open_slots: int,
    now: datetime,
    actor: str = "cli",
    all_members_max: int = 25,
) -> Evaluation:
    """Open the democratic evaluation (民主测评) of the organisation's inspection in the open campaign:
    its electorate is invited and told (notice ``evaluation_open``)."""
    campaign = open_campaign(session)
    if campaign is None:
        raise AdminError("no open campaign; open one with `nianjian campaign open YEAR`")
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise AdminError(f"organisation {org_code} does not exist")
    inspection = session.scalar(
        select(Inspection).where(Inspection.campaign_id == campaign.id, Inspection.organisation_id == org.id)
    )
    if inspection is None:
        raise AdminError(f"{org_code} has no inspection in {campaign.year}")
    if InspectionState(inspection.state) not in EVALUATION_STATES:
        raise AdminError(
            f"{org_code} is already {inspection.state}: the evaluation must come before the rating"
        )
    existing = session.scalar(select(Evaluation).where(Evaluation.inspection_id == inspection.id))
    if existing is not None:
        raise AdminError(
            f"{org_code} already has an evaluation: {existing.code}, closing {local_date(existing.closes_at)}"
        )
    if open_slots < 0:
        raise AdminError("--open must not be negative")
    today = now.astimezone(SHANGHAI).date()
    closes = closes or today + timedelta(days=DEFAULT_EVALUATION_DAYS)
    if closes < today:
        raise AdminError(f"--closes {closes} is in the past")
    members = org.member_count
    evaluation = Evaluation(
        inspection_id=inspection.id,
        code=new_code(),
        opened_at=now,
        closes_at=end_of_day(closes),
        open_slots=open_slots,
        all_members=members if members is not None and members <= all_members_max else None,
    )
    session.add(evaluation)
    session.flush()
    invited = evaluations.invite(session, evaluation, evaluations.candidates(session, inspection), now)
    audit.record(
        session,
        actor,
        "open",
        "evaluation",
        evaluation.id,
        after={
            "org": org_code,
            "closes": closes.isoformat(),
            "open": open_slots,
            "invited": len(invited),
            "all_members": evaluation.all_members,
        },
    )
    for account_id in invited:
        outbox.enqueue(
            session,
            account_id,
            "evaluation_open",
            f"evaluation-open:{evaluation.id}:{account_id}",
            evaluation_invitation(org.name, closes, evaluation.code),
            now,
            closes.isoformat(),
        )
    return evaluation


def evaluation_invitation(org_name: str, closes: date, code: str) -> str:
    """The notice that invites a participant to an evaluation."""
    return (
        f"“{org_name}”民主测评已开始，{closes.isoformat()} 结束。您受邀参加，匿名作答，约需 1 分钟："
        f"发送“测评 {code}”开始。"
    )

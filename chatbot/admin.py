"""Administration: organisations, invitations and campaigns (used by the CLI and the demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot import audit
from chatbot.codes import new_code
from chatbot.lifecycle import InspectionState
from chatbot.models import Campaign, CountyReport, Evaluation, Inspection, Invitation, Organisation
from chatbot.timeutil import SHANGHAI, end_of_day, local_date
from chatbot.views import open_campaign
from rubrics import get_rubric
from rubrics.loader import RUBRIC_KEYS

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
        if parent.is_grassroots:
            raise AdminError(f"parent {row.parent} is a grassroots union; a parent must be a federation")
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
    if campaign is not None and org.is_grassroots:
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


def open_year(
    session: Session, year: int, actor: str = "cli", deadlines: Deadlines | None = None
) -> tuple[Campaign, int]:
    """Open campaign ``year`` with an inspection for every grassroots union; returns (campaign, added)."""
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
    added = 0
    for org in session.scalars(select(Organisation).where(Organisation.rubric_key.is_not(None))):
        added += _add_inspection(session, campaign, org)
    return campaign, added


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
    session: Session, org_code: str, closes: date | None, open_slots: int, now: datetime, actor: str = "cli"
) -> Evaluation:
    """Open the democratic evaluation (民主测评) of the organisation's inspection in the open campaign."""
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
    evaluation = Evaluation(
        inspection_id=inspection.id,
        code=new_code(),
        opened_at=now,
        closes_at=end_of_day(closes),
        open_slots=open_slots,
    )
    session.add(evaluation)
    session.flush()
    audit.record(
        session,
        actor,
        "open",
        "evaluation",
        evaluation.id,
        after={"org": org_code, "closes": closes.isoformat(), "open": open_slots},
    )
    return evaluation

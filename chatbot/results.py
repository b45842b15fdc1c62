"""Star rating (星级确定), the five-star quota, publication (公示) and finalisation.

The quota is applied over a campaign's rated results whenever they are confirmed: when an assessment
or re-review is submitted, when an admin overrides, and when results are published. Results already
published keep their stars and take their places in the quota.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from chatbot import audit, notices
from chatbot.config import Config
from chatbot.evaluations import figures
from chatbot.lifecycle import InspectionState, check_transition
from chatbot.models import Campaign, Inspection, ItemScore, Objection, Organisation
from chatbot.timeutil import as_utc, local_date
from chatbot.views import descendants
from dialogs.publication import DISQUALIFIED
from rubrics import get_rubric
from rubrics.quota import Override, RatedResult, apply_five_star_quota
from rubrics.scoring import Stars, below_standard, format_score, percent_score, raw_total, star_level

S = InspectionState
#: States whose result counts in the quota.
RATED = (S.RATED, S.PUBLISHED, S.OBJECTED, S.RE_REVIEWING, S.FINAL)
#: States whose stars are out in public and stay as published.
FIXED = (S.PUBLISHED, S.OBJECTED, S.FINAL)
RE_REVIEW_DAYS = 10
DEFAULT_PUBLICATION_DAYS = 7


def rate(session: Session, inspection: Inspection, config: Config, now: datetime) -> None:
    """Compute the inspection's score and stars by score from its assessed scores."""
    rubric = get_rubric(inspection.rubric_key)
    assessed = [
        Decimal(v)
        for v in session.scalars(
            select(ItemScore.assessed_score).where(
                ItemScore.inspection_id == inspection.id, ItemScore.assessed_score.is_not(None)
            )
        )
    ]
    raw = raw_total(assessed)
    score = percent_score(raw, rubric.max_total)
    democratic = figures(session, inspection, now)
    weight = config.democratic_weight
    if weight and democratic is not None and democratic.score is not None:
        score = (score * (1 - weight) + democratic.score * weight).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    inspection.raw_total = raw
    inspection.score = score
    inspection.democratic_score = democratic.score if democratic else None
    inspection.stars_by_score = int(star_level(score))
    inspection.stars = inspection.stars_by_score
    inspection.below_standard = below_standard(score, config.pass_mark)
    inspection.rated_at = now


def _quota_group(org: Organisation, by_county: bool) -> int:
    """The quota scope of an organisation: the whole city, or its county/zone (the child of the root)."""
    if not by_county:
        return 0
    node = org
    while node.parent is not None and node.parent.parent is not None:
        node = node.parent
    return node.id


def confirm(session: Session, campaign: Campaign, config: Config, adjustable: set[int] | None = None) -> None:
    """Apply the five-star quota to the campaign's rated results, group by group.

    ``adjustable`` names inspections whose stars may change although they are in a fixed state
    (a re-review about to be published again).
    """
    adjustable = adjustable or set()
    rated = session.scalars(
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(Inspection.campaign_id == campaign.id, Inspection.state.in_([s.value for s in RATED]))
    ).all()
    groups: dict[int, list[Inspection]] = defaultdict(list)
    for inspection in rated:
        groups[_quota_group(inspection.organisation, config.quota_scope == "county")].append(inspection)
    for members in groups.values():
        results = [
            RatedResult(str(i.id), Decimal(i.score or 0), Stars(i.stars_by_score or 1)) for i in members
        ]
        overrides = []
        for i in members:
            if i.override_stars is not None:
                overrides.append(
                    Override(str(i.id), Stars(i.override_stars), i.override_reason or "管理员调整")
                )
            elif i.state in FIXED and i.id not in adjustable:
                overrides.append(Override(str(i.id), Stars(i.stars or 1), "已公示"))
        decisions = {d.key: d for d in apply_five_star_quota(results, overrides, config.quota_percent)}
        for i in members:
            if i.state in FIXED and i.id not in adjustable and i.override_stars is None:
                continue
            decision = decisions[str(i.id)]
            i.stars = int(decision.stars)
            i.quota_capped = decision.capped
            i.quota_flagged = decision.flagged
            i.stars_reason = decision.reason or None


def override(
    session: Session, campaign: Campaign, org_code: str, stars: Stars, reason: str, config: Config, actor: str
) -> Inspection:
    """An admin's star level for one result, with a written reason; audited; the quota re-applied."""
    if not reason.strip():
        raise ValueError("调整星级须写明理由。")
    inspection = _inspection_of(session, campaign, org_code)
    if inspection.state != S.RATED:
        raise ValueError(
            f"{org_code} 当前为“{InspectionState(inspection.state).label}”：只能调整已评定、尚未公示的结果。"
        )
    before = {"stars": inspection.stars, "override": inspection.override_stars}
    inspection.override_stars = int(stars)
    inspection.override_reason = reason.strip()
    audit.record(
        session,
        actor,
        "override",
        "inspection",
        inspection.id,
        before=before,
        after={"stars": int(stars)},
        reason=reason.strip(),
    )
    confirm(session, campaign, config)
    return inspection


def _inspection_of(session: Session, campaign: Campaign, org_code: str) -> Inspection:
    inspection = session.scalar(
        select(Inspection)
        .join(Organisation)
        .where(Inspection.campaign_id == campaign.id, Organisation.code == org_code)
    )
    if inspection is None:
        raise ValueError(f"{campaign.year} 年度没有 {org_code} 的年检。")
    return inspection


@dataclass(frozen=True)
class PublishOutcome:
    published: list[str]
    flagged: list[str]


def publish(
    session: Session,
    campaign: Campaign,
    config: Config,
    now: datetime,
    days: int,
    scope: Organisation | None = None,
    actor: str = "cli",
) -> PublishOutcome:
    """Publish the rated results in scope for ``days`` days; results flagged by a quota tie wait."""
    confirm(session, campaign, config)
    query = (
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(Inspection.campaign_id == campaign.id, Inspection.state == S.RATED.value)
    )
    if scope is not None:
        query = query.where(Inspection.organisation_id.in_(descendants(session, scope.id)))
    published, flagged = [], []
    for inspection in session.scalars(query.order_by(Inspection.id)):
        if inspection.quota_flagged and inspection.override_stars is None:
            flagged.append(inspection.organisation.code)
            continue
        open_publication(session, inspection, now, days, actor)
        published.append(inspection.organisation.code)
    return PublishOutcome(published, flagged)


def open_publication(session: Session, inspection: Inspection, now: datetime, days: int, actor: str) -> None:
    """Publish one result (a new round) and tell its chair and members."""
    before = inspection.state
    inspection.state = check_transition(inspection.state, S.PUBLISHED)
    inspection.publication_round += 1
    inspection.publication_days = days
    inspection.published_at = now
    inspection.publication_ends_at = now + timedelta(days=days)
    inspection.re_review_due_at = None
    audit.record(
        session,
        actor,
        "publish",
        "inspection",
        inspection.id,
        before=before,
        after={"round": inspection.publication_round, "stars": inspection.stars, "score": inspection.score},
    )
    org = inspection.organisation
    ends = local_date(inspection.publication_ends_at)
    text = (
        f"{org.name} {inspection.campaign.year} 年度年检结果公示（第 {inspection.publication_round} 轮）："
        f"{Stars(inspection.stars or 1).label}，{format_score(inspection.score or 0)} 分。公示期至 {ends}，"
        "发送“结果”查看详情；如有异议请在公示期内发送“异议 理由”。"
    )
    if inspection.below_standard:
        text += f"低于建设标准：{DISQUALIFIED}。"
    for account_id in notices.accounts_with_role(session, org.id, ("chair", "member")):
        notices.enqueue(
            session,
            account_id,
            "result_published",
            f"published:{inspection.id}:{inspection.publication_round}:{account_id}",
            text,
            now,
            ends,
        )


def finalise_due(session: Session, now: datetime, actor: str = "scheduler") -> list[str]:
    """Results whose publication ended with no open objection become final (已定级)."""
    done = []
    due = session.scalars(
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(Inspection.state == S.PUBLISHED.value, Inspection.publication_ends_at.is_not(None))
    ).all()
    for inspection in due:
        if as_utc(inspection.publication_ends_at) > now:
            continue
        open_objections = session.scalar(
            select(Objection.id).where(
                Objection.inspection_id == inspection.id, Objection.resolved_at.is_(None)
            )
        )
        if open_objections is not None:
            continue
        inspection.state = check_transition(inspection.state, S.FINAL)
        inspection.final_at = now
        audit.record(
            session, actor, "finalise", "inspection", inspection.id, before="published", after="final"
        )
        org = inspection.organisation
        text = (
            f"{org.name} {inspection.campaign.year} 年度年检结果已确定：{Stars(inspection.stars or 1).label}。"
            "发送“结果”查看详情。"
        )
        for account_id in notices.accounts_with_role(session, org.id, ("chair",)):
            notices.enqueue(
                session, account_id, "result_final", f"final:{inspection.id}:{account_id}", text, now
            )
        done.append(org.code)
    return done


def campaign_of_year(session: Session, year: int) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.year == year))
    if campaign is None:
        raise ValueError(f"no campaign {year}; open it with `nianjian campaign open {year}`")
    return campaign

"""Star rating (星级确定), the five-star quota, publication (公示) and finalisation.

The quota is of a whole scope (the city, or one county/zone federation and the city-direct unions when
``FIVE_STAR_QUOTA_SCOPE=county``), never of the results rated so far. A scope is confirmed when every
inspection in it is rated, or when an admin declares it complete for the year (``confirm_scope``);
until then every star level in it is provisional (预评) and nothing in it is published. Once
confirmed, the quota is applied over all its rated results; later changes (a re-review, the city's
re-check, a late rating) go through the quota again with published results keeping their stars and
their places.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from chatbot.config import Config
from chatbot.inspection import audit, remediation
from chatbot.inspection.evaluations import figures
from chatbot.inspection.hierarchy import WHOLE_CITY, OrgTree, load_tree
from chatbot.store import outbox
from chatbot.store.models import Campaign, Inspection, ItemScore, Objection, Organisation, QuotaConfirmation
from chatbot.timeutil import as_utc, local_date
from rubrics import get_rubric
from rubrics.lifecycle import FIXED, RATED, InspectionState, check_transition, values
from rubrics.quota import Override, RatedResult, apply_five_star_quota, five_star_quota
from rubrics.scoring import (
    BELOW_STANDARD_CONSEQUENCES,
    Stars,
    below_standard,
    format_score,
    percent_score,
    raw_total,
    star_level,
)

S = InspectionState
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
        if v is not None  # excluded by the query; restated for the type checker
    ]
    raw = raw_total(assessed)
    score = percent_score(raw, rubric.max_total)
    democratic = figures(session, inspection, now)
    weight = config.democratic_weight
    if weight and democratic is not None and democratic.score is not None and not democratic.waived:
        score = (score * (1 - weight) + democratic.score * weight).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    inspection.raw_total = raw
    inspection.score = score
    inspection.democratic_score = democratic.score if democratic else None
    inspection.stars_by_score = int(star_level(score))
    inspection.stars = inspection.stars_by_score
    missed = below_standard(score, config.pass_mark)
    inspection.below_standard = missed
    # 取消经费支持、职工帮扶、评先选优指标: recorded on the result, one by one.
    inspection.no_funding_support = inspection.no_hardship_aid = inspection.no_award_eligibility = missed
    inspection.rated_at = now


# ---------------------------------------------------------------- quota scopes


@dataclass(frozen=True)
class Scope:
    """One quota scope: its code (the city's, or a county/zone federation's), its name, and the key its
    confirmation is stored under (the kind of scope and the code: the city's code names the whole city
    in one kind and its direct unions in the other)."""

    code: str
    name: str
    kind: str  # city | county (FIVE_STAR_QUOTA_SCOPE)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.code}"


def scope_of(tree: OrgTree, org_id: int, config: Config) -> Scope:
    """The quota scope an organisation's result counts in."""
    if config.quota_scope == "county":
        return Scope(*tree.group_of(org_id), "county")
    return Scope(tree.root_of(org_id).code, WHOLE_CITY, "city")


@dataclass(frozen=True)
class ScopeStatus:
    """Where one quota scope stands in a campaign year."""

    code: str
    name: str
    inspections: int
    rated: int
    confirmed: bool
    complete: bool  # every inspection rated (or, once confirmed by an admin, declared complete)
    places: int  # five-star places: floor(percent × rated)
    five_star: int
    flagged: int

    @property
    def label(self) -> str:
        if self.confirmed:
            return "已确认"
        return "可确认" if self.rated else "尚无评定结果"


def _scopes(
    session: Session, campaign: Campaign, config: Config, tree: OrgTree
) -> tuple[dict[str, Scope], dict[str, list[Inspection]]]:
    inspections = session.scalars(select(Inspection).where(Inspection.campaign_id == campaign.id)).all()
    scopes: dict[str, Scope] = {}
    members: dict[str, list[Inspection]] = defaultdict(list)
    for inspection in inspections:
        scope = scope_of(tree, inspection.organisation_id, config)
        scopes[scope.key] = scope
        members[scope.key].append(inspection)
    return scopes, members


def _confirmations(session: Session, campaign: Campaign) -> dict[str, QuotaConfirmation]:
    return {
        row.scope: row
        for row in session.scalars(
            select(QuotaConfirmation).where(QuotaConfirmation.campaign_id == campaign.id)
        )
    }


def confirmed_scopes(session: Session, campaign: Campaign) -> set[str]:
    return set(_confirmations(session, campaign))


def provisional_ids(
    session: Session, campaign: Campaign, config: Config, tree: OrgTree | None = None
) -> set[int]:
    """Inspections whose stars are provisional (预评): rated, in a scope not yet confirmed."""
    tree = tree or load_tree(session)
    confirmed = confirmed_scopes(session, campaign)
    rows = session.execute(
        select(Inspection.id, Inspection.organisation_id).where(
            Inspection.campaign_id == campaign.id, Inspection.state.in_(values(RATED))
        )
    ).all()
    return {i for i, org in rows if scope_of(tree, org, config).key not in confirmed}


def confirm(
    session: Session,
    campaign: Campaign,
    config: Config,
    adjustable: set[int] | None = None,
    only: set[int] | None = None,
    actor: str = "system",
) -> None:
    """Bring the campaign's stars up to date, scope by scope.

    A scope whose every inspection is rated is confirmed now. In a confirmed scope the quota is applied
    over all its rated results; in the others every rated result keeps its stars by score, provisional.
    ``adjustable`` names inspections whose stars may change although they are published (a re-review or
    re-check about to be published again); ``only`` limits the work to the scopes of these inspections.
    """
    adjustable = adjustable or set()
    tree = load_tree(session)
    scopes, members = _scopes(session, campaign, config, tree)
    if only is not None:
        wanted = {key for key, found in members.items() if any(i.id in only for i in found)}
        members = {key: found for key, found in members.items() if key in wanted}
    confirmed = _confirmations(session, campaign)
    for key, found in members.items():
        rated = [i for i in found if InspectionState(i.state).is_rated]
        if key not in confirmed and rated and len(rated) == len(found):
            confirmed[key] = _record_confirmation(
                session, campaign, scopes[key], actor, True, None, len(rated)
            )
        if key in confirmed:
            _apply_quota(rated, config, adjustable)
        else:
            _provisional(rated, adjustable)


def _record_confirmation(
    session: Session,
    campaign: Campaign,
    scope: Scope,
    actor: str,
    complete: bool,
    reason: str | None,
    rated: int,
) -> QuotaConfirmation:
    row = QuotaConfirmation(
        campaign_id=campaign.id, scope=scope.key, actor=actor, complete=complete, reason=reason
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "confirm_quota",
        "campaign",
        campaign.id,
        after={"scope": scope.code, "name": scope.name, "rated": rated, "complete": complete},
        reason=reason,
    )
    return row


def _is_fixed(inspection: Inspection, adjustable: set[int]) -> bool:
    return InspectionState(inspection.state) in FIXED and inspection.id not in adjustable


def _provisional(rated: list[Inspection], adjustable: set[int]) -> None:
    for i in rated:
        if _is_fixed(i, adjustable):
            continue
        i.stars = i.override_stars if i.override_stars is not None else i.stars_by_score
        i.quota_capped = i.quota_flagged = False
        i.stars_reason = None


def _apply_quota(rated: list[Inspection], config: Config, adjustable: set[int]) -> None:
    results = [RatedResult(str(i.id), Decimal(i.score or 0), Stars(i.stars_by_score or 1)) for i in rated]
    overrides = []
    for i in rated:
        if i.override_stars is not None:
            overrides.append(Override(str(i.id), Stars(i.override_stars), i.override_reason or "管理员调整"))
        elif _is_fixed(i, adjustable):
            overrides.append(Override(str(i.id), Stars(i.stars or 1), "已公示"))
    decisions = {d.key: d for d in apply_five_star_quota(results, overrides, config.quota_percent)}
    for i in rated:
        if _is_fixed(i, adjustable) and i.override_stars is None:
            continue
        decision = decisions[str(i.id)]
        i.stars = int(decision.stars)
        i.quota_capped = decision.capped
        i.quota_flagged = decision.flagged
        i.stars_reason = decision.reason or None


def scope_statuses(session: Session, campaign: Campaign, config: Config) -> list[ScopeStatus]:
    """Every quota scope of the campaign, in code order."""
    tree = load_tree(session)
    scopes, members = _scopes(session, campaign, config, tree)
    confirmed = _confirmations(session, campaign)
    statuses = []
    for key in sorted(scopes):
        found = members[key]
        rated = [i for i in found if InspectionState(i.state).is_rated]
        row = confirmed.get(key)
        statuses.append(
            ScopeStatus(
                code=scopes[key].code,
                name=scopes[key].name,
                inspections=len(found),
                rated=len(rated),
                confirmed=row is not None,
                complete=len(rated) == len(found) or (row is not None and not row.complete),
                places=five_star_quota(len(rated), config.quota_percent),
                five_star=sum(1 for i in rated if i.stars == Stars.FIVE),
                flagged=sum(1 for i in rated if awaits_override(i)),
            )
        )
    return statuses


def confirm_scope(
    session: Session, campaign: Campaign, config: Config, code: str | None, actor: str, reason: str
) -> list[ScopeStatus]:
    """An admin declares a quota scope (or, with no code, every scope that has rated results) complete
    for the year: its quota is counted from now on over the results rated in it."""
    if not reason.strip():
        raise ValueError("确认范围须写明理由，如：其余单位本年度不参加年检。")
    tree = load_tree(session)
    scopes, members = _scopes(session, campaign, config, tree)
    by_code = {scope.code: key for key, scope in scopes.items()}
    if code is not None and code not in by_code:
        names = "、".join(f"{s.code}（{s.name}）" for s in sorted(scopes.values(), key=lambda s: s.code))
        raise ValueError(f"“{code}”不是本年度的五星级名额范围；可选：{names or '无'}。")
    confirmed = _confirmations(session, campaign)
    chosen = [by_code[code]] if code is not None else sorted(scopes)
    for scope_code in chosen:
        rated = [i for i in members[scope_code] if InspectionState(i.state).is_rated]
        if scope_code in confirmed:
            continue
        if not rated:
            if code is not None:
                raise ValueError(f"“{scopes[scope_code].name}”还没有已评定的结果，无需确认。")
            continue
        complete = len(rated) == len(members[scope_code])
        _record_confirmation(
            session,
            campaign,
            scopes[scope_code],
            actor,
            complete,
            None if complete else reason.strip(),
            len(rated),
        )
    session.flush()
    confirm(session, campaign, config, actor=actor)
    return scope_statuses(session, campaign, config)


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
    provisional: list[str]  # rated in a scope not yet confirmed: the quota is not counted yet


def publish(
    session: Session,
    campaign: Campaign,
    config: Config,
    now: datetime,
    days: int,
    scope: Organisation | None = None,
    actor: str = "cli",
) -> PublishOutcome:
    """Publish the rated results in scope for ``days`` days. Results of a quota scope not yet
    confirmed wait (their stars are provisional), and so do results flagged by a quota tie."""
    confirm(session, campaign, config, actor=actor)
    tree = load_tree(session)
    confirmed = confirmed_scopes(session, campaign)
    query = (
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(Inspection.campaign_id == campaign.id, Inspection.state == S.RATED.value)
    )
    if scope is not None:
        query = query.where(Inspection.organisation_id.in_(tree.descendants(scope.id)))
    published, flagged, provisional = [], [], []
    for inspection in session.scalars(query.order_by(Inspection.id)):
        code = inspection.organisation.code
        if scope_of(tree, inspection.organisation_id, config).key not in confirmed:
            provisional.append(code)
        elif awaits_override(inspection):
            flagged.append(code)
        else:
            open_publication(session, inspection, now, days, actor)
            published.append(code)
    return PublishOutcome(published, flagged, provisional)


def awaits_override(inspection: Inspection) -> bool:
    """A five-star tie at the quota's cut-off that an admin has not yet decided."""
    return inspection.quota_flagged and inspection.override_stars is None


def open_publication(
    session: Session, inspection: Inspection, now: datetime, days: int, actor: str, note: str = ""
) -> None:
    """Publish one result (a new round) and tell its chair and members; ``note`` says why it is
    published again, where it is."""
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
        f"{note}{Stars(inspection.stars or 1).label}，{format_score(inspection.score or 0)} 分。公示期至 {ends}，"
        "发送“结果”查看详情；如有异议请在公示期内发送“异议 理由”。"
    )
    if inspection.below_standard:
        text += f"低于建设标准：{BELOW_STANDARD_CONSEQUENCES}。"
    for account_id in outbox.accounts_with_role(session, org.id, ("chair", "member")):
        outbox.enqueue(
            session,
            account_id,
            "result_published",
            f"published:{inspection.id}:{inspection.publication_round}:{account_id}",
            text,
            now,
            ends,
        )


def finalise_due(session: Session, config: Config, now: datetime, actor: str = "scheduler") -> list[str]:
    """Results whose publication ended with no open objection become final (已定级); a result below
    the standard opens its remediation (补课)."""
    done = []
    due = session.scalars(
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(Inspection.state == S.PUBLISHED.value, Inspection.publication_ends_at.is_not(None))
    ).all()
    for inspection in due:
        ends_at = inspection.publication_ends_at
        assert ends_at is not None  # the query takes only inspections with an end
        if as_utc(ends_at) > now:
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
            session,
            actor,
            "finalise",
            "inspection",
            inspection.id,
            before=S.PUBLISHED.value,
            after=S.FINAL.value,
        )
        org = inspection.organisation
        text = (
            f"{org.name} {inspection.campaign.year} 年度年检结果已确定：{Stars(inspection.stars or 1).label}。"
            "发送“结果”查看详情。"
        )
        if inspection.below_standard:
            remediation_due = remediation.open_for(session, inspection, config, now, actor)
            text += f"低于建设标准：{BELOW_STANDARD_CONSEQUENCES}。请于 {remediation_due.isoformat()} 前完成补课，完成后发送“补课完成 情况说明”。"
        for account_id in outbox.accounts_with_role(session, org.id, ("chair",)):
            outbox.enqueue(
                session, account_id, "result_final", f"final:{inspection.id}:{account_id}", text, now
            )
        done.append(org.code)
    return done

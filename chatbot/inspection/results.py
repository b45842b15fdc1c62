"""Star rating (星级确定), the five-star quota, publication (公示) and finalisation.

The quota is of a whole scope (the city, or one county/zone federation and the city-direct unions when
``FIVE_STAR_QUOTA_SCOPE=county``), never of the results rated so far. A scope is confirmed when every
inspection in it is rated, or when an admin declares it complete for the year (``confirm_scope``);
until then every star level in it is provisional (预评) and nothing in it is published.

The stars of every result of a scope are a function of the scope's facts — its scores and the admins'
overrides (rubrics.quota) — never of the order in which they came: every change of a fact (a late
rating, a re-review, the city's re-check, an override, a confirmation) works the whole scope out again
(``recompute``), and a published result whose stars change is published again as a new round.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, insert, select, true, update
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import audit, objections, remediation, texts
from chatbot.inspection.evaluations import figures
from chatbot.inspection.hierarchy import WHOLE_CITY, OrgTree, load_tree
from chatbot.inspection.order import short_name
from chatbot.inspection.rubric_versions import rubric_of
from chatbot.store import outbox
from chatbot.store.among import among
from chatbot.store.models import (
    Campaign,
    Inspection,
    ItemScore,
    Objection,
    Organisation,
    QuotaConfirmation,
)
from chatbot.store.notice_kinds import NoticeKind
from chatbot.timeutil import as_utc, local_date
from rubrics.lifecycle import RATED, InspectionState, check_transition, values
from rubrics.quota import (
    Override,
    RatedResult,
    apply_five_star_quota,
    five_star_quota,
    override_refusal,
)
from rubrics.scoring import (
    Stars,
    below_standard,
    format_score,
    percent_score,
    raw_total,
    star_level,
)

S = InspectionState
#: The publication period (公示期) in days: its default, and the longest one may set.
DEFAULT_PUBLICATION_DAYS = 7
MAX_PUBLICATION_DAYS = 60


def rate(session: Session, inspection: Inspection, config: Config, now: datetime) -> None:
    """Compute the inspection's score, its stars by score and whether it misses the standard from its
    assessed scores; its stars are the scope's to decide (``recompute``)."""
    rubric = rubric_of(session, inspection)
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
    # The small-count rule: a score not disclosed is not blended either (the final score would give
    # it away), nor kept on the result.
    shown = democratic.shown_score if democratic is not None else None
    if weight and shown is not None:
        score = (score * (1 - weight) + shown * weight).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    inspection.raw_total = raw
    inspection.score = score
    inspection.democratic_score = shown
    inspection.stars_by_score = int(star_level(score))
    missed = below_standard(score, config.pass_mark)
    inspection.below_standard = missed
    # 取消经费支持、职工帮扶、评先选优指标: recorded on the result, one by one.
    inspection.no_funding_support = inspection.no_hardship_aid = inspection.no_award_eligibility = missed
    inspection.rated_at = now


def rate_in_scope(
    session: Session,
    inspection: Inspection,
    config: Config,
    now: datetime,
    cause: Cause,
    actor: str,
    publishing: bool = False,
) -> Recomputed:
    """Rate the inspection (again) and work its scope out: its remediation follows its score, and the
    other results of the scope whose stars change are published again. ``publishing``: the caller
    publishes this result itself as a new round."""
    rate(session, inspection, config, now)
    session.flush()
    remediation.follow(session, inspection, now, actor)
    mine = frozenset({inspection.id}) if publishing else frozenset()
    return recompute(
        session, inspection.campaign, config, now, cause, actor, only={inspection.id}, publishing=mine
    )


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
    unions: frozenset[int] = frozenset()  # the organisations whose inspections the scope counts

    @property
    def label(self) -> str:
        if self.confirmed:
            return "已确认"
        return "可确认" if self.rated else "尚无评定结果"


#: What the quota reads of each inspection of a campaign (one query; no ORM objects).
_QUOTA_COLUMNS = (
    Inspection.id,
    Inspection.organisation_id,
    Inspection.state,
    Inspection.score,
    Inspection.stars_by_score,
    Inspection.stars,
    Inspection.override_stars,
    Inspection.override_reason,
    Inspection.quota_capped,
    Inspection.quota_flagged,
    Inspection.stars_reason,
)
#: A row of one of the selects below.
AnyRow = Row[*tuple[Any, ...]]
#: The quota's decision on one result: stars, capped, flagged, reason — as stored.
Decision = tuple[int, bool, bool, str | None]


def _quota_rows(session: Session, campaign: Campaign) -> Sequence[AnyRow]:
    return session.execute(
        select(*_QUOTA_COLUMNS).where(Inspection.campaign_id == campaign.id).order_by(Inspection.id)
    ).all()


def _scopes(
    rows: Sequence[AnyRow], config: Config, tree: OrgTree
) -> tuple[dict[str, Scope], dict[str, list[AnyRow]]]:
    scopes: dict[str, Scope] = {}
    members: dict[str, list[AnyRow]] = defaultdict(list)
    for inspection in rows:
        scope = scope_of(tree, inspection.organisation_id, config)
        scopes[scope.key] = scope
        members[scope.key].append(inspection)
    return scopes, members


def _in_official_order(scopes: dict[str, Scope], tree: OrgTree) -> list[str]:
    """The scopes' keys, the counties' in the tree's (official) order, the city-direct unions last."""
    place = {group.code: n for n, group in enumerate(tree.groups())}
    return sorted(scopes, key=lambda key: (place.get(scopes[key].code, len(place)), key))


def _rated(found: Iterable[AnyRow]) -> list[AnyRow]:
    return [i for i in found if InspectionState(i.state).is_rated]


def _confirmations(session: Session, campaign: Campaign) -> dict[str, QuotaConfirmation]:
    return {
        row.scope: row
        for row in session.scalars(
            select(QuotaConfirmation).where(QuotaConfirmation.campaign_id == campaign.id)
        )
    }


def confirmed_scopes(session: Session, campaign: Campaign) -> set[str]:
    return set(
        session.scalars(select(QuotaConfirmation.scope).where(QuotaConfirmation.campaign_id == campaign.id))
    )


def provisional_ids(
    session: Session,
    campaign: Campaign,
    config: Config,
    tree: OrgTree | None = None,
    ids: Collection[int] | None = None,
) -> set[int]:
    """Inspections whose stars are provisional (预评): rated, in a scope not yet confirmed (of ``ids``
    only, if given)."""
    tree = tree or load_tree(session)
    confirmed = confirmed_scopes(session, campaign)
    chosen = among(session, Inspection.id, ids) if ids is not None else true()
    rows = session.execute(
        select(Inspection.id, Inspection.organisation_id).where(
            Inspection.campaign_id == campaign.id, Inspection.state.in_(values(RATED)), chosen
        )
    ).all()
    return {i for i, org in rows if scope_of(tree, org, config).key not in confirmed}


class Waiting(StrEnum):
    """Why a rated result is not published yet: its stars are not decided."""

    PROVISIONAL = "provisional"  # 预评: its quota scope is not confirmed
    FLAGGED = "flagged"  # tied at the five-star cut-off, for an admin to settle


def _waiting(row: Inspection | AnyRow, tree: OrgTree, confirmed: set[str], config: Config) -> Waiting | None:
    """Why this result may not be published now (None: it may), its scope's confirmations given."""
    if (
        InspectionState(row.state).is_rated
        and scope_of(tree, row.organisation_id, config).key not in confirmed
    ):
        return Waiting.PROVISIONAL
    if awaits_override(row):
        return Waiting.FLAGGED
    return None


def publication_wait(session: Session, inspection: Inspection, config: Config) -> Waiting | None:
    """Why one result may not be published now — the check ``publish`` makes of each result."""
    return _waiting(inspection, load_tree(session), confirmed_scopes(session, inspection.campaign), config)


def stars_wait(session: Session, inspection: Inspection, config: Config) -> bool:
    """Whether a rated result's stars are not decided yet, so it is not published: tied at the
    five-star cut-off for an admin to settle, or provisional in a scope not yet confirmed."""
    return publication_wait(session, inspection, config) is not None


class Cause(StrEnum):
    """Why a scope's stars are worked out again; a published result whose stars change because of it
    is published again with the cause's note."""

    RATING = "rating"
    RE_REVIEW = "re_review"
    SAMPLE = "sample"
    OVERRIDE = "override"
    CONFIRMATION = "confirmation"


_CAUSE_NOTES: dict[Cause, str] = {
    Cause.RATING: "因本范围新增评定结果，五星级名额重新确定，",
    Cause.RE_REVIEW: "因本范围复查结果调整，五星级名额重新确定，",
    Cause.SAMPLE: "因本范围抽查结果调整，五星级名额重新确定，",
    Cause.OVERRIDE: "因管理员调整本范围星级，五星级名额重新确定，",
    Cause.CONFIRMATION: "因本范围五星级名额确认，星级重新确定，",
}


@dataclass(frozen=True)
class Recomputed:
    """What a recomputation changed: inspections whose stars changed, and those published again."""

    changed: frozenset[int] = frozenset()
    republished: frozenset[int] = frozenset()


def recompute(
    session: Session,
    campaign: Campaign,
    config: Config,
    now: datetime,
    cause: Cause,
    actor: str = "system",
    only: set[int] | None = None,
    publishing: frozenset[int] = frozenset(),
) -> Recomputed:
    """Bring the stars of the campaign's scopes up to date with their facts.

    A scope whose every inspection is rated is confirmed now. In every scope the stars are
    ``rubrics.quota.apply_five_star_quota`` of its current scores and overrides — nothing of the
    order in which they came. Each result whose stars change is audited; a published or final one
    (but those in ``publishing``, which the caller publishes itself) is published again as a new
    round with the cause's note, its chair and members told; an objected one keeps its round, the
    re-review publishes it. ``only`` limits the work to the scopes of these inspections. A few
    statements whatever the number of inspections.
    """
    scopes, members = _scopes(_quota_rows(session, campaign), config, load_tree(session))
    if only is not None:
        members = {key: found for key, found in members.items() if any(i.id in only for i in found)}
    confirmed = _confirm_complete(session, campaign, scopes, members, actor)
    decisions: dict[int, Decision] = {}
    for key, found in members.items():
        decisions |= _decide(_rated(found), config, key in confirmed, public_name(scopes[key]))
    rows = [i for found in members.values() for i in found]
    _write_stars(session, rows, decisions)
    changed = _audit_changed_stars(session, rows, decisions, cause, actor)
    again = [i.id for i in changed if i.id not in publishing and InspectionState(i.state) in REPUBLISHED]
    republished = set(again)
    for key, found in members.items():  # each scope's results, its name in the note (全市, 原州区 …)
        ids = [i.id for i in found if i.id in republished]
        if ids:
            note = _CAUSE_NOTES[cause].replace("本范围", public_name(scopes[key]))
            _republish(session, campaign, ids, now, note, actor)
    return Recomputed(frozenset(i.id for i in changed), frozenset(again))


def _confirm_complete(
    session: Session,
    campaign: Campaign,
    scopes: dict[str, Scope],
    members: dict[str, list[AnyRow]],
    actor: str,
) -> set[str]:
    """Confirm the scopes whose every inspection is rated; the keys of all confirmed scopes."""
    confirmed = set(_confirmations(session, campaign))
    complete = [
        (scopes[key], True, None, len(found))
        for key, found in sorted(members.items())
        if key not in confirmed and found and len(_rated(found)) == len(found)
    ]
    _record_confirmations(session, campaign, complete, actor)
    return confirmed | {scope.key for scope, *_ in complete}


def _audit_changed_stars(
    session: Session, rows: list[AnyRow], decisions: dict[int, Decision], cause: Cause, actor: str
) -> list[AnyRow]:
    """The rated results whose stars ``decisions`` change (``rows`` as read before), audited."""
    changed = [i for i in rows if i.id in decisions and i.stars is not None and decisions[i.id][0] != i.stars]
    if changed:
        audit.record_many(
            session,
            actor,
            "stars_recomputed",
            "inspection",
            [
                (i.id, {"stars": i.stars}, {"stars": decisions[i.id][0]}, _CAUSE_NOTES[cause].rstrip("，"))
                for i in changed
            ],
        )
    return changed


#: Results out in public whose stars, when they change, are published again at once (an objected
#: result is published again by its re-review).
REPUBLISHED = frozenset({S.PUBLISHED, S.FINAL})


def _republish(
    session: Session, campaign: Campaign, ids: list[int], now: datetime, note: str, actor: str
) -> None:
    """Publish these results again, each for the days of its last publication."""
    by_days: dict[int, list[AnyRow]] = defaultdict(list)
    for row in _publication_rows(session, Inspection.id.in_(ids)):
        by_days[row.publication_days or DEFAULT_PUBLICATION_DAYS].append(row)
    for days, chosen in sorted(by_days.items()):
        _open_publications(session, campaign.year, chosen, now, days, actor, note)


def public_name(scope: Scope) -> str:
    """The scope as the public reads it in a star explanation: 全市, 原州区, 市直基层工会."""
    return short_name(scope.name)


def _decide(rated: list[AnyRow], config: Config, confirmed: bool, scope_name: str) -> dict[int, Decision]:
    """The stars of one scope's rated results from their scores and overrides."""
    results = [RatedResult(str(i.id), Decimal(i.score or 0)) for i in rated]
    overrides = [
        Override(str(i.id), Stars(i.override_stars), i.override_reason or "管理员调整")
        for i in rated
        if i.override_stars is not None
    ]
    decided = apply_five_star_quota(
        results, overrides, config.quota_percent, config.pass_mark, confirmed=confirmed, scope_name=scope_name
    )
    return {int(d.key): (int(d.stars), d.capped, d.flagged, d.reason or None) for d in decided}


def _record_confirmations(
    session: Session,
    campaign: Campaign,
    scopes: Sequence[tuple[Scope, bool, str | None, int]],
    actor: str,
) -> None:
    """Confirm quota scopes — (scope, complete, reason, rated) — with their audit entries, in bulk."""
    if not scopes:
        return
    session.execute(
        insert(QuotaConfirmation),
        [
            {
                "campaign_id": campaign.id,
                "scope": scope.key,
                "actor": actor,
                "complete": complete,
                "reason": reason,
            }
            for scope, complete, reason, _rated_count in scopes
        ],
    )
    audit.record_many(
        session,
        actor,
        "confirm_quota",
        "campaign",
        [
            (
                campaign.id,
                None,
                {"scope": scope.code, "name": scope.name, "rated": rated, "complete": complete},
                reason,
            )
            for scope, complete, reason, rated in scopes
        ],
    )


def _write_stars(session: Session, rows: Iterable[AnyRow], decisions: dict[int, Decision]) -> None:
    """The decisions that change a stored result, in one UPDATE (executemany by primary key; objects
    of the session's identity map are brought up to date)."""
    changed = [
        {"id": i.id, "stars": d[0], "quota_capped": d[1], "quota_flagged": d[2], "stars_reason": d[3]}
        for i in rows
        if (d := decisions.get(i.id)) is not None
        and d != (i.stars, i.quota_capped, i.quota_flagged, i.stars_reason)
    ]
    if changed:
        session.execute(update(Inspection), changed)


def scope_statuses(
    session: Session, campaign: Campaign, config: Config, tree: OrgTree | None = None
) -> list[ScopeStatus]:
    """Every quota scope of the campaign, in official order (``tree``: the one the caller loaded)."""
    tree = tree or load_tree(session)
    scopes, members = _scopes(_quota_rows(session, campaign), config, tree)
    confirmed = _confirmations(session, campaign)
    statuses = []
    for key in _in_official_order(scopes, tree):
        found = members[key]
        rated = _rated(found)
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
                unions=frozenset(i.organisation_id for i in found),
            )
        )
    return statuses


def confirm_scope(
    session: Session,
    campaign: Campaign,
    config: Config,
    code: str | None,
    actor: str,
    reason: str,
    now: datetime,
) -> list[ScopeStatus]:
    """An admin declares a quota scope (or, with no code, every scope that has rated results) complete
    for the year: its quota is counted from now on over the results rated in it."""
    if not reason.strip():
        raise ValueError("确认范围须写明理由，如：其余单位本年度不参加年检。")
    tree = load_tree(session)
    scopes, members = _scopes(_quota_rows(session, campaign), config, tree)
    by_code = {scope.code: key for key, scope in scopes.items()}
    if code is not None and code not in by_code:
        names = "、".join(f"{scopes[k].code}（{scopes[k].name}）" for k in _in_official_order(scopes, tree))
        raise ValueError(f"“{code}”不是本年度的五星级名额范围；可选：{names or '无'}。")
    confirmed = _confirmations(session, campaign)
    chosen = [by_code[code]] if code is not None else _in_official_order(scopes, tree)
    entries = []
    for scope_code in chosen:
        rated = _rated(members[scope_code])
        if scope_code in confirmed:
            continue
        if not rated:
            if code is not None:
                raise ValueError(f"“{scopes[scope_code].name}”还没有已评定的结果，无需确认。")
            continue
        complete = len(rated) == len(members[scope_code])
        entries.append((scopes[scope_code], complete, None if complete else reason.strip(), len(rated)))
    _record_confirmations(session, campaign, entries, actor)
    recompute(session, campaign, config, now, Cause.CONFIRMATION, actor)
    return scope_statuses(session, campaign, config)


#: Results whose stars an admin may decide: rated, published or final (an objected result waits for
#: its re-review).
OVERRIDABLE = frozenset({S.RATED, S.PUBLISHED, S.FINAL})


def override(
    session: Session,
    campaign: Campaign,
    org_code: str,
    stars: Stars | None,
    reason: str,
    config: Config,
    actor: str,
    now: datetime,
) -> Inspection:
    """An admin's star level for one result (None: the override withdrawn), with a written reason;
    audited. It may lower the stars within the score's band (never to one star at or above the
    standard) or settle a tie at the five-star cut-off; the scope is worked out again, and published
    results whose stars change — this one included — are published again."""
    if not reason.strip():
        raise ValueError("调整星级须写明理由。")
    inspection = _inspection_of(session, campaign, org_code)
    state = InspectionState(inspection.state)
    if state not in OVERRIDABLE:
        raise ValueError(f"{org_code} 当前为“{state.label}”：有异议待复查的结果须在复查后再调整。")
    if stars is not None:
        refusal = override_refusal(
            Decimal(inspection.score or 0), stars, config.pass_mark, tied=inspection.quota_flagged
        )
        if refusal is not None:
            raise ValueError(refusal)
    elif inspection.override_stars is None:
        raise ValueError(f"{org_code} 的星级没有经过调整，无需撤销。")
    before = {"stars": inspection.stars, "override": inspection.override_stars}
    inspection.override_stars = int(stars) if stars is not None else None
    inspection.override_reason = reason.strip() if stars is not None else None
    audit.record(
        session,
        actor,
        "override",
        "inspection",
        inspection.id,
        before=before,
        after={"override": inspection.override_stars},
        reason=reason.strip(),
    )
    session.flush()
    recompute(session, campaign, config, now, Cause.OVERRIDE, actor, only={inspection.id})
    session.refresh(inspection)
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
    confirmed wait (their stars are provisional), and so do results flagged by a quota tie. A few
    statements whatever the number of results and of the people told."""
    recompute(session, campaign, config, now, Cause.CONFIRMATION, actor)
    tree = load_tree(session)
    confirmed = confirmed_scopes(session, campaign)
    wanted = tree.descendants(scope.id) if scope is not None else None
    rows = _publication_rows(
        session, Inspection.campaign_id == campaign.id, Inspection.state == S.RATED.value
    )
    chosen = [row for row in rows if wanted is None or row.organisation_id in wanted]
    waits = {row.id: _waiting(row, tree, confirmed, config) for row in chosen}
    ready = [row for row in chosen if waits[row.id] is None]
    _open_publications(session, campaign.year, ready, now, days, actor)
    return PublishOutcome(
        [row.code for row in ready],
        [row.code for row in chosen if waits[row.id] is Waiting.FLAGGED],
        [row.code for row in chosen if waits[row.id] is Waiting.PROVISIONAL],
    )


#: What a publication reads of each result.
_PUBLICATION_COLUMNS = (
    Inspection.id,
    Inspection.organisation_id,
    Inspection.state,
    Inspection.stars,
    Inspection.score,
    Inspection.below_standard,
    Inspection.publication_round,
    Inspection.publication_days,
    Inspection.quota_flagged,
    Inspection.override_stars,
    Organisation.code,
    Organisation.name,
)


def _publication_rows(session: Session, *criteria: ColumnElement[bool]) -> Sequence[AnyRow]:
    """The results that meet ``criteria`` as a publication reads them, by id."""
    return session.execute(
        select(*_PUBLICATION_COLUMNS)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(*criteria)
        .order_by(Inspection.id)
    ).all()


class _Flagged(Protocol):
    quota_flagged: bool


def awaits_override(inspection: Inspection | _Flagged | AnyRow) -> bool:
    """A five-star tie at the quota's cut-off that an admin has not yet decided."""
    return bool(inspection.quota_flagged)


def _publication_text(
    name: str, code: str, year: int, publication_round: int, note: str, row: Inspection | AnyRow, ends: str
) -> str:
    rating = f"{note}{Stars(row.stars or 1).label}，{format_score(row.score or 0)} 分"
    return texts.result_published(name, code, year, publication_round, rating, ends, bool(row.below_standard))


def _open_publications(
    session: Session, year: int, rows: Sequence[AnyRow], now: datetime, days: int, actor: str, note: str = ""
) -> None:
    """Publish results (rows of ``_PUBLICATION_COLUMNS``) as their next round: one UPDATE, one
    INSERT of their audit entries and one of every notice to their chairs and members."""
    if not rows:
        return
    ends_at = now + timedelta(days=days)
    ends = local_date(ends_at)
    changes, entries, notices = [], [], []
    for row in rows:
        state = check_transition(row.state, S.PUBLISHED)
        publication_round = row.publication_round + 1
        changes.append(
            {
                "id": row.id,
                "state": state.value,
                "publication_round": publication_round,
                "publication_days": days,
                "published_at": now,
                "publication_ends_at": ends_at,
                "re_review_due_at": None,
            }
        )
        entries.append(
            (row.id, row.state, {"round": publication_round, "stars": row.stars, "score": row.score}, None)
        )
        text = _publication_text(row.name, row.code, year, publication_round, note, row, ends)
        notices.append(
            (
                outbox.Notice(
                    f"published:{row.id}:{publication_round}:",
                    text,
                    ends,
                    outbox.facts_json(
                        {
                            "union": row.name,
                            "stars": Stars(row.stars or 1).label,
                            "score": format_score(row.score or 0),
                            "round": publication_round,
                        }
                    ),
                ),
                row.organisation_id,
            )
        )
    session.execute(update(Inspection), changes)
    audit.record_many(session, actor, "publish", "inspection", entries)
    outbox.enqueue_to_roles(session, NoticeKind.RESULT_PUBLISHED, notices, PUBLISHED_TO, now)
    objections.decide_deferred(session, [row.id for row in rows if row.publication_round > 0], now, actor)


#: Who is told of a publication.
PUBLISHED_TO = ("chair", "member")


def open_publication(
    session: Session, inspection: Inspection, now: datetime, days: int, actor: str, note: str = ""
) -> None:
    """Publish one result (a new round) and tell its chair and members; ``note`` says why it is
    published again, where it is. The publication of many (``_open_publications``) of this one: its
    changes so far written first, the object brought up to date by the same UPDATE."""
    session.flush()
    rows = _publication_rows(session, Inspection.id == inspection.id)
    _open_publications(session, inspection.campaign.year, rows, now, days, actor, note)


def finalise_due(session: Session, config: Config, now: datetime, actor: str = "scheduler") -> list[str]:
    """Results whose publication ended with no open objection become final (已确定星级); a result below
    the standard opens its remediation (补课). A few statements whatever the number of results."""
    open_objection = (
        select(Objection.id)
        .where(Objection.inspection_id == Inspection.id, Objection.resolved_at.is_(None))
        .exists()
    )
    due = [
        row
        for row in session.execute(
            select(
                Inspection.id,
                Inspection.organisation_id,
                Inspection.state,
                Inspection.stars,
                Inspection.below_standard,
                Inspection.publication_ends_at,
                Organisation.code,
                Organisation.name,
                Campaign.year,
            )
            .join(Organisation, Inspection.organisation_id == Organisation.id)
            .join(Campaign, Inspection.campaign_id == Campaign.id)
            .where(
                Inspection.state == S.PUBLISHED.value,
                Inspection.publication_ends_at.is_not(None),
                # UTC, as stored: SQLite compares the times as written.
                Inspection.publication_ends_at <= as_utc(now).astimezone(UTC),
                ~open_objection,
            )
            .order_by(Inspection.id)
        )
        if as_utc(row.publication_ends_at) <= now
    ]
    if not due:
        return []
    session.execute(
        update(Inspection),
        [{"id": row.id, "state": check_transition(row.state, S.FINAL).value, "final_at": now} for row in due],
    )
    audit.record_many(
        session,
        actor,
        "finalise",
        "inspection",
        [(row.id, S.PUBLISHED.value, S.FINAL.value, None) for row in due],
    )
    remediation_due = remediation.open_for(
        session,
        [row.id for row in due if row.below_standard],
        config.remediation_days,
        now,
        actor,
    )
    notices = []
    for row in due:
        remedy_by = remediation_due[row.id] if row.below_standard else None
        text = texts.result_final(row.name, row.year, Stars(row.stars or 1).label, remedy_by)
        facts = outbox.facts_json({"union": row.name, "stars": Stars(row.stars or 1).label})
        notices.append((outbox.Notice(f"final:{row.id}:", text, "", facts), row.organisation_id))
    outbox.enqueue_to_roles(session, NoticeKind.RESULT_FINAL, notices, ("chair",), now)
    return [row.code for row in due]

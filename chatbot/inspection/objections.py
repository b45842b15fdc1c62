"""异议: objections to a published result during its publication period — from the union's chair and
members (`异议 理由`) and from anyone who follows the account (`异议 CODE 理由`), each recorded with where
it came from. One per person and round, and ``PER_DAY`` a day per person objecting as the public; the
parent union's own assessors do not object. Each reaches the parent union's evaluators with its text and source (the first
``NOTICES_PER_ROUND`` of a round one by one), who re-review within 10 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.inspection import audit, texts
from chatbot.inspection.errors import Refused
from chatbot.inspection.evaluations import ASSESSOR_ROLES
from chatbot.inspection.transitions import move
from chatbot.store import outbox
from chatbot.store.among import among
from chatbot.store.models import AuditEntry, Campaign, Inspection, Objection, Organisation, RoleBinding
from chatbot.store.notice_kinds import NoticeKind
from chatbot.timeutil import SHANGHAI, as_utc, end_of_day, local_date
from rubrics.lifecycle import OBJECTABLE, RE_REVIEWABLE, InspectionState, values
from rubrics.objections import (
    RE_REVIEW_DAYS,
    FiledObjection,
    ObjectionView,
    Outcome,
    RaisedObjection,
    outcome_words,
    source_label,
)

S = InspectionState
#: Objections one person (account) may file a day (Asia/Shanghai) as the public, whatever the unions
#: (their own union's chair and members object once a round, which needs no other limit).
PER_DAY = 3
#: Objections of one round of one result told to the evaluators one by one; the rest are listed in
#: `复查`, `进度` and the console (a crowd of objectors does not flood the evaluators' phones).
NOTICES_PER_ROUND = 5
CHAIR, MEMBER, PUBLIC = "chair", "member", "public"
#: Told to whoever publishes: the 公示 they post carries each union's code, which is how the public objects.
HOW_THE_PUBLIC_OBJECTS = texts.HOW_THE_PUBLIC_OBJECTS


def source_of(session: Session, inspection: Inspection, account_id: int) -> str:
    """Where an objection by ``account_id`` comes from: the union's chair, a member, or the public."""
    roles = set(
        session.scalars(
            select(RoleBinding.role).where(
                RoleBinding.account_id == account_id,
                RoleBinding.organisation_id == inspection.organisation_id,
            )
        )
    )
    if CHAIR in roles:
        return CHAIR
    if MEMBER in roles:
        return MEMBER
    return PUBLIC


def file(
    session: Session, inspection: Inspection, account_id: int, text: str, actor: str, now: datetime
) -> None:
    """An objection; the first of a round opens the 10 days of the re-review."""
    source = source_of(session, inspection, account_id)
    _admit(session, inspection, account_id, source, now)
    today = now.astimezone(SHANGHAI).date()
    objection = Objection(
        inspection_id=inspection.id,
        publication_round=inspection.publication_round,
        account_id=account_id,
        source=source,
        text=text,
        created_at=now,
    )
    session.add(objection)
    session.flush()
    if inspection.state == S.PUBLISHED:
        move(session, inspection, S.OBJECTED, actor, reason="异议")
        # 10 日内: the re-review is due by the end of the tenth day (Asia/Shanghai) after the objection.
        inspection.re_review_due_at = end_of_day(today + timedelta(days=RE_REVIEW_DAYS))
    _notify(session, inspection, objection, now)


def _is_assessor(session: Session, inspection: Inspection, account_id: int) -> bool:
    """The parent union's evaluators and admins, and whoever took the assessment: they re-review."""
    if account_id == inspection.assessor_account_id:
        return True
    parent = inspection.organisation.parent_id
    if parent is None:
        return False
    found = session.scalar(
        select(RoleBinding.id).where(
            RoleBinding.account_id == account_id,
            RoleBinding.organisation_id == parent,
            RoleBinding.role.in_(ASSESSOR_ROLES),
        )
    )
    return found is not None


def _admit(session: Session, inspection: Inspection, account_id: int, source: str, now: datetime) -> None:
    """Refused unless the account may object to this round now: not one of its assessors, within the
    publication period, not yet this round, and — objecting as the public — under ``PER_DAY`` such
    objections today."""
    if _is_assessor(session, inspection, account_id):
        raise Refused("您是该单位上级工会的考评员或管理员，由您复查评定，不能对其公示结果提出异议。")
    in_window = inspection.publication_ends_at is not None and as_utc(inspection.publication_ends_at) > now
    if InspectionState(inspection.state) not in OBJECTABLE or not in_window:
        raise Refused("该结果不在公示期内，无法提出异议。")
    exists = session.scalar(
        select(Objection.id).where(
            Objection.inspection_id == inspection.id,
            Objection.publication_round == inspection.publication_round,
            Objection.account_id == account_id,
        )
    )
    if exists is not None:
        raise Refused("您已对本轮公示结果提出过异议。")
    if source != PUBLIC:
        return
    since = datetime.combine(now.astimezone(SHANGHAI).date(), time.min, SHANGHAI).astimezone(UTC)
    filed_today = session.scalar(
        select(func.count()).where(
            Objection.account_id == account_id, Objection.source == PUBLIC, Objection.created_at >= since
        )
    )
    if (filed_today or 0) >= PER_DAY:
        raise Refused(f"您今天已提出 {PER_DAY} 条异议，已达每日上限，请明天再提出。")


def _notify(session: Session, inspection: Inspection, objection: Objection, now: datetime) -> None:
    """The evaluators are told of the objection, unless ``NOTICES_PER_ROUND`` of the round were told."""
    in_round = session.scalar(
        select(func.count()).where(
            Objection.inspection_id == inspection.id,
            Objection.publication_round == inspection.publication_round,
        )
    )
    if (in_round or 0) > NOTICES_PER_ROUND:
        return
    org = inspection.organisation
    due = local_date(inspection.re_review_due_at or now)
    text = texts.objection_filed(org.name, org.code, source_label(objection.source), objection.text, due)
    if in_round == NOTICES_PER_ROUND:
        text += f"\n{texts.objections_no_longer_one_by_one(NOTICES_PER_ROUND)}"
    key = f"objection:{objection.id}:"
    facts = {"union": org.name}
    outbox.tell(
        session, NoticeKind.OBJECTION_FILED, org.parent_id, ("evaluator",), key, text, now, due, facts
    )


@dataclass(frozen=True)
class Prior:
    """The result as it stood before a re-review: its score and stars."""

    score: Decimal | None
    stars: int | None

    @classmethod
    def of(cls, inspection: Inspection) -> Prior:
        return cls(inspection.score, inspection.stars)


#: The audit entry of a re-review that decided objections (on the inspection): which, who, the result.
DECIDED_ACTION = "objections_decided"


def resolve(
    session: Session, inspection: Inspection, now: datetime, prior: Prior, actor: str
) -> list[Objection]:
    """The re-review is decided by ``actor``: every open objection of the inspection is resolved, with
    the result before (``prior``) and after it, audited; the objections resolved now."""
    session.flush()
    score, stars = session.execute(
        select(Inspection.score, Inspection.stars).where(Inspection.id == inspection.id)
    ).one()
    resolved = list(
        session.scalars(
            select(Objection)
            .where(Objection.inspection_id == inspection.id, Objection.resolved_at.is_(None))
            .order_by(Objection.id)
        )
    )
    for objection in resolved:
        objection.resolved_at = now
        objection.prior_score, objection.prior_stars = prior.score, prior.stars
        objection.decided_score, objection.decided_stars = score, stars
    if resolved:
        audit.record(
            session,
            actor,
            DECIDED_ACTION,
            "inspection",
            inspection.id,
            before={"score": prior.score, "stars": prior.stars},
            after={"score": score, "stars": stars, "objections": [o.id for o in resolved]},
        )
    return resolved


def defer(session: Session, inspection: Inspection, prior: Prior) -> None:
    """The re-review is submitted but its stars wait (a tie at the five-star cut-off, a scope not
    confirmed): the open objections keep the result as it stood before and stay open, to be decided
    and told when the result is published again (``decide_deferred``) — never a star level that is
    not yet decided."""
    for objection in session.scalars(
        select(Objection).where(Objection.inspection_id == inspection.id, Objection.resolved_at.is_(None))
    ):
        objection.prior_score, objection.prior_stars = prior.score, prior.stars


def decide_deferred(session: Session, inspection_ids: list[int], now: datetime, actor: str) -> None:
    """Results published again after their stars waited: the objections their re-review deferred
    are decided now by ``actor`` (who published), with the published result, and each objector is
    told once."""
    if not inspection_ids:
        return
    session.flush()
    waiting = session.scalars(
        select(Inspection)
        .where(Inspection.id.in_(inspection_ids))
        .where(
            select(Objection.id)
            .where(
                Objection.inspection_id == Inspection.id,
                Objection.resolved_at.is_(None),
                Objection.prior_stars.is_not(None),
            )
            .exists()
        )
    ).all()
    for inspection in waiting:
        session.refresh(inspection)
        first = session.scalar(
            select(Objection)
            .where(Objection.inspection_id == inspection.id, Objection.resolved_at.is_(None))
            .order_by(Objection.id)
            .limit(1)
        )
        assert first is not None
        decided = resolve(session, inspection, now, Prior(first.prior_score, first.prior_stars), actor)
        tell_decided(session, inspection, decided, now)


def _outcome(objection: Objection) -> Outcome | None:
    if objection.resolved_at is None:
        return None
    return Outcome(
        objection.prior_score,
        objection.prior_stars or 0,
        objection.decided_score,
        objection.decided_stars or 0,
    )


def tell_decided(session: Session, inspection: Inspection, decided: list[Objection], now: datetime) -> None:
    """Each objector is told what the re-review decided, and until when the result is published again
    (not yet, while its stars wait)."""
    org = inspection.organisation
    ends_at = inspection.publication_ends_at
    published = InspectionState(inspection.state) in OBJECTABLE and ends_at is not None
    ends = local_date(ends_at) if published and ends_at is not None else ""
    for objection in decided:
        outcome = _outcome(objection)
        if outcome is None:
            continue
        text = texts.objection_decided(
            org.name,
            org.code,
            inspection.campaign.year,
            _excerpt(objection.text),
            outcome_words(outcome),
            ends,
        )
        key = f"objection-decided:{objection.id}"
        facts = {"union": org.name, "result": texts.RESULT_CHANGED if outcome.changed else texts.RESULT_KEPT}
        outbox.enqueue(
            session, objection.account_id, NoticeKind.OBJECTION_DECIDED, key, text, now, facts=facts
        )


def _excerpt(text: str, limit: int = 40) -> str:
    """An objection's words as a notice or `进度` quotes them: the first ``limit`` characters."""
    return text if len(text) <= limit else text[:limit] + "…"


def filed_by(session: Session, account_id: int, now: datetime, limit: int = 5) -> tuple[FiledObjection, ...]:
    """The objections ``account_id`` filed, newest first, each with its outcome once decided and the
    end of the result's new publication while it runs."""
    rows = session.execute(
        select(Objection, Organisation.code, Organisation.name, Campaign.year, Inspection)
        .join(Inspection, Objection.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .join(Campaign, Inspection.campaign_id == Campaign.id)
        .where(Objection.account_id == account_id)
        .order_by(Objection.id.desc())
        .limit(limit)
    ).all()
    return tuple(
        FiledObjection(
            code,
            name,
            year,
            local_date(objection.created_at),
            _excerpt(objection.text, 30),
            _outcome(objection),
            _republished_until(inspection, objection, now),
        )
        for objection, code, name, year, inspection in rows
    )


def _republished_until(inspection: Inspection, objection: Objection, now: datetime) -> str:
    """The end of the publication after the objection's re-review, while it runs; "" otherwise."""
    ends = inspection.publication_ends_at
    later_round = inspection.publication_round > objection.publication_round
    if objection.resolved_at is None or not later_round or ends is None or as_utc(ends) <= now:
        return ""
    return local_date(ends)


def pending(session: Session, parent_ids: list[int], limit: int = 10) -> tuple[ObjectionView, ...]:
    """The objections waiting for a re-review by the evaluators of ``parent_ids``, oldest first."""
    if not parent_ids:
        return ()
    rows = session.execute(
        select(
            Organisation.code,
            Organisation.name,
            Inspection.re_review_due_at,
            Objection.text,
            Objection.source,
        )
        .select_from(Objection)
        .join(Inspection, Objection.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(
            Organisation.parent_id.in_(parent_ids),
            Objection.resolved_at.is_(None),
            Inspection.state.in_(values(RE_REVIEWABLE)),
        )
        .order_by(Objection.id)
        .limit(limit)
    ).all()
    return tuple(
        ObjectionView(code, name, local_date(due) if due is not None else "", text, source)
        for code, name, due, text, source in rows
    )


def raised(session: Session, inspection: Inspection) -> tuple[RaisedObjection, ...]:
    """The open objections with their sources, oldest first (shown when the re-review starts)."""
    rows = session.execute(
        select(Objection.source, Objection.text)
        .where(Objection.inspection_id == inspection.id, Objection.resolved_at.is_(None))
        .order_by(Objection.id)
    )
    return tuple(RaisedObjection(source, text) for source, text in rows)


@dataclass(frozen=True)
class ScoreChange:
    """An item's assessed score as a re-review changed it, and why (a change needs its reason)."""

    item: int
    before: Decimal | None
    after: Decimal | None
    reason: str


@dataclass(frozen=True)
class Decision:
    """Who decided an objection's re-review (an audit actor) and the scores it changed on the way."""

    actor: str
    changes: tuple[ScoreChange, ...]


def _decimal(value: object) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def decisions(session: Session, inspection_id: int) -> dict[int, Decision]:
    """Each decided objection of an inspection (by its id) with the re-review that decided it, read from
    the audit log: the item scores changed since the re-review began, and who submitted it. An
    objection decided before the log said so has none."""
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity == "inspection",
            AuditEntry.entity_id == inspection_id,
            AuditEntry.action.in_(("transition", "assessed_score", DECIDED_ACTION)),
        )
        .order_by(AuditEntry.id)
    )
    found: dict[int, Decision] = {}
    changes: list[ScoreChange] = []
    for entry in entries:
        after = audit.decode(entry.after)
        if entry.action == "transition" and after == S.RE_REVIEWING:
            changes = []
        elif entry.action == "assessed_score" and isinstance(after, dict):
            before = audit.decode(entry.before)
            changes.append(
                ScoreChange(
                    int(after.get("item") or 0),
                    _decimal(before.get("score") if isinstance(before, dict) else None),
                    _decimal(after.get("score")),
                    entry.reason or "",
                )
            )
        elif entry.action == DECIDED_ACTION and isinstance(after, dict):
            for objection_id in after.get("objections") or []:
                found[int(objection_id)] = Decision(entry.actor, tuple(changes))
            changes = []
    return found


@dataclass(frozen=True)
class Tally:
    """A year's objections to the results of some unions: waiting, and decided kept or changed."""

    waiting: int
    kept: int
    changed: int

    @property
    def decided(self) -> int:
        return self.kept + self.changed


def tally(session: Session, campaign: Campaign, org_ids: list[int]) -> Tally:
    """How many objections to the results of ``org_ids`` in ``campaign`` wait, and how many were
    decided, the result kept or changed."""
    rows = session.execute(
        select(
            Objection.resolved_at.is_(None),
            Objection.prior_score,
            Objection.prior_stars,
            Objection.decided_score,
            Objection.decided_stars,
        )
        .join(Inspection, Objection.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id, among(session, Inspection.organisation_id, org_ids))
    ).all()
    waiting = sum(1 for row in rows if row[0])
    changed = sum(1 for row in rows if not row[0] and (row[1], row[2]) != (row[3], row[4]))
    return Tally(waiting, len(rows) - waiting - changed, changed)


def outcome_of(objection: Objection) -> Outcome | None:
    """What the re-review decided an objection to (None while it waits)."""
    return _outcome(objection)

"""The democratic evaluation (民主测评): the electorate, eligibility, anonymous ballots and their figures.

The electorate is fixed when the evaluation opens ("参加测评人员一般应为上一级工会组织的委员、工会代表和一线
服务对象等，会员人数少的，全部参加"), in parts, each person in one of them: the people invited in chat (the
union's bound members, and the parent union's bound members — its committee members and
representatives), the paper forms handed out to people not invited in chat, and the open places for
front-line people who arrive with the code. Never in it: the union's own chair and its assessors (the
parent's evaluators and admins, and whoever assesses it). Where the union has at most
``EVALUATION_ALL_MEMBERS_MAX`` members, all of them take part: the members on the roll not bound in chat
are the paper part. A member who binds later joins in place of a free open place. Every ballot comes
from one place of one part (an invited person once, an open place once, a returned form of the paper
part), so the ballots never exceed the electorate and the turnout never exceeds 100 %.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import SystemRandom
from typing import Any

from sqlalchemy import ColumnElement, Executable, Select, delete, func, insert, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.inspection import audit, texts
from chatbot.inspection.caller import Caller
from chatbot.inspection.codes import new_code
from chatbot.inspection.errors import AdminError, Refused
from chatbot.inspection.queries import open_campaign
from chatbot.inspection.rubric_versions import rubric_of
from chatbot.store import outbox
from chatbot.store.among import among
from chatbot.store.models import (
    Account,
    Ballot,
    BallotDraft,
    Campaign,
    Evaluation,
    EvaluationParticipant,
    EvaluationVoter,
    Inspection,
    Organisation,
    RoleBinding,
)
from chatbot.store.notice_kinds import NoticeKind
from chatbot.timeutil import SHANGHAI, as_utc, end_of_day, local_date
from rubrics import texts as shared_texts
from rubrics.democratic import ALL_MEMBERS_MAX, MIN_BALLOTS_SHOWN, DemocraticFigures
from rubrics.lifecycle import EVALUABLE, InspectionState
from rubrics.submission import MIN_WRITTEN_CHARS

#: Points of each answer in the 100-point democratic score (满意 100, 基本满意 60, 不满意 0).
ANSWER_POINTS: dict[int, int] = {1: 100, 2: 60, 3: 0}
OVERALL_FROM_END = 2  # the overall question is second to last among the rated answers
#: Roles of the parent union that assess the union and are never in its electorate.
ASSESSOR_ROLES = ("evaluator", "admin")
#: The union's own role that is never in its electorate.
CHAIR = "chair"
#: The chat part's sources: the union's members, the parent union's (委员、代表), a member who bound
#: after the opening in place of an open place (counted in the open part).
MEMBER, COMMITTEE, OPEN = "member", "committee", "open"
#: At most this many paper forms in one evaluation.
MAX_PAPER = 100_000

_random = SystemRandom()


def voter_hash(secret: str, evaluation_id: int, openid: str) -> str:
    """A keyed hash of the voter, per evaluation: it cannot be turned back into the openid, nor
    matched across evaluations, without the server secret."""
    return hmac.new(secret.encode(), f"{evaluation_id}:{openid}".encode(), hashlib.sha256).hexdigest()


def is_open(evaluation: Evaluation, now: datetime) -> bool:
    return evaluation.waived_at is None and as_utc(evaluation.closes_at) > now


def _not_voters(inspection: Inspection):
    """A select of the accounts never in the union's electorate: the parent's evaluators and admins,
    the account that took the assessment, and the union's own chairs."""
    roles = select(RoleBinding.account_id).where(
        or_(
            (RoleBinding.organisation_id == inspection.organisation.parent_id)
            & RoleBinding.role.in_(ASSESSOR_ROLES),
            (RoleBinding.organisation_id == inspection.organisation_id) & (RoleBinding.role == CHAIR),
        )
    )
    if inspection.assessor_account_id is None:
        return roles
    return roles.union(select(Account.id).where(Account.id == inspection.assessor_account_id))


def candidates(session: Session, inspection: Inspection) -> list[tuple[int, str]]:
    """(account, source) of everyone to invite now: the union's bound members and the parent union's
    bound members, its chair and assessors left out; each account once, the union's own members first."""
    org = inspection.organisation
    rows = session.execute(
        select(RoleBinding.account_id, RoleBinding.organisation_id)
        .where(
            RoleBinding.role == "member",
            RoleBinding.organisation_id.in_([i for i in (org.id, org.parent_id) if i is not None]),
            RoleBinding.account_id.not_in(_not_voters(inspection)),
        )
        .order_by(RoleBinding.id)
    ).all()
    found: dict[int, str] = {}
    for account_id, org_id in rows:
        source = MEMBER if org_id == org.id else COMMITTEE
        if found.get(account_id) != MEMBER:
            found[account_id] = source
    return list(found.items())


def invite(
    session: Session, evaluation: Evaluation, people: Sequence[tuple[int, str]], now: datetime
) -> list[int]:
    """Add participants not yet invited; returns the accounts added."""
    known = set(
        session.scalars(
            select(EvaluationParticipant.account_id).where(
                EvaluationParticipant.evaluation_id == evaluation.id
            )
        )
    )
    added = []
    for account_id, source in people:
        if account_id in known:
            continue
        session.add(
            EvaluationParticipant(
                evaluation_id=evaluation.id, account_id=account_id, source=source, added_at=now
            )
        )
        known.add(account_id)
        added.append(account_id)
    session.flush()
    return added


def participants(session: Session, evaluation: Evaluation) -> dict[int, str]:
    """The people invited in chat, by account: their source. The electorate is fixed: someone who has
    since become the union's chair or an assessor stays counted, but no longer votes (``standing``)."""
    rows = session.execute(
        select(EvaluationParticipant.account_id, EvaluationParticipant.source).where(
            EvaluationParticipant.evaluation_id == evaluation.id
        )
    ).all()
    return dict(rows)


@dataclass(frozen=True)
class Joining:
    """What a member who binds finds in the evaluations open then: those joined, those where they are
    in the paper part already (their own union's, all members taking part), those without room."""

    joined: tuple[Evaluation, ...] = ()
    paper: tuple[Evaluation, ...] = ()
    full: tuple[Evaluation, ...] = ()


def join_open(session: Session, account: Caller, org: Organisation, now: datetime) -> Joining:
    """A member who binds while evaluations are open: their own union's, and those of the unions
    directly below the organisation (as a member of the parent union). Each electorate was fixed when
    it opened, so they join its chat part in place of a free open place; where all the union's members
    take part, its own members not bound at the opening are its paper part already."""
    found = session.scalars(
        select(Evaluation)
        .join(Inspection, Evaluation.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .join(Campaign, Inspection.campaign_id == Campaign.id)
        .where(
            Campaign.closed_at.is_(None),
            Evaluation.waived_at.is_(None),
            Evaluation.closes_at > now,
            or_(Organisation.id == org.id, Organisation.parent_id == org.id),
        )
        .order_by(Evaluation.id)
    ).all()
    joined: list[Evaluation] = []
    paper: list[Evaluation] = []
    full: list[Evaluation] = []
    for evaluation in found:
        inspection = evaluation.inspection
        if account.id in set(session.scalars(_not_voters(inspection))):
            continue
        if account.id in participants(session, evaluation):
            continue
        if inspection.organisation_id == org.id and evaluation.all_members is not None:
            paper.append(evaluation)
        elif _take_open_place(session, evaluation):
            invite(session, evaluation, [(account.id, OPEN)], now)
            joined.append(evaluation)
        else:
            full.append(evaluation)
    return Joining(tuple(joined), tuple(paper), tuple(full))


def _take_open_place(session: Session, evaluation: Evaluation) -> bool:
    """One free open place for a member who bound after the opening, taken atomically (a ballot cast
    on an open place at the same time cannot take it too)."""
    taken = session.scalar(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id, _open_place_free())
        .values(open_joined=Evaluation.open_joined + 1)
        .returning(Evaluation.id)
        .execution_options(synchronize_session=False)
    )
    if taken is not None:
        session.refresh(evaluation, ["open_joined", "open_used"])
    return taken is not None


def _open_place_free() -> ColumnElement[bool]:
    return Evaluation.open_used + Evaluation.open_joined < Evaluation.open_slots


@dataclass(frozen=True)
class Standing:
    """Where one voter stands in one evaluation."""

    status: str  # open | voted | closed | not_eligible | full
    voter: str
    bound: bool  # an invited participant (not on an open place)
    draft: tuple[int, ...] = ()


def standing(
    session: Session, evaluation: Evaluation, account: Caller, secret: str, now: datetime
) -> Standing:
    voter = voter_hash(secret, evaluation.id, account.openid)
    excluded = account.id in set(session.scalars(_not_voters(evaluation.inspection)))
    bound = not excluded and account.id in participants(session, evaluation)
    voted = session.get(EvaluationVoter, (evaluation.id, voter)) is not None
    draft = session.get(BallotDraft, (evaluation.id, voter))
    return standing_of(evaluation, voter, bound, excluded, voted, draft.answers if draft else None, now)


def standing_of(
    evaluation: Evaluation,
    voter: str,
    bound: bool,
    assessor: bool,
    voted: bool,
    draft: list[int] | None,
    now: datetime,
) -> Standing:
    """Where a voter stands, from what was read about them (the rule, without a query); ``assessor``:
    the union's chair or one of its assessors, who never vote."""
    if voted:
        return Standing("voted", voter, bound)
    if not is_open(evaluation, now):
        return Standing("closed", voter, bound)
    if not bound and assessor:
        return Standing("not_eligible", voter, bound)  # the union's chair and assessors never vote
    answers = tuple(draft) if draft else ()
    if not bound:
        if evaluation.open_slots == 0:
            return Standing("not_eligible", voter, bound, answers)
        if evaluation.open_used + evaluation.open_joined >= evaluation.open_slots:
            return Standing("full", voter, bound, answers)
    return Standing("open", voter, bound, answers)


def invited_count(session: Session, evaluation: Evaluation) -> int:
    """The turnout's denominator: the electorate, fixed when the evaluation opened."""
    sources = list(participants(session, evaluation).values())
    return invited_of(evaluation, sources.count(MEMBER), sources.count(COMMITTEE))


def invited_of(evaluation: Evaluation, members: int, committee: int) -> int:
    """The electorate from the counts of people invited in chat by source (pure): they, the paper
    part and the open places (a member invited later in place of an open place counts there). Once
    `nianjian purge` has removed the list of participants, the count it kept."""
    if evaluation.invited_frozen is not None:
        bound = evaluation.invited_frozen
    elif evaluation.paper_places is None:  # opened before migration 0013: counted as it was then
        everyone = evaluation.all_members
        bound = committee + (max(members, everyone) if everyone is not None else members)
    else:
        bound = members + committee
    return bound + evaluation.open_slots + paper_part(evaluation)


def paper_part(evaluation: Evaluation) -> int:
    """The paper part of the electorate: fixed at the opening (before migration 0013, the forms
    handed out as entered)."""
    if evaluation.paper_places is None:
        return evaluation.paper_distributed
    return evaluation.paper_places


def ballot_count(session: Session, evaluation: Evaluation) -> int:
    """Ballots in chat (open places included) and paper forms returned."""
    online = (
        session.scalar(select(func.count()).select_from(Ballot).where(Ballot.evaluation_id == evaluation.id))
        or 0
    )
    return online + evaluation.paper_returned


def figures(session: Session, inspection: Inspection, now: datetime) -> DemocraticFigures | None:
    """Ballots, invited, satisfied and the democratic score of the inspection's evaluation, if any."""
    return figures_of(session, inspection.id, now)


def figures_of(session: Session, inspection_id: int, now: datetime) -> DemocraticFigures | None:
    """``figures`` by the inspection's id."""
    evaluation = session.scalar(select(Evaluation).where(Evaluation.inspection_id == inspection_id))
    if evaluation is None:
        return None
    answers = list(session.scalars(select(Ballot.answers).where(Ballot.evaluation_id == evaluation.id)))
    return tally(evaluation, answers, invited_count(session, evaluation), now)


def tally(
    evaluation: Evaluation, answers: Sequence[Sequence[int]], invited: int, now: datetime
) -> DemocraticFigures:
    """The figures of one evaluation from its ballots' answers and its turnout's denominator (pure:
    only the evaluation's loaded columns are read). ``figures`` and ``figures_of_campaign`` both
    count with it."""
    satisfied = sum(1 for ballot in answers if ballot[-OVERALL_FROM_END] in (1, 2))
    points = sum(ANSWER_POINTS[a] for ballot in answers for a in ballot)
    counted = sum(len(ballot) for ballot in answers)
    paper = evaluation.paper_counts or []
    for good, fair, poor in paper:
        points += ANSWER_POINTS[1] * good + ANSWER_POINTS[2] * fair
        counted += good + fair + poor
    if len(paper) >= OVERALL_FROM_END:
        good, fair, _poor = paper[-OVERALL_FROM_END]
        satisfied += good + fair
    score = (Decimal(points) / counted).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if counted else None
    return DemocraticFigures(
        ballots=len(answers) + evaluation.paper_returned,
        invited=invited,
        satisfied=satisfied,
        score=score,
        closed=not is_open(evaluation, now),
        paper=evaluation.paper_returned,
        waived_reason=(evaluation.waived_reason or "免除") if evaluation.waived_at is not None else "",
        closed_reason=evaluation.closed_reason or "",
        paper_places=evaluation.paper_places,
        min_shown=evaluation.min_ballots_shown or MIN_BALLOTS_SHOWN,
    )


def figures_of_campaign(
    session: Session, campaign: Campaign, now: datetime, ids: Collection[int] | None = None
) -> dict[int, DemocraticFigures]:
    """``figures`` of every inspection of the campaign that has an evaluation (of ``ids`` only, if
    given), by inspection id: three queries whatever the number of inspections."""
    chosen = among(session, Inspection.id, ids) if ids is not None else true()
    evaluations = session.scalars(
        select(Evaluation)
        .join(Inspection, Evaluation.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id, chosen)
    ).all()
    answers: dict[int, list[list[int]]] = defaultdict(list)
    for evaluation_id, ballot in session.execute(
        select(Ballot.evaluation_id, Ballot.answers)
        .join(Evaluation, Ballot.evaluation_id == Evaluation.id)
        .join(Inspection, Evaluation.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id, chosen)
    ):
        answers[evaluation_id].append(ballot)
    sources: dict[tuple[int, str], int] = {
        (evaluation_id, source): count
        for evaluation_id, source, count in session.execute(_participant_counts(campaign))
    }
    return {
        e.inspection_id: tally(
            e,
            answers.get(e.id, []),
            invited_of(e, sources.get((e.id, MEMBER), 0), sources.get((e.id, COMMITTEE), 0)),
            now,
        )
        for e in evaluations
    }


def not_assessors() -> list[ColumnElement[bool]]:
    """For a select over EvaluationParticipant joined to its Inspection and that inspection's
    Organisation: leave out those who no longer vote (the union's chair, the parent's evaluators and
    admins, whoever assessed it), as ``standing`` does for one voter."""
    assessor = (
        select(RoleBinding.id)
        .where(
            RoleBinding.account_id == EvaluationParticipant.account_id,
            or_(
                (RoleBinding.organisation_id == Organisation.parent_id)
                & RoleBinding.role.in_(ASSESSOR_ROLES),
                (RoleBinding.organisation_id == Organisation.id) & (RoleBinding.role == CHAIR),
            ),
        )
        .exists()
    )
    return [
        ~assessor,
        or_(
            Inspection.assessor_account_id.is_(None),
            EvaluationParticipant.account_id != Inspection.assessor_account_id,
        ),
    ]


def _participant_counts(campaign: Campaign) -> Select[int, str, int]:
    """(evaluation, source, count) of ``participants`` of every evaluation of the campaign."""
    return (
        select(EvaluationParticipant.evaluation_id, EvaluationParticipant.source, func.count())
        .join(Evaluation, EvaluationParticipant.evaluation_id == Evaluation.id)
        .join(Inspection, Evaluation.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id)
        .group_by(EvaluationParticipant.evaluation_id, EvaluationParticipant.source)
    )


def voted_count(session: Session, evaluation: Evaluation) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(EvaluationVoter)
            .where(EvaluationVoter.evaluation_id == evaluation.id)
        )
        or 0
    )


DEFAULT_EVALUATION_DAYS = 7


def open_evaluation(
    session: Session,
    org_code: str,
    closes: date | None,
    open_slots: int,
    now: datetime,
    actor: str = "cli",
    all_members_max: int = ALL_MEMBERS_MAX,
    paper: int | None = None,
    min_shown: int = MIN_BALLOTS_SHOWN,
) -> Evaluation:
    """Open the democratic evaluation (民主测评) of the organisation's inspection in the open campaign.
    Its electorate is fixed now, in parts: the people invited in chat (told: notice
    ``evaluation_open``), ``paper`` forms for people not invited in chat — where all members take part,
    one for each member on the roll not bound in chat —, and ``open_slots`` open places. The
    small-count rule's minimum ``min_shown`` is fixed on it too."""
    campaign = open_campaign(session)
    if campaign is None:
        raise AdminError("还没有开启的年度年检，请先运行 nianjian campaign open 年度。")
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise AdminError(f"没有编号为 {org_code} 的组织。")
    inspection = session.scalar(
        select(Inspection).where(Inspection.campaign_id == campaign.id, Inspection.organisation_id == org.id)
    )
    if inspection is None:
        raise AdminError(f"{org_code} 不在 {campaign.year} 年度的年检范围内。")
    if InspectionState(inspection.state) not in EVALUABLE:
        raise AdminError(
            f"{org_code} 的年检已是“{InspectionState(inspection.state).label}”：民主测评须在评定之前开启。"
        )
    existing = session.scalar(select(Evaluation).where(Evaluation.inspection_id == inspection.id))
    if existing is not None and existing.waived_at is not None:
        raise AdminError(f"{org_code} 的民主测评已免除（{existing.waived_reason}），不能再开启。")
    if existing is not None:
        raise AdminError(
            f"{org_code} 已开启民主测评（测评码 {existing.code}，{local_date(existing.closes_at)} 结束），不能再开一次。"
        )
    if open_slots < 0:
        raise AdminError("--open 开放名额不能为负数。")
    if paper is not None and not 0 <= paper <= MAX_PAPER:
        raise AdminError(f"--paper 纸质测评表份数应在 0 到 {MAX_PAPER} 之间。")
    today = now.astimezone(SHANGHAI).date()
    closes = closes or today + timedelta(days=DEFAULT_EVALUATION_DAYS)
    if closes < today:
        raise AdminError(f"--closes 结束日期 {closes} 已经过去。")
    members = org.member_count
    everyone = members if members is not None and members <= all_members_max else None
    people = candidates(session, inspection)
    places = _paper_places(org_code, everyone, _known_in_chat(session, org), paper)
    evaluation = Evaluation(
        inspection_id=inspection.id,
        code=new_code(),
        opened_at=now,
        closes_at=end_of_day(closes),
        open_slots=open_slots,
        all_members=everyone,
        paper_places=places,
        min_ballots_shown=min_shown,
    )
    session.add(evaluation)
    session.flush()
    invited = invite(session, evaluation, people, now)
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
            "paper": places,
            "all_members": evaluation.all_members,
        },
    )
    for account_id in invited:
        outbox.enqueue(
            session,
            account_id,
            NoticeKind.EVALUATION_OPEN,
            f"evaluation-open:{evaluation.id}:{account_id}",
            texts.evaluation_invitation(org.name, closes, evaluation.code),
            now,
            closes.isoformat(),
            {"union": org.name},
        )
    return evaluation


def _known_in_chat(session: Session, org: Organisation) -> int:
    """The people of the union's roll bound in chat: its members and its chair (a member too, who
    does not vote)."""
    return (
        session.scalar(
            select(func.count(func.distinct(RoleBinding.account_id))).where(
                RoleBinding.organisation_id == org.id, RoleBinding.role.in_(("member", CHAIR))
            )
        )
        or 0
    )


def _paper_places(org_code: str, everyone: int | None, known: int, paper: int | None) -> int:
    """The paper part: where all members take part (``everyone`` on the roll), one form for each
    member not bound in chat (``known``: its members and chair) — ``paper`` may only say the same;
    else ``paper`` (0)."""
    if everyone is None:
        return paper or 0
    places = max(everyone - known, 0)
    if paper is not None and paper != places:
        raise AdminError(
            f"{org_code} 会员 {everyone} 人全部参加，其中 {known} 人（含工会主席）已在微信绑定："
            f"纸质测评表发给其余 {places} 名会员，--paper 不能另定。"
        )
    return places


# ---------------------------------------------------------------- ballots and the evaluator's decisions

ANSWER_VALUES = (1, 2, 3)


def admit(
    session: Session,
    evaluation_id: int,
    account: Caller,
    secret: str,
    now: datetime,
    known: tuple[Evaluation, Standing] | None = None,
) -> tuple[Evaluation, Standing]:
    """The evaluation and the voter's standing in it (``known`` when this transaction read them
    already); Refused unless they may answer now. One voter's turns never overlap (the user lock),
    and an open place is taken atomically at ``cast``, so no row lock is needed."""
    if known is not None:
        evaluation, where = known
    else:
        found = session.get(Evaluation, evaluation_id)
        if found is None:
            raise Refused("没有找到这次民主测评。")
        evaluation, where = found, standing(session, found, account, secret, now)
    if where.status == "voted":
        raise Refused("您已参加过这次民主测评，每人限投一次。")
    if where.status == "closed":
        raise Refused("这次民主测评已经结束，您的答卷未能提交。")
    if where.status == "full":
        raise Refused("这次民主测评的开放名额已满，您的答卷未能提交，感谢关注。")
    if where.status == "not_eligible":
        raise Refused("您不在这次民主测评的参加人员范围内。如有疑问请联系上级工会。")
    return evaluation, where


def _check_answers(
    session: Session, evaluation: Evaluation, answers: tuple[int, ...], complete: bool
) -> None:
    expected = len(rubric_of(session, evaluation.inspection).dimensions) + 2
    if (
        len(answers) > expected
        or (complete and len(answers) != expected)
        or any(a not in ANSWER_VALUES for a in answers)
    ):
        raise Refused("测评答案不完整，请重新开始测评。")


def save_draft(session: Session, evaluation: Evaluation, voter: str, answers: tuple[int, ...]) -> None:
    """The answers given so far, under the voter's keyed hash."""
    _check_answers(session, evaluation, answers, complete=False)
    session.flush()  # what the ORM holds goes first, as ``session.execute`` would have flushed it
    connection = session.connection()
    connection.execute(
        _DRAFT_UPSERTS[connection.dialect.name],
        {"evaluation_id": evaluation.id, "voter_hash": voter, "answers": list(answers)},
    )


def _draft_upsert(dialect_insert: Callable[..., Any]) -> Executable:
    statement = dialect_insert(BallotDraft.__table__)
    return statement.on_conflict_do_update(
        index_elements=["evaluation_id", "voter_hash"], set_={"answers": statement.excluded.answers}
    )


#: The draft's upsert per dialect, built once (SQLAlchemy caches its compiled form): a Core statement
#: on the session's connection, without the ORM's statement handling.
_DRAFT_UPSERTS = {"postgresql": _draft_upsert(postgresql.insert), "sqlite": _draft_upsert(sqlite.insert)}


def cast(
    session: Session, evaluation: Evaluation, where: Standing, answers: tuple[int, ...], suggestion: str
) -> None:
    """The ballot, once per voter: the voter is counted, their draft deleted, and the evaluation's whole
    ballot set written again with the new ballot at a random place (``rewrite_ballots``), so that
    nothing stored tells which ballot came last — nor, ballot by ballot, when each came."""
    _check_answers(session, evaluation, answers, complete=True)
    _one_cast_at_a_time(session, evaluation.id)
    if not where.bound:  # an open place, taken atomically: two visitors cannot both take the last one
        taken = session.scalar(
            update(Evaluation)
            .where(Evaluation.id == evaluation.id, _open_place_free())
            .values(open_used=Evaluation.open_used + 1)
            .returning(Evaluation.id)
        )
        if taken is None:
            raise Refused("这次民主测评的开放名额已满，您的答卷未能提交，感谢关注。")
    session.execute(
        delete(BallotDraft).where(
            BallotDraft.evaluation_id == evaluation.id, BallotDraft.voter_hash == where.voter
        )
    )
    session.add(
        EvaluationVoter(evaluation_id=evaluation.id, voter_hash=where.voter, used_open_slot=not where.bound)
    )
    try:
        session.flush()
    except IntegrityError as error:
        raise Refused("您已参加过这次民主测评，每人限投一次。") from error
    rewrite_ballots(session, [evaluation.id], {evaluation.id: (list(answers), suggestion or None)})


def _one_cast_at_a_time(session: Session, evaluation_id: int) -> None:
    """Casts to one evaluation run one after the other, since each rewrites the whole ballot set:
    PostgreSQL locks the evaluation's row (FOR NO KEY UPDATE: drafts referencing it are not held up);
    on SQLite this write takes the database's one write lock before the ballots are read."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Evaluation.id).where(Evaluation.id == evaluation_id).with_for_update(key_share=True)
        )
    else:
        session.execute(
            update(Evaluation)
            .where(Evaluation.id == evaluation_id)
            .values(open_used=Evaluation.open_used)
            .execution_options(synchronize_session=False)
        )


def rewrite_ballots(
    session: Session,
    evaluation_ids: Sequence[int],
    adding: Mapping[int, tuple[list[int], str | None]] | None = None,
) -> dict[int, int]:
    """Write the evaluations' ballots again (with ``adding``, one new ballot per evaluation) in a random
    order under new random ids: neither an id, nor the order rows were written in, nor the transaction
    that wrote them (on PostgreSQL every ballot of the evaluation now carries this one's) tells one
    ballot from another. A cast and the seal both use it. The ballots' count per evaluation."""
    ids = list(evaluation_ids)
    ballots: dict[int, list[tuple[Any, str | None]]] = {e: [] for e in ids}
    for evaluation_id, answers, suggestion in session.execute(
        select(Ballot.evaluation_id, Ballot.answers, Ballot.suggestion).where(Ballot.evaluation_id.in_(ids))
    ):
        ballots[evaluation_id].append((answers, suggestion))
    for evaluation_id, ballot in (adding or {}).items():
        ballots[evaluation_id].append(ballot)
    for rows in ballots.values():
        _random.shuffle(rows)
    session.execute(
        delete(Ballot).where(Ballot.evaluation_id.in_(ids)).execution_options(synchronize_session=False)
    )
    written = [
        {"id": uuid.uuid4().hex, "evaluation_id": e, "answers": answers, "suggestion": suggestion}
        for e, rows in ballots.items()
        for answers, suggestion in rows
    ]
    if written:  # one Core executemany: compiled once, whatever the number of ballots
        session.connection().execute(insert(Ballot), written)
    return {e: len(rows) for e, rows in ballots.items()}


def end(
    session: Session,
    inspection: Inspection,
    evaluation: Evaluation | None,
    reason: str,
    waive: bool,
    actor: str,
    now: datetime,
) -> Evaluation:
    """The evaluator closes the evaluation before its date — once it has a ballot —, or waives it (免除:
    not counted; with no evaluation opened, one is recorded as waived), with the reason; audited."""
    reason = reason.strip()
    held = evaluation is not None
    if not reason:
        raise Refused("请写明原因，如：结束测评 参加人员已全部作答。")
    if waive and len(reason) < MIN_WRITTEN_CHARS:
        raise Refused(shared_texts.waiver_too_short(MIN_WRITTEN_CHARS).strip())
    if evaluation is None and not waive:
        raise Refused(texts.nothing_to_end(inspection.organisation.name))
    if evaluation is None:
        evaluation = Evaluation(
            inspection_id=inspection.id,
            code=new_code(),
            opened_at=now,
            closes_at=now,
            open_slots=0,
            paper_places=0,
            waived_at=now,
            waived_reason=reason,
        )
        session.add(evaluation)
        session.flush()
    elif evaluation.waived_at is not None:
        raise Refused("这次民主测评已免除。")
    elif waive:
        evaluation.waived_at, evaluation.waived_reason = now, reason
    elif not is_open(evaluation, now):
        raise Refused("这次民主测评已经结束。")
    elif ballot_count(session, evaluation) == 0:
        raise Refused(shared_texts.no_ballots_to_close(inspection.organisation.code))
    else:
        evaluation.closes_at, evaluation.closed_reason = now, reason
    audit.record(
        session,
        actor,
        "waive_evaluation" if waive else "close_evaluation",
        "inspection",
        inspection.id,
        after={"evaluation": evaluation.code if held else None, "held": held},
        reason=reason,
    )
    return evaluation


def save_paper(
    session: Session,
    inspection: Inspection,
    evaluation: Evaluation | None,
    distributed: int,
    returned: int,
    counts: tuple[tuple[int, int, int], ...],
    actor: str,
) -> None:
    """Paper forms (纸质测评表): counts only; entering again replaces them. At most the paper part fixed
    at the opening is handed out. Audited."""
    if evaluation is None:
        raise Refused(f"“{inspection.organisation.name}”没有开展民主测评，无法录入纸质测评表。")
    if evaluation.waived_at is not None:
        raise Refused(f"“{inspection.organisation.name}”的民主测评已免除，无需录入纸质测评表。")
    places = evaluation.paper_places
    if places is not None and distributed > places:
        raise Refused(too_many_forms(distributed, places))
    expected = len(rubric_of(session, inspection).dimensions) + 2
    valid = (
        0 < returned <= distributed
        and len(counts) == expected
        and all(min(row) >= 0 and sum(row) <= returned for row in counts)
    )
    if not valid:
        raise Refused("纸质测评表的份数不一致，未能保存，请重新录入。")
    before = {"distributed": evaluation.paper_distributed, "returned": evaluation.paper_returned}
    evaluation.paper_distributed, evaluation.paper_returned = distributed, returned
    evaluation.paper_counts = [list(row) for row in counts]
    audit.record(
        session,
        actor,
        "paper_ballots",
        "inspection",
        inspection.id,
        before=before,
        after={"distributed": distributed, "returned": returned},
    )


def too_many_forms(distributed: int, places: int) -> str:
    """Why more forms than the paper part cannot be entered."""
    if places == 0:
        return (
            "开启测评时没有安排纸质测评表（参加人员在开启时确定），未能保存。"
            "需要纸质测评的，开启时用 nianjian evaluation open --paper 份数 安排。"
        )
    return f"纸质测评表在开启测评时安排了 {places} 份，发放 {distributed} 份超出了，未能保存。"

"""Builds the read-only snapshot (dialogs.context.UserContext) a dialog sees for one turn — only what
the turn's route needs — and hands the Applier what it loaded (the bindings, the rows it locked), so
that a turn answering one item reads the database twice: the bindings, then the chair's inspection
with its scores and evidence, locked for the turn."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, partial
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Executable,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, contains_eager, joinedload

from chatbot.config import Config
from chatbot.inspection import remediation
from chatbot.inspection.caller import Caller
from chatbot.inspection.coverage import CITY_DIRECT, coverage
from chatbot.inspection.evaluations import (
    ASSESSOR_ROLES,
    CHAIR,
    Standing,
    figures,
    figures_of,
    standing,
    standing_of,
    voter_hash,
)
from chatbot.inspection.hierarchy import load_tree
from chatbot.inspection.objections import filed_by, pending, raised
from chatbot.inspection.queries import (
    descendants,
    evidence_counts,
    is_city_evaluator,
    item_scores,
    open_campaign,
)
from chatbot.inspection.rows import InspectionRow
from chatbot.inspection.rubric_versions import rubric_for, rubric_of
from chatbot.inspection.sampling import pending_check, pending_for_org
from chatbot.service.codes import EVALUATION, Limit, WrongCodes
from chatbot.store.models import (
    BallotDraft,
    Campaign,
    Evaluation,
    EvaluationParticipant,
    EvaluationVoter,
    Evidence,
    Inspection,
    ItemScore,
    Objection,
    Organisation,
    Remediation,
    RoleBinding,
)
from chatbot.timeutil import SHANGHAI, as_utc, local_date
from dialogs.ballot import LOCKED, RATE_LIMITED
from dialogs.binding import CODE_PATTERN
from dialogs.context import (
    AssessmentAccess,
    BallotView,
    ChildStatus,
    CoverageLine,
    RemediationView,
    ResultView,
    RoleView,
    UserContext,
    WalkView,
)
from dialogs.guide import MAX_CHILDREN_LISTED
from dialogs.routing import Needs
from rubrics.democratic import DemocraticFigures
from rubrics.lifecycle import ASSESSABLE, OBJECTABLE, PUBLISHED, RE_REVIEWABLE, InspectionState, values
from rubrics.objections import FiledObjection, ObjectionView
from rubrics.scoring import format_score, raw_total

S = InspectionState


@dataclass(frozen=True)
class Binding:
    """One of the user's role bindings, read with its organisation in one query."""

    role: str
    org_id: int
    code: str
    name: str
    rubric_key: str | None
    parent_id: int | None


@dataclass(frozen=True)
class Loaded:
    """What the turn's context read that the Applier may rely on within the same transaction."""

    bindings: frozenset[tuple[int, str]] = frozenset()  # (organisation id, role)
    #: Inspections read FOR UPDATE in this transaction, held here (the session only keeps weak references).
    locked: Mapping[int, Inspection] = field(default_factory=dict)
    #: A ballot in progress: its evaluation and the voter's standing, read in this transaction.
    ballots: Mapping[int, tuple[Evaluation, Standing]] = field(default_factory=dict)
    #: Inspections read FOR UPDATE in this transaction as Core rows (the chair's), by id.
    rows: Mapping[int, InspectionRow] = field(default_factory=dict)


#: The user's bindings with their organisations, built once (SQLAlchemy caches its compiled form).
_BINDINGS = (
    select(
        RoleBinding.role,
        Organisation.id,
        Organisation.code,
        Organisation.name,
        Organisation.rubric_key,
        Organisation.parent_id,
    )
    .join(Organisation, RoleBinding.organisation_id == Organisation.id)
    .where(RoleBinding.account_id == bindparam("account_id"))
    .order_by(RoleBinding.id)
)


def bindings_of(session: Session, account_id: int) -> list[Binding]:
    rows = session.connection().execute(_BINDINGS, {"account_id": account_id}).all()  # Core: no ORM handling
    return [Binding(*row) for row in rows]


def _with_scores(where: ColumnElement[bool]) -> Select[tuple[Inspection, int | None, int]]:
    """Inspections matching ``where``, locked for the turn, with organisation, campaign and item scores,
    and each item's evidence count — one statement."""
    photos = (
        select(func.count(Evidence.id))
        .where(Evidence.inspection_id == ItemScore.inspection_id, Evidence.item_no == ItemScore.item_no)
        .scalar_subquery()
    )
    return (
        select(Inspection, ItemScore.item_no, photos)
        .join(Inspection.campaign)
        .join(Inspection.organisation)
        .outerjoin(Inspection.item_scores)
        .options(
            contains_eager(Inspection.campaign),
            contains_eager(Inspection.organisation),
            contains_eager(Inspection.item_scores),
        )
        .where(where)
        .order_by(Inspection.id, ItemScore.item_no)
        .with_for_update(of=Inspection)
    )


def _first_with_evidence(
    session: Session, query: Select[tuple[Inspection, int | None, int]], parameters: dict[str, object]
) -> tuple[Inspection, dict[int, int]] | None:
    rows = cast("list[tuple[Inspection, int | None, int]]", session.execute(query, parameters).unique().all())
    if not rows:
        return None
    first = rows[0][0]
    evidence: dict[int, int] = {}
    for inspection, no, count in rows:
        if inspection is first and no is not None and count:
            evidence[no] = count
    return first, evidence


_OPEN_YEAR = select(func.max(Campaign.year)).where(Campaign.closed_at.is_(None)).scalar_subquery()
#: A walk's inspection (``inspection_id``) with its scores, built once.
_WALK_INSPECTION = _with_scores(Inspection.id == bindparam("inspection_id"))


def _rows_query(where: ColumnElement[bool]) -> Executable:
    """Inspections matching ``where`` as Core rows, one per item score (self and assessed), with the
    organisation, the campaign and each item's evidence count, locked for the turn — one statement."""
    photos = (
        select(func.count(Evidence.id))
        .where(Evidence.inspection_id == ItemScore.inspection_id, Evidence.item_no == ItemScore.item_no)
        .scalar_subquery()
    )
    return (
        select(
            Inspection.id,
            Inspection.state,
            Inspection.organisation_id,
            Organisation.code,
            Organisation.name,
            Organisation.parent_id,
            Campaign.year,
            Campaign.opened_at,
            Inspection.rubric_key,
            Inspection.rubric_version,
            Inspection.return_reason,
            Inspection.self_submitted_at,
            Inspection.assessment_methods,
            Inspection.assessment_opinion,
            ItemScore.item_no,
            ItemScore.self_score,
            ItemScore.assessed_score,
            photos,
        )
        .select_from(Inspection)
        .join(Campaign, Inspection.campaign_id == Campaign.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .outerjoin(ItemScore, ItemScore.inspection_id == Inspection.id)
        .where(where)
        .order_by(Inspection.id, ItemScore.item_no)
        .with_for_update(of=Inspection)
    )


#: The chair's inspection in the open campaign (of the organisations ``orgs``) and a walk's
#: (``inspection_id``) as Core rows, built once (SQLAlchemy caches their compiled forms).
_CHAIR_ROWS = _rows_query(
    and_(Inspection.organisation_id.in_(bindparam("orgs", expanding=True)), Campaign.year == _OPEN_YEAR)
)
_WALK_ROWS = _rows_query(Inspection.id == bindparam("inspection_id"))


def _first_row(session: Session, query: Executable, parameters: dict[str, object]) -> InspectionRow | None:
    """The first inspection ``query`` reads, from its Core rows."""
    rows = cast("list[tuple[Any, ...]]", session.connection().execute(query, parameters).all())
    if not rows:
        return None
    first = rows[0]
    own: dict[int, Decimal] = {}
    assessed: dict[int, Decimal] = {}
    evidence: dict[int, int] = {}
    for row in rows:
        if row[0] != first[0]:
            break
        no, self_score, assessed_score, count = row[14:18]
        if no is None:
            continue
        if self_score is not None:
            own[no] = Decimal(self_score)
        if assessed_score is not None:
            assessed[no] = Decimal(assessed_score)
        if count:
            evidence[no] = count
    return InspectionRow(
        id=first[0],
        state=first[1],
        organisation_id=first[2],
        org_code=first[3],
        org_name=first[4],
        org_parent_id=first[5],
        year=first[6],
        opened_at=first[7],
        rubric_key=first[8],
        rubric_version=first[9],
        return_reason=first[10],
        self_submitted_at=first[11],
        methods=tuple(first[12] or ()),
        opinion=first[13] or "",
        self_scores=own,
        assessed_scores=assessed,
        evidence=evidence,
    )


def chair_inspection(session: Session, chair_orgs: list[int]) -> InspectionRow | None:
    """The chair's inspection in the open campaign, locked, with its scores and evidence counts, as
    Core rows (the first, when the user chairs several inspected unions)."""
    return _first_row(session, _CHAIR_ROWS, {"orgs": chair_orgs})


def walk_row(session: Session, inspection_id: int) -> InspectionRow | None:
    """The inspection of an assessment walk in progress, locked, as Core rows."""
    return _first_row(session, _WALK_ROWS, {"inspection_id": inspection_id})


def own_walk_view(session: Session, row: InspectionRow) -> WalkView:
    """The chair's walk, from the Core rows of the inspection (its sheet in its version: no query for
    the shipped one)."""
    state = InspectionState(row.state)
    return WalkView(
        return_reason=(row.return_reason or "") if state == S.RETURNED else "",
        inspection_id=row.id,
        org_name=row.org_name,
        year=row.year,
        rubric_key=row.rubric_key,
        rubric_version=row.rubric_version,
        rubric=rubric_for(session, row.rubric_key, row.rubric_version),
        state_label=state.label,
        state=state.value,
        editable=state.self_check_editable,
        scores=dict(row.self_scores),
        evidence=row.evidence,
        org_code=row.org_code,
        origin=as_utc(row.opened_at).isoformat(),
    )


def walk_inspection(session: Session, inspection_id: int) -> tuple[Inspection, dict[int, int]] | None:
    """The inspection of a walk in progress, locked, with its scores and evidence counts."""
    return _first_with_evidence(session, _WALK_INSPECTION, {"inspection_id": inspection_id})


def self_check_view(
    session: Session, inspection: Inspection, evidence: dict[int, int] | None = None
) -> WalkView:
    """The chair's walk; ``evidence`` when the caller has counted it already."""
    own = {
        row.item_no: Decimal(row.self_score) for row in inspection.item_scores if row.self_score is not None
    }
    state = InspectionState(inspection.state)
    return WalkView(
        return_reason=(inspection.return_reason or "") if state == S.RETURNED else "",
        inspection_id=inspection.id,
        org_name=inspection.organisation.name,
        year=inspection.campaign.year,
        rubric_key=inspection.rubric_key,
        rubric_version=inspection.rubric_version,
        rubric=rubric_of(session, inspection),
        state_label=state.label,
        state=state.value,
        editable=state.self_check_editable,
        scores=own,
        evidence=evidence if evidence is not None else evidence_counts(session, inspection.id),
        org_code=inspection.organisation.code,
        origin=as_utc(inspection.campaign.opened_at).isoformat(),
    )


def assessment_view(
    session: Session,
    inspection: Inspection,
    mode: str,
    config: Config,
    now: datetime,
    evidence: dict[int, int] | None = None,
) -> WalkView:
    """The walk of the parent union: assessed scores beside the self scores, with the democratic figures."""
    own_view = self_check_view(session, inspection, evidence)
    rows = inspection.item_scores
    assessed = {r.item_no: Decimal(r.assessed_score) for r in rows if r.assessed_score is not None}
    state = InspectionState(inspection.state)
    if mode == "sample_check":
        city = {r.item_no: Decimal(r.city_score) for r in rows if r.city_score is not None}
        return replace(
            own_view,
            editable=pending_check(session, inspection.id) is not None,
            scores=city,
            reference=assessed,
            figures=_deferred_figures(session, inspection, now),
            pass_mark=config.pass_mark,
            stars=inspection.stars or 0,
        )
    editable = state in (RE_REVIEWABLE if mode == "re_review" else ASSESSABLE)
    return replace(
        own_view,
        editable=editable,
        scores=assessed,
        reference=own_view.scores,
        figures=_deferred_figures(session, inspection, now),
        pass_mark=config.pass_mark,
        objections=raised(session, inspection) if mode == "re_review" else (),
        methods=tuple(inspection.assessment_methods or ()),
        opinion=inspection.assessment_opinion or "",
    )


def _deferred_figures(
    session: Session, inspection: Inspection, now: datetime
) -> Callable[[], DemocraticFigures | None]:
    """The inspection's democratic figures, read in this turn's transaction the first time a reply
    asks for them."""
    return cache(partial(figures, session, inspection, now))


def _inspection_query():
    return select(Inspection).options(joinedload(Inspection.organisation), joinedload(Inspection.campaign))


def assessment_access(
    session: Session,
    account: Caller,
    campaign: Campaign | None,
    needs: Needs,
    config: Config,
    now: datetime,
    held: frozenset[tuple[int, str]],
    locked: dict[int, Inspection],
    rows: dict[int, InspectionRow],
) -> AssessmentAccess:
    """What `考评 / 复查 / 抽查 / 退回 / 录入测评 / 补课验收 C` (or the walk in progress) may see, or why not.
    ``held`` are the user's bindings (organisation, role); a walk in progress's inspection is read
    locked, with its scores, and put in ``locked`` for the Applier."""
    mode = needs.assess_mode
    inspection: Inspection | None
    evidence = None
    if needs.assess_inspection_id and not needs.assess_org and mode == "assessment":
        return _assessment_walk(session, needs.assess_inspection_id, config, now, held, rows)
    if needs.assess_inspection_id and not needs.assess_org:
        found_walk = walk_inspection(session, needs.assess_inspection_id)
        if found_walk is None:
            return AssessmentAccess("", refusal="not_found")
        inspection, evidence = found_walk
        locked[inspection.id] = inspection
        org = inspection.organisation
    else:
        found = session.scalar(
            select(Organisation).where(func.upper(Organisation.code) == needs.assess_org.upper())
        )
        if found is None:
            return AssessmentAccess(needs.assess_org, refusal="not_found")
        org = found
        inspection = _inspection_for(session, org, campaign, mode)
        if inspection is None and campaign is None and mode not in ("sample_check", "remediation"):
            return AssessmentAccess(org.code, refusal="no_campaign")
    if mode == "sample_check":
        if not is_city_evaluator(session, account, org):
            return AssessmentAccess(org.code, refusal="not_city_evaluator")
    elif org.parent_id is None or (org.parent_id, "evaluator") not in held:
        return AssessmentAccess(org.code, refusal="not_evaluator")
    if inspection is None:
        return AssessmentAccess(
            org.code, refusal="no_remediation" if mode == "remediation" else "not_inspected"
        )
    view = assessment_view(session, inspection, mode, config, now, evidence)
    paper = None
    if mode == "paper":
        evaluation = session.scalar(select(Evaluation).where(Evaluation.inspection_id == inspection.id))
        if evaluation is not None and evaluation.paper_counts:
            counts = tuple((int(a), int(b), int(c)) for a, b, c in evaluation.paper_counts)
            paper = (evaluation.paper_distributed, evaluation.paper_returned, counts)
    return AssessmentAccess(
        org.code,
        view=view,
        state=inspection.state,
        remediation=remediation_view(session, inspection) if mode == "remediation" else None,
        paper=paper,
    )


def _assessment_walk(
    session: Session,
    inspection_id: int,
    config: Config,
    now: datetime,
    held: frozenset[tuple[int, str]],
    rows: dict[int, InspectionRow],
) -> AssessmentAccess:
    """An assessment walk in progress (组织评定), from the Core rows of its inspection, read locked and
    put in ``rows`` for the Applier: what ``assessment_view`` shows in the mode ``assessment``."""
    row = walk_row(session, inspection_id)
    if row is None:
        return AssessmentAccess("", refusal="not_found")
    rows[row.id] = row
    if row.org_parent_id is None or (row.org_parent_id, "evaluator") not in held:
        return AssessmentAccess(row.org_code, refusal="not_evaluator")
    own_view = own_walk_view(session, row)
    view = replace(
        own_view,
        editable=InspectionState(row.state) in ASSESSABLE,
        scores=dict(row.assessed_scores),
        reference=own_view.scores,
        figures=cache(partial(figures_of, session, row.id, now)),
        pass_mark=config.pass_mark,
        methods=row.methods,
        opinion=row.opinion,
    )
    return AssessmentAccess(row.org_code, view=view, state=row.state)


def _inspection_for(
    session: Session, org: Organisation, campaign: Campaign | None, mode: str
) -> Inspection | None:
    """The inspection a command about ``org`` means: the one drawn for the city's re-check (any year),
    the newest with a remediation, or this year's."""
    if mode == "sample_check":
        entry = pending_for_org(session, org.id)
        if entry is not None:
            return session.scalar(_inspection_query().where(Inspection.id == entry.inspection_id))
    if mode == "remediation":
        return session.scalar(
            _inspection_query()
            .join(Remediation, Remediation.inspection_id == Inspection.id)
            .where(Inspection.organisation_id == org.id)
            .order_by(Inspection.id.desc())
            .limit(1)
        )
    if campaign is None:
        return None
    return session.scalar(
        _inspection_query().where(Inspection.campaign_id == campaign.id, Inspection.organisation_id == org.id)
    )


def remediation_view(session: Session, inspection: Inspection) -> RemediationView | None:
    row = remediation.of(session, inspection.id)
    if row is None:
        return None
    return RemediationView(
        inspection_id=inspection.id,
        org_code=inspection.organisation.code,
        org_name=inspection.organisation.name,
        year=inspection.campaign.year,
        status=row.status,
        status_label=remediation.label(row.status, row.due_on, datetime.now(UTC).astimezone(SHANGHAI).date()),
        due=row.due_on.isoformat(),
        report_text=row.report_text or "",
        check_text=row.check_text or "",
    )


def ballot_view(
    session: Session,
    account: Caller,
    needs: Needs,
    config: Config,
    now: datetime,
    member_orgs: list[int],
    campaign: Campaign | None,
    loaded_ballots: dict[int, tuple[Evaluation, Standing]],
    codes: WrongCodes | None = None,
) -> BallotView | None:
    evaluation: Evaluation | None = None
    if needs.evaluation_code:
        return coded_ballot(session, account, needs.evaluation_code, config, now, codes)
    if needs.evaluation_id:
        found = ballot_in_progress(session, needs.evaluation_id, account, config.secret_key, now)
        if found is not None:
            evaluation, where = found
            loaded_ballots[evaluation.id] = found
            return _ballot_view(session, evaluation, where)
    others: list[tuple[str, str]] = []
    if evaluation is None and needs.member_evaluation:
        evaluation, others = _invited_evaluation(session, account, config, now)
    if evaluation is None and needs.member_evaluation and member_orgs and campaign is not None:
        evaluation = session.scalar(
            select(Evaluation)
            .join(Inspection)
            .where(Inspection.campaign_id == campaign.id, Inspection.organisation_id.in_(member_orgs))
            .order_by(Evaluation.id.desc())
            .limit(1)
        )
    if evaluation is None:
        return None
    return _ballot_view(
        session, evaluation, standing(session, evaluation, account, config.secret_key, now), others
    )


def coded_ballot(
    session: Session, account: Caller, code: str, config: Config, now: datetime, codes: WrongCodes | None
) -> BallotView:
    """`测评 CODE` (or the scene eval:CODE): the evaluation as the code's sender may see it. A code that
    names no evaluation, or one whose electorate the sender is not in (not invited, no open place, its
    assessor, or closed before they voted), gets the same answer, names no union and counts as a wrong
    code (service/codes.py); a full one says so without the union's name."""
    if not CODE_PATTERN.fullmatch(code):  # not a code at all: neither looked up nor counted
        return BallotView(0, "", (), "not_found", code=code[:32])
    limit = codes.refused(EVALUATION, account.openid) if codes is not None else None
    if limit is not None:
        return BallotView(0, "", (), RATE_LIMITED if limit == Limit.SENDER else LOCKED, code=code)
    evaluation = session.scalar(select(Evaluation).where(Evaluation.code == code))
    where = standing(session, evaluation, account, config.secret_key, now) if evaluation else None
    if evaluation is None or where is None or not _in_electorate(where):
        over = codes.failed(session, EVALUATION, account.openid, now) if codes is not None else None
        return BallotView(0, "", (), LOCKED if over else "not_found", code=code)
    if where.status == "full":
        return BallotView(evaluation.id, "", (), "full", code=evaluation.code)
    return _ballot_view(session, evaluation, where)


def _in_electorate(where: Standing) -> bool:
    """Whether the sender is (or was, having voted) in the evaluation's electorate, or holds a code of
    its open places (full: they came too late)."""
    if where.status == "closed":
        return where.bound
    return where.status in ("open", "voted", "full")


def _ballot_view(
    session: Session, evaluation: Evaluation, where: Standing, others: list[tuple[str, str]] | None = None
) -> BallotView:
    inspection = evaluation.inspection
    return BallotView(
        evaluation_id=evaluation.id,
        org_name=inspection.organisation.name,
        dimensions=rubric_of(session, inspection).dimensions,
        status=where.status,
        answers=where.draft,
        code=evaluation.code,
        others=tuple(others or ()),
    )


def _ballot_in_progress_query() -> Select[tuple[Evaluation, bool, bool, bool, list[int] | None]]:
    """The evaluation ``evaluation_id`` with its inspection and organisation, and whether the account
    ``account_id`` (voting as ``voter``) is invited, assesses the union or chairs it, has voted, and
    its draft so far — one statement, built once (SQLAlchemy caches its compiled form)."""
    account_id: BindParameter[int] = bindparam("account_id")
    voter: BindParameter[str] = bindparam("voter")
    assesses = or_(
        Inspection.assessor_account_id == account_id,
        exists().where(
            RoleBinding.account_id == account_id,
            or_(
                (RoleBinding.organisation_id == Organisation.parent_id)
                & RoleBinding.role.in_(ASSESSOR_ROLES),
                (RoleBinding.organisation_id == Organisation.id) & (RoleBinding.role == CHAIR),
            ),
        ),
    )
    invited = exists().where(
        EvaluationParticipant.evaluation_id == Evaluation.id, EvaluationParticipant.account_id == account_id
    )
    voted = exists().where(
        EvaluationVoter.evaluation_id == Evaluation.id, EvaluationVoter.voter_hash == voter
    )
    draft = (
        select(BallotDraft.answers)
        .where(BallotDraft.evaluation_id == Evaluation.id, BallotDraft.voter_hash == voter)
        .scalar_subquery()
    )
    return (
        select(Evaluation, invited, assesses, voted, draft)
        .join(Evaluation.inspection)
        .join(Inspection.organisation)
        .options(contains_eager(Evaluation.inspection).contains_eager(Inspection.organisation))
        .where(Evaluation.id == bindparam("evaluation_id"))
    )


_BALLOT_IN_PROGRESS = _ballot_in_progress_query()


def ballot_in_progress(
    session: Session, evaluation_id: int, account: Caller, secret: str, now: datetime
) -> tuple[Evaluation, Standing] | None:
    """The evaluation of a ballot in progress with the voter's standing in it — one statement: the
    evaluation with its inspection and organisation, whether the voter is invited, assesses the
    union or chairs it, has voted, and the draft so far."""
    voter = voter_hash(secret, evaluation_id, account.openid)
    row = session.execute(
        _BALLOT_IN_PROGRESS, {"evaluation_id": evaluation_id, "account_id": account.id, "voter": voter}
    ).first()
    if row is None:
        return None
    evaluation, is_invited, is_assessor, has_voted, answers = cast(
        "tuple[Evaluation, bool, bool, bool, list[int] | None]", tuple(row)
    )
    bound = bool(is_invited) and not is_assessor
    return evaluation, standing_of(evaluation, voter, bound, bool(is_assessor), bool(has_voted), answers, now)


def _invited_evaluation(
    session: Session, account: Caller, config: Config, now: datetime
) -> tuple[Evaluation | None, list[tuple[str, str]]]:
    """`测评` without a code: the open evaluation the user is invited to and has not yet cast (one
    with a ballot in progress first), and the others still waiting for them."""
    invited = session.scalars(
        select(Evaluation)
        .join(EvaluationParticipant, EvaluationParticipant.evaluation_id == Evaluation.id)
        .where(
            EvaluationParticipant.account_id == account.id,
            Evaluation.waived_at.is_(None),
            Evaluation.closes_at > now,
        )
        .order_by(Evaluation.id)
    ).all()
    waiting = []
    for evaluation in invited:
        where = standing(session, evaluation, account, config.secret_key, now)
        if where.status == "open":
            waiting.append((evaluation, bool(where.draft)))
    if not waiting:
        return None, []
    waiting.sort(key=lambda pair: not pair[1])  # a ballot in progress first
    chosen = waiting[0][0]
    others = [(e.inspection.organisation.name, e.code) for e, _ in waiting[1:]]
    return chosen, others


def result_view(
    session: Session, account: Caller, orgs: list[int], campaign: Campaign | None, now: datetime
) -> ResultView | None:
    """The published result of the first of the user's organisations that has one."""
    if campaign is None or not orgs:
        return None
    inspection = session.scalar(
        _inspection_query()
        .where(
            Inspection.campaign_id == campaign.id,
            Inspection.organisation_id.in_(orgs),
            Inspection.state.in_(values(PUBLISHED)),
        )
        .order_by(Inspection.id)
        .limit(1)
    )
    return _result_of(session, account, inspection, now, own=True)


def coded_result_view(
    session: Session, account: Caller, code: str, orgs: list[int], campaign: Campaign | None, now: datetime
) -> ResultView | None:
    """`结果 CODE` / `异议 CODE 理由`: the result of the union with ``code``, whole when it is one of the
    user's ``orgs``; for anyone else only while it is in publication (what the 公示 itself makes
    public), else None — the same as for a code that names no union."""
    if campaign is None:
        return None
    inspection = session.scalar(
        _inspection_query()
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(
            Inspection.campaign_id == campaign.id,
            func.upper(Organisation.code) == code.upper(),
            Inspection.state.in_(values(PUBLISHED)),
        )
        .limit(1)
    )
    if inspection is None:
        return None
    own = inspection.organisation_id in orgs
    if not own and not _in_publication(inspection, now):
        return None
    return _result_of(session, account, inspection, now, own=own)


def _in_publication(inspection: Inspection, now: datetime) -> bool:
    """Published (or objected) and its period not over: objections are taken."""
    ends = inspection.publication_ends_at
    return InspectionState(inspection.state) in OBJECTABLE and ends is not None and as_utc(ends) > now


def _result_of(
    session: Session, account: Caller, inspection: Inspection | None, now: datetime, own: bool
) -> ResultView | None:
    if inspection is None or inspection.publication_ends_at is None:
        return None
    rubric = rubric_of(session, inspection)
    totals: tuple[tuple[str, Decimal, int], ...] = ()
    if own:
        _, assessed = item_scores(session, inspection.id)
        totals = tuple(
            (
                d,
                raw_total(assessed[i.no] for i in rubric.items_of(d) if i.no in assessed),
                rubric.dimension_max(d),
            )
            for d in rubric.dimensions
        )
    state = InspectionState(inspection.state)
    objected = session.scalar(
        select(Objection.id).where(
            Objection.inspection_id == inspection.id,
            Objection.publication_round == inspection.publication_round,
            Objection.account_id == account.id,
        )
    )
    return ResultView(
        inspection_id=inspection.id,
        org_name=inspection.organisation.name,
        year=inspection.campaign.year,
        rubric_key=inspection.rubric_key,
        rubric=rubric,
        state_label=state.label,
        round=inspection.publication_round,
        score=Decimal(inspection.score or 0),
        raw_total=Decimal(inspection.raw_total or 0),
        stars=inspection.stars or 1,
        stars_reason=inspection.override_reason or inspection.stars_reason or "",
        below_standard=inspection.below_standard,
        dimension_totals=totals,
        publication_ends=local_date(inspection.publication_ends_at),
        objection_open=_in_publication(inspection, now),
        already_objected=objected is not None,
        democratic=figures(session, inspection, now) if own else None,
        org_code=inspection.organisation.code,
        own=own,
    )


def children_status(
    session: Session, org_ids: list[int], campaign: Campaign | None, limit: int = MAX_CHILDREN_LISTED
) -> tuple[tuple[ChildStatus, ...], int]:
    """The first ``limit`` inspections of the organisations directly below the user's federations, with
    their self and assessed totals, and how many there are — three queries, however large the county."""
    if campaign is None or not org_ids:
        return (), 0
    below = (Inspection.campaign_id == campaign.id, Organisation.parent_id.in_(org_ids))
    # In the official order (counties in theirs, the city-direct unions last): the first ``limit``.
    place = load_tree(session).official_places()
    ids = session.scalars(
        select(Organisation.id)
        .select_from(Inspection)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(*below)
    ).all()
    total = len(ids)
    first = sorted(ids, key=lambda org_id: (place.get(org_id, len(place)), org_id))[:limit]
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.code,
            Organisation.name,
            Inspection.state,
            func.sum(ItemScore.self_score),
            func.sum(ItemScore.assessed_score),
        )
        .select_from(Inspection)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .outerjoin(ItemScore, ItemScore.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id, Organisation.id.in_(first))
        .group_by(Organisation.id, Organisation.code, Organisation.name, Inspection.state)
    ).all()
    rows = sorted(rows, key=lambda row: first.index(row[0]))
    statuses = tuple(
        ChildStatus(
            code,
            name,
            InspectionState(state).label,
            format_score(Decimal(own)) if own is not None else "",
            format_score(Decimal(assessed)) if assessed is not None else "",
        )
        for _id, code, name, state, own, assessed in rows
    )
    return statuses, total


def _coverage_lines(
    session: Session, campaign: Campaign | None, bindings: Sequence[Binding]
) -> tuple[CoverageLine, ...]:
    """The coverage rows an evaluator's or admin's federations are responsible for."""
    federations = {b.code for b in bindings if b.role in ("evaluator", "admin")}
    if campaign is None or not federations:
        return ()
    roots = {b.code for b in bindings if b.role in ("evaluator", "admin") and b.parent_id is None}
    rows = coverage(session, campaign)
    chosen = rows if roots else [r for r in rows if r.code in federations and r.name != CITY_DIRECT]
    return tuple(
        CoverageLine(
            r.name,
            r.rated,
            r.unions,
            r.share,
            r.target,
            r.cumulative_share,
        )
        for r in chosen
    )


class _Oversight(NamedTuple):
    """What an evaluator's or admin's 进度 shows: the unions below, the coverage, waiting objections."""

    children: tuple[ChildStatus, ...] = ()
    children_total: int = 0
    coverage: tuple[CoverageLine, ...] = ()
    objections: tuple[ObjectionView, ...] = ()


@dataclass
class _TurnReader:
    """Reads the parts of one turn's context ``needs`` asks for, one method per part (each returns
    nothing when the turn does not need it), and collects what the Applier may rely on."""

    session: Session
    account: Caller
    needs: Needs
    config: Config
    now: datetime
    codes: WrongCodes | None
    bindings: list[Binding]
    locked: dict[int, Inspection] = field(default_factory=dict)
    ballots: dict[int, tuple[Evaluation, Standing]] = field(default_factory=dict)
    rows: dict[int, InspectionRow] = field(default_factory=dict)

    @property
    def held(self) -> frozenset[tuple[int, str]]:
        return frozenset((b.org_id, b.role) for b in self.bindings)

    @property
    def chair_orgs(self) -> list[int]:
        """The inspected unions the user chairs."""
        return [b.org_id for b in self.bindings if b.role == "chair" and b.rubric_key is not None]

    @property
    def member_orgs(self) -> list[int]:
        return [b.org_id for b in self.bindings if b.role == "member"]

    def roles(self) -> tuple[RoleView, ...]:
        return tuple(
            RoleView(b.role, b.code, b.name, top=b.parent_id is None, inspected=b.rubric_key is not None)
            for b in self.bindings
        )

    def own_self_check(self) -> tuple[WalkView | None, int | None]:
        """The chair's walk and its campaign's year; its inspection, read locked, goes into ``locked``."""
        chair_orgs = self.chair_orgs
        found = chair_inspection(self.session, chair_orgs) if self.needs.self_check and chair_orgs else None
        if found is None:
            return None, None
        self.rows[found.id] = found
        return own_walk_view(self.session, found), found.year

    def campaign(self, year: int | None) -> tuple[Campaign | None, int | None]:
        """The open campaign, when the turn needs it or the chair's walk did not tell the year, and
        the campaign's year."""
        if not (self.needs.campaign or (self.needs.self_check and year is None)):
            return None, year
        campaign = open_campaign(self.session)
        return campaign, year or (campaign.year if campaign else None)

    def assessment(self, campaign: Campaign | None) -> AssessmentAccess | None:
        needs = self.needs
        if not (needs.assess_org or needs.assess_inspection_id):
            return None
        return assessment_access(
            self.session,
            self.account,
            campaign,
            needs,
            self.config,
            self.now,
            self.held,
            self.locked,
            self.rows,
        )

    def ballot(self, campaign: Campaign | None) -> BallotView | None:
        needs = self.needs
        if not (needs.evaluation_code or needs.evaluation_id or needs.member_evaluation):
            return None
        return ballot_view(
            self.session,
            self.account,
            needs,
            self.config,
            self.now,
            self.member_orgs,
            campaign,
            self.ballots,
            self.codes,
        )

    def results(self, campaign: Campaign | None) -> tuple[ResultView | None, ResultView | None]:
        """`结果` / `异议`: the user's own published result, and the one of the union the words name."""
        if not self.needs.result:
            return None, None
        own_orgs = self.chair_orgs + self.member_orgs
        result = result_view(self.session, self.account, own_orgs, campaign, self.now)
        code = self.needs.result_code
        if not code:
            return result, None
        return result, coded_result_view(self.session, self.account, code, own_orgs, campaign, self.now)

    def oversight(self, campaign: Campaign | None) -> _Oversight:
        """The unions directly below the user's federations (all below an admin's), their coverage,
        and the objections waiting for the evaluator's re-review."""
        if not self.needs.children:
            return _Oversight()
        session, bindings = self.session, self.bindings
        evaluated = {b.org_id for b in bindings if b.role == "evaluator"}
        parents = set(evaluated)
        for b in bindings:
            if b.role == "admin":
                parents |= descendants(session, b.org_id)
        children, total = children_status(session, sorted(parents), campaign)
        coverage_lines = _coverage_lines(session, campaign, bindings)
        return _Oversight(children, total, coverage_lines, pending(session, sorted(evaluated)))

    def remediation(self) -> RemediationView | None:
        """The remediation (补课) of the newest inspection of the chair's unions that has one."""
        chair_orgs = self.chair_orgs
        if not (self.needs.remediation and chair_orgs):
            return None
        inspection = self.session.scalar(
            _inspection_query()
            .join(Remediation, Remediation.inspection_id == Inspection.id)
            .where(Inspection.organisation_id.in_(chair_orgs))
            .order_by(Inspection.id.desc())
            .limit(1)
        )
        return remediation_view(self.session, inspection) if inspection is not None else None

    def filed_objections(self) -> tuple[FiledObjection, ...]:
        """`进度`: the objections the user filed, with their outcomes."""
        if not self.needs.filed_objections:
            return ()
        return filed_by(self.session, self.account.id, self.now)


def load_context(
    session: Session,
    account: Caller,
    needs: Needs,
    config: Config,
    now: datetime,
    codes: WrongCodes | None = None,
) -> tuple[UserContext, Loaded]:
    """The context of one turn and what it loaded; only the parts ``needs`` asks for (a code it looks
    up is counted against ``codes`` when it is wrong). The parts are read in this order, which is the
    order the turn's rows are locked in."""
    reader = _TurnReader(session, account, needs, config, now, codes, bindings_of(session, account.id))
    view, year = reader.own_self_check()
    campaign, year = reader.campaign(year)
    access = reader.assessment(campaign)
    ballot = reader.ballot(campaign)
    result, coded = reader.results(campaign)
    oversight = reader.oversight(campaign)
    context = UserContext(
        roles=reader.roles(),
        self_check=view,
        campaign_year=year,
        assessment=access,
        ballot=ballot,
        result=result,
        coded_result=coded,
        children=oversight.children,
        children_total=oversight.children_total,
        coverage=oversight.coverage,
        objections=oversight.objections,
        remediation=reader.remediation(),
        filed_objections=reader.filed_objections(),
    )
    return context, Loaded(reader.held, reader.locked, reader.ballots, reader.rows)

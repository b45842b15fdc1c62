"""What is due at an instant: the reminders of design §8 / issue 5, queued in the outbox.

Every reminder is one row of ``REMINDERS``: its kind, who gets it, the dates it counts from and its
offsets (``REMIND_*_DAYS``), the rows it reads and its sentence (chatbot/notify/texts.py). One engine
(``_queue``) walks the table. Each reminder's dedup key names its deadline offset, so ticking again —
or two processes ticking at once — queues nothing new. Times are Asia/Shanghai days. Each kind of
reminder is one selection and one INSERT of its notices, whatever the number of unions and people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import grid, order
from chatbot.inspection.coverage import coverage
from chatbot.inspection.evaluations import not_assessors, voter_hash
from chatbot.inspection.hierarchy import load_tree
from chatbot.inspection.rubric_versions import rubric_for
from chatbot.notify import texts
from chatbot.store.models import (
    Account,
    Campaign,
    CountyPlan,
    CountyReport,
    Evaluation,
    EvaluationParticipant,
    EvaluationVoter,
    GridAssignment,
    Inspection,
    ItemScore,
    Organisation,
    Remediation,
    RoleBinding,
)
from chatbot.store.notice_kinds import NoticeKind
from chatbot.store.outbox import Notice, enqueue_many, enqueue_to_roles, facts_json
from chatbot.timeutil import SHANGHAI, as_utc
from rubrics.deadlines import due_offset, report_due
from rubrics.lifecycle import ASSESSABLE, NOT_SUBMITTED, RE_REVIEWABLE, InspectionState, values
from rubrics.scoring import format_percent

S = InspectionState


@dataclass(frozen=True)
class Scope:
    """What one reminder reads at one instant: of one campaign (``campaign``), or of all."""

    session: Session
    config: Config
    today: date
    now: datetime
    offsets: tuple[int, ...] = ()
    campaign: Campaign | None = None
    #: a union's deadlines: the county's own where its plan sets them, else the campaign's
    deadlines: Callable[[int], grid.Deadlines] = lambda _organisation_id: grid.Deadlines(None, None)

    def offset(self, deadline: date | None) -> int | None:
        """The reminder offset due today before ``deadline`` (None: none)."""
        return due_offset(self.today, deadline, self.offsets) if deadline is not None else None

    @property
    def the_campaign(self) -> Campaign:
        assert self.campaign is not None, "a reminder of one campaign"
        return self.campaign


@dataclass(frozen=True)
class Due:
    """One notice a reminder may queue: its dedup key (after the reminder's stem), the deadline it counts
    from, who gets it (the organisation whose ``roles`` are told, or the accounts) and what its
    sentence says beside the deadline."""

    key: str
    deadline: date
    says: dict[str, Any]
    organisation: int | None = None
    accounts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Reminder:
    """One row of the table: a kind of reminder, declared."""

    kind: NoticeKind
    #: the dedup key's stem
    key: str
    #: the roles told at each ``Due``'s organisation; ``VOTERS``: each ``Due``'s accounts
    roles: tuple[str, ...] | None
    #: ``Config.offsets``'s name for its days before the deadline; ``ONCE_PAST``: once the deadline is past
    offsets: str | None
    #: the rows it reads, as the notices they may give
    rows: Callable[[Scope], Iterable[Due]]
    #: its sentence (chatbot/notify/texts.py), filled with ``due``, ``days`` and each ``Due``'s ``says``
    sentence: str
    #: the campaign's dates it counts from, checked before any row is read; ``EVERY_CAMPAIGN``: its rows
    #: carry their own dates and are read once for every open campaign
    counts_from: Callable[[Scope], list[date | None]] | None

    @property
    def per_campaign(self) -> bool:
        return self.counts_from is not None


#: Told: the accounts each ``Due`` names (not the holders of roles).
VOTERS = None
#: Offsets: none — sent once, the day after the deadline has passed.
ONCE_PAST = None
#: Counts from: each row's own date, read once for every open campaign.
EVERY_CAMPAIGN = None


# ---------------------------------------------------------------- the rows each reminder reads


def _campaign_inspections(scope: Scope, states: frozenset[InspectionState], *columns: Any) -> Any:
    """The campaign's inspections in ``states``, by id: each with its union's id and name and ``columns``."""
    return (
        select(Inspection.id, Inspection.organisation_id, Organisation.name, *columns)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Inspection.campaign_id == scope.the_campaign.id, Inspection.state.in_(values(states)))
        .order_by(Inspection.id)
    )


def _self_checks(scope: Scope) -> Iterator[Due]:
    """Chairs whose self-check is not submitted, before its deadline (the county's own, where set)."""
    answered = func.count(ItemScore.id).label("answered")
    query = _campaign_inspections(
        scope, NOT_SUBMITTED, Inspection.rubric_key, Inspection.rubric_version, answered
    )
    answers = and_(ItemScore.inspection_id == Inspection.id, ItemScore.self_score.is_not(None))
    rows = scope.session.execute(
        query.outerjoin(ItemScore, answers).group_by(
            Inspection.id,
            Inspection.organisation_id,
            Organisation.name,
            Inspection.rubric_key,
            Inspection.rubric_version,
        )
    )
    for row in rows:
        due = scope.deadlines(row.organisation_id).self_check_due
        if due is not None:
            total = rubric_for(scope.session, row.rubric_key, row.rubric_version).item_count
            says = {"name": row.name, "year": scope.the_campaign.year, "answered": row.answered}
            yield Due(f"{row.id}:", due, says | {"total": total}, organisation=row.organisation_id)


def _reviews(scope: Scope) -> Iterator[Due]:
    """Evaluators while a submitted self-check waits, before the review deadline (the county's own)."""
    query = _campaign_inspections(scope, ASSESSABLE, Organisation.code, Organisation.parent_id)
    rows = scope.session.execute(query)
    for row in rows:
        due = scope.deadlines(row.organisation_id).review_due
        if due is not None:
            yield Due(f"{row.id}:", due, {"name": row.name, "code": row.code}, organisation=row.parent_id)


def _coverage(scope: Scope) -> Iterator[Due]:
    """Counties whose cumulative share is below the year's target, or below their own plan's."""
    campaign = scope.the_campaign
    counties = {county.code: county for county in order.federations(scope.session)}
    for row in coverage(scope.session, campaign):
        county = counties.get(row.code)
        if county is None or row.unions == 0 or (row.on_target and row.on_plan is not False):
            continue
        due = scope.deadlines(county.id).review_due
        if due is not None:
            below = texts.coverage_below(
                campaign.year, row.target, row.plan_target if row.on_target else None
            )
            share = format_percent(row.cumulative_share)
            says = {"name": county.name, "ever_rated": row.ever_rated, "unions": row.unions, "share": share}
            says |= {"below": below, "rated": row.rated}
            yield Due(f"{campaign.id}:{county.id}:", due, says, organisation=county.id)


def _reports(scope: Scope) -> Iterator[Due]:
    """County and zone federations whose annual summary (electronic or stamped paper) is missing."""
    campaign = scope.the_campaign
    due = report_due(campaign.year, campaign.report_due_month, campaign.report_due_day)[0]
    reports = {
        report.organisation_id: report
        for report in scope.session.scalars(
            select(CountyReport).where(CountyReport.campaign_id == campaign.id)
        )
    }
    for county in order.federations(scope.session):
        report = reports.get(county.id)
        received = {
            "电子版": report and report.electronic_received_at,
            "纸质盖章版": report and report.paper_received_at,
        }
        missing = [name for name, at in received.items() if not at]
        if missing:
            says = {"name": county.name, "year": campaign.year, "missing": "、".join(missing)}
            yield Due(f"{campaign.id}:{county.id}:", due, says, organisation=county.id)


def _evaluations(scope: Scope) -> Iterator[Due]:
    """Bound participants who have not voted, before their evaluation closes."""
    running = (Evaluation.closes_at > scope.now, Evaluation.waived_at.is_(None))
    due: dict[int, tuple[date, str, str]] = {}  # evaluation → closes, code, union's name
    for evaluation_id, closes_at, code, name in scope.session.execute(
        select(Evaluation.id, Evaluation.closes_at, Evaluation.code, Organisation.name)
        .join(Inspection, Evaluation.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(*running)
        .order_by(Evaluation.id)
    ):
        closes = as_utc(closes_at).astimezone(SHANGHAI).date()
        if scope.offset(closes) is not None:
            due[evaluation_id] = (closes, code, name)
    if not due:
        return
    idle = _not_voted(scope, running, due)
    for evaluation_id, (closes, code, name) in due.items():
        says = {"name": name, "code": code}
        yield Due(f"{evaluation_id}:", closes, says, accounts=tuple(idle[evaluation_id]))


def _not_voted(scope: Scope, running: tuple[Any, ...], due: dict[int, Any]) -> dict[int, list[int]]:
    """The bound participants (not the assessors) of each due evaluation who have not voted."""
    voted: dict[int, set[str]] = defaultdict(set)
    for evaluation_id, voter in scope.session.execute(
        select(EvaluationVoter.evaluation_id, EvaluationVoter.voter_hash)
        .join(Evaluation, EvaluationVoter.evaluation_id == Evaluation.id)
        .where(*running)
    ):
        voted[evaluation_id].add(voter)
    idle: dict[int, list[int]] = defaultdict(list)
    for evaluation_id, account_id, openid in scope.session.execute(
        select(EvaluationParticipant.evaluation_id, EvaluationParticipant.account_id, Account.openid)
        .join(Account, EvaluationParticipant.account_id == Account.id)
        .join(Evaluation, EvaluationParticipant.evaluation_id == Evaluation.id)
        .join(Inspection, Evaluation.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(*running, *not_assessors())
        .order_by(EvaluationParticipant.evaluation_id, EvaluationParticipant.account_id)
    ):
        if (
            evaluation_id in due
            and voter_hash(scope.config.secret_key, evaluation_id, openid) not in voted[evaluation_id]
        ):
            idle[evaluation_id].append(account_id)
    return idle


def _pending_re_reviews(scope: Scope) -> list[Any]:
    """Objections waiting for their re-review, with its due instant."""
    return list(
        scope.session.execute(
            select(
                Inspection.id,
                Inspection.publication_round,
                Inspection.re_review_due_at,
                Inspection.organisation_id,
                Organisation.code,
                Organisation.name,
                Organisation.parent_id,
            )
            .join(Organisation, Inspection.organisation_id == Organisation.id)
            .where(
                Inspection.state.in_(values(RE_REVIEWABLE)),
                Inspection.re_review_due_at.is_not(None),
            )
            .order_by(Inspection.id)
        ).all()
    )


def _overdue_re_reviews(scope: Scope) -> Iterator[Due]:
    """Re-reviews past their 10 days, to the city's admins (the root of the union's tree)."""
    tree = None
    for row in _pending_re_reviews(scope):
        due_at = as_utc(row.re_review_due_at)
        if scope.now > due_at:
            tree = tree or load_tree(scope.session)
            city = tree.root_of(row.organisation_id).id
            says = {"union": f"{row.name}（{row.code}）"}
            due = due_at.astimezone(SHANGHAI).date()
            yield Due(f"{row.id}:{row.publication_round}:", due, says, organisation=city)


def _re_reviews(scope: Scope) -> Iterator[Due]:
    """Re-reviews within their 10 days, to the evaluator (the parent union)."""
    for row in _pending_re_reviews(scope):
        due_at = as_utc(row.re_review_due_at)
        if scope.now <= due_at:
            due = due_at.astimezone(SHANGHAI).date()
            says = {"name": row.name, "code": row.code}
            yield Due(f"{row.id}:{row.publication_round}:", due, says, organisation=row.parent_id)


def _remediations(scope: Scope) -> Iterator[Due]:
    """Chairs of unions whose remediation (补课) is open, before its due date."""
    pending = scope.session.execute(
        select(
            Remediation.id, Remediation.due_on, Inspection.organisation_id, Organisation.name, Campaign.year
        )
        .join(Inspection, Remediation.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .join(Campaign, Inspection.campaign_id == Campaign.id)
        .where(Remediation.status == "open")
        .order_by(Remediation.id)
    )
    for row in pending:
        says = {"name": row.name, "year": row.year}
        yield Due(f"{row.id}:", row.due_on, says, organisation=row.organisation_id)


# ---------------------------------------------------------------- the dates they count from


def _self_check_dates(scope: Scope) -> list[date | None]:
    """The campaign's self-check deadline and the counties' own."""
    return [scope.the_campaign.self_check_due, *_plan_dates(scope, CountyPlan.self_check_due)]


def _review_dates(scope: Scope) -> list[date | None]:
    """The campaign's review deadline and the counties' own."""
    return [scope.the_campaign.review_due, *_plan_dates(scope, CountyPlan.review_due)]


def _report_date(scope: Scope) -> list[date | None]:
    """The annual summary's date: month/day of the following year."""
    campaign = scope.the_campaign
    return [report_due(campaign.year, campaign.report_due_month, campaign.report_due_day)[0]]


def _plan_dates(scope: Scope, column: Any) -> list[date | None]:
    """The counties' own deadlines of the campaign in ``column`` (one query)."""
    query = select(column).where(CountyPlan.campaign_id == scope.the_campaign.id, column.is_not(None))
    return list(scope.session.scalars(query))


# ---------------------------------------------------------------- the table and its engine

CHAIR, EVALUATOR, ADMIN = ("chair",), ("evaluator",), ("admin",)

#: Every reminder, in the order it is queued (the campaigns' first, then those of every campaign).
REMINDERS: tuple[Reminder, ...] = (
    #        kind                           dedup key             told        offsets        rows                  sentence                      counts from
    Reminder(NoticeKind.SELF_CHECK_DUE,     "self-check-due",     CHAIR,      "self_check",  _self_checks,         texts.SELF_CHECK_DUE,         _self_check_dates),
    Reminder(NoticeKind.REVIEW_DUE,         "review-due",         EVALUATOR,  "review",      _reviews,             texts.REVIEW_DUE,             _review_dates),
    Reminder(NoticeKind.COVERAGE_WARNING,   "coverage",           ADMIN,      "coverage",    _coverage,            texts.COVERAGE_WARNING,       _review_dates),
    Reminder(NoticeKind.REPORT_DUE,         "report-due",         ADMIN,      "report",      _reports,             texts.REPORT_DUE,             _report_date),
    # of every campaign at once
    Reminder(NoticeKind.EVALUATION_CLOSING, "evaluation-closing", VOTERS,     "evaluation",  _evaluations,         texts.EVALUATION_CLOSING,     EVERY_CAMPAIGN),
    Reminder(NoticeKind.RE_REVIEW_OVERDUE,  "re-review-overdue",  ADMIN,      ONCE_PAST,     _overdue_re_reviews,  texts.RE_REVIEW_OVERDUE,      EVERY_CAMPAIGN),
    Reminder(NoticeKind.RE_REVIEW_DUE,      "re-review-due",      EVALUATOR,  "re_review",   _re_reviews,          texts.RE_REVIEW_DUE,          EVERY_CAMPAIGN),
    Reminder(NoticeKind.REMEDIATION_DUE,    "remediation-due",    CHAIR,      "remediation", _remediations,        texts.REMEDIATION_DUE,        EVERY_CAMPAIGN),
)  # fmt: skip


def enqueue_due(session: Session, config: Config, now: datetime) -> int:
    """Queue every reminder due at ``now``; returns how many were new."""
    everything = Scope(session, config, now.astimezone(SHANGHAI).date(), now)
    campaigns = session.scalars(select(Campaign).where(Campaign.closed_at.is_(None))).all()
    scopes = [replace(everything, campaign=c, deadlines=grid.deadlines_of(session, c)) for c in campaigns]
    queued = 0
    for scope in scopes:
        queued += sum(_queue(reminder, scope) for reminder in REMINDERS if reminder.per_campaign)
    queued += sum(_queue(reminder, everything) for reminder in REMINDERS if not reminder.per_campaign)
    for scope in scopes:  # after the others: a person who also gets one of those is not told twice
        queued += _grid_overdue(scope)
    return queued


def _queue(reminder: Reminder, scope: Scope) -> int:
    """Queue the notices of one reminder due at the scope's instant; how many were new."""
    scope = replace(scope, offsets=tuple(scope.config.offsets[reminder.offsets]) if reminder.offsets else ())
    if reminder.counts_from is not None and not any(
        scope.offset(day) is not None for day in reminder.counts_from(scope)
    ):
        return 0
    notices: list[tuple[Notice, Due]] = []
    for due in reminder.rows(scope):
        key = f"{reminder.key}:{due.key}"
        if reminder.offsets is not None:
            offset = scope.offset(due.deadline)
            if offset is None:
                continue
            key += f"T-{offset}:"
        days = texts.days_left(due.deadline, scope.today)
        text = texts.sentence(reminder.sentence, due.deadline, days=days, **due.says)
        union = due.says.get("name") or due.says.get("union") or ""
        facts = facts_json({"union": union})
        notices.append((Notice(key, text, due.deadline.isoformat(), facts), due))
    if reminder.roles is None:
        return enqueue_many(
            scope.session, reminder.kind, [(n, due.accounts) for n, due in notices], scope.now
        )
    to_roles = [(n, due.organisation) for n, due in notices]
    return enqueue_to_roles(scope.session, reminder.kind, to_roles, reminder.roles, scope.now)


# ---------------------------------------------------------------- 网格化管理: overdue steps


def _grid_overdue(scope: Scope) -> int:
    """网格化管理: each overdue step of a union (self-check, assessment, re-review, remediation) told
    once to its responsible person when that person is a WeChat account (an evaluator binding; a
    console user sees it on the dashboard). A re-review's notice shares the key of the city admins'
    overdue notice, so nobody who is both gets it twice."""
    campaign = scope.the_campaign
    rows = scope.session.execute(
        select(
            Inspection.id,
            Inspection.organisation_id,
            Inspection.state,
            Inspection.re_review_due_at,
            Inspection.publication_round,
            Organisation.code,
            Organisation.name,
            RoleBinding.account_id,
            Remediation.id.label("remediation_id"),
            Remediation.status,
            Remediation.due_on,
        )
        .join(GridAssignment, GridAssignment.organisation_id == Inspection.organisation_id)
        .join(RoleBinding, GridAssignment.role_binding_id == RoleBinding.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .outerjoin(Remediation, Remediation.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id, GridAssignment.campaign_id == campaign.id)
        .order_by(Inspection.id)
    ).all()
    notices: list[tuple[Notice, list[int]]] = []
    for row in rows:
        pending = (row.status, row.due_on) if row.remediation_id is not None else None
        steps = grid.overdue_steps(
            S(row.state),
            scope.deadlines(row.organisation_id),
            row.re_review_due_at,
            pending,
            scope.today,
            scope.now,
        )
        for step, due in steps:
            key, text = _grid_notice(step, row, campaign.year, due)
            facts = facts_json({"union": row.name})
            notices.append((Notice(key, text, due.isoformat(), facts), [row.account_id]))
    return enqueue_many(scope.session, NoticeKind.GRID_OVERDUE, notices, scope.now)


def _grid_notice(step: grid.Step, row: Any, year: int, due: date) -> tuple[str, str]:
    """The dedup key stem and text of one overdue step's notice to the responsible person."""
    union = texts.GRID_UNION.format(name=row.name, code=row.code)
    if step is grid.Step.SELF_CHECK:
        text = texts.sentence(
            texts.GRID_SELF_CHECK_OVERDUE, due, union=union, year=year, state=S(row.state).label
        )
        return f"self-check-overdue:{row.id}:", text
    if step is grid.Step.REVIEW:
        return f"review-overdue:{row.id}:", texts.sentence(texts.GRID_REVIEW_OVERDUE, due, union=union)
    if step is grid.Step.RE_REVIEW:
        key = f"re-review-overdue:{row.id}:{row.publication_round}:"
        return key, texts.sentence(texts.RE_REVIEW_OVERDUE, due, union=union)
    text = texts.sentence(texts.GRID_REMEDIATION_OVERDUE, due, union=union, year=year)
    return f"remediation-overdue:{row.remediation_id}:", text

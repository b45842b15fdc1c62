"""What is due at an instant: the reminders of design §8 / issue 5, queued in the outbox.

Each reminder's dedup key names its deadline offset, so ticking again — or two processes ticking at
once — queues nothing new. Times are Asia/Shanghai days. Each kind of reminder is one selection and one
INSERT of its notices, whatever the number of unions and people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import grid, order
from chatbot.inspection.coverage import coverage
from chatbot.inspection.evaluations import not_assessors, voter_hash
from chatbot.inspection.hierarchy import load_tree
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
from chatbot.store.outbox import Notice, enqueue_many, enqueue_to_roles
from chatbot.timeutil import SHANGHAI, as_utc
from rubrics import get_rubric
from rubrics.deadlines import due_offset, report_due
from rubrics.lifecycle import ASSESSABLE, NOT_SUBMITTED, RE_REVIEWABLE, InspectionState, values
from rubrics.scoring import format_percent

S = InspectionState


def enqueue_due(session: Session, config: Config, now: datetime) -> int:
    """Queue every reminder due at ``now``; returns how many were new."""
    today = now.astimezone(SHANGHAI).date()
    queued = 0
    campaigns = session.scalars(select(Campaign).where(Campaign.closed_at.is_(None))).all()
    local = {campaign.id: grid.deadlines_of(session, campaign) for campaign in campaigns}
    for campaign in campaigns:
        deadlines = local[campaign.id]
        queued += _self_check(session, config, campaign, deadlines, today, now)
        queued += _review(session, config, campaign, deadlines, today, now)
        queued += _coverage(session, config, campaign, deadlines, today, now)
        queued += _report(session, config, campaign, today, now)
    queued += _evaluations(session, config, today, now)
    queued += _re_reviews(session, config, today, now)
    queued += _remediations(session, config, today, now)
    for campaign in campaigns:  # after the others: a person who also gets one of those is not told twice
        queued += _grid_overdue(session, campaign, local[campaign.id], today, now)
    return queued


def _days(deadline: date, today: date) -> str:
    left = (deadline - today).days
    return "今天截止" if left == 0 else f"还有 {left} 天"


def _due_today(offsets: tuple[int, ...] | list[int], today: date, dates: list[date | None]) -> bool:
    """Whether any of the deadlines has a reminder offset due today."""
    return any(due is not None and due_offset(today, due, offsets) is not None for due in dates)


def _self_check(
    session: Session,
    config: Config,
    campaign: Campaign,
    deadlines: Callable[[int], grid.Deadlines],
    today: date,
    now: datetime,
) -> int:
    """T-7, T-3, T-1 before the self-check deadline (the county's own, where its plan sets one), to
    chairs who have not submitted."""
    offsets = config.offsets["self_check"]
    if not _due_today(offsets, today, [campaign.self_check_due, *_plan_dates(session, campaign, "self")]):
        return 0
    rows = session.execute(
        select(
            Inspection.id,
            Inspection.rubric_key,
            Inspection.organisation_id,
            Organisation.name,
            func.count(ItemScore.id).label("answered"),
        )
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .outerjoin(
            ItemScore, and_(ItemScore.inspection_id == Inspection.id, ItemScore.self_score.is_not(None))
        )
        .where(Inspection.campaign_id == campaign.id, Inspection.state.in_(values(NOT_SUBMITTED)))
        .group_by(Inspection.id, Inspection.rubric_key, Inspection.organisation_id, Organisation.name)
        .order_by(Inspection.id)
    )
    notices = []
    for row in rows:
        due = deadlines(row.organisation_id).self_check_due
        offset = due_offset(today, due, offsets) if due else None
        if due is None or offset is None:
            continue
        total = get_rubric(row.rubric_key).item_count
        text = (
            f"{row.name} {campaign.year} 年度自查自评将于 {due.isoformat()} 截止（{_days(due, today)}），"
            f"目前已答 {row.answered}/{total} 项。发送“自评”继续，全部作答后发送“提交”。"
        )
        notice = Notice(f"self-check-due:{row.id}:T-{offset}:", text, due.isoformat())
        notices.append((notice, row.organisation_id))
    return enqueue_to_roles(session, "self_check_due", notices, ("chair",), now)


def _review(
    session: Session,
    config: Config,
    campaign: Campaign,
    deadlines: Callable[[int], grid.Deadlines],
    today: date,
    now: datetime,
) -> int:
    """Reminders to the evaluator while a submitted self-check waits for its assessment (before the
    county's own deadline, where its plan sets one)."""
    offsets = config.offsets["review"]
    if not _due_today(offsets, today, [campaign.review_due, *_plan_dates(session, campaign, "review")]):
        return 0
    rows = session.execute(
        select(
            Inspection.id,
            Inspection.organisation_id,
            Organisation.code,
            Organisation.name,
            Organisation.parent_id,
        )
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Inspection.campaign_id == campaign.id, Inspection.state.in_(values(ASSESSABLE)))
        .order_by(Inspection.id)
    )
    notices = []
    for row in rows:
        due = deadlines(row.organisation_id).review_due
        offset = due_offset(today, due, offsets) if due else None
        if due is None or offset is None:
            continue
        text = (
            f"{row.name}（{row.code}）的自评已提交，待您组织评定，截止 {due.isoformat()}（{_days(due, today)}）。"
            f"发送“考评 {row.code}”开始。"
        )
        notice = Notice(f"review-due:{row.id}:T-{offset}:", text, due.isoformat())
        notices.append((notice, row.parent_id))
    return enqueue_to_roles(session, "review_due", notices, ("evaluator",), now)


def _evaluations(session: Session, config: Config, today: date, now: datetime) -> int:
    """Before an evaluation closes, to the bound participants who have not voted."""
    running = (Evaluation.closes_at > now, Evaluation.waived_at.is_(None))
    due: dict[int, tuple[date, int, str, str]] = {}  # evaluation → closes, offset, code, union's name
    for evaluation_id, closes_at, code, name in session.execute(
        select(Evaluation.id, Evaluation.closes_at, Evaluation.code, Organisation.name)
        .join(Inspection, Evaluation.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(*running)
        .order_by(Evaluation.id)
    ):
        closes = as_utc(closes_at).astimezone(SHANGHAI).date()
        offset = due_offset(today, closes, config.offsets["evaluation"])
        if offset is not None:
            due[evaluation_id] = (closes, offset, code, name)
    if not due:
        return 0
    voted: dict[int, set[str]] = defaultdict(set)
    for evaluation_id, voter in session.execute(
        select(EvaluationVoter.evaluation_id, EvaluationVoter.voter_hash)
        .join(Evaluation, EvaluationVoter.evaluation_id == Evaluation.id)
        .where(*running)
    ):
        voted[evaluation_id].add(voter)
    idle: dict[int, list[int]] = defaultdict(list)
    for evaluation_id, account_id, openid in session.execute(
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
            and voter_hash(config.secret_key, evaluation_id, openid) not in voted[evaluation_id]
        ):
            idle[evaluation_id].append(account_id)
    notices = []
    for evaluation_id, (closes, offset, code, name) in due.items():
        text = (
            f"“{name}”民主测评将于 {closes.isoformat()} 结束"
            f"（{_days(closes, today)}），您还没有参加。发送“测评 {code}”即可匿名作答，约需 1 分钟。"
        )
        notice = Notice(f"evaluation-closing:{evaluation_id}:T-{offset}:", text, closes.isoformat())
        notices.append((notice, idle[evaluation_id]))
    return enqueue_many(session, "evaluation_closing", notices, now)


def _counties(session: Session) -> list[Organisation]:
    """County and zone federations: the non-grassroots organisations directly below the city."""
    return order.federations(session)


def _report(session: Session, config: Config, campaign: Campaign, today: date, now: datetime) -> int:
    """T-14, T-7, T-3, T-1 before the annual summary is due, to counties whose summary is missing."""
    due, _ = report_due(campaign.year, campaign.report_due_month, campaign.report_due_day)
    offset = due_offset(today, due, config.offsets["report"])
    if offset is None:
        return 0
    reports = {
        report.organisation_id: report
        for report in session.scalars(select(CountyReport).where(CountyReport.campaign_id == campaign.id))
    }
    notices = []
    for county in _counties(session):
        report = reports.get(county.id)
        missing = [
            name
            for name, at in (
                ("电子版", report and report.electronic_received_at),
                ("纸质盖章版", report and report.paper_received_at),
            )
            if not at
        ]
        if not missing:
            continue
        text = (
            f"请于 {due.isoformat()} 前（{_days(due, today)}）将{county.name} {campaign.year} 年度年检工作情况总结"
            f"（{'、'.join(missing)}）报送市总工会组织部。"
        )
        notice = Notice(f"report-due:{campaign.id}:{county.id}:T-{offset}:", text, due.isoformat())
        notices.append((notice, county.id))
    return enqueue_to_roles(session, "report_due", notices, ("admin",), now)


def _re_reviews(session: Session, config: Config, today: date, now: datetime) -> int:
    """Objection + 10 days: T-3 and T-1 to the evaluator; once overdue, to the city's admins."""
    pending = session.execute(
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
    overdue: list[tuple[Notice, int]] = []
    reminders: list[tuple[Notice, int | None]] = []
    tree = None
    for row in pending:
        due_at = as_utc(row.re_review_due_at)
        due = due_at.astimezone(SHANGHAI).date()
        key = f"{row.id}:{row.publication_round}"
        if now > due_at:
            text = (
                f"{row.name}（{row.code}）的年检结果异议已超过 10 日复查期限（{due.isoformat()}）仍未复查评定，"
                "请督促上级工会办理。"
            )
            tree = tree or load_tree(session)  # the city's admins: the root of the union's tree
            city = tree.root_of(row.organisation_id).id
            overdue.append((Notice(f"re-review-overdue:{key}:", text, due.isoformat()), city))
            continue
        offset = due_offset(today, due, config.offsets["re_review"])
        if offset is None:
            continue
        text = (
            f"{row.name}（{row.code}）的年检结果异议须于 {due.isoformat()} 前复查评定（{_days(due, today)}）。"
            f"发送“复查 {row.code}”办理。"
        )
        reminders.append((Notice(f"re-review-due:{key}:T-{offset}:", text, due.isoformat()), row.parent_id))
    return enqueue_to_roles(session, "re_review_overdue", overdue, ("admin",), now) + enqueue_to_roles(
        session, "re_review_due", reminders, ("evaluator",), now
    )


def _coverage(
    session: Session,
    config: Config,
    campaign: Campaign,
    deadlines: Callable[[int], grid.Deadlines],
    today: date,
    now: datetime,
) -> int:
    """Before the review deadline (the county's own, where its plan sets one), a warning to each county
    whose cumulative share is below the year's target, or below its own plan's."""
    offsets = config.offsets["coverage"]
    if not _due_today(offsets, today, [campaign.review_due, *_plan_dates(session, campaign, "review")]):
        return 0
    counties = {county.code: county for county in _counties(session)}
    notices = []
    for row in coverage(session, campaign):
        county = counties.get(row.code)
        if county is None or row.unions == 0 or (row.on_target and row.on_plan is not False):
            continue
        due = deadlines(county.id).review_due
        offset = due_offset(today, due, offsets) if due else None
        if due is None or offset is None:
            continue
        if row.on_target and row.plan_target is not None:
            below = f"低于本县（区）{campaign.year} 年度年检计划目标 {format_percent(row.plan_target)}"
        else:
            below = f"低于 {campaign.year} 年度目标 {format_percent(row.target)}"
        text = (
            f"{county.name}所属基层工会累计已评定 {row.ever_rated}/{row.unions} 个（{format_percent(row.cumulative_share)}），"
            f"{below}，本年度已评定 {row.rated} 个。"
            f"组织评定将于 {due.isoformat()} 截止，请加快进度。"
        )
        notice = Notice(f"coverage:{campaign.id}:{county.id}:T-{offset}:", text, due.isoformat())
        notices.append((notice, county.id))
    return enqueue_to_roles(session, "coverage_warning", notices, ("admin",), now)


def _remediations(session: Session, config: Config, today: date, now: datetime) -> int:
    """Before a remediation (补课) is due, to the chairs of unions that have not reported it done."""
    pending = session.execute(
        select(
            Remediation.id, Remediation.due_on, Inspection.organisation_id, Organisation.name, Campaign.year
        )
        .join(Inspection, Remediation.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .join(Campaign, Inspection.campaign_id == Campaign.id)
        .where(Remediation.status == "open")
        .order_by(Remediation.id)
    )
    notices = []
    for row in pending:
        offset = due_offset(today, row.due_on, config.offsets["remediation"])
        if offset is None:
            continue
        text = (
            f"{row.name} {row.year} 年度年检的补课将于 {row.due_on.isoformat()} 截止"
            f"（{_days(row.due_on, today)}）。完成后请发送“补课完成 情况说明”，上级工会将进行验收。"
        )
        notice = Notice(f"remediation-due:{row.id}:T-{offset}:", text, row.due_on.isoformat())
        notices.append((notice, row.organisation_id))
    return enqueue_to_roles(session, "remediation_due", notices, ("chair",), now)


def _plan_dates(session: Session, campaign: Campaign, which: str) -> list[date | None]:
    """The counties' own self-check (``self``) or review deadlines of the campaign (one query)."""
    column = CountyPlan.self_check_due if which == "self" else CountyPlan.review_due
    return list(
        session.scalars(select(column).where(CountyPlan.campaign_id == campaign.id, column.is_not(None)))
    )


def _grid_overdue(
    session: Session,
    campaign: Campaign,
    deadlines: Callable[[int], grid.Deadlines],
    today: date,
    now: datetime,
) -> int:
    """网格化管理: each overdue step of a union (self-check, assessment, re-review, remediation) told
    once to its responsible person when that person is a WeChat account (an evaluator binding; a
    console user sees it on the dashboard). A re-review's notice shares the key of the city admins'
    overdue notice, so nobody who is both gets it twice."""
    rows = session.execute(
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
            S(row.state), deadlines(row.organisation_id), row.re_review_due_at, pending, today, now
        )
        union = f"您负责的网格单位{row.name}（{row.code}）"
        for step, due in steps:
            key, text = _grid_notice(step, row, union, campaign.year, due)
            notices.append((Notice(key, text, due.isoformat()), [row.account_id]))
    return enqueue_many(session, "grid_overdue", notices, now)


def _grid_notice(step: grid.Step, row: Any, union: str, year: int, due: date) -> tuple[str, str]:
    """The dedup key stem and text of one overdue step's notice to the responsible person."""
    if step is grid.Step.SELF_CHECK:
        return (
            f"self-check-overdue:{row.id}:",
            f"{union} {year} 年度自查自评已于 {due.isoformat()} 截止，至今未提交（{S(row.state).label}）。"
            "请督促工会主席尽快完成自评并提交。",
        )
    if step is grid.Step.REVIEW:
        return (
            f"review-overdue:{row.id}:",
            f"{union}的自评已提交，组织评定已于 {due.isoformat()} 截止，至今未完成。请督促上级工会尽快考评。",
        )
    if step is grid.Step.RE_REVIEW:
        return (
            f"re-review-overdue:{row.id}:{row.publication_round}:",
            f"{union}的年检结果异议已超过 10 日复查期限（{due.isoformat()}）仍未复查评定，请督促上级工会办理。",
        )
    return (
        f"remediation-overdue:{row.remediation_id}:",
        f"{union} {year} 年度年检的补课已于 {due.isoformat()} 截止，至今未报告完成。请督促落实补课。",
    )

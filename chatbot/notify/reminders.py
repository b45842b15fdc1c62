"""What is due at an instant: the reminders of design §8 / issue 5, queued in the outbox.

Each reminder's dedup key names its deadline offset, so ticking again — or two processes ticking at
once — queues nothing new. Times are Asia/Shanghai days.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from chatbot.config import Config
from chatbot.inspection.coverage import coverage
from chatbot.inspection.evaluations import participants, voter_hash
from chatbot.store.models import (
    Account,
    Campaign,
    CountyReport,
    Evaluation,
    EvaluationVoter,
    Inspection,
    ItemScore,
    Organisation,
    Remediation,
)
from chatbot.store.outbox import accounts_with_role, enqueue
from chatbot.timeutil import SHANGHAI, as_utc
from rubrics import get_rubric
from rubrics.deadlines import due_offset, report_due
from rubrics.lifecycle import ASSESSABLE, NOT_SUBMITTED, RE_REVIEWABLE, InspectionState, values
from rubrics.scoring import whole_percent

S = InspectionState


def enqueue_due(session: Session, config: Config, now: datetime) -> int:
    """Queue every reminder due at ``now``; returns how many were new."""
    today = now.astimezone(SHANGHAI).date()
    queued = 0
    for campaign in session.scalars(select(Campaign).where(Campaign.closed_at.is_(None))):
        queued += _self_check(session, config, campaign, today, now)
        queued += _review(session, config, campaign, today, now)
        queued += _coverage(session, config, campaign, today, now)
        queued += _report(session, config, campaign, today, now)
    queued += _evaluations(session, config, today, now)
    queued += _re_reviews(session, config, today, now)
    queued += _remediations(session, config, today, now)
    return queued


def _days(deadline: date, today: date) -> str:
    left = (deadline - today).days
    return "今天截止" if left == 0 else f"还有 {left} 天"


def _inspections(
    session: Session, campaign: Campaign, states: frozenset[InspectionState]
) -> list[Inspection]:
    return list(
        session.scalars(
            select(Inspection)
            .options(joinedload(Inspection.organisation))
            .where(Inspection.campaign_id == campaign.id, Inspection.state.in_(values(states)))
            .order_by(Inspection.id)
        )
    )


def _self_check(session: Session, config: Config, campaign: Campaign, today: date, now: datetime) -> int:
    """T-7, T-3, T-1 before the self-check deadline, to chairs who have not submitted."""
    due = campaign.self_check_due
    offset = due_offset(today, due, config.offsets["self_check"]) if due else None
    if due is None or offset is None:
        return 0
    queued = 0
    for inspection in _inspections(session, campaign, NOT_SUBMITTED):
        org = inspection.organisation
        answered = (
            session.scalar(
                select(func.count())
                .select_from(ItemScore)
                .where(ItemScore.inspection_id == inspection.id, ItemScore.self_score.is_not(None))
            )
            or 0
        )
        total = get_rubric(inspection.rubric_key).item_count
        text = (
            f"{org.name} {campaign.year} 年度自查自评将于 {due.isoformat()} 截止（{_days(due, today)}），"
            f"目前已答 {answered}/{total} 项。发送“自评”继续，全部作答后发送“提交”。"
        )
        for account in accounts_with_role(session, org.id, ("chair",)):
            queued += enqueue(
                session,
                account,
                "self_check_due",
                f"self-check-due:{inspection.id}:T-{offset}:{account}",
                text,
                now,
                due.isoformat(),
            )
    return queued


def _review(session: Session, config: Config, campaign: Campaign, today: date, now: datetime) -> int:
    """Reminders to the evaluator while a submitted self-check waits for its assessment."""
    due = campaign.review_due
    offset = due_offset(today, due, config.offsets["review"]) if due else None
    if due is None or offset is None:
        return 0
    queued = 0
    for inspection in _inspections(session, campaign, ASSESSABLE):
        org = inspection.organisation
        text = (
            f"{org.name}（{org.code}）的自评已提交，待您组织评定，截止 {due.isoformat()}（{_days(due, today)}）。"
            f"发送“考评 {org.code}”开始。"
        )
        for account in accounts_with_role(session, org.parent_id or 0, ("evaluator",)):
            queued += enqueue(
                session,
                account,
                "review_due",
                f"review-due:{inspection.id}:T-{offset}:{account}",
                text,
                now,
                due.isoformat(),
            )
    return queued


def _evaluations(session: Session, config: Config, today: date, now: datetime) -> int:
    """Before an evaluation closes, to the bound participants who have not voted."""
    queued = 0
    evaluations = session.scalars(
        select(Evaluation).where(Evaluation.closes_at > now, Evaluation.waived_at.is_(None))
    )
    for evaluation in evaluations:
        closes = as_utc(evaluation.closes_at).astimezone(SHANGHAI).date()
        offset = due_offset(today, closes, config.offsets["evaluation"])
        if offset is None:
            continue
        inspection = evaluation.inspection
        voted = set(
            session.scalars(
                select(EvaluationVoter.voter_hash).where(EvaluationVoter.evaluation_id == evaluation.id)
            )
        )
        text = (
            f"“{inspection.organisation.name}”民主测评将于 {closes.isoformat()} 结束"
            f"（{_days(closes, today)}），您还没有参加。发送“测评 {evaluation.code}”即可匿名作答，约需 1 分钟。"
        )
        for account_id in sorted(participants(session, evaluation)):
            account = session.get(Account, account_id)
            if account is None or voter_hash(config.secret_key, evaluation.id, account.openid) in voted:
                continue
            queued += enqueue(
                session,
                account_id,
                "evaluation_closing",
                f"evaluation-closing:{evaluation.id}:T-{offset}:{account_id}",
                text,
                now,
                closes.isoformat(),
            )
    return queued


def _counties(session: Session) -> list[Organisation]:
    """County and zone federations: the non-grassroots organisations directly below the city."""
    roots = select(Organisation.id).where(Organisation.parent_id.is_(None))
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.parent_id.in_(roots), Organisation.rubric_key.is_(None))
            .order_by(Organisation.code)
        )
    )


def _report(session: Session, config: Config, campaign: Campaign, today: date, now: datetime) -> int:
    """T-14, T-7, T-3, T-1 before the annual summary is due, to counties whose summary is missing."""
    due, _ = report_due(campaign.year, campaign.report_due_month, campaign.report_due_day)
    offset = due_offset(today, due, config.offsets["report"])
    if offset is None:
        return 0
    queued = 0
    for county in _counties(session):
        report = session.scalar(
            select(CountyReport).where(
                CountyReport.campaign_id == campaign.id, CountyReport.organisation_id == county.id
            )
        )
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
        for account in accounts_with_role(session, county.id, ("admin",)):
            queued += enqueue(
                session,
                account,
                "report_due",
                f"report-due:{campaign.id}:{county.id}:T-{offset}:{account}",
                text,
                now,
                due.isoformat(),
            )
    return queued


def _re_reviews(session: Session, config: Config, today: date, now: datetime) -> int:
    """Objection + 10 days: T-3 and T-1 to the evaluator; once overdue, to the city's admins."""
    queued = 0
    pending = session.scalars(
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(
            Inspection.state.in_(values(RE_REVIEWABLE)),
            Inspection.re_review_due_at.is_not(None),
        )
    )
    for inspection in pending:
        org = inspection.organisation
        re_review_due_at = inspection.re_review_due_at
        assert re_review_due_at is not None  # the query takes only inspections with a due time
        due_at = as_utc(re_review_due_at)
        due = due_at.astimezone(SHANGHAI).date()
        key = f"{inspection.id}:{inspection.publication_round}"
        if now > due_at:
            text = (
                f"{org.name}（{org.code}）的年检结果异议已超过 10 日复查期限（{due.isoformat()}）仍未复查评定，"
                "请督促上级工会办理。"
            )
            city = _root(session, org)
            for account in accounts_with_role(session, city.id, ("admin",)):
                queued += enqueue(
                    session,
                    account,
                    "re_review_overdue",
                    f"re-review-overdue:{key}:{account}",
                    text,
                    now,
                    due.isoformat(),
                )
            continue
        offset = due_offset(today, due, config.offsets["re_review"])
        if offset is None:
            continue
        text = (
            f"{org.name}（{org.code}）的年检结果异议须于 {due.isoformat()} 前复查评定（{_days(due, today)}）。"
            f"发送“复查 {org.code}”办理。"
        )
        for account in accounts_with_role(session, org.parent_id or 0, ("evaluator",)):
            queued += enqueue(
                session,
                account,
                "re_review_due",
                f"re-review-due:{key}:T-{offset}:{account}",
                text,
                now,
                due.isoformat(),
            )
    return queued


def _root(session: Session, org: Organisation) -> Organisation:
    node = org
    while node.parent is not None:
        node = node.parent
    return node


def _coverage(session: Session, config: Config, campaign: Campaign, today: date, now: datetime) -> int:
    """Before the review deadline, a warning to each county whose inspected share is below target."""
    due = campaign.review_due
    offset = due_offset(today, due, config.offsets["coverage"]) if due else None
    if due is None or offset is None:
        return 0
    counties = {county.code: county for county in _counties(session)}
    queued = 0
    for row in coverage(session, campaign):
        county = counties.get(row.code)
        if county is None or row.unions == 0 or row.on_target:
            continue
        text = (
            f"{county.name}基层工会累计已评定 {row.ever_rated}/{row.unions} 个（{whole_percent(row.cumulative_share)}%），"
            f"低于 {campaign.year} 年度目标 {whole_percent(row.target)}%，本年度已评定 {row.rated} 个。"
            f"组织评定将于 {due.isoformat()} 截止，请加快进度。"
        )
        for account in accounts_with_role(session, county.id, ("admin",)):
            queued += enqueue(
                session,
                account,
                "coverage_warning",
                f"coverage:{campaign.id}:{county.id}:T-{offset}:{account}",
                text,
                now,
                due.isoformat(),
            )
    return queued


def _remediations(session: Session, config: Config, today: date, now: datetime) -> int:
    """Before a remediation (补课) is due, to the chairs of unions that have not reported it done."""
    queued = 0
    pending = session.scalars(select(Remediation).where(Remediation.status == "open"))
    for row in pending:
        offset = due_offset(today, row.due_on, config.offsets["remediation"])
        if offset is None:
            continue
        inspection = session.get(Inspection, row.inspection_id)
        if inspection is None:
            continue
        org = inspection.organisation
        text = (
            f"{org.name} {inspection.campaign.year} 年度年检的补课将于 {row.due_on.isoformat()} 截止"
            f"（{_days(row.due_on, today)}）。完成后请发送“补课完成 情况说明”，上级工会将进行验收。"
        )
        for account in accounts_with_role(session, org.id, ("chair",)):
            queued += enqueue(
                session,
                account,
                "remediation_due",
                f"remediation-due:{row.id}:T-{offset}:{account}",
                text,
                now,
                row.due_on.isoformat(),
            )
    return queued

"""组织评定 and 复查评定: the parent union's decisions on a submitted self-check — assess each item,
record how it assessed, rate the result, send the self-check back (退回), re-review an objected result.
Shared by the chat and the web console; every change checked and audited."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import audit, evaluations, objections, results, scores, texts
from chatbot.inspection.errors import Refused
from chatbot.inspection.rows import InspectionRow
from chatbot.inspection.rubric_versions import rubric_for
from chatbot.inspection.transitions import move
from chatbot.store import outbox
from chatbot.store.models import Evaluation, Inspection
from chatbot.store.notice_kinds import NoticeKind
from chatbot.timeutil import as_utc, local_date
from rubrics.lifecycle import InspectionState
from rubrics.submission import MIN_WRITTEN_CHARS, submission_gaps
from rubrics.texts import submission_refused

S = InspectionState


def start(session: Session, inspection: Inspection, account_id: int, actor: str) -> None:
    """The evaluator opens the assessment: submitted → reviewing, and becomes its assessor."""
    if inspection.state == S.SELF_SUBMITTED:
        move(session, inspection, S.REVIEWING, actor)
        inspection.assessor_account_id = account_id


def start_re_review(session: Session, inspection: Inspection, actor: str) -> None:
    if inspection.state == S.OBJECTED:
        move(session, inspection, S.RE_REVIEWING, actor)


def save_score(
    session: Session,
    inspection: Inspection,
    no: int,
    score: Decimal,
    reason: str,
    account_id: int,
    actor: str,
) -> None:
    """The assessed score (考评得分) of one item; in a re-review a changed score needs its reason."""
    start(session, inspection, account_id, actor)
    start_re_review(session, inspection, actor)
    before, after = scores.save(session, inspection, no, score, "assessed_score")
    if inspection.state == S.RE_REVIEWING and before is not None and before != after and not reason.strip():
        raise Refused("复查改分须说明原因。")
    if before is not None and before != after:  # a change of an assessed score; the first is the record
        scores.audit_change(
            session, actor, "assessed_score", inspection, no, before, after, reason.strip() or None
        )


def save_score_of_row(
    session: Session, row: InspectionRow, no: int, score: Decimal, reason: str, actor: str
) -> bool:
    """``save_score`` on an inspection the turn read as Core rows, locked: one upsert, no ORM object.
    False, nothing done, unless the assessment or re-review is in progress (its first write starts
    it) — ``save_score`` on the ORM object does what it must then."""
    state = InspectionState(row.state)
    if state not in (S.REVIEWING, S.RE_REVIEWING):
        return False
    score = scores.validated(rubric_for(session, row.rubric_key, row.rubric_version), no, score)
    before = row.assessed_scores.get(no)
    if state == S.RE_REVIEWING and before is not None and before != score and not reason.strip():
        raise Refused("复查改分须说明原因。")
    if before == score:
        return True
    scores.upsert(session.connection(), row.id, no, "assessed_score", score)
    row.assessed_scores[no] = score
    if before is not None:  # a change of an assessed score; the first is the record
        scores.audit_change_of(
            session, actor, "assessed_score", row.id, no, before, score, reason.strip() or None
        )
    return True


def record(
    session: Session,
    inspection: Inspection,
    methods: tuple[str, ...] | None,
    opinion: str | None,
    account_id: int,
    actor: str,
) -> None:
    """The assessment record: methods used (考评方式) and the written opinion (考评意见), given while
    the assessment is open; once it is submitted the record stays as it was."""
    if not InspectionState(inspection.state).is_assessable:
        raise Refused(f"“{inspection.organisation.name}”的组织评定已经提交，考评方式和考评意见不能再更改。")
    if opinion is not None and len(opinion.strip()) < MIN_WRITTEN_CHARS:
        raise Refused(f"考评意见至少 {MIN_WRITTEN_CHARS} 个字。")
    start(session, inspection, account_id, actor)
    before = {"methods": inspection.assessment_methods, "opinion": inspection.assessment_opinion}
    if methods is not None:
        inspection.assessment_methods = list(methods)
    if opinion is not None:
        inspection.assessment_opinion = opinion
    audit.record(
        session,
        actor,
        "assessment_record",
        "inspection",
        inspection.id,
        before=before,
        after={"methods": inspection.assessment_methods, "opinion": inspection.assessment_opinion},
    )


def evaluation_of(session: Session, inspection: Inspection) -> Evaluation | None:
    """The inspection's democratic evaluation, locked for the turn."""
    return session.scalar(
        select(Evaluation).where(Evaluation.inspection_id == inspection.id).with_for_update()
    )


def submit(
    session: Session, inspection: Inspection, config: Config, actor: str, now: datetime
) -> results.Recomputed:
    """Every item assessed, the record complete (a method, a written opinion) and the democratic
    evaluation held (closed with a ballot) or waived with a reason → rated; the quota of its scope is
    brought up to date. The same rule as the chat's (``rubrics.submission.submission_gaps``)."""
    scores.refuse_if_missing(session, inspection, "assessed_score", "考评")
    evaluation_of(session, inspection)  # locked for the turn: a cast or a close waits
    gaps = submission_gaps(
        inspection.organisation.code,
        tuple(inspection.assessment_methods or ()),
        inspection.assessment_opinion or "",
        evaluations.figures(session, inspection, now),
    )
    if gaps:
        raise Refused(submission_refused(gaps).strip())
    if inspection.state == S.SELF_SUBMITTED:
        move(session, inspection, S.REVIEWING, actor)
    move(session, inspection, S.RATED, actor)
    return results.rate_in_scope(session, inspection, config, now, results.Cause.RATING, actor)


def submit_re_review(
    session: Session, inspection: Inspection, config: Config, actor: str, now: datetime
) -> results.Recomputed:
    """The re-review decided: rated again through its scope, the objections resolved, published again
    as the next round — unless its stars wait (a tie at the five-star cut-off for the admin to settle,
    or a scope not confirmed): then it is rated, and `publish` publishes it as the next round once
    they are decided. A re-review done after its 10 days is recorded as late on the result."""
    prior = objections.Prior.of(inspection)
    start_re_review(session, inspection, actor)
    due = inspection.re_review_due_at
    if due is not None and as_utc(due) < now and not inspection.re_review_late:
        inspection.re_review_late = True
        audit.record(
            session, actor, "re_review_late", "inspection", inspection.id, after={"due": local_date(due)}
        )
    done = results.rate_in_scope(
        session, inspection, config, now, results.Cause.RE_REVIEW, actor, publishing=True
    )
    if results.stars_wait(session, inspection, config):
        # The objectors are told when the stars are decided and the result is published again.
        objections.defer(session, inspection, prior)
        move(session, inspection, S.RATED, actor, "复查结果的星级待确定后再次公示")
        return done
    decided = objections.resolve(session, inspection, now, prior, actor)
    results.open_publication(
        session, inspection, now, inspection.publication_days or results.DEFAULT_PUBLICATION_DAYS, actor
    )
    objections.tell_decided(session, inspection, decided, now)
    return done


def return_self_check(
    session: Session, inspection: Inspection, reason: str, actor: str, now: datetime
) -> None:
    """Send a submitted self-check back to the chair (退回), with the reason; the chair is told.

    Refused when the inspection is not submitted-and-unrated, ValueError without a reason.
    """
    if not reason.strip():
        raise ValueError("退回须写明原因。")
    move(session, inspection, S.RETURNED, actor, reason)
    inspection.return_reason = reason.strip()
    org = inspection.organisation
    text = texts.self_check_returned(org.name, inspection.campaign.year, reason)
    key = f"returned:{inspection.id}:{now.isoformat()}:"
    facts = {"union": org.name, "result": texts.RESULT_RETURNED}
    outbox.tell(session, NoticeKind.SELF_CHECK_RETURNED, org.id, ("chair",), key, text, now, facts=facts)

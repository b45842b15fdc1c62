"""自查自评: the chair's scores and evidence, and the submission that hands them to the parent union."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from chatbot.inspection import scores, texts
from chatbot.inspection.errors import Refused
from chatbot.inspection.rows import InspectionRow
from chatbot.inspection.rubric_versions import rubric_for, rubric_of
from chatbot.inspection.transitions import move
from chatbot.store import outbox
from chatbot.store.models import Evidence, Inspection
from chatbot.store.notice_kinds import NoticeKind
from rubrics.lifecycle import InspectionState

S = InspectionState


def start(session: Session, inspection: Inspection, actor: str) -> None:
    """The chair opens the self-check: not started → self-checking (later states stay as they are)."""
    if inspection.state == S.NOT_STARTED:
        move(session, inspection, S.SELF_CHECKING, actor)


def editable(session: Session, inspection: Inspection, actor: str) -> None:
    """Refused once the self-check is submitted; a first write starts it."""
    state = InspectionState(inspection.state)
    if not state.self_check_editable:
        now = "" if state == S.SELF_SUBMITTED else f"（当前状态：{state.label}）"
        raise Refused(f"自评已提交，答案已锁定{now}，本次操作未生效。")
    start(session, inspection, actor)


def save_score(session: Session, inspection: Inspection, no: int, score: Decimal, actor: str) -> None:
    editable(session, inspection, actor)
    before, after = scores.save(session, inspection, no, score, "self_score")
    if inspection.self_submitted_at is not None and before != after:  # a change after a return
        scores.audit_change(session, actor, "self_score", inspection, no, before, after)


def save_score_of_row(session: Session, row: InspectionRow, no: int, score: Decimal, actor: str) -> bool:
    """``save_score`` on an inspection the turn read as Core rows, locked: one upsert, no ORM object.
    False, nothing done, when the self-check is not in progress (not started: the first write starts
    it; submitted: refused) — ``save_score`` on the ORM object does what it must then."""
    if InspectionState(row.state) not in (S.SELF_CHECKING, S.RETURNED):
        return False
    score = scores.validated(rubric_for(session, row.rubric_key, row.rubric_version), no, score)
    before = row.self_scores.get(no)
    if before == score:
        return True
    scores.upsert(session.connection(), row.id, no, "self_score", score)
    row.self_scores[no] = score
    if row.self_submitted_at is not None:  # a change after a return
        scores.audit_change_of(session, actor, "self_score", row.id, no, before, score)
    return True


def add_evidence(
    session: Session,
    inspection: Inspection,
    no: int,
    media_id: str,
    pic_url: str,
    account_id: int,
    actor: str,
) -> None:
    """A photo as evidence (佐证) of item ``no``."""
    editable(session, inspection, actor)
    rubric_of(session, inspection).item(no)
    scores.row_of(session, inspection, no)  # the item's row carries the count the walk shows
    session.add(
        Evidence(
            inspection_id=inspection.id,
            item_no=no,
            media_id=media_id[:128],
            pic_url=pic_url[:512],
            account_id=account_id,
        )
    )


def withdraw(session: Session, inspection: Inspection, actor: str, now: datetime) -> bool:
    """撤销提交: a submitted self-check taken back before the assessment starts (submitted → self-checking,
    audited); the parent union's evaluators are told. False when it is not submitted (taken back
    already); Refused once the assessment started."""
    state = InspectionState(inspection.state)
    if state.self_check_editable:
        return False
    move(session, inspection, S.SELF_CHECKING, actor, "撤销提交")
    org = inspection.organisation
    text = texts.self_check_withdrawn(org.name, org.code, inspection.campaign.year)
    key = f"withdrawn:{inspection.id}:{now.isoformat()}:"
    facts = {"union": org.name, "result": texts.RESULT_WITHDRAWN}
    outbox.tell(
        session, NoticeKind.SELF_CHECK_WITHDRAWN, org.parent_id, ("evaluator",), key, text, now, facts=facts
    )
    return True


def submit(session: Session, inspection: Inspection, actor: str, now: datetime) -> None:
    """Every item answered → submitted; the parent union's evaluators are told."""
    editable(session, inspection, actor)
    scores.refuse_if_missing(session, inspection, "self_score", "作答")
    move(session, inspection, S.SELF_SUBMITTED, actor)
    inspection.self_submitted_at = now
    inspection.return_reason = None
    org = inspection.organisation
    text = texts.self_check_submitted(org.name, org.code, inspection.campaign.year)
    key = f"submitted:{inspection.id}:{now.isoformat()}:"
    facts = {"union": org.name}
    outbox.tell(
        session, NoticeKind.SELF_CHECK_SUBMITTED, org.parent_id, ("evaluator",), key, text, now, facts=facts
    )

"""Applies a dialog's commands to the database, inside the caller's transaction.

Every check that depends on the stored truth happens here, so a stale dialog state can never write
past a submission or into another union's inspection. A refused command raises Refused; the caller
rolls the whole turn back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot import audit
from chatbot.lifecycle import IllegalTransition, InspectionState, check_transition
from chatbot.models import Account, Evidence, Inspection, Invitation, ItemScore, RoleBinding
from dialogs.binding import BindResult, BindStatus
from dialogs.commands import (
    AddEvidence,
    Command,
    RedeemInvitation,
    SaveSelfScore,
    StartSelfCheck,
    SubmitSelfCheck,
)
from rubrics import get_rubric
from rubrics.scoring import ScoreError, validate_item_score


class Refused(Exception):
    """A command that the stored state does not allow; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def apply(session: Session, account: Account, command: Command, now: datetime) -> BindResult | None:
    """Apply one command; a binding returns its result, the others None."""
    match command:
        case RedeemInvitation(code=code):
            return redeem(session, account, code, now)
        case StartSelfCheck(inspection_id=inspection_id):
            inspection = _chair_inspection(session, account, inspection_id)
            if inspection.state == InspectionState.NOT_STARTED:
                _move(session, account, inspection, InspectionState.SELF_CHECKING)
        case SaveSelfScore(inspection_id=inspection_id, item_no=no, score=score):
            inspection = _editable(session, account, inspection_id)
            _save_score(session, inspection, no, score)
        case AddEvidence(inspection_id=inspection_id, item_no=no, media_id=media_id, pic_url=pic_url):
            inspection = _editable(session, account, inspection_id)
            get_rubric(inspection.rubric_key).item(no)
            session.add(
                Evidence(
                    inspection_id=inspection.id,
                    item_no=no,
                    media_id=media_id[:128],
                    pic_url=pic_url[:512],
                    account_id=account.id,
                )
            )
        case SubmitSelfCheck(inspection_id=inspection_id):
            inspection = _editable(session, account, inspection_id)
            _submit(session, account, inspection, now)
    return None


def redeem(session: Session, account: Account, code: str, now: datetime) -> BindResult:
    invitation = session.scalar(select(Invitation).where(Invitation.code == code).with_for_update())
    if invitation is None:
        return BindResult(BindStatus.NOT_FOUND)
    org = invitation.organisation
    existing = session.scalar(
        select(RoleBinding).where(
            RoleBinding.account_id == account.id,
            RoleBinding.organisation_id == org.id,
            RoleBinding.role == invitation.role,
        )
    )
    if existing is not None:
        return BindResult(BindStatus.ALREADY_BOUND, invitation.role, org.name)
    expires_at = as_utc(invitation.expires_at)
    if expires_at is not None and expires_at <= now:
        return BindResult(BindStatus.EXPIRED)
    if invitation.uses >= invitation.max_uses:
        return BindResult(BindStatus.USED_UP)
    invitation.uses += 1
    binding = RoleBinding(
        account_id=account.id, organisation_id=org.id, role=invitation.role, invitation_id=invitation.id
    )
    session.add(binding)
    session.flush()
    audit.record(
        session,
        f"wechat:{account.id}",
        "bind",
        "role_binding",
        binding.id,
        after={"org": org.code, "role": invitation.role, "invitation": invitation.code},
    )
    return BindResult(BindStatus.BOUND, invitation.role, org.name)


def _chair_inspection(session: Session, account: Account, inspection_id: int) -> Inspection:
    """The inspection, locked for this turn, if the account is a chair of its organisation."""
    inspection = session.get(Inspection, inspection_id, with_for_update=True)
    if inspection is None:
        raise Refused("没有找到您的年检任务，请联系上级工会。")
    is_chair = session.scalar(
        select(RoleBinding.id).where(
            RoleBinding.account_id == account.id,
            RoleBinding.organisation_id == inspection.organisation_id,
            RoleBinding.role == "chair",
        )
    )
    if is_chair is None:
        raise Refused("只有本单位工会主席可以填写自评。")
    return inspection


def _editable(session: Session, account: Account, inspection_id: int) -> Inspection:
    inspection = _chair_inspection(session, account, inspection_id)
    state = InspectionState(inspection.state)
    if not state.self_check_editable:
        raise Refused(f"自评已提交（{state.label}），答案已锁定，本次操作未生效。")
    if state == InspectionState.NOT_STARTED:
        _move(session, account, inspection, InspectionState.SELF_CHECKING)
    return inspection


def _move(session: Session, account: Account, inspection: Inspection, target: InspectionState) -> None:
    before = inspection.state
    try:
        inspection.state = check_transition(before, target)
    except IllegalTransition as error:
        raise Refused(error.message) from error
    audit.record(
        session,
        f"wechat:{account.id}",
        "transition",
        "inspection",
        inspection.id,
        before=before,
        after=str(target),
    )


def _save_score(session: Session, inspection: Inspection, no: int, score: Decimal) -> None:
    item = get_rubric(inspection.rubric_key).item(no)
    try:
        score = validate_item_score(score, item.points)
    except ScoreError as error:
        raise Refused(str(error)) from error
    row = session.scalar(
        select(ItemScore).where(ItemScore.inspection_id == inspection.id, ItemScore.item_no == no)
    )
    if row is None:
        session.add(ItemScore(inspection_id=inspection.id, item_no=no, self_score=score))
    elif row.self_score != score:
        row.self_score = score


def _submit(session: Session, account: Account, inspection: Inspection, now: datetime) -> None:
    rubric = get_rubric(inspection.rubric_key)
    answered = set(
        session.scalars(
            select(ItemScore.item_no).where(
                ItemScore.inspection_id == inspection.id, ItemScore.self_score.is_not(None)
            )
        )
    )
    missing = [item.no for item in rubric.items if item.no not in answered]
    if missing:
        raise Refused(
            f"还有 {len(missing)} 项未作答（第 {'、'.join(map(str, missing[:20]))} 项），未能提交。"
        )
    _move(session, account, inspection, InspectionState.SELF_SUBMITTED)
    inspection.self_submitted_at = now

"""`撤销提交`: a chair takes a submitted self-check back before the parent union starts its assessment,
through the webhook; once the assessment started, or for anyone but the chair, it is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection.errors import Refused
from chatbot.service.apply import Applier
from chatbot.store.models import Account, AuditEntry, Inspection, ItemScore, OutboxMessage
from chatbot.wechat.simulator import Simulator
from dialogs.selfcheck import WithdrawSelfCheck
from dialogs.texts.selfcheck import withdraw_refused
from rubrics.lifecycle import RATED, InspectionState
from tests.helpers import self_check, setup_county

User = Callable[..., Simulator]


def _state(db: Session) -> str:
    db.expire_all()
    state = db.scalar(select(Inspection.state))
    assert state is not None
    return state


def _withdrawals(db: Session) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.reason == "撤销提交")))


def test_a_chair_withdraws_edits_and_submits_again(user: User, db: Session) -> None:
    codes = setup_county(db, 1)
    chair = user("chair")
    assert "自评已提交" in self_check(chair, codes["chair1"])
    assert _state(db) == "self_submitted"

    assert "已撤销提交" in chair.say("撤销提交")
    assert _state(db) == "self_checking"
    again = chair.say("撤销提交")  # sent twice: one transition, and a clear answer
    assert "没有需要撤销的提交" in again and "自评中" in again
    withdrawn = _withdrawals(db)
    assert [(w.action, w.before, w.after) for w in withdrawn] == [
        ("transition", '"self_submitted"', '"self_checking"')
    ]

    assert "全部作答完毕" in chair.say("自评")
    assert "【3/30】" in chair.say("修改 3")
    chair.say("2")
    db.expire_all()
    assert db.scalar(select(ItemScore.self_score).where(ItemScore.item_no == 3)) == 2
    assert "自评已提交" in chair.say("提交")
    assert _state(db) == "self_submitted"


def _submitted(user: User, db: Session, other: str) -> tuple[Simulator, Simulator]:
    """A chair who submitted the self-check, and someone bound with the invitation ``other``."""
    codes = setup_county(db, 1)
    chair = user("chair")
    self_check(chair, codes["chair1"])
    someone = user(other)
    someone.say(f"绑定 {codes[other]}")
    return chair, someone


def _assessment_started(user: User, db: Session) -> Simulator:
    """A submitted self-check whose assessment the evaluator has started; the chair."""
    chair, evaluator = _submitted(user, db, "evaluator")
    evaluator.say("考评 U01")
    assert _state(db) == "reviewing"
    return chair


def test_withdrawing_is_refused_once_the_assessment_started(user: User, db: Session) -> None:
    chair = _assessment_started(user, db)
    refused = chair.say("撤销提交")
    assert "考评中" in refused and "退回" in refused and "不能撤销提交" in refused
    assert _state(db) == "reviewing" and _withdrawals(db) == []


def test_a_stale_withdrawal_is_refused_by_the_service(user: User, db: Session, app: Flask) -> None:
    """The dialog saw 自评已提交, the assessment started since: the stored state decides."""
    _assessment_started(user, db)
    sessions = app.extensions["nianjian.sessions"]
    with pytest.raises(Refused) as refused, sessions.begin() as session:
        account = session.scalar(select(Account).where(Account.openid == "chair"))
        inspection_id = session.scalar(select(Inspection.id))
        assert account is not None and inspection_id is not None
        config, counter = app.extensions["nianjian.config"], app.extensions["nianjian.counter"]
        Applier(session, account, config, datetime.now(UTC), counter).apply(WithdrawSelfCheck(inspection_id))
    assert "考评中" in refused.value.message and "退回" in refused.value.message
    assert _state(db) == "reviewing"


def test_a_member_cannot_withdraw_and_help_offers_it_to_the_chair(user: User, db: Session) -> None:
    chair, member = _submitted(user, db, "member1")

    refused = member.say("撤销提交")
    assert "自查自评由工会主席" in refused
    assert _state(db) == "self_submitted" and _withdrawals(db) == []
    assert "撤销提交" not in member.say("帮助")
    assert "· 撤销提交 —— " in chair.say("帮助")


def test_the_evaluator_told_of_the_submission_is_told_of_the_withdrawal(user: User, db: Session) -> None:
    """The parent union's evaluator was asked to assess; once the chair takes the self-check back, the
    evaluator is told it cannot be assessed until it comes back, once per withdrawal."""
    codes = setup_county(db, 1)
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    chair = user("chair")
    self_check(chair, codes["chair1"])
    chair.say("撤销提交")
    chair.say("撤销提交")  # nothing to withdraw: no second notice
    db.expire_all()
    account = db.scalar(select(Account).where(Account.openid == "evaluator"))
    assert account is not None
    notices = db.scalars(
        select(OutboxMessage).where(OutboxMessage.account_id == account.id).order_by(OutboxMessage.id)
    ).all()
    assert [n.kind for n in notices] == ["self_check_submitted", "self_check_withdrawn"]
    assert "撤回了已提交的" in notices[1].text and "暂不能考评" in notices[1].text


@pytest.mark.parametrize("state", [InspectionState.REVIEWING, *RATED])
def test_the_refusal_offers_a_return_only_while_the_assessment_can_still_send_it_back(
    state: InspectionState,
) -> None:
    refused = withdraw_refused(state)
    assert state.label in refused and "不能" in refused
    assert ("退回" in refused) == (state == InspectionState.REVIEWING)

"""Answers by voice (issue 25 §3): a voice message with WeChat's speech recognition is read as the
text it recognised, in every dialog — binding, self-check, ballot, assessment, paper forms, re-review
— the reply beginning with what was heard; one without recognition says how to answer instead and
leaves the dialog where it was. Through the webhook with signed voice pushes, on SQLite and on
PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.store.models import InboundMessage, Inspection, ItemScore, Organisation
from chatbot.wechat.protocol import links_of
from chatbot.wechat.simulator import Simulator
from dialogs.router import parse_text
from dialogs.texts.common import VOICE_NOT_HEARD
from dialogs.voice import spoken
from rubrics.scoring import format_score
from tests.conftest import AES_KEY, APP_ID, TOKEN, Backend, City, make_config, transport_for
from tests.helpers import VILLAGE, complete_record, self_check, settle_evaluation, setup_county

User = Callable[..., Simulator]


def _self_scores(db: Session, code: str) -> dict[int, Decimal]:
    db.expire_all()
    rows = db.execute(
        select(ItemScore.item_no, ItemScore.self_score)
        .join(Inspection, ItemScore.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Organisation.code == code, ItemScore.self_score.is_not(None))
    )
    return {no: score for no, score in rows}


def _stored_replies(db: Session, openid: str) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(
            select(InboundMessage.reply).where(InboundMessage.openid == openid).order_by(InboundMessage.id)
        )
    )


def test_what_recognition_adds_is_taken_away() -> None:
    assert spoken("三分。") == "三分"
    assert spoken(" 满分！ ") == "满分"
    assert spoken("第三项，两分。") == "第三项两分"
    assert spoken("三份。") == "三分" and spoken("第三项两份") == "第三项两分"
    assert spoken("一份材料。") == "一份材料"  # 份 stays where it is not a score
    assert spoken("。") == "" and spoken("") == ""


def test_a_chair_binds_and_self_checks_by_voice(user: User, db: Session) -> None:
    codes = setup_county(db, 1)
    chair = user("voice-chair")
    bound = chair.speak(f"绑定{codes['chair1']}。")
    assert bound.startswith(f"听到：绑定{codes['chair1']}\n") and "绑定成功" in bound
    first = chair.speak("自评。")
    assert first.startswith("听到：自评\n") and "【1/30】" in first
    said = chair.speak("三分。")
    assert said.startswith("听到：三分\n") and "【2/30】" in said
    assert "【3/30】" in chair.speak("满分！")
    assert "【4/30】" in chair.speak("３分")  # full-width, as recognition may write it
    assert "【5/30】" in chair.speak("两份。")  # 分 heard as 份
    assert "听到：第一项两分半" in chair.speak("第一项，两分半。")
    assert _self_scores(db, "U01") == {1: Decimal("2.5"), 2: Decimal(5), 3: Decimal(3), 4: Decimal(2)}
    # No recognition: how to answer instead; the walk waits at the same item, and 继续 shows it.
    unheard = chair.speak()
    assert VOICE_NOT_HEARD in unheard and "听到" not in unheard
    assert ("继续", "继续") in links_of(unheard)
    assert "【5/30】" in chair.say("继续")
    # WeChat's retry of a voice message: the same reply, applied once.
    answered = chair.speak("满分。")
    assert "【6/30】" in answered
    assert chair.reply_text(*chair.again()) == answered
    assert _self_scores(db, "U01")[5] == Decimal(VILLAGE.items[4].points)
    assert len(_self_scores(db, "U01")) == 5
    assert "听到" not in _stored_replies(db, "voice-chair")[-1]  # what was heard is not recorded
    for _ in range(6, VILLAGE.item_count + 1):
        chair.speak("满分。")
    submitted = chair.speak("提交。")
    assert submitted.startswith("听到：提交\n") and "已提交" in submitted


def test_a_voice_without_recognition_outside_a_dialog_says_how_to_answer(user: User, db: Session) -> None:
    setup_county(db, 1)
    stranger = user("voice-stranger")
    reply = stranger.speak()
    assert VOICE_NOT_HEARD in reply and ("帮助", "帮助") in links_of(reply)
    assert "异议 单位编号 理由" in stranger.speak("帮助。")


def test_a_member_votes_by_voice_and_the_answer_is_not_stored(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 1)
    member = user("voice-member")
    member.say(f"绑定 {codes['member1']}")
    self_check(user("chair1"), codes["chair1"])
    cli("evaluation", "open", "--org", "U01")
    assert "【1/9】" in member.speak("测评。")
    heard = member.speak("满意。")
    assert heard.startswith("听到：满意\n") and "【2/9】" in heard
    assert VOICE_NOT_HEARD in member.speak()
    for _ in range(6):
        member.speak("满意。")
    assert "【9/9】" in member.speak("基本信任。")
    thanked = member.speak("希望多组织职工活动。")
    assert "感谢参与" in thanked
    # The ballot's answers are not kept with the messages: nor is what was heard.
    stored = "\n".join(_stored_replies(db, "voice-member"))
    assert "听到：满意" not in stored and "多组织职工活动" not in stored


def test_an_evaluator_assesses_enters_paper_and_re_reviews_by_voice(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 1)
    self_check(user("chair1"), codes["chair1"])
    evaluator = user("voice-evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    cli("evaluation", "open", "--org", "U01")
    paper = evaluator.speak("录入测评U01。")
    assert paper.startswith("听到：录入测评U01\n") and "纸质测评表" in paper
    assert "听到：暂停" in evaluator.speak("暂停。")
    started = evaluator.speak("考评U01。")
    assert "【1/30】" in started
    assert "【2/30】" in evaluator.speak("同。")
    assert "【3/30】" in evaluator.speak("同意。")
    for _ in range(3, VILLAGE.item_count + 1):
        evaluator.speak("满分。")
    complete_record(evaluator)
    settle_evaluation(evaluator)
    assert "已提交" in evaluator.speak("提交。")
    cli("publish", "--year", "2026", "--days", "7")
    member = user("voice-objector")
    member.say(f"绑定 {codes['member1']}")
    assert "异议已收到" in member.speak("异议第五项活动阵地不存在。")
    review = evaluator.speak("复查U01。")
    assert review.startswith("听到：复查U01\n") and "【5/30】" in review  # the objected item first
    assert "异议涉及的第 5 项已复查" in evaluator.speak("同。")
    assert "复查评定已提交" in evaluator.speak("提交。")


def test_voice_in_safe_mode_is_heard_once(backend: Backend, tmp_path: Path, city: City) -> None:
    """Encrypted (安全模式) voice pushes: read, echoed in the encrypted reply, a retry applied once."""
    app = create_app(make_config(backend, tmp_path, WECHAT_ENCODING_AES_KEY=AES_KEY), **backend.parts())
    chair = Simulator(transport_for(app.test_client()), "safe-voice", TOKEN, APP_ID, AES_KEY)
    assert "绑定成功" in chair.speak(f"绑定{city.chair_code}。")
    assert "听到：自评" in chair.speak("自评。")
    status, body = chair.voice("满分。")
    assert status == 200 and "<Encrypt>" in body
    answered = chair.reply_text(status, body)
    assert answered.startswith("听到：满分\n") and "【2/" in answered
    assert chair.reply_text(*chair.again()) == answered
    assert "【2/" in chair.say("继续")  # the retry was not applied again
    assert VOICE_NOT_HEARD in chair.speak()


@settings(max_examples=50, deadline=None)
@given(
    halves=st.integers(min_value=0, max_value=10),
    ending=st.sampled_from(["。", "！", "？", "，", "…", ".", "", " 。"]),
)
def test_a_spoken_score_reads_as_the_typed_one(halves: int, ending: str) -> None:
    """Whatever recognition ends a score with, the dialogs read the score typed without it."""
    typed = format_score(Decimal(halves) / 2)
    for said in (f"{typed}分", f"{typed}份", typed):
        intent = parse_text(spoken(said + ending))
        assert (intent.kind, intent.arg) == ("number", typed), said + ending

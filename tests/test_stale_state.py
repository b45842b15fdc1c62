"""Dialog state that disagrees with the database never steers an answer (issue 15).

The database is the truth; the saved state (Redis, or in process) only says where a person is. A turn
whose state was made with another database, another rubric version, or other answers than those
stored is re-placed from the database — `自评` resumes at the first unanswered item, and an answer
lands on the item the person was shown — on SQLite with in-process state and on PostgreSQL + Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from chatbot.inspection import campaigns, evaluations, organisations
from chatbot.store.models import BallotDraft, Base, Inspection, ItemScore
from chatbot.store.state import StorageKey
from chatbot.wechat.simulator import Simulator
from tests.conftest import APP_ID, Backend
from tests.helpers import complete_record, self_check, settle_evaluation, setup_county

User = Callable[..., Simulator]


def _self_scores(db: Session) -> dict[int, Decimal]:
    db.expire_all()
    rows = db.execute(
        select(ItemScore.item_no, ItemScore.self_score).where(ItemScore.self_score.is_not(None))
    )
    return {no: score for no, score in rows}


def _wipe(db: Session) -> None:
    """The database recreated while the dialog state stays (a restore, a failover, a new test database):
    every row gone and ids starting again from 1."""
    db.rollback()
    with db.begin():
        if db.get_bind().dialect.name == "postgresql":
            names = ", ".join(table.name for table in Base.metadata.sorted_tables)
            db.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                db.execute(table.delete())


def _one_union(db: Session) -> str:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(
            db, organisations.OrgRow("XJ-001", "西吉县宏达商贸有限公司工会", "non_public", "XJ", 46)
        )
        campaigns.open_year(db, 2026)
        return organisations.create_invitation(db, "XJ-001", "chair", uses=3).code


def test_state_left_from_another_database_does_not_steer_answers(user: User, db: Session) -> None:
    chair = user("chair-stale")
    chair.say(f"绑定 {_one_union(db)}")
    chair.say("自评")
    for _ in range(3):
        chair.say("满分")  # the state now points at item 4
    _wipe(db)
    chair.say(f"绑定 {_one_union(db)}")
    first = chair.say("自评")
    assert "【1/43】" in first and "【4/43】" not in first
    chair.say("3")
    chair.say("2")
    assert _self_scores(db) == {1: Decimal("3.0"), 2: Decimal("2.0")}


def test_an_answer_to_a_state_from_another_database_is_not_recorded(user: User, db: Session) -> None:
    chair = user("chair-stale-answer")
    chair.say(f"绑定 {_one_union(db)}")
    chair.say("自评")
    for _ in range(3):
        chair.say("满分")
    _wipe(db)
    chair.say(f"绑定 {_one_union(db)}")
    reply = chair.say("4")  # answering item 4, as shown before the database was recreated
    assert "作答记录已有变化" in reply and "本条消息未作为答案记录" in reply and "【1/43】" in reply
    assert _self_scores(db) == {}
    assert "【2/43】" in chair.say("4")
    assert _self_scores(db) == {1: Decimal("4.0")}


def test_state_from_an_older_rubric_version_is_rebuilt(user: User, db: Session, backend: Backend) -> None:
    chair = user("chair-version")
    chair.say(f"绑定 {_one_union(db)}")
    chair.say("自评")
    chair.say("满分")
    key = StorageKey("chair-version", APP_ID)
    saved = backend.store.get(key)
    assert saved is not None and saved["item"] == 2
    backend.store.set(key, saved | {"rubric_version": "2022.9"})
    reply = chair.say("1")
    assert "评分标准已更新" in reply and "【2/43】" in reply
    assert _self_scores(db) == {1: Decimal("5.0")}  # the "1" was not taken as item 2's answer


def test_answers_stored_by_someone_else_meanwhile_re_place_the_walk(user: User, db: Session) -> None:
    """Two chairs of one union: what one answers, the other's next turn sees before answering."""
    code = _one_union(db)
    first, second = user("chair-a"), user("chair-b")
    first.say(f"绑定 {code}")
    second.say(f"绑定 {code}")
    first.say("自评")
    first.say("满分")  # chair A is shown item 2
    second.say("自评")
    assert "第 2 项记 5 分" in second.say("满分")  # chair B answers item 2 meanwhile (then is shown item 3)
    reply = first.say("1")
    assert "作答记录已有变化" in reply and "【3/43】" in reply
    assert _self_scores(db)[2] == Decimal("5.0")  # B's answer stands; A's "1" was not written over it


def test_a_walk_of_an_inspection_rated_or_returned_meanwhile_writes_nothing(user: User, db: Session) -> None:
    codes = setup_county(db, 1)
    with db.begin():
        other = organisations.create_invitation(db, "YZ", "evaluator").code
    self_check(user("chair1"), codes["chair1"])
    late, quick = user("late-evaluator"), user("quick-evaluator")
    late.say(f"绑定 {codes['evaluator']}")
    quick.say(f"绑定 {other}")
    late.say("考评 U01")
    for _ in range(9):
        late.say("同")  # the late evaluator is shown item 10
    assert "已将“第1社区工会”的自评退回" in quick.say("退回 U01 第3项缺少佐证")
    reply = late.say("3")
    assert "目前不能进行组织评定" in reply and "已退回修改" in reply
    db.expire_all()
    assert db.scalar(select(Inspection.state)) == "returned"
    assert db.scalar(select(ItemScore.assessed_score).where(ItemScore.item_no == 10)) is None
    chair = user("chair1")
    chair.say("自评")
    chair.say("提交")
    late.say("考评 U01")  # the late evaluator starts again, and again is slower
    quick.say("考评 U01")
    for _ in range(30):
        quick.say("同")
    complete_record(quick)
    settle_evaluation(quick)
    assert "组织评定已提交" in quick.say("提交")
    reply = late.say("3")
    assert "本条消息未作为答案记录" in reply and "已完成组织评定" in reply
    db.expire_all()
    assert db.scalar(select(ItemScore.assessed_score).where(ItemScore.item_no == 10)) == db.scalar(
        select(ItemScore.self_score).where(ItemScore.item_no == 10)
    )  # the quick evaluator's "同", not the late one's 3


def test_a_ballot_whose_saved_answers_changed_is_re_placed(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 1)
    member = user("voter")
    member.say(f"绑定 {codes['member1']}")
    cli("evaluation", "open", "--org", "U01")
    member.say("测评")
    for answer in ("1", "2", "1"):
        member.say(answer)  # shown question 4
    db.rollback()
    with db.begin():
        db.execute(BallotDraft.__table__.delete())  # the saved answers are gone (a restore)
    reply = member.say("3")
    assert "作答记录已有变化" in reply and "【1/9】" in reply
    db.expire_all()
    assert db.scalar(select(BallotDraft.answers)) is None
    assert "【2/9】" in member.say("2")
    db.expire_all()
    assert db.scalar(select(BallotDraft.answers)) == [2]
    assert evaluations.ANSWER_POINTS[2] == 60  # the draft holds the answer, not the question number

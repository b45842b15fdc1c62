"""Issue 20, points 4–6: the democratic evaluation in every rating ("在自查自评、民主测评的基础上"), a
turnout never above 100 % (the electorate fixed when the evaluation opens, in parts), and a complete
assessment record. Each through the chat and the CLI (and the console where it shows), on SQLite and
on PostgreSQL + Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.store.models import AuditEntry, Inspection, Organisation, RoleBinding
from chatbot.wechat.simulator import Simulator
from tests.helpers import OPINION, WAIVER, complete_record, result_table, self_check, setup_county
from tests.test_console import Console

User = Callable[..., Simulator]
FULL_BALLOT = ("1",) * 7 + ("2",)


def _state(db: Session, code: str) -> str:
    db.expire_all()
    state = db.scalar(select(Inspection.state).join(Organisation).where(Organisation.code == code))
    assert state is not None
    return state


def _walk_through(evaluator: Simulator, code: str) -> None:
    assert "【1/30】" in evaluator.say(f"考评 {code}")
    for _ in range(30):
        evaluator.say("同")


def _vote(voter: Simulator, start: str = "测评") -> str:
    first = voter.say(start)
    assert "【1/9】" in first, first
    for answer in FULL_BALLOT:
        voter.say(answer)
    return voter.say("无")


def _sheet_lines(cli, code: str, tmp_path: Path) -> list[str]:
    out = tmp_path / f"{code}.xlsx"
    cli("export", "sheet", "--org", code, "--year", "2026", "--out", str(out))
    return [str(c) for row in load_workbook(out).active.iter_rows(values_only=True) for c in row if c]


# ---------------------------------------------------------------- 4 the evaluation in every rating


def test_an_assessment_is_submitted_only_on_an_evaluation_held_or_waived(
    user: User, db: Session, cli, client: FlaskClient, tmp_path: Path
) -> None:
    codes = setup_county(db, 2)
    voter = user("voter")
    voter.say(f"绑定 {codes['member1']}")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n in (1, 2):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])

    # U01: no evaluation opened — the submission waits and says what to do.
    _walk_through(evaluator, "U01")
    complete_record(evaluator)
    refused = evaluator.say("提交")
    assert "民主测评未开展" in refused and "nianjian evaluation open --org U01" in refused
    assert "免除测评 原因" in refused and _state(db, "U01") == "reviewing"
    assert "没有开展民主测评，无需结束" in evaluator.say("结束测评 参加人员已全部作答")
    # Opened: held while it runs, and `结束测评` with no ballot is refused (wait, paper, or waive).
    assert "应参加 1 人" in cli("evaluation", "open", "--org", "U01")
    assert "民主测评仍在进行" in evaluator.say("提交")
    no_ballot = evaluator.say("结束测评 参加人员已全部作答")
    assert "还没有收到任何答卷，不能结束" in no_ballot and "录入测评 U01" in no_ballot
    assert "免除测评 原因" in no_ballot
    assert "感谢参与" in _vote(voter)
    assert "已结束民主测评" in evaluator.say("结束测评 参加人员已全部作答")
    assert "组织评定已提交" in evaluator.say("提交")
    assert _state(db, "U01") == "rated"

    # U02: never opened, waived with a written reason — audited, on the score sheet and the console.
    _walk_through(evaluator, "U02")
    complete_record(evaluator)
    assert "至少 4 个字" in evaluator.say("免除测评 没空")
    assert "已免除民主测评" in evaluator.say(f"免除测评 {WAIVER}")
    assert f"的民主测评已免除（{WAIVER}），不能再开启" in cli.refused("evaluation", "open", "--org", "U02")
    assert "组织评定已提交" in evaluator.say("提交")
    waived = db.scalar(select(AuditEntry).where(AuditEntry.action == "waive_evaluation"))
    assert waived is not None and waived.reason == WAIVER and waived.actor.startswith("wechat:")
    assert f"民主测评：已免除，不计入结果（{WAIVER}）" in _sheet_lines(cli, "U02", tmp_path)
    rows = result_table(cli)
    assert rows["U01"]["turnout"] == "100%" and rows["U02"]["turnout"] == ""
    db.rollback()
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
        inspection = db.scalar(select(Inspection.id).join(Organisation).where(Organisation.code == "U02"))
    console = Console(client)
    console.login("city", "city-password-1")
    page = console.get(f"/console/inspections/{inspection}")
    assert f"民主测评：已免除，不计入结果（{WAIVER}）" in page and "未开展民主测评" in page


# ---------------------------------------------------------------- 5 turnout never above 100 %


def test_the_issues_union_of_five_cannot_reach_thirteen_ballots(user: User, db: Session, cli) -> None:
    """Five members on the roll: five bind in chat, the sixth is refused; the chair is no voter; no paper
    form is left for those invited in chat; two open places. Seven ballots of seven: 100 %."""
    codes = setup_county(db, 1)
    with db.begin():
        db.execute(update(Organisation).where(Organisation.code == "U01").values(member_count=5))
    members = [user(f"m{n}") for n in range(5)]
    for member in members:
        assert "绑定成功" in member.say(f"绑定 {codes['member1']}")
    sixth = user("sixth")
    assert "登记的会员人数为 5 人" in sixth.say(f"绑定 {codes['member1']}")
    chair = user("chair1")
    self_check(chair, codes["chair1"])
    out = cli("evaluation", "open", "--org", "U01", "--open", "2")
    code = out.strip().splitlines()[-1]
    assert "本单位会员 5 人" in out and "纸质测评表 0 份" in out and "应参加 7 人" in out
    assert "不在" in chair.say(f"测评 {code}")  # the evaluated union's own chair is not a voter
    for member in members:
        assert "感谢参与" in _vote(member)
    for n in range(2):
        assert "感谢参与" in _vote(user(f"visitor{n}"), f"测评 {code}")
    assert "开放名额已满" in user("visitor2").say(f"测评 {code}")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    # The same five on paper: there is no paper part to enter them into.
    assert "没有安排纸质测评表" in evaluator.say("录入测评 U01")
    _walk_through(evaluator, "U01")
    assert "民主测评：7 票（参与率 100%）" in evaluator.say("查看")
    complete_record(evaluator)
    evaluator.say("结束测评 参加人员已全部作答")
    assert "组织评定已提交" in evaluator.say("提交")
    assert result_table(cli)["U01"]["turnout"] == "100%"
    db.expire_all()
    bound = db.scalar(select(func.count()).select_from(RoleBinding).where(RoleBinding.role == "member"))
    assert bound == 5


def test_all_members_take_part_in_chat_or_on_paper_never_both(user: User, db: Session, cli) -> None:
    """Ten on the roll, all taking part: the chair (bound as chair and as member) and three members
    bound in chat; the other six get paper forms. A member who binds later stays on paper; in a union
    that does not evaluate with everyone, a later member takes a free open place, or is told there is
    no room."""
    codes = setup_county(db, 2)
    with db.begin():
        db.execute(update(Organisation).where(Organisation.code == "U01").values(member_count=10))
    chair = user("chair1")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say(f"绑定 {codes['member1']}")
    members = [user(f"m{n}") for n in range(3)]
    for member in members:
        member.say(f"绑定 {codes['member1']}")
    assert "--paper 不能另定" in cli.refused("evaluation", "open", "--org", "U01", "--paper", "10")
    out = cli("evaluation", "open", "--org", "U01")
    code = out.strip().splitlines()[-1]
    assert "本单位会员 3 人" in out and "纸质测评表 6 份" in out and "应参加 9 人" in out
    assert "不在" in chair.say(f"测评 {code}")
    late = user("late")
    bound = late.say(f"绑定 {codes['member1']}")
    assert "绑定成功" in bound and "纸质测评表" in bound and "测评 " not in bound.split("。")[-1]
    assert "不在" in late.say(f"测评 {code}")
    for member in members:
        assert "感谢参与" in _vote(member)
    self_check(chair, codes["chair1"])
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    started = evaluator.say("录入测评 U01")
    assert "纸质测评表 6 份" in started and "只发给未在微信受邀的人员" in started
    assert "超过了开启时安排的 6 份" in evaluator.say("9 9")
    evaluator.say("6 6")
    for _ in range(8):
        evaluator.say("6 0 0")
    assert "已保存" in evaluator.say("提交")
    _walk_through(evaluator, "U01")
    assert "民主测评：9 票（含纸质 6 份，参与率 100%）" in evaluator.say("查看")

    # U02 (40 members): one open place; the first later member takes it, the second is told.
    cli("evaluation", "open", "--org", "U02", "--open", "1")
    first, second = user("u2-first"), user("u2-second")
    assert "民主测评正在进行，您受邀参加" in first.say(f"绑定 {codes['member2']}")
    told = second.say(f"绑定 {codes['member2']}")
    assert "名额已满，您不参加本次测评" in told and "开始后" not in told  # not "we will tell you"
    assert "感谢参与" in _vote(first)
    assert "开放名额已满" in second.say("测评")
    progress = second.say("进度")
    assert "参加人员在开启时已确定，您不在其中" in progress and "尚未开始" not in progress


# ---------------------------------------------------------------- 6 the assessment record


def test_the_assessment_record_is_required_and_closed_by_the_submission(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    codes = setup_county(db, 1)
    self_check(user("chair1"), codes["chair1"])
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    _walk_through(evaluator, "U01")
    evaluator.say(f"免除测评 {WAIVER}")
    refused = evaluator.say("提交")
    assert "考评方式未记录" in refused and "方式 1 2 3" in refused
    assert "考评意见未填写（至少 4 个字）" in refused and "民主测评" not in refused
    assert _state(db, "U01") == "reviewing"
    assert "至少 4 个字" in evaluator.say("意见 很好")
    evaluator.say("方式 2 3")
    refused = evaluator.say("提交")
    assert "考评方式未记录" not in refused and "考评意见未填写" in refused
    evaluator.say(f"意见 {OPINION}")
    assert "组织评定已提交" in evaluator.say("提交")
    # After the submission the record stays as it was.
    for word in ("方式 1", "意见 补充一条意见内容", "免除测评 再次免除一下"):
        reply = evaluator.say(word)
        assert "组织评定已经提交的，不能再更改" in reply and "已记录" not in reply, word
    lines = _sheet_lines(cli, "U01", tmp_path)
    assert "考评方式：查看台账资料、实地察看" in lines and f"考评意见：{OPINION}" in lines

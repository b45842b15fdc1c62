"""Steps that several tests take: a county of unions, a whole self-check, a whole assessment."""

from __future__ import annotations

from sqlalchemy.orm import Session

from chatbot.inspection import campaigns, organisations
from chatbot.wechat.simulator import Simulator
from rubrics import get_rubric

VILLAGE = get_rubric("village")  # 30 items, 100 points: the 百分制 score is the raw total


def setup_county(db: Session, unions: int, rubric: str = "village") -> dict[str, str]:
    """A city, one county and ``unions`` grassroots unions; invitation codes by name."""
    codes: dict[str, str] = {}
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(db, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
        for n in range(1, unions + 1):
            organisations.add_org(db, organisations.OrgRow(f"U{n:02d}", f"第{n}社区工会", rubric, "YZ", 40))
        campaigns.open_year(db, 2026)
        codes["evaluator"] = organisations.create_invitation(db, "YZ", "evaluator", uses=5).code
        for n in range(1, unions + 1):
            codes[f"chair{n}"] = organisations.create_invitation(db, f"U{n:02d}", "chair").code
            codes[f"member{n}"] = organisations.create_invitation(db, f"U{n:02d}", "member", uses=50).code
    return codes


def self_check(chair: Simulator, code: str, deductions: dict[int, str] | None = None) -> str:
    chair.say(f"绑定 {code}")
    chair.say("自评")
    for no in range(1, VILLAGE.item_count + 1):
        chair.say((deductions or {}).get(no, "满分"))
    return chair.say("提交")


#: The written opinion (考评意见) the helpers record.
OPINION = "台账齐全，制度落实较好"
WAIVER = "会员分散在外地务工，无法组织测评"


def complete_record(evaluator: Simulator) -> None:
    """The assessment record a submission needs: the methods used and a written opinion."""
    evaluator.say("方式 1 2 3")
    evaluator.say(f"意见 {OPINION}")


def settle_evaluation(evaluator: Simulator) -> None:
    """What an evaluator does about the democratic evaluation before `提交`: end the one held (it has a
    ballot), else waive it with a reason (also when none was opened)."""
    ended = evaluator.say("结束测评 参加人员已全部作答")
    if "已结束民主测评" not in ended and "民主测评已经结束" not in ended:
        evaluator.say(f"免除测评 {WAIVER}")


def assess(evaluator: Simulator, org: str, scores: dict[int, str]) -> str:
    """A whole assessment, as an evaluator does it: the scores, the record, the evaluation ended or
    waived, `提交`; the submission's reply."""
    reply = evaluator.say(f"考评 {org}")
    assert "【1/30】" in reply, reply
    for no in range(1, VILLAGE.item_count + 1):
        evaluator.say(scores.get(no, "同"))
    complete_record(evaluator)
    settle_evaluation(evaluator)
    return evaluator.say("提交")


def deductions(points: int) -> dict[int, str]:
    """Assessed scores that take ``points`` off a full village sheet, from the 5- and 4-point items."""
    worth = {item.no: item.points for item in VILLAGE.items}
    scores: dict[int, str] = {}
    for no in sorted(worth, key=lambda n: -worth[n]):
        if points <= 0:
            break
        taken = min(points, worth[no])
        scores[no] = str(worth[no] - taken)
        points -= taken
    return scores


def rate(evaluator: Simulator, org: str, score: int) -> str:
    """Assess a village union whose chair claimed full marks, to ``score`` (百分制 = raw on this sheet)."""
    return assess(evaluator, org, deductions(100 - score))


def result_table(cli, year: int = 2026) -> dict[str, dict[str, str]]:
    """`nianjian results --csv`, by organisation code, each row by the columns' keys."""
    return csv_results(cli("results", "--year", str(year), "--csv"))


def csv_results(text: str) -> dict[str, dict[str, str]]:
    """The rows of `nianjian results --csv` (Chinese headers) by organisation code, each by the keys of
    the results' columns."""
    from chatbot.documents.columns import RESULT_COLUMNS

    lines = text.splitlines()
    keys = {column.header: column.key for column in RESULT_COLUMNS}
    header = [keys[name] for name in lines[0].split(",")]
    return {row.split(",")[0]: dict(zip(header, row.split(","), strict=True)) for row in lines[1:]}


#: The coverage table's columns, the same in the console (dashboard and CSV) and the CLI (after 编号),
#: in the lifecycle's words.
COVERAGE_HEADERS = [
    "单位",
    "基层工会",
    "纳入年检",
    "已提交",
    "已评定",
    "已公示",
    "已确定星级",
    "本年覆盖率",
    "累计覆盖率",
    "目标",
    "本地目标",
    "补课中",
    "补课逾期",
]


def nested_brackets(text: str) -> list[str]:
    """The lines of ``text`` with full-width brackets inside full-width brackets, or one bracket right
    after another (``（…（…）…）``, ``（…）（…）``): a chat reply words those with ，or —— instead."""
    found = []
    for line in text.splitlines():
        depth, deepest = 0, 0
        for char in line:
            depth += {"（": 1, "）": -1}.get(char, 0)
            deepest = max(deepest, depth)
        if deepest > 1 or "）（" in line:
            found.append(line)
    return found

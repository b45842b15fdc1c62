"""What people see in chat, on a phone: every reply through the webhook fits WeChat's 2048 bytes, an item
question carries at most seven tap links, scores are understood as people type them, three wrong inputs
give a three-line hint, and the wording names the right thing (自评 / 考评 / 测评, 县级考评 / 抽查).

Each test reads as a conversation through the signed webhook (SQLite, and PostgreSQL + Redis when
configured); a few pure checks of the texts follow at the end."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import organisations, sampling
from chatbot.store.models import Ballot, Inspection, ItemScore, Organisation, OutboxMessage
from chatbot.wechat.protocol import links_of
from chatbot.wechat.simulator import Simulator
from dialogs.assessment import ASSESSMENT, RE_REVIEW, SAMPLE_CHECK
from dialogs.context import WalkView
from dialogs.engine import MAX_REPLY_BYTES
from dialogs.router import WORDS
from dialogs.selfcheck import MODE
from dialogs.walk import democratic_text, summary_pages
from rubrics import get_rubric
from rubrics.democratic import DemocraticFigures
from rubrics.loader import RUBRIC_KEYS
from rubrics.scoring import format_score
from tests.conftest import City
from tests.helpers import VILLAGE, rate, self_check, setup_county

User = Callable[..., Simulator]
NON_PUBLIC = get_rubric("non_public")  # the city fixture's sheet: 43 items, the longest texts
#: Every reply the tests below receive, for the checks that apply to all of them.
LINK = re.compile(r"<a href=")


class Phone:
    """One person in chat: every reply is checked against WeChat's limit and kept."""

    def __init__(self, simulator: Simulator, seen: list[str]) -> None:
        self.simulator = simulator
        self.seen = seen

    def say(self, text: str) -> str:
        reply = self.simulator.say(text)
        assert len(reply.encode("utf-8")) <= MAX_REPLY_BYTES, reply
        assert not reply.endswith("…") or "<a " not in reply, reply  # never cut with its links
        self.seen.append(reply)
        return reply


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
def phone(user, seen: list[str]) -> Callable[[str], Phone]:
    return lambda openid: Phone(user(openid), seen)


def body(reply: str) -> str:
    """The reply without its links."""
    return reply.split("<a ", 1)[0].rstrip()


def labels(reply: str) -> list[str]:
    return [label for label, _ in links_of(reply)]


def stored_scores(db: Session, column: str = "self_score") -> dict[int, Decimal]:
    db.expire_all()
    return {
        row.item_no: getattr(row, column)
        for row in db.scalars(select(ItemScore))
        if getattr(row, column) is not None
    }


def no_doubled_union(texts: list[str]) -> None:
    """An organisation's name already ends in 工会: never “…工会”工会 or 工会工会."""
    for text in texts:
        assert "工会”工会" not in text and "工会工会" not in text, text


# ---------------------------------------------------------------- the item question on a phone


def test_every_question_of_the_largest_sheet_fits_with_at_most_seven_links(
    phone, city: City, db: Session, seen: list[str]
) -> None:
    chair = phone("chair-1")
    chair.say(f"绑定 {city.chair_code}")
    first = chair.say("自评")
    assert "也可直接输入数字，可含半分（如 4.5）" in first
    assert labels(first) == ["0", "2", "3", "4", "满分", "跳过"]  # item 1: 5 points, no 上一项
    for no in range(1, NON_PUBLIC.item_count + 1):
        points = NON_PUBLIC.item(no).points
        reply = chair.say("满分" if no % 2 else format_score(Decimal(points) - Decimal("0.5")))
        if no < NON_PUBLIC.item_count:
            asked = NON_PUBLIC.item(no + 1).points
            shown = labels(reply)
            assert f"【{no + 1}/43】" in reply and len(shown) <= 7, reply
            assert shown[0] == "0" and "满分" in shown and shown[-2:] == ["上一项", "跳过"], shown
            assert f"0–{asked} 分" in reply
            if asked == 1:  # every allowed score has a link
                assert shown == ["0", "0.5", "满分", "上一项", "跳过"]
            if asked == 2:
                assert shown == ["0", "0.5", "1", "1.5", "满分", "上一项", "跳过"]
            if asked == 3:
                assert shown == ["0", "1", "2", "满分", "上一项", "跳过"]
    # The summary's pages: each fits, and no page ends with a dimension's header.
    page = chair.say("查看")
    pages = [page]
    while "下一页" in labels(pages[-1]):
        pages.append(chair.say("下一页"))
    assert len(pages) >= 2
    for shown in pages:
        lines = [line for line in body(shown).splitlines() if line.startswith(("▍", *"0123456789"))]
        assert not lines[-1].startswith("▍"), shown
    assert "自评已提交" in chair.say("提交")

    # The evaluator's questions carry 同 as well, still seven links at most.
    evaluator = phone("evaluator-1")
    evaluator.say(f"绑定 {city.evaluator_code}")
    question = evaluator.say("考评 XJ-001")
    assert labels(question) == ["同", "0", "3", "4", "满分", "跳过"]
    assert "与自评相同请回复“同”" in question and "也可直接输入数字" in question
    for _ in range(1, NON_PUBLIC.item_count):
        reply = evaluator.say("同")
        assert len(labels(reply)) <= 7 and labels(reply)[0] == "同", reply
    no_doubled_union(seen)


def test_help_lists_the_evaluators_words_whatever_the_roles(phone, city: City, db: Session) -> None:
    with db.begin():
        admin = organisations.create_invitation(db, "XJ", "admin").code
        city_evaluator = organisations.create_invitation(db, "GY", "evaluator").code
    person = phone("everything")
    for code in (city.chair_code, city.member_code, city.evaluator_code, admin, city_evaluator):
        assert "绑定成功" in person.say(f"绑定 {code}")
    shown = person.say("帮助")
    for word in ("抽查 单位编号", "提交", "查看", "暂停", "考评 单位编号", "测评", "自评"):
        assert word in shown, word


# ---------------------------------------------------------------- what people type


def test_scores_are_understood_as_people_type_them(phone, city: City, db: Session) -> None:
    chair = phone("chair-typing")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    assert "【2/43】" in chair.say("三分")  # item 1: 5 points
    assert "【3/43】" in chair.say("两分半")
    assert "【4/43】" in chair.say("４")  # full-width
    refused = chair.say("十")
    assert "本项分值为 4 分" in refused and "【4/43】" in refused
    assert "【5/43】" in chair.say("3分半")
    assert stored_scores(db) == {1: Decimal(3), 2: Decimal("2.5"), 3: Decimal(4), 4: Decimal("3.5")}

    # Another item's score, from wherever the chair is: the question being asked stays.
    changed = chair.say("第3项改为2分")
    assert "✓ 第 3 项已改为 2 分" in changed and "【5/43】" in changed
    assert "【5/43】" in chair.say("1项两分")
    assert "没有这一项" in chair.say("第99项改为2分")
    assert stored_scores(db) == {1: Decimal(2), 2: Decimal("2.5"), 3: Decimal(2), 4: Decimal("3.5")}

    # The item being asked, named: answered, and on to the next.
    assert "【6/43】" in chair.say("第5项满分")
    # 取消 stops and keeps everything; 自评 comes back to the first unanswered item.
    assert "已暂停" in chair.say("取消")
    assert "【6/43】" in chair.say("自评")
    # On the summary page, too.
    chair.say("查看")
    on_summary = chair.say("第2项改为1分")
    assert "✓ 第 2 项已改为 1 分" in on_summary and "汇总" in on_summary
    assert stored_scores(db)[2] == Decimal(1)


def test_three_wrong_inputs_in_a_row_give_a_three_line_hint(phone, city: City) -> None:
    chair = phone("chair-stuck")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    first = chair.say("好的")
    assert "没有看懂“好的”" in first and "查看全部指令" not in first and "【1/43】" in first
    chair.say("嗯")
    third = chair.say("不知道")
    hint = body(third).split("\n\n", 1)[0].splitlines()
    assert len(hint) == 3, hint
    assert "0–5" in hint[0] and "“帮助”" in hint[1] and "“暂停”" in hint[2] and "“自评”" in hint[2]
    assert "可用指令" not in third and "【1/43】" in third
    assert "查看全部指令" not in chair.say("什么")  # the count starts again


def test_a_ballot_is_answered_with_the_words_on_its_links(phone, city: City, db: Session, cli) -> None:
    member = phone("member-1")
    member.say(f"绑定 {city.member_code}")
    cli("evaluation", "open", "--org", "XJ-001")
    first = member.say("测评")
    assert labels(first) == ["满意", "基本满意", "不满意"]
    member.say("满意")
    member.say("基本满意")
    member.say("不满意")
    member.say("二")  # a Chinese numeral
    member.say("1")
    for _ in NON_PUBLIC.dimensions[5:]:
        member.say("1")
    overall = member.say("满意")
    assert "信任程度" in overall and labels(overall)[:3] == ["信任", "基本信任", "不信任"]
    assert "1 信任　2 基本信任　3 不信任" in overall
    assert "请回复 1、2 或 3（1 信任" in member.say("满意信任")  # neither: asked again
    suggestion = member.say("基本信任")
    assert "意见或建议" in suggestion
    assert "已匿名提交" in member.say("无")
    db.expire_all()
    (ballot,) = db.scalars(select(Ballot)).all()
    rated = len(NON_PUBLIC.dimensions) + 2
    assert ballot.answers == [1, 2, 3, 2, 1, *[1] * (len(NON_PUBLIC.dimensions) - 5), 1, 2][:rated]


def test_with_nothing_open_the_reply_names_the_questionnaire(phone, city: City) -> None:
    chair = phone("chair-idle")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    chair.say("暂停")
    assert "当前没有进行中的自评" in chair.say("3")
    evaluator = phone("evaluator-idle")
    evaluator.say(f"绑定 {city.evaluator_code}")
    assert "当前没有进行中的考评" in evaluator.say("同")
    member = phone("member-idle")
    member.say(f"绑定 {city.member_code}")
    idle = member.say("1")
    assert "当前没有等待您作答的民主测评（已提交的测评无需再答）" in idle and "发送“测评”" not in idle
    for person in (chair, evaluator, member):
        assert "问卷" not in person.seen[-1]


def test_a_walk_resumed_after_a_pause_says_continue(user, db: Session) -> None:
    codes = setup_county(db, 1)
    chair = user("chair1")
    chair.say(f"绑定 {codes['chair1']}")
    assert "开始第1社区工会 2026 年度自查自评" in chair.say("自评")
    assert "进度已保存" in chair.say("暂停")  # before the first answer
    again = chair.say("自评")
    assert "继续第1社区工会 2026 年度自查自评" in again and "开始" not in again


def test_an_assessment_begins_with_start_though_the_chair_sent_photos(user, db: Session) -> None:
    """The chair's self scores and photos are shown beside the assessment: they are not the
    evaluator's own start, so the first `考评` says 开始; after an answer and `暂停`, 继续."""
    codes = setup_county(db, 1)
    chair = user("chair1")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    chair.say("满分")
    chair.photo("MEDIA-1")  # evidence of item 2
    for _ in range(2, VILLAGE.item_count + 1):
        chair.say("满分")
    assert "自评已提交" in chair.say("提交")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    first = evaluator.say("考评 U01")
    assert "开始第1社区工会 2026 年度组织评定" in first and "继续" not in first and "【1/30】" in first
    assert "【2/30】" in evaluator.say("同")
    assert "进度已保存" in evaluator.say("暂停")
    again = evaluator.say("考评 U01")
    assert "已答 1/30 项，从第 2 项继续" in again and "开始" not in again and "【2/30】" in again


def test_a_submitted_self_check_names_its_state_once(phone, city: City, cli) -> None:
    chair = phone("chair-locked")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    for _ in range(NON_PUBLIC.item_count):
        chair.say("满分")
    chair.say("提交")
    for reply in (chair.say("自评"), chair.say("5"), chair.say("你好")):
        assert "您的自评已提交，答案已锁定" in reply and "自评已提交（" not in reply
    assert "100 分" in chair.seen[-3] and "100.0" not in chair.seen[-3]  # 百分制: 102/102


# ---------------------------------------------------------------- the city's re-check (抽查)


def test_the_re_check_screens_name_the_county_score_and_the_city_score(
    phone, db: Session, cli, seen: list[str]
) -> None:
    codes = setup_county(db, 1)
    with db.begin():
        city_code = organisations.create_invitation(db, "GY", "evaluator").code
    county = phone("county-evaluator")
    county.say(f"绑定 {codes['evaluator']}")
    self_check(phone("chair1").simulator, codes["chair1"])
    rate(county.simulator, "U01", 87)
    db.expire_all()
    with db.begin():
        inspection = db.scalar(select(Inspection).join(Organisation).where(Organisation.code == "U01"))
        assert inspection is not None
        sampling.mark(db, inspection, "test")
    city = phone("city-evaluator")
    city.say(f"绑定 {city_code}")
    assert "请在“抽查”后写上单位编号，如：抽查 XJ-001" in city.say("抽查")
    assert "复查" not in seen[-1]
    assert "抽查由市总工会考评员办理" in county.say("抽查 U01")
    first = city.say("抽查 U01")  # the county took item 1's 5 points off (tests.helpers.deductions)
    assert (
        "（县级考评 0 分" in first
        and "请回复抽查得分 0–5 分" in first
        and "与县级考评相同请回复“同”" in first
    )
    assert "自评" not in body(first) and labels(first)[0] == "同" and len(labels(first)) <= 7
    assert "【2/30】" in city.say("零分")
    summary = city.say("查看")
    assert "县级考评合计 87，抽查合计 0" in summary and "1. 县0 抽0/5" in summary
    assert "（县级考评 " in summary and "｜抽查 " in summary and "自评" not in summary
    assert "【2/30】" in city.say("继续")
    for _ in range(2, VILLAGE.item_count + 1):
        city.say("同")
    done = city.say("提交")
    assert "县级考评 87 分" in done and "市级抽查 87 分" in done and "星级不变" in done
    no_doubled_union(seen)


# ---------------------------------------------------------------- notices


def test_notices_name_a_union_once(phone, city: City, db: Session, cli) -> None:
    member = phone("member-notice")
    member.say(f"绑定 {city.member_code}")
    cli("evaluation", "open", "--org", "XJ-001", "--closes", "2030-01-10")
    cli("tick", "--now", "2030-01-09T09:00:00+08:00")
    db.expire_all()
    texts = [row.text for row in db.scalars(select(OutboxMessage))]
    assert any("“西吉县宏达商贸有限公司工会”民主测评将于 2030-01-10 结束" in t for t in texts), texts
    no_doubled_union(texts)


# ---------------------------------------------------------------- the texts on their own


def test_numbers_have_one_format_half_up_without_a_stray_decimal() -> None:
    assert format_score(Decimal("100.0")) == "100"
    assert format_score(Decimal("87")) == "87"
    assert format_score(Decimal("83.83333333333333333333333333")) == "83.8"
    assert format_score(Decimal("2.25")) == "2.3"  # half up, not to even
    assert format_score(Decimal("0.05")) == "0.1"
    assert format_score(Decimal("-0")) == "0" and format_score(Decimal("-0.04")) == "0"
    three_of_six = DemocraticFigures(
        ballots=3, invited=6, satisfied=2, score=Decimal("73.33333"), closed=True
    )
    line = democratic_text(three_of_six)
    assert "参与率 50%" in line and "满意率 66.7%" in line and "民主测评得分 73.3" in line
    two_of_three = replace(three_of_six, ballots=2, invited=3)  # too few to show (the small-count rule)
    line = democratic_text(two_of_three)
    assert "参与率 66.7%" in line and not re.search(r"满意率 \d", line) and "73.3" not in line
    assert "2 票（参与率 66.7%），票数少于 3 张，为保护投票人匿名，不公布满意率和得分" in line


@pytest.mark.parametrize("key", RUBRIC_KEYS)
def test_no_summary_page_ends_with_a_dimension_header(key: str) -> None:
    rubric = get_rubric(key)
    view = WalkView(
        1,
        "某某有限公司工会",
        2026,
        key,
        rubric.version,
        "考评中",
        True,
        scores={i.no: Decimal(i.points) for i in rubric.items},
        reference={i.no: Decimal(i.points) for i in rubric.items},
        evidence={i.no: 12 for i in rubric.items},
    )
    for mode in (MODE, ASSESSMENT, RE_REVIEW, SAMPLE_CHECK):
        pages = summary_pages(mode, view, rubric)
        shown = [line for page in pages for line in page.splitlines() if not line.startswith("▍")]
        assert len(shown) == rubric.item_count  # every item once
        for page in pages:
            lines = page.splitlines()
            assert lines[0].startswith("▍") and not lines[-1].startswith("▍"), (mode.name, page)


DIALOGS = Path(__file__).resolve().parents[1] / "dialogs"
#: Words, not sentences: command words, labels and the plan's own names may stay beside the code.
WORD_CHARS = 6


def _sentences(path: Path) -> list[str]:
    """Chinese string pieces longer than a word in a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and len(re.findall(r"[\u4e00-\u9fff]", node.value)) > WORD_CHARS
    ]


def test_every_sentence_of_the_chat_is_in_dialogs_texts() -> None:
    modules = [path for path in sorted(DIALOGS.glob("*.py")) if path.name != "parsing.py"]  # what people type
    found = {path.name: sentences for path in modules if (sentences := _sentences(path))}
    assert found == {}


ROOT = DIALOGS.parent
#: A command word told to be sent, written out: `发送“测评 …”`, or a quoted word in a list of them.
INSTRUCTION = re.compile(
    "发送\\s*“\\s*(?:{words})|“(?:{words})[\\s”]".format(words="|".join(sorted(WORDS, key=len, reverse=True)))
)
#: A period written out: `10 日`, `3 天`, `5 个工作日` (not a date's day: 2月30日).
PERIOD = re.compile(r"(?<![\d年月.])\d+ ?(?:个工作日|日|天)(?!\d)")


def _is_texts_module(path: Path) -> bool:
    return path.name == "texts.py" or "texts" in path.parts


def written_out(root: Path, folders: tuple[str, ...] = ("chatbot", "dialogs", "scheduler")) -> list[str]:
    """Outside the texts modules, every string (an f-string's literal parts too; docstrings left out)
    that writes a command word to send or a period as a literal: ``file:line: text``."""
    found = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            if _is_texts_module(path.relative_to(root)) or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
            }
            where = path.relative_to(root).as_posix()
            strings = sorted(
                (node.lineno, node.value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            )
            found += [
                f"{where}:{line}: {text[:40]}"
                for line, text in strings
                if INSTRUCTION.search(text) or PERIOD.search(text)
            ]
    return found


def test_the_scan_finds_a_command_word_or_a_period_written_out(tmp_path: Path) -> None:
    (tmp_path / "chatbot" / "notify").mkdir(parents=True)
    (tmp_path / "chatbot" / "notify" / "planted.py").write_text(
        '"""Docstrings may say 发送“测评 CODE” and 10 日."""\n'
        "def f(code, word):\n"
        "    a = f'请发送“测评 {code}”参加'\n"  # a command word written out
        "    b = f'请发送“{word} {code}”参加'\n"  # the word from its constant
        "    c = '须在 10 日内复查'\n"  # a period written out
        "    d = '于 2027年2月28日 前报送'\n"  # a date, not a period
        "    return a, b, c, d, '、“异议 单位编号 理由”提出异议'\n",
        encoding="utf-8",
    )
    (tmp_path / "chatbot" / "notify" / "texts.py").write_text(
        "A = '发送“测评 X”，10 日内'\n", encoding="utf-8"
    )
    assert written_out(tmp_path) == [
        "chatbot/notify/planted.py:3: 请发送“测评 ",
        "chatbot/notify/planted.py:5: 须在 10 日内复查",
        "chatbot/notify/planted.py:7: 、“异议 单位编号 理由”提出异议",
    ]


def test_no_command_word_or_period_is_written_outside_a_texts_module() -> None:
    """The notices of chatbot/inspection and chatbot/notify (and the CLI's and console's instructions)
    take the command words from rubrics/words.py and the periods from their rules, in texts modules."""
    assert written_out(ROOT) == []

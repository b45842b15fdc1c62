"""The dialogs on their own: no web, no database. Each test reads as a conversation."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from dialogs.binding import RedeemInvitation
from dialogs.commands import AddEvidence
from dialogs.context import CoverageLine, RoleView, UserContext, WalkView
from dialogs.engine import MAX_REPLY_BYTES, DialogState, Outcome, UserInput, reply_bytes
from dialogs.router import plan, respond
from dialogs.selfcheck import MODE, SaveSelfScore, StartSelfCheck, SubmitSelfCheck
from dialogs.walk import summary_pages
from rubrics import get_rubric
from rubrics.objections import ObjectionView

CHAIR = RoleView("chair", "XJ-001", "宏达工会")


class Chat:
    """A chair talking to the dialogs; a tiny stand-in for the service applies the score commands."""

    def __init__(self, rubric_key: str = "non_public", editable: bool = True) -> None:
        self.view = WalkView(
            7, "宏达工会", 2026, rubric_key, get_rubric(rubric_key).version, "自评中", editable
        )
        self.state: dict | None = None
        self.commands: list = []

    @property
    def ctx(self) -> UserContext:
        return UserContext((CHAIR,), self.view, 2026)

    def send(self, text: str = "", kind: str = "text", **extra: str) -> str:
        outcome = respond(plan(self.state, UserInput(kind, text=text, **extra)), self.ctx)  # type: ignore[arg-type]
        return self._take(outcome)

    def _take(self, outcome: Outcome) -> str:
        # State must survive a JSON round trip (it lives in Redis).
        self.state = json.loads(json.dumps(outcome.state.to_dict()))
        self.commands = list(outcome.commands)
        for command in outcome.commands:
            if isinstance(command, SaveSelfScore):
                self.view = replace(self.view, scores={**self.view.scores, command.item_no: command.score})
            if isinstance(command, SubmitSelfCheck):
                self.view = replace(self.view, editable=False, state_label="自评已提交")
        assert outcome.reply is not None
        assert reply_bytes(outcome.reply) <= MAX_REPLY_BYTES
        return outcome.reply.text


def test_start_shows_position_dimension_and_points() -> None:
    chat = Chat()
    reply = chat.send("自评")
    assert "【1/43】工会组织健全（本项 5 分）" in reply
    assert chat.commands == [StartSelfCheck(7)]
    assert chat.state and chat.state["dialog"] == "self_check" and chat.state["rubric_version"]


def test_answers_advance_and_are_commands() -> None:
    chat = Chat()
    chat.send("自评")
    assert "【2/43】" in chat.send("4.5")
    assert chat.commands == [SaveSelfScore(7, 1, Decimal("4.5"))]
    assert "【3/43】" in chat.send("满分")
    assert chat.commands == [SaveSelfScore(7, 2, Decimal("5.0"))]


def test_a_wrong_score_is_refused_with_the_range_and_asked_again() -> None:
    chat = Chat()
    chat.send("自评")
    reply = chat.send("5.5")
    assert "请输入 0 到 5 分" in reply and "【1/43】" in reply and chat.commands == []


def test_back_skip_jump_and_the_first_item() -> None:
    chat = Chat()
    chat.send("自评")
    assert "已经是第一项了" in chat.send("上一项")
    assert "【2/43】" in chat.send("跳过")
    assert "【40/43】" in chat.send("修改 40")
    assert "【40/43】" in chat.send("修改第40项")
    assert "1 到 43" in chat.send("修改 44")
    assert "【39/43】" in chat.send("上一项")


def test_after_an_answer_the_next_unanswered_item_follows() -> None:
    chat = Chat()
    chat.send("自评")
    for _ in range(5):
        chat.send("1")
    chat.send("修改 2")
    assert "【6/43】" in chat.send("0")


def test_photo_is_evidence_for_the_current_item() -> None:
    chat = Chat()
    chat.send("自评")
    chat.send("1")
    reply = chat.send(kind="photo", media_id="M1", pic_url="http://p/1.jpg")
    assert "第 2 项的佐证照片" in reply and "【2/43】" in reply
    assert chat.commands == [AddEvidence(7, 2, "M1", "http://p/1.jpg")]


def test_pause_keeps_nothing_but_the_answers_and_resume_finds_the_gap() -> None:
    chat = Chat()
    chat.send("自评")
    chat.send("1")
    chat.send("跳过")
    chat.send("2")
    assert "进度已保存" in chat.send("暂停")
    assert chat.state and chat.state["dialog"] == ""
    assert "当前没有进行中的自评" in chat.send("3")
    resumed = chat.send("自评")
    assert "已答 2/43 项，从第 2 项继续" in resumed and "【2/43】" in resumed


def test_submit_lists_missing_items_then_submits_with_the_result() -> None:
    chat = Chat()
    chat.send("自评")
    missing = chat.send("提交")
    assert "还有 43 项未作答" in missing and chat.commands == []
    for no in range(1, 44):
        chat.send(f"修改 {no}")
        chat.send("满分" if no != 7 else "0.5")
    result = chat.send("提交")
    assert chat.commands == [SubmitSelfCheck(7)]
    assert "原始得分：100.5 / 102 分" in result
    assert "百分制得分：98.5 分" in result and "五星级" in result
    assert "答案已锁定" in chat.send("自评")


def test_the_summary_is_paged_and_every_page_fits() -> None:
    chat = Chat("state_owned")
    chat.send("自评")
    first = chat.send("查看")
    assert "【自查自评汇总 第1/" in first
    pages = summary_pages(MODE, chat.view, get_rubric("state_owned"))
    assert len(pages) >= 2
    second = chat.send("下一页")
    assert "第2/" in second
    assert "第1/" in chat.send("上一页")
    assert "现在是汇总页面" in chat.send("3")
    assert "【1/42】" in chat.send("继续")


def test_three_wrong_inputs_explain_the_commands_and_how_to_pause() -> None:
    chat = Chat()
    chat.send("自评")
    chat.send("啊")
    chat.send("哦")
    third = chat.send("嗯")
    assert "查看全部指令" in third and "暂停" in third and "【1/43】" in third
    assert chat.state and chat.state["wrong_inputs"] == 0


def test_a_state_made_with_another_rubric_version_is_not_applied() -> None:
    chat = Chat()
    chat.send("自评")
    assert chat.state is not None
    chat.state["rubric_version"] = "1999.1"
    reply = chat.send("5")
    assert "评分标准已更新" in reply and chat.commands == [StartSelfCheck(7)]


def test_garbage_state_is_treated_as_no_state() -> None:
    assert DialogState.from_dict({"dialog": 5, "item": "x", "unknown": 1}) == DialogState()
    assert DialogState.from_dict(None) == DialogState()


def test_binding_is_a_command_whose_result_decides_the_reply() -> None:
    outcome = respond(plan(None, UserInput("text", "绑定 ab12cd34")), UserContext())
    assert outcome.reply is None and outcome.commands == (RedeemInvitation("AB12CD34"),)
    outcome = respond(plan(None, UserInput("scan", "inv:XY34ZZ99")), UserContext())
    assert outcome.commands == (RedeemInvitation("XY34ZZ99"),)
    bad = respond(plan(None, UserInput("text", "绑定 一二三")), UserContext())
    assert bad.reply is not None and "不是有效的邀请码" in bad.reply.text and not bad.commands


def test_self_check_for_a_member_is_explained() -> None:
    ctx = UserContext((RoleView("member", "XJ-001", "宏达工会"),), None, 2026)
    outcome = respond(plan(None, UserInput("text", "自评")), ctx)
    assert outcome.reply is not None and "由工会主席" in outcome.reply.text


def test_no_campaign_is_explained() -> None:
    outcome = respond(plan(None, UserInput("text", "自评")), UserContext((CHAIR,), None, None))
    assert outcome.reply is not None and "尚未开启" in outcome.reply.text


def test_every_command_word_is_one_people_can_type() -> None:
    from dialogs.router import ROUTES, WORDS, parse_text

    assert set(ROUTES) <= set(WORDS)
    for word in ROUTES:
        assert parse_text(f"{word} U01").word == word


def test_progress_shows_coverage_shares_as_the_console_does() -> None:
    """One percentage format everywhere: 1 of 9 is 11.1% in the chat, as in the console and reports."""
    line = CoverageLine("原州区总工会", 1, 9, Decimal("0.111"), Decimal("0.7"), Decimal("0.222"))
    ctx = UserContext((RoleView("evaluator", "YZ", "原州区总工会"),), None, 2026, coverage=(line,))
    reply = respond(plan(None, UserInput("text", text="进度")), ctx).reply
    assert reply is not None
    assert (
        "原州区总工会 本年度已评定 1/9（11.1%）；历年累计评定过的单位占 22.2%，年度目标 70%（按历年累计计算）"
        in reply.text
    )


def test_progress_lists_a_unions_objections_on_one_line() -> None:
    """Two objections to one union are one 待复查 line (and one 复查 to send); another union has its own."""
    objections = (
        ObjectionView("U01", "东城社区工会", "12-20", "第3项职工之家并未挂牌", "member"),
        ObjectionView("U01", "东城社区工会", "12-20", "第12项制度并未建立", "public"),
        ObjectionView("U02", "西城社区工会", "12-21", "换届资料不全", "chair"),
    )
    ctx = UserContext((RoleView("evaluator", "YZ", "原州区总工会"),), None, 2026, objections=objections)
    reply = respond(plan(None, UserInput("text", text="进度")), ctx).reply
    assert reply is not None
    lines = [line for line in reply.text.splitlines() if line.startswith("待复查：")]
    assert len(lines) == 2 and "“复查 U01”" in lines[0] and "“复查 U02”" in lines[1]
    assert "2 条异议" in lines[0] and "第3项职工之家并未挂牌" in lines[0] and "第12项制度并未建立" in lines[0]
    assert "条异议——" not in lines[1] and "换届资料不全" in lines[1]

"""The assessment, re-review, ballot and publication dialogs on their own, as conversations."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from dialogs.assessment import ReturnSelfCheck, SaveAssessedScore, StartAssessment, SubmitAssessment
from dialogs.ballot import CastBallot, SaveBallotDraft
from dialogs.commands import SaveAssessmentRecord
from dialogs.context import (
    AssessmentAccess,
    BallotView,
    ResultView,
    RoleView,
    UserContext,
    WalkView,
)
from dialogs.engine import MAX_REPLY_BYTES, Outcome, UserInput, reply_bytes
from dialogs.publication import FileObjection
from dialogs.router import plan, respond
from rubrics import get_rubric
from rubrics.democratic import DemocraticFigures

EVALUATOR = RoleView("evaluator", "YZ", "原州区总工会")
MEMBER = RoleView("member", "U01", "东城社区工会")
VILLAGE = get_rubric("village")
SELF = {item.no: Decimal(item.points) for item in VILLAGE.items}


class Conversation:
    """One user and the dialogs; a tiny stand-in for the service applies what the dialogs ask."""

    def __init__(self, ctx: UserContext) -> None:
        self.ctx = ctx
        self.state: dict | None = None
        self.commands: list = []

    def send(self, text: str = "", kind: str = "text") -> str:
        outcome = respond(plan(self.state, UserInput(kind, text=text)), self.ctx)  # type: ignore[arg-type]
        return self._take(outcome)

    def _take(self, outcome: Outcome) -> str:
        self.state = json.loads(json.dumps(outcome.state.to_dict()))
        self.commands = list(outcome.commands)
        access = self.ctx.assessment
        for command in outcome.commands:
            if isinstance(command, SaveAssessedScore) and access and access.view:
                view = replace(access.view, scores={**access.view.scores, command.item_no: command.score})
                self.ctx = replace(self.ctx, assessment=replace(access, view=view))
                access = self.ctx.assessment
            if isinstance(command, SaveAssessmentRecord) and access and access.view:
                view = replace(
                    access.view,
                    methods=command.methods or access.view.methods,
                    opinion=command.opinion or access.view.opinion,
                )
                self.ctx = replace(self.ctx, assessment=replace(access, view=view))
                access = self.ctx.assessment
            if isinstance(command, SaveBallotDraft) and self.ctx.ballot:
                self.ctx = replace(self.ctx, ballot=replace(self.ctx.ballot, answers=command.answers))
        assert outcome.reply is not None and reply_bytes(outcome.reply) <= MAX_REPLY_BYTES
        return outcome.reply.text


def walk_view(scores: dict[int, Decimal] | None = None, editable: bool = True) -> WalkView:
    figures = DemocraticFigures(ballots=11, invited=14, satisfied=10, score=Decimal("88.2"), closed=True)
    return WalkView(
        5,
        "东城社区工会",
        2026,
        "village",
        VILLAGE.version,
        "自评已提交",
        editable,
        scores=scores or {},
        evidence={1: 2},
        reference=SELF,
        org_code="U01",
        figures=lambda: figures,
    )


def evaluator(state: str = "self_submitted", scores: dict[int, Decimal] | None = None) -> Conversation:
    access = AssessmentAccess("U01", walk_view(scores, state in ("self_submitted", "reviewing")), state=state)
    return Conversation(UserContext((EVALUATOR,), None, 2026, assessment=access))


def test_needs_name_what_a_turn_reads() -> None:
    assert plan(None, UserInput("text", "考评 u01")).needs.assess_org == "u01"
    assert plan(None, UserInput("text", "复查 U01")).needs.assess_mode == "re_review"
    assert plan(None, UserInput("text", "测评 ab12cd34")).needs.evaluation_code == "AB12CD34"
    assert plan(None, UserInput("scan", "eval:AB12CD34")).needs.evaluation_code == "AB12CD34"
    assert plan(None, UserInput("text", "测评")).needs.member_evaluation
    assert plan(None, UserInput("text", "异议 不实")).needs.result
    assert plan(None, UserInput("text", "进度")).needs.children
    walking = {"dialog": "assessment", "inspection_id": 5}
    assert plan(walking, UserInput("text", "同")).needs.assess_inspection_id == 5


def test_assessment_shows_the_self_score_and_takes_it_with_tong() -> None:
    chat = evaluator()
    first = chat.send("考评 U01")
    assert "【1/30】" in first and "自评 5 分" in first and "佐证照片 2 张" in first
    assert chat.commands == [StartAssessment(5)]
    assert "【2/30】" in chat.send("同")
    assert chat.commands == [SaveAssessedScore(5, 1, Decimal("5.0"), "")]
    assert "【3/30】" in chat.send("3")
    assert chat.commands == [SaveAssessedScore(5, 2, Decimal("3.0"), "")]
    assert "不需要上传照片" in chat.send(kind="photo")


def test_assessment_summary_shows_both_totals_and_the_democratic_figures() -> None:
    chat = evaluator("reviewing", {1: Decimal(5)})
    chat.send("考评 U01")
    summary = chat.send("查看")
    assert "自评合计 100，考评合计 5" in summary
    assert "民主测评：11 票（参与率 78.6%），满意率 90.9%，民主测评得分 88.2" in summary


def test_assessment_submit_reports_the_rating() -> None:
    chat = evaluator("reviewing", {**SELF, 1: Decimal(0)})
    assert "全部作答完毕" in chat.send("考评 U01")
    refused = chat.send("提交")  # the record first: a method and a written opinion
    assert chat.commands == [] and "考评方式未记录" in refused and "考评意见未填写" in refused
    assert "民主测评" not in refused  # held: 11 ballots, closed
    chat.send("方式 1 3")
    assert "至少 4 个字" in chat.send("意见 好")
    chat.send("意见 台账齐全，职工满意")
    rated = chat.send("提交")
    assert chat.commands == [SubmitAssessment(5)]
    # A sheet out of 100: its total is the 百分制 score, said once.
    assert "得分：95 / 100 分" in rated and "百分制" not in rated and "原始得分" not in rated
    # The stars are the scope's: the service adds them once the command is applied.
    assert "星级" not in rated.split("得分：95 / 100 分")[1]


def test_a_self_check_not_submitted_cannot_be_assessed() -> None:
    assert "自评尚未提交" in evaluator("self_checking").send("考评 U01")


def test_refusals_are_explained() -> None:
    denied = Conversation(
        UserContext((MEMBER,), None, 2026, assessment=AssessmentAccess("U01", refusal="not_evaluator"))
    )
    assert "不是“U01”的上级工会考评员" in denied.send("考评 U01")
    assert "请在“考评”后写上单位编号" in denied.send("考评")


def test_re_review_needs_a_reason_for_a_change() -> None:
    access = AssessmentAccess("U01", replace(walk_view(dict(SELF)), state_label="有异议"), state="objected")
    chat = Conversation(UserContext((EVALUATOR,), None, 2026, assessment=access))
    first = chat.send("复查 U01")
    assert "【1/30】" in first and "改分请发送“分数 原因”" in first
    assert "复查改分须说明原因" in chat.send("4")
    assert chat.commands == []
    assert "【2/30】" in chat.send("4 台账不全")
    assert chat.commands == [SaveAssessedScore(5, 1, Decimal("4.0"), "台账不全")]
    assert "【3/30】" in chat.send("同")
    assert chat.commands == []  # unchanged: nothing to save


def test_return_needs_a_reason_and_a_submitted_self_check() -> None:
    chat = evaluator()
    assert "请写明退回原因" in chat.send("退回 U01")
    assert "已将“东城社区工会”的自评退回" in chat.send("退回 U01 第3项，缺少佐证")
    assert chat.commands == [ReturnSelfCheck(5, "第3项，缺少佐证")]
    assert "只能退回已提交" in evaluator("rated").send("退回 U01 理由")


def ballot(status: str = "open") -> Conversation:
    view = BallotView(9, "东城社区工会", VILLAGE.dimensions, status)
    return Conversation(UserContext((MEMBER,), None, 2026, ballot=view))


def test_a_ballot_asks_each_dimension_then_overall_trust_and_a_suggestion() -> None:
    chat = ballot()
    first = chat.send("测评")
    assert "【1/9】" in first and "工会组织健全" in first and "匿名" in first
    assert "请回复 1、2 或 3" in chat.send("5")
    for _ in range(6):
        chat.send("1")
    assert chat.commands == [SaveBallotDraft(9, (1, 1, 1, 1, 1, 1))]
    back = chat.send("上一项")
    assert "【6/9】" in back and "作用发挥明显" in back
    assert chat.commands == [SaveBallotDraft(9, (1, 1, 1, 1, 1))]
    seventh = chat.send("1")
    assert "【7/9】" in seventh and "总体评价" in seventh
    assert "信任" in chat.send("2")
    assert "意见或建议" in chat.send("1")


def test_a_ballot_is_cast_once_all_is_answered() -> None:
    chat = ballot()
    chat.send("测评")
    for answer in ("1", "1", "2", "1", "3", "1", "2", "1"):
        chat.send(answer)
    assert "信任" in chat.send("上一项")
    assert "意见或建议" in chat.send("1")
    assert "感谢参与" in chat.send("无")
    assert chat.commands == [CastBallot(9, (1, 1, 2, 1, 3, 1, 2, 1), "")]


def test_an_option_number_sent_as_the_suggestion_is_questioned_once() -> None:
    """A tap too many at the suggestion: asked once (without echoing it); sent again, it is the suggestion."""
    chat = ballot()
    chat.send("测评")
    for answer in ("1",) * 8:
        chat.send(answer)
    asked = chat.send("2")
    assert "像是选项" in asked and "意见或建议" in asked and "感谢参与" not in asked and "“2”" not in asked
    assert chat.commands == []
    assert "感谢参与" in chat.send("2")
    assert chat.commands == [CastBallot(9, (1,) * 8, "2")]
    other = ballot()
    other.send("测评")
    for answer in ("1",) * 8:
        other.send(answer)
    assert "像是选项" in other.send("信任")  # the last question's label is an option too
    assert "感谢参与" in other.send("工会活动可以再多一些")
    assert other.commands == [CastBallot(9, (1,) * 8, "工会活动可以再多一些")]


def test_ballot_statuses_are_explained() -> None:
    assert "已参加过" in ballot("voted").send("测评")
    assert "已经结束" in ballot("closed").send("测评")
    assert "不在" in ballot("not_eligible").send("测评")
    assert "测评码不正确" in ballot("not_found").send("测评 XXXX1111")


def result(**changes: object) -> ResultView:
    view = ResultView(
        5,
        "东城社区工会",
        2026,
        "village",
        "公示中",
        1,
        Decimal("58"),
        Decimal("58"),
        1,
        "",
        True,
        tuple((d, Decimal(5), VILLAGE.dimension_max(d)) for d in VILLAGE.dimensions),
        "2026-12-01",
        True,
        False,
    )
    return replace(view, **changes)


def test_result_shows_stars_and_remediation() -> None:
    chat = Conversation(UserContext((MEMBER,), None, 2026, result=result()))
    text = chat.send("结果")
    assert "一星级" in text and "须补课" in text and "公示期至 2026-12-01" in text and "异议 具体理由" in text


def test_objections() -> None:
    chat = Conversation(UserContext((MEMBER,), None, 2026, result=result()))
    assert "写明具体理由" in chat.send("异议")
    assert "异议已收到" in chat.send("异议 第5项活动阵地不存在")
    assert chat.commands == [FileObjection(5, "第5项活动阵地不存在")]
    closed = Conversation(
        UserContext((MEMBER,), None, 2026, result=result(objection_open=False, state_label="已确定星级"))
    )
    assert "不在公示期内" in closed.send("异议 第5项活动阵地不存在")
    again = Conversation(UserContext((MEMBER,), None, 2026, result=result(already_objected=True)))
    assert "已对本轮公示结果提出过异议" in again.send("异议 第5项活动阵地不存在")


def test_a_code_first_names_the_union_a_number_alone_stays_a_reason() -> None:
    other = result(inspection_id=7, org_name="西城社区工会", org_code="U02", own=False, below_standard=False)
    chat = Conversation(UserContext((MEMBER,), None, 2026, result=result(org_code="U01"), coded_result=other))
    shown = chat.send("结果 u02")
    assert shown.startswith("【年检结果公示】西城社区工会（U02）") and "异议 U02 具体理由" in shown
    assert "民主测评" not in shown and "工会组织" not in shown  # the publication only, not the sheet
    assert chat.send("异议 Ｕ０２：第3项不实").startswith("您对“西城社区工会”（U02）年检结果的异议已收到")
    assert chat.commands == [FileObjection(7, "第3项不实")]
    own = Conversation(UserContext((MEMBER,), None, 2026, result=result(org_code="U01")))
    assert own.send("异议 3 台账不全").startswith("您的异议已收到")
    assert own.commands == [FileObjection(5, "3 台账不全")]
    assert "没有找到编号为 ABC 的公示中的年检结果" in own.send("异议 ABC 台账不全")
    assert "请直接发送“异议 理由”" in own.send("异议 ABC 台账不全") and own.commands == []
    stranger = Conversation(UserContext())
    assert "异议 单位编号 理由" in stranger.send("异议 第3项不实") and stranger.commands == []
    assert "结果 单位编号" in stranger.send("结果")

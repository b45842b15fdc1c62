"""`结果` (the published result, 公示) and `异议 TEXT` (an objection during publication)."""

from __future__ import annotations

from dialogs.commands import FileObjection
from dialogs.context import ResultView, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.walk import democratic_text
from rubrics.scoring import BELOW_STANDARD_CONSEQUENCES, Stars, format_score

MAX_OBJECTION_CHARS = 500


def remediation_text(result: ResultView) -> str:
    return f"⚠ 低于建设标准：{BELOW_STANDARD_CONSEQUENCES}。" if result.below_standard else ""


def result_text(result: ResultView) -> str:
    lines = [
        f"【年检结果】{result.org_name} {result.year} 年度（{result.state_label}，第 {result.round} 轮公示，"
        f"公示期至 {result.publication_ends}）"
    ]
    for dimension, total, top in result.dimension_totals:
        lines.append(f"· {dimension} {format_score(total)}/{top}")
    lines.append(f"考评得分：{format_score(result.raw_total)} 分，百分制 {format_score(result.score)} 分")
    lines.append(f"星级：{Stars(result.stars).label}")
    if result.stars_reason:
        lines.append(f"星级说明：{result.stars_reason}")
    lines.append(democratic_text(result.democratic))
    if result.below_standard:
        lines.append(remediation_text(result))
    if result.objection_open and not result.already_objected:
        lines.append("如对结果有异议，请在公示期内发送“异议 具体理由”。")
    return "\n".join(lines)


def show(ctx: UserContext) -> Outcome:
    """`结果`."""
    if ctx.result is None:
        return Outcome(
            Reply("您所在单位本年度的年检结果尚未公示。" if ctx.bound else "请先绑定身份。"), DialogState()
        )
    return Outcome(Reply(result_text(ctx.result)), DialogState())


def object_to(ctx: UserContext, text: str) -> Outcome:
    """`异议 TEXT`: one objection per user per publication round, only while it is published."""
    result = ctx.result
    if result is None:
        return Outcome(Reply("您所在单位目前没有公示中的年检结果，无法提出异议。"), DialogState())
    if not result.objection_open:
        return Outcome(
            Reply(f"“{result.org_name}”的年检结果不在公示期内（{result.state_label}），无法提出异议。"),
            DialogState(),
        )
    if result.already_objected:
        return Outcome(
            Reply("您已对本轮公示结果提出过异议，上级工会将在 10 日内复查，请耐心等待。"), DialogState()
        )
    text = text.strip()
    if len(text) < 4:
        return Outcome(Reply("请在“异议”后写明具体理由，如：异议 第12项职工书屋并未建立。"), DialogState())
    return Outcome(
        Reply("您的异议已收到。上级工会将在 10 日内复查评定，并再次公示结果。", (Choice("结果", "结果"),)),
        DialogState(),
        (FileObjection(result.inspection_id, text[:MAX_OBJECTION_CHARS]),),
    )

"""补课 (remediation) in chat: the chair reads what it means and reports it done (`补课`, `补课完成 说明`);
the parent union's evaluator records the re-check (`补课验收 C 通过|未通过 说明`)."""

from __future__ import annotations

from dialogs.assessment import access_for
from dialogs.commands import CheckRemediation, ReportRemediation
from dialogs.context import RemediationView, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply
from rubrics.scoring import BELOW_STANDARD_CONSEQUENCES

MIN_TEXT_CHARS = 4
MAX_TEXT_CHARS = 500
PASSED_WORDS = ("通过", "合格")
FAILED_WORDS = ("未通过", "不通过", "不合格")


def status_text(view: RemediationView) -> str:
    lines = [
        f"【补课】{view.org_name} {view.year} 年度年检结果低于建设标准：{BELOW_STANDARD_CONSEQUENCES}。",
        f"补课截止：{view.due}；状态：{view.status_label}。",
    ]
    if view.report_text:
        lines.append(f"已报告：{view.report_text}")
    if view.check_text:
        lines.append(f"上级工会验收意见：{view.check_text}")
    if view.status != "passed":
        lines.append("补课完成后请发送“补课完成 情况说明”，上级工会将进行验收。")
    return "\n".join(lines)


def show(ctx: UserContext) -> Outcome:
    """`补课`."""
    if ctx.remediation is None:
        return Outcome(Reply("本单位没有需要补课的年检结果。"), DialogState())
    return Outcome(Reply(status_text(ctx.remediation)), DialogState())


def report(ctx: UserContext, text: str) -> Outcome:
    """`补课完成 说明`: the chair reports the remediation done."""
    view = ctx.remediation
    if view is None:
        return Outcome(Reply("本单位没有需要补课的年检结果。"), DialogState())
    if view.status == "passed":
        return Outcome(Reply("本单位的补课已通过验收，无需再次报告。"), DialogState())
    text = text.strip()
    if len(text) < MIN_TEXT_CHARS:
        return Outcome(
            Reply("请在“补课完成”后写明补课情况，如：补课完成 已建立女职工委员会并完成换届选举。"),
            DialogState(),
        )
    return Outcome(
        Reply("已报告补课完成，上级工会将进行验收，验收结果会通知您。", (Choice("补课", "补课"),)),
        DialogState(),
        (ReportRemediation(view.inspection_id, text[:MAX_TEXT_CHARS]),),
    )


def check(ctx: UserContext, arg: str) -> Outcome:
    """`补课验收 C 通过|未通过 说明`: the evaluator's re-check after remediation."""
    code, _, rest = arg.partition(" ")
    access = access_for(ctx, code, "补课验收")
    if isinstance(access, str):
        return Outcome(Reply(access), DialogState())
    view = access.remediation
    if view is None:
        return Outcome(Reply(f"“{access.org_code}”没有需要验收的补课。"), DialogState())
    if view.status == "passed":
        return Outcome(Reply(f"“{view.org_name}”的补课已通过验收。"), DialogState())
    verdict, _, text = rest.strip().partition(" ")
    usage = f"请发送“补课验收 {view.org_code} 通过 说明”或“补课验收 {view.org_code} 未通过 说明”。"
    if verdict not in PASSED_WORDS + FAILED_WORDS or len(text.strip()) < MIN_TEXT_CHARS:
        head = status_text(view).replace("【补课】", "【补课验收】", 1)
        return Outcome(Reply(f"{head}\n{usage}"), DialogState())
    passed = verdict in PASSED_WORDS
    said = "通过" if passed else "未通过"
    return Outcome(
        Reply(f"已记录“{view.org_name}”补课验收{said}，主席将收到通知。", (Choice("进度", "进度"),)),
        DialogState(),
        (CheckRemediation(view.inspection_id, passed, text.strip()[:MAX_TEXT_CHARS]),),
    )

"""User-facing texts shared by the dialogs (Simplified Chinese)."""

from __future__ import annotations

from dialogs.context import UserContext

WELCOME = "欢迎关注年检助手！这里办理基层工会年检：工会主席在线自查自评，上级工会考评，会员参加民主测评。"

UNBOUND_HELP = (
    "您还没有绑定身份。请向上级工会索取邀请码，发送“绑定 邀请码”（如：绑定 AB12CD34），"
    "或直接扫描邀请二维码。参加民主测评请发送“测评 测评码”或扫描测评二维码。"
)

#: After this many wrong inputs in a row, a short hint: how to answer, how to pause, where help is.
WRONG_INPUTS_BEFORE_HELP = 3

#: What works inside each role's dialogs, in `帮助` after the role's command words (dialogs.router).
DIALOG_HELP: dict[str, tuple[str, ...]] = {
    "chair": (
        "自评中：直接回复数字填写当前项得分（可含半分，如 2.5）；满分 —— 记满分",
        "自评中：上一项 / 跳过 / 修改 N —— 返回上一项、暂时跳过、跳到第 N 项",
        "自评中：发送照片 —— 作为当前项的佐证材料",
        "自评中：查看 —— 分页查看已填得分；暂停 —— 暂停作答，进度自动保存；提交 —— 全部作答后提交",
    ),
    "evaluator": (
        "考评中：同 —— 沿用自评分；方式 1 3 —— 记录考评方式；意见 内容 —— 填写考评意见",
        "考评中：结束测评 原因 / 免除测评 原因 —— 民主测评未结束时；查看、暂停、提交",
    ),
    "member": ("测评中：回复 1 满意、2 基本满意、3 不满意；上一项 —— 返回上一题；暂停 —— 已答部分保存",),
}


def too_many_wrong_inputs(ctx: UserContext, usage: str = "", pausable: bool = True) -> str:
    """Shown after three wrong inputs in a row, in three lines at most: what answers the question
    here, and how to pause or see every command."""
    if not ctx.bound:
        return f"好像遇到了困难？\n{UNBOUND_HELP}"
    lines = ["好像遇到了困难？"]
    if usage:
        lines.append(usage)
    if pausable:
        lines.append("发送“暂停”保存进度、稍后用原指令继续；发送“帮助”查看全部指令。")
    else:
        lines.append("发送“帮助”查看全部指令。")
    return "\n".join(lines)

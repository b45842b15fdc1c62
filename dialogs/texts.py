"""User-facing texts shared by the dialogs (Simplified Chinese)."""

from __future__ import annotations

from dialogs.context import UserContext

WELCOME = "欢迎关注年检助手！这里办理基层工会年检：工会主席在线自查自评，上级工会考评，会员参加民主测评。"

UNBOUND_HELP = (
    "您还没有绑定身份。请向上级工会索取邀请码，发送“绑定 邀请码”（如：绑定 AB12CD34），"
    "或直接扫描邀请二维码。参加民主测评请发送“测评 测评码”或扫描测评二维码。"
)

ROLE_HELP: dict[str, str] = {
    "chair": (
        "工会主席可用指令：\n"
        "· 自评 —— 开始或继续自查自评（从第一项未答处继续）\n"
        "· 直接回复数字 —— 填写当前项得分（可含半分，如 2.5）；满分 —— 记满分\n"
        "· 上一项 / 跳过 / 修改 N —— 返回上一项、暂时跳过、跳到第 N 项\n"
        "· 发送照片 —— 作为当前项的佐证材料\n"
        "· 查看 —— 分页查看已填得分；暂停 —— 暂停作答，进度自动保存\n"
        "· 提交 —— 全部作答后提交自评\n"
        "· 结果 —— 查看公示的年检结果；异议 理由 —— 公示期内提出异议\n"
        "· 补课 —— 结果低于建设标准时查看补课要求；补课完成 说明 —— 报告补课完成"
    ),
    "evaluator": (
        "考评员可用指令：\n"
        "· 进度 —— 查看下级单位的年检进度\n"
        "· 考评 单位编号 —— 逐项考评（回复“同”沿用自评分，或回复分数）\n"
        "· 退回 单位编号 原因 —— 把已提交的自评退回主席修改\n"
        "· 复查 单位编号 —— 复查有异议的结果（改分须说明原因）\n"
        "· 考评中：方式 1 3 —— 记录考评方式；意见 内容 —— 考评意见；结束测评/免除测评 原因\n"
        "· 录入测评 单位编号 —— 录入纸质测评表（只录份数）\n"
        "· 补课验收 单位编号 通过/未通过 说明 —— 验收下级工会补课"
    ),
    "member": (
        "会员可用指令：\n"
        "· 测评 —— 参加本单位工会民主测评（匿名）\n"
        "· 结果 —— 查看公示的年检结果；异议 理由 —— 公示期内提出异议"
    ),
    "admin": "管理员可用指令：\n· 进度 —— 查看您绑定的身份与年检进度",
}
COMMON_HELP = "· 绑定 邀请码 —— 绑定新的身份；帮助 —— 查看本说明"


def help_text(ctx: UserContext) -> str:
    if not ctx.bound:
        return UNBOUND_HELP
    roles = "、".join(r.label for r in ctx.roles)
    sections = [ROLE_HELP[role] for role in ROLE_HELP if ctx.has_role(role)]
    return f"您当前的身份：{roles}\n" + "\n".join(sections) + "\n" + COMMON_HELP


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

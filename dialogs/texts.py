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
        "· 结果 —— 查看公示的年检结果；异议 理由 —— 公示期内提出异议"
    ),
    "evaluator": (
        "考评员可用指令：\n"
        "· 进度 —— 查看下级单位的年检进度\n"
        "· 考评 单位编号 —— 逐项考评（回复“同”沿用自评分，或回复分数）\n"
        "· 退回 单位编号 原因 —— 把已提交的自评退回主席修改\n"
        "· 复查 单位编号 —— 复查有异议的结果（改分须说明原因）"
    ),
    "member": (
        "会员可用指令：\n"
        "· 测评 —— 参加本单位工会民主测评（匿名）\n"
        "· 结果 —— 查看公示的年检结果；异议 理由 —— 公示期内提出异议"
    ),
    "admin": "管理员可用指令：\n· 进度 —— 查看您绑定的身份与年检进度",
}
COMMON_HELP = "· 绑定 邀请码 —— 绑定新的身份；帮助 —— 查看本说明"

PAUSE_HINT = "想先停下来，发送“暂停”即可，进度会自动保存；之后发送原指令（如“自评”）从断点继续。"


def help_text(ctx: UserContext) -> str:
    if not ctx.bound:
        return UNBOUND_HELP
    roles = "、".join(r.label for r in ctx.roles)
    sections = [ROLE_HELP[role] for role in ROLE_HELP if ctx.has_role(role)]
    return f"您当前的身份：{roles}\n" + "\n".join(sections) + "\n" + COMMON_HELP


def too_many_wrong_inputs(ctx: UserContext) -> str:
    """Shown after three wrong inputs in a row: the command set and how to pause."""
    return f"好像遇到了困难？{help_text(ctx)}\n{PAUSE_HINT}"

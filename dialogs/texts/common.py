"""Texts every dialog shares: welcome, the unbound user's help, `帮助`, `进度`, the idle replies and the
three-line hint after three wrong inputs in a row."""

from __future__ import annotations

import re
from decimal import Decimal

from rubrics.scoring import format_percent

WELCOME = "欢迎关注年检助手！这里办理基层工会年检：工会主席在线自查自评，上级工会考评，会员参加民主测评。"

#: `帮助` for someone not bound (the public): what anyone may do, each command on a line of its own.
UNBOUND_LINE = "您还没有绑定身份。不绑定也可以："
UNBOUND_HELP_LINES = (
    "· 结果 单位编号 —— 公示期内查看该单位的年检结果（单位编号见公示，如：结果 YZ-001）",
    "· 异议 单位编号 理由 —— 公示期内对该单位的结果提出异议",
    "· 测评 测评码 —— 参加民主测评（或扫描测评二维码）",
    "工会主席、会员、考评员：",
    "· 绑定 邀请码 —— 向上级工会索取邀请码后绑定身份（如：绑定 AB12CD34），或扫描邀请二维码",
    "· 帮助 —— 查看本说明",
)
UNBOUND_HELP = "\n".join((UNBOUND_LINE, *UNBOUND_HELP_LINES))
#: `进度` for someone not bound: there is no inspection of theirs to show.
UNBOUND_PROGRESS = "您还没有绑定身份，没有可查看的年检进度。不绑定也可以："
BIND_FIRST = "请先绑定身份。"

#: After this many wrong inputs in a row, the three-line hint.
WRONG_INPUTS_BEFORE_HELP = 3
HELP_LINE = "发送“帮助”查看全部指令。"


def pause_line(resume: str) -> str:
    """The hint's third line: how to pause and come back."""
    return f"发送“暂停”保存进度，稍后发送“{resume}”接着做。"


def stuck_hint(usage: str, pause: str = "") -> str:
    """Three lines at most, after three wrong inputs in a row: what to type here, where every command is
    listed, how to pause (when there is something to pause)."""
    return "\n".join(line for line in (usage, HELP_LINE, pause) if line)


# ---------------------------------------------------------------- 帮助

#: What works inside each role's dialogs, listed in `帮助` after the role's command words: each line with
#: the word whose dialog it is about, shown only when that word is the user's ("": always shown).
DIALOG_HELP: dict[str, tuple[tuple[str, str], ...]] = {
    "chair": (
        ("自评", "自评中：回复分数（可含半分，如 2.5、两分半）或点链接；满分；第3项改为2分"),
        ("自评", "自评中：上一项、跳过、修改 N；发送照片 —— 当前项的佐证"),
        ("自评", "自评中：查看 —— 汇总；暂停 —— 保存进度；提交 —— 全部作答后提交"),
    ),
    "evaluator": (
        ("考评", "考评中：同 —— 沿用自评分；回复分数或满分；第3项改为2分"),
        ("考评", "考评中：方式 1 3 —— 考评方式；意见 内容 —— 考评意见；结束测评 / 免除测评 原因"),
        (
            "考评",
            "考评中：查看 —— 汇总；暂停 —— 保存进度；提交 —— 评完、记录方式和意见、民主测评结束或免除后提交",
        ),
        ("复查", "复查中：同 —— 维持原考评分；改分发送“分数 原因”，或任一项“第12项改为2分 原因”"),
        ("抽查", "抽查中：同 —— 沿用县级考评分；回复分数或满分；第3项改为2分"),
    ),
    "member": (("测评", "测评中：回复 1、2、3 或 满意 / 基本满意 / 不满意；上一项；暂停 —— 已答部分保存"),),
    "admin": (
        ("", "单位、邀请码、民主测评、公示和导出在管理台或命令行 nianjian 中办理；发送“进度”查看覆盖率"),
    ),
}


def identities(labels: list[str]) -> str:
    shown = "、".join(labels[:3]) + (f" 等 {len(labels)} 个身份" if len(labels) > 3 else "")
    return f"您当前的身份：{shown}"


def role_heading(label: str) -> str:
    return f"{label}可用指令："


def everyone_line(usages: list[str]) -> str:
    return "通用：" + "；".join(usages)


HELP_RESUME = "发送“继续”回到刚才的问题。"


# ---------------------------------------------------------------- voice messages (语音)

#: A voice message without recognised text (the account's speech recognition is off, or it heard nothing).
VOICE_NOT_HEARD = (
    "这条语音没有识别出文字。请改为打字回复（如：3、两分半、满分、同、满意），或靠近话筒再说一遍；"
    "若语音一直无法识别，请联系管理员在微信公众平台开启“接收语音识别结果”。"
)


#: The longest echo of what was heard (characters): a long recognition leaves the answer in view.
HEARD_LENGTH = 40
#: Marks that turn the direction of the text after them (a spoofed echo), and zero-width breaks.
_DIRECTION = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile("[\r\n\u2028\u2029\x85\x0b\x0c]+")


def heard(text: str) -> str:
    """The line before the reply to a voice message: what was understood, on one line, without marks
    that turn the text's direction, cut to ``HEARD_LENGTH`` characters with “…”."""
    line = _BREAKS.sub(" ", _DIRECTION.sub("", text)).strip()
    if len(line) > HEARD_LENGTH:
        line = line[: HEARD_LENGTH - 1] + "…"
    return f"听到：{line}\n"


# ---------------------------------------------------------------- idle: no dialog in progress


def nothing_open(what: str, start: str) -> str:
    """An answer arrived with no questionnaire open: which one is meant and how to open it."""
    return f"当前没有进行中的{what}。{start}"


IDLE_SELF_CHECK = nothing_open("自评", "发送“自评”继续自查自评。")
IDLE_ASSESSMENT = nothing_open("考评", "发送“考评 单位编号”开始或继续考评，发送“进度”查看您负责的单位。")
#: A member's answer with no ballot open: they may have voted already, so not told to vote again.
IDLE_BALLOT = "当前没有等待您作答的民主测评（已提交的测评无需再答）。发送“进度”查看测评情况。"
IDLE_PHOTO = "照片要作为某一项的佐证：请先发送“自评”进入该项，再发送照片。"
NOT_UNDERSTOOD = "没有看懂这条消息。"


def self_check_locked(state_label: str) -> str:
    """The chair's self-check is submitted; its state named once (自评已提交 is the state itself)."""
    if state_label in ("", "自评已提交"):
        return "您的自评已提交，答案已锁定。"
    return f"您的自评已提交，答案已锁定（当前状态：{state_label}）。"


# ---------------------------------------------------------------- 进度


def bindings_line(labels: list[str]) -> str:
    return "您绑定的身份：" + "、".join(labels)


NO_CAMPAIGN = "本年度年检尚未开启。"
NOT_IN_SCOPE = "您的工会不在本年度年检范围内。"


def remediation_line(status_label: str, due: str) -> str:
    return f"补课：{status_label}，截止 {due}。发送“补课”查看。"


def coverage_line(
    name: str, rated: int, unions: int, share: Decimal, cumulative: Decimal, target: Decimal
) -> str:
    """This year's share, then the cumulative one (rated in this or any earlier year) that the yearly
    target is compared with, each named."""
    return (
        f"{name} 本年度已评定 {rated}/{unions}（{format_percent(share)}）；"
        f"历年累计评定过的单位占 {format_percent(cumulative)}，年度目标 {format_percent(target)}（按历年累计计算）"
    )


def objection_line(code: str, name: str, due: str, said: list[tuple[str, str]]) -> str:
    """A union's objections waiting for its re-review, on one line (``said``: each one's source and words)."""
    quoted = "；".join(f"{source}异议：“{text}”" for source, text in said)
    count = f"{len(said)} 条异议——" if len(said) > 1 else ""
    return f"待复查：{code} {name}（截止 {due}）{count}{quoted}——发送“复查 {code}”"


def ballot_line(org_name: str, status: str, answered: int) -> str:
    """A member's democratic evaluation in `进度`: open (begun or not), voted, closed; "" otherwise."""
    if status == "open" and answered:
        return f"民主测评：{org_name}正在进行，您已答 {answered} 项，尚未提交。发送“测评”继续。"
    if status == "open":
        return f"民主测评：{org_name}正在进行，您尚未作答。发送“测评”参加（匿名）。"
    if status == "voted":
        return f"民主测评：{org_name}，您已参加，感谢！"
    if status == "closed":
        return f"民主测评：{org_name}已结束。"
    if status in ("not_eligible", "full"):
        return f"民主测评：{org_name}正在进行，参加人员在开启时已确定，您不在其中。"
    return ""


NO_BALLOT = "民主测评：尚未开始，开始后会通知您。"


def result_progress(
    stars_label: str, score: str, state_label: str, ends: str, open_: bool, objected: bool
) -> str:
    """The published result in a chair's or member's `进度` (``score``: 百分制), and where their
    objection stands."""
    line = f"年检结果：{stars_label}，{score} 分（{state_label}"
    line += f"，公示期至 {ends}）" if open_ and ends else "）"
    if objected:
        return line + "。您的异议已收到，待上级工会复查后再次公示。发送“结果”查看。"
    if open_:
        return line + "。发送“结果”查看详情；如有不同意见，公示期内发送“异议 理由”。"
    return line + "。发送“结果”查看详情。"


NO_RESULT = "年检结果：尚未公示。"
#: The stars of a published result that has none yet.
NO_STARS = "未定星级"

#: `进度`: the heading of the objections the user filed.
FILED_OBJECTIONS = "您提出的异议："


def filed_objection_line(
    code: str, name: str, year: int, filed: str, text: str, outcome: str, republished_until: str
) -> str:
    """One objection the user filed: waiting for the re-review, or what it decided (``outcome``) and
    until when the result is published again."""
    line = f"· {name}（{code}）{year} 年度，{filed} 提出：“{text}”——"
    if not outcome:
        return line + "待上级工会复查，复查后会通知您。"
    if republished_until:
        return line + f"已复查，{outcome}，再次公示至 {republished_until}。"
    return line + f"已复查，{outcome}。"


NO_CHILDREN = "下级单位：暂无本年度年检任务。"


def children_heading(total: int) -> str:
    return f"下级单位 {total} 个："


def child_line(code: str, name: str, state_label: str, own: str, assessed: str) -> str:
    """One child union: its state, then its self total and assessed total, each named ("": none yet)."""
    figures = "，".join(
        f"{label} {total} 分" for label, total in (("自评合计", own), ("考评合计", assessed)) if total
    )
    return f"· {code} {name}：{state_label}" + (f"（{figures}）" if figures else "")


def more_children(count: int) -> str:
    return f"……另有 {count} 个，完整列表请用 nianjian results 或管理台。"


# ---------------------------------------------------------------- the lines of `进度` and `帮助` in 帮助

PROGRESS_USAGE = "进度 —— 查看年检进度"
HELP_USAGE = "帮助 —— 查看本说明"

#: A saved position (walk or ballot) the database no longer agrees with: re-placed, the message not taken.
ANSWERS_CHANGED = "作答记录已有变化，已按已保存的答案为您重新定位，本条消息未作为答案记录。\n"

#: Every code (邀请码, 测评码) waits: too many wrong ones from all senders within the minute.
CODES_LOCKED = (
    "最近一分钟内输错邀请码、测评码的次数过多，为防止猜码，系统暂停核对。请稍后再试（约一分钟后重新发送）。"
)


def word_and_answer(words: list[str]) -> str:
    """The start-up error when a router's word is also one of the walk's answering words."""
    return f"“{'、'.join(words)}”既是指令又是作答用语。"

"""SelfCheckDialog (自查自评): the chair answers every item of the union's rubric, then submits.

A walk (dialogs/walk.py) over the chair's own scores, with photos as evidence.
"""

from __future__ import annotations

from dialogs import walk
from dialogs.commands import SaveSelfScore, StartSelfCheck, SubmitSelfCheck
from dialogs.context import UserContext, WalkView
from dialogs.engine import DialogState, Outcome, Reply
from dialogs.parsing import Intent
from rubrics import Rubric, get_rubric

NAME = "self_check"


def _submitted(view: WalkView, rubric: Rubric) -> str:
    return "自评已提交！各项答案已锁定，上级工会将进行组织评定。\n" + result_text(view, rubric)


def result_text(view: WalkView, rubric: Rubric) -> str:
    """Raw total out of the sheet max, the 百分制 score and the provisional stars."""
    return walk.totals_text(
        view,
        rubric,
        f"{view.org_name} {view.year} 年度自评结果：",
        "预评星级：{stars}（最终以上级工会组织评定为准）",
    )


def returned_text(view: WalkView) -> str:
    """Why the parent union sent the self-check back, while it is back."""
    if not view.return_reason:
        return ""
    reason = view.return_reason[:100] + ("…" if len(view.return_reason) > 100 else "")
    return f"您的自评已被上级工会退回修改。原因：{reason}\n"


MODE = walk.Mode(
    name=NAME,
    title="自查自评",
    view=lambda ctx: ctx.self_check,
    start_command=StartSelfCheck,
    score_command=lambda inspection, no, score, reason: SaveSelfScore(inspection, no, score),
    submit_command=SubmitSelfCheck,
    submitted_text=_submitted,
    photos=True,
    score_label="自评",
    resume="自评",
    intro=returned_text,
)


def start(ctx: UserContext, prefix: str = "") -> Outcome:
    """`自评`: start, or resume at the first unanswered item."""
    view = ctx.self_check
    if view is None:
        return Outcome(Reply(prefix + _not_available(ctx)), DialogState())
    if not view.editable:
        rubric = get_rubric(view.rubric_key)
        return Outcome(
            Reply(f"{prefix}自评已提交（{view.state_label}），答案已锁定。\n{result_text(view, rubric)}"),
            DialogState(),
        )
    return walk.start(MODE, view, prefix)


def _not_available(ctx: UserContext) -> str:
    if not ctx.has_role("chair"):
        roles = "、".join(r.label for r in ctx.roles) or "未绑定"
        return f"自查自评由工会主席（或指定人员）完成。您当前的身份：{roles}。"
    if ctx.campaign_year is None:
        return "本年度年检尚未开启，请等待上级工会通知。"
    return f"您的工会不在 {ctx.campaign_year} 年度年检范围内，如有疑问请联系上级工会。"


def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """One turn inside the self-check."""
    view = ctx.self_check
    if view is not None and not view.editable:
        return start(ctx)
    return walk.handle(MODE, state, intent, ctx, start)


def progress_text(view: WalkView, rubric: Rubric) -> str:
    return returned_text(view) + walk.progress_text(MODE, view, rubric)

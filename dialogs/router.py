"""The top of every conversation: routes one input to the active dialog or to a global command.

The table of dialogs is ``DIALOGS``: the name stored in DialogState.dialog → its turn handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialogs import binding, selfcheck
from dialogs.context import UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply, UserInput
from dialogs.parsing import Intent, parse
from dialogs.texts import WELCOME, help_text, too_many_wrong_inputs
from rubrics import get_rubric

DialogHandler = Callable[[DialogState, Intent, UserContext], Outcome]

DIALOGS: dict[str, DialogHandler] = {selfcheck.NAME: selfcheck.handle}


def respond(saved: dict[str, Any] | None, user_input: UserInput, ctx: UserContext) -> Outcome:
    """One turn: (saved state, input, context) → (reply, new state, commands)."""
    state = DialogState.from_dict(saved)
    intent = parse(user_input)
    if intent.kind == "unsubscribe":
        return Outcome(Reply(""), DialogState())
    if intent.kind == "word" and intent.word == "绑定":
        return binding.start(intent.arg, state)
    if intent.kind == "subscribe":
        return Outcome(Reply(f"{WELCOME}\n{help_text(ctx)}"), state)
    handler = DIALOGS.get(state.dialog)
    if handler is not None:
        return handler(state, intent, ctx)
    return _idle(state, intent, ctx)


def _idle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """No dialog is active."""
    if intent.kind == "word":
        if intent.word in ("自评", "继续"):
            return selfcheck.start(ctx)
        if intent.word == "帮助":
            return Outcome(Reply(help_text(ctx)), DialogState())
        if intent.word == "进度":
            return Outcome(Reply(progress(ctx)), DialogState())
    if ctx.has_role("chair") and ctx.self_check is not None and ctx.self_check.editable:
        hint = (
            "照片要作为某一项的佐证：请先发送“自评”进入该项，再发送照片。"
            if intent.kind == "photo"
            else "当前没有进行中的问卷。发送“自评”继续自查自评。"
        )
        choices: tuple[Choice, ...] = (Choice("自评", "自评"), Choice("帮助", "帮助"))
    elif ctx.self_check is not None:
        hint = f"您的自评已提交（{ctx.self_check.state_label}），答案已锁定。"
        choices = (Choice("进度", "进度"), Choice("帮助", "帮助"))
    elif ctx.bound:
        hint = "没有看懂这条消息。"
        choices = (Choice("帮助", "帮助"), Choice("进度", "进度"))
    else:
        hint = "您还没有绑定身份。"
        choices = ()
    count = state.wrong_inputs + 1
    if count >= selfcheck.WRONG_INPUTS_BEFORE_HELP:
        return Outcome(Reply(f"{hint}\n{too_many_wrong_inputs(ctx)}", choices), DialogState())
    body = hint if ctx.bound else help_text(ctx)
    return Outcome(Reply(body, choices), DialogState(wrong_inputs=count))


def progress(ctx: UserContext) -> str:
    """`进度` outside a dialog."""
    if not ctx.bound:
        return help_text(ctx)
    lines = ["您绑定的身份：" + "、".join(r.label for r in ctx.roles)]
    if ctx.self_check is not None:
        lines.append(selfcheck.progress_text(ctx.self_check, get_rubric(ctx.self_check.rubric_key)))
    elif ctx.has_role("chair"):
        lines.append(
            "本年度年检尚未开启。" if ctx.campaign_year is None else "您的工会不在本年度年检范围内。"
        )
    return "\n".join(lines)

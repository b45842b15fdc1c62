"""The top of every conversation: routes one input to the active dialog or to a global command.

``DIALOGS`` is the table of dialogs: the name kept in DialogState.dialog → its turn handler.
``needs`` tells the service which snapshots a turn will read, so the dialogs stay pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dialogs import assessment, ballot, binding, paper, publication, remediation, selfcheck
from dialogs.context import UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply, UserInput
from dialogs.parsing import Intent, parse
from dialogs.texts import WELCOME, help_text, too_many_wrong_inputs
from rubrics import get_rubric

DialogHandler = Callable[[DialogState, Intent, UserContext], Outcome]

DIALOGS: dict[str, DialogHandler] = {
    selfcheck.NAME: selfcheck.handle,
    assessment.ASSESSMENT.name: lambda s, i, c: assessment.handle(assessment.ASSESSMENT, s, i, c),
    assessment.RE_REVIEW.name: lambda s, i, c: assessment.handle(assessment.RE_REVIEW, s, i, c),
    assessment.SAMPLE_CHECK.name: lambda s, i, c: assessment.handle(assessment.SAMPLE_CHECK, s, i, c),
    ballot.NAME: ballot.handle,
    paper.NAME: paper.handle,
}
WALK_WORDS: dict[str, str] = {
    "考评": assessment.ASSESSMENT.name,
    "复查": assessment.RE_REVIEW.name,
    "抽查": assessment.SAMPLE_CHECK.name,
}
WALK_MODES = {
    mode.name: mode for mode in (assessment.ASSESSMENT, assessment.RE_REVIEW, assessment.SAMPLE_CHECK)
}
#: Words whose first argument is an organisation's code, → what the service loads for it.
CODE_WORDS: dict[str, str] = {"退回": "return", "录入测评": "paper", "补课验收": "remediation"}
MAX_CHILDREN_LISTED = 20


@dataclass(frozen=True)
class Needs:
    """What the service must load for this turn beyond the user's bindings and own self-check."""

    evaluation_code: str = ""  # 测评 CODE, scene eval:CODE
    evaluation_id: int = 0  # the ballot in progress
    member_evaluation: bool = False  # 测评 without a code: the member's own union's evaluation
    assess_org: str = ""  # 考评 / 复查 / 退回 C
    assess_inspection_id: int = 0  # the walk in progress
    assess_mode: str = ""  # assessment | re_review | sample_check | return | paper | remediation
    children: bool = False  # an evaluator's 进度
    result: bool = False  # 结果 / 异议
    remediation: bool = False  # the chair's 补课 / 补课完成


def needs(saved: dict[str, Any] | None, user_input: UserInput) -> Needs:
    state = DialogState.from_dict(saved)
    intent = parse(user_input)
    word, arg = (intent.word, intent.arg) if intent.kind == "word" else ("", "")
    if word == "测评":
        return Needs(evaluation_code=arg.upper()) if arg else Needs(member_evaluation=True)
    if word in WALK_WORDS and arg:
        return Needs(assess_org=arg.split()[0], assess_mode=WALK_WORDS[word])
    if word in CODE_WORDS:
        return Needs(assess_org=arg.split()[0] if arg else "", assess_mode=CODE_WORDS[word])
    if word in ("结果", "异议"):
        return Needs(result=True)
    if word in ("补课", "补课完成"):
        return Needs(remediation=True)
    children = word == "进度"
    if state.dialog == ballot.NAME:
        return Needs(
            evaluation_id=int(state.extra.get("evaluation_id", 0) or 0),
            children=children,
            remediation=children,
        )
    if state.dialog in (*WALK_WORDS.values(), paper.NAME):
        return Needs(
            assess_inspection_id=state.inspection_id,
            assess_mode=state.dialog,
            children=children,
            remediation=children,
        )
    return Needs(children=children, remediation=children)


def respond(saved: dict[str, Any] | None, user_input: UserInput, ctx: UserContext) -> Outcome:
    """One turn: (saved state, input, context) → (reply, new state, commands)."""
    state = DialogState.from_dict(saved)
    intent = parse(user_input)
    if intent.kind == "unsubscribe":
        return Outcome(Reply(""), DialogState())
    if intent.kind == "subscribe":
        return Outcome(Reply(f"{WELCOME}\n{help_text(ctx)}"), state)
    if intent.kind == "word":
        outcome = _global(state, intent, ctx)
        if outcome is not None:
            return outcome
    handler = DIALOGS.get(state.dialog)
    if handler is not None:
        return handler(state, intent, ctx)
    return _idle(state, intent, ctx)


def _global(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
    """Commands that work wherever the user is."""
    word, arg = intent.word, intent.arg
    if word == "绑定":
        return binding.start(arg, state)
    if word == "测评":
        return ballot.start(ctx)
    if word == "自评" and state.dialog != selfcheck.NAME:
        return selfcheck.start(ctx)
    if word in WALK_WORDS:
        mode = WALK_MODES[WALK_WORDS[word]]
        current = ctx.assessment.org_code if ctx.assessment else ""
        if state.dialog == mode.name and (not arg or arg.upper() == current.upper()):
            return None  # the walk in progress resumes where it was
        return assessment.start(ctx, arg.split()[0] if arg else "", mode)
    if word == "退回":
        return assessment.return_self_check(ctx, arg, intent.text)
    if word == "录入测评" and (state.dialog != paper.NAME or arg):
        return paper.start(ctx, arg.split()[0] if arg else "")
    if word == "补课":
        return remediation.show(ctx)
    if word == "补课完成":
        return remediation.report(ctx, intent.text)
    if word == "补课验收":
        return remediation.check(ctx, intent.text)
    if word == "结果":
        return publication.show(ctx)
    if word == "异议":
        return publication.object_to(ctx, intent.text)
    return None


def _idle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """No dialog is active."""
    if intent.kind == "word":
        if intent.word in ("自评", "继续") and ctx.has_role("chair"):
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
        return Outcome(Reply(f"{hint}\n{too_many_wrong_inputs(ctx, pausable=False)}", choices), DialogState())
    body = hint if ctx.bound else help_text(ctx)
    return Outcome(Reply(body, choices), DialogState(wrong_inputs=count))


def progress(ctx: UserContext) -> str:
    """`进度` outside a dialog: the user's bindings, own self-check, and an evaluator's children."""
    if not ctx.bound:
        return help_text(ctx)
    lines = ["您绑定的身份：" + "、".join(r.label for r in ctx.roles)]
    if ctx.self_check is not None:
        lines.append(selfcheck.progress_text(ctx.self_check, get_rubric(ctx.self_check.rubric_key)))
    elif ctx.has_role("chair"):
        lines.append(
            "本年度年检尚未开启。" if ctx.campaign_year is None else "您的工会不在本年度年检范围内。"
        )
    if ctx.remediation is not None and ctx.remediation.status != "passed":
        lines.append(f"补课：{ctx.remediation.status_label}，截止 {ctx.remediation.due}。发送“补课”查看。")
    for line in ctx.coverage:
        lines.append(
            f"{line.name} 本年度已评定 {line.rated}/{line.unions}（{line.share_percent}%），"
            f"累计评定 {line.cumulative_percent}%，年度目标 {line.target_percent}%"
        )
    for objection in ctx.objections:
        lines.append(
            f"待复查：{objection.org_code} {objection.org_name}（截止 {objection.due}）异议：“{objection.text[:60]}”"
            f"——发送“复查 {objection.org_code}”"
        )
    if ctx.has_role("evaluator") or ctx.has_role("admin"):
        total = max(ctx.children_total, len(ctx.children))
        if not ctx.children:
            lines.append("下级单位：暂无本年度年检任务。")
        else:
            lines.append(f"下级单位 {total} 个（自评/考评合计）：")
            for child in ctx.children[:MAX_CHILDREN_LISTED]:
                lines.append(
                    f"· {child.org_code} {child.org_name}：{child.state_label}"
                    f"（{child.self_total}/{child.assessed_total}）"
                )
            if total > MAX_CHILDREN_LISTED:
                lines.append(
                    f"……另有 {total - MAX_CHILDREN_LISTED} 个，完整列表请用 nianjian results 或管理台。"
                )
    return "\n".join(lines)

"""The top of every conversation: one input, parsed once, routed to a command word or the active dialog.

``ROUTES`` is the table of command words: each word once, with what the turn needs loaded, its handler,
who it is for and the line that explains it in `帮助`. ``DIALOGS`` maps the name kept in
DialogState.dialog to its turn handler. A turn is planned (``plan``: the state, the intent, what the
service must load) before the context is loaded, then answered (``respond``), so dialogs stay pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Any

from dialogs import assessment, ballot, binding, paper, publication, remediation, selfcheck
from dialogs.context import ROLE_LABELS, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply, UserInput
from dialogs.parsing import Intent, parse
from dialogs.texts import DIALOG_HELP, UNBOUND_HELP, WELCOME, WRONG_INPUTS_BEFORE_HELP, too_many_wrong_inputs
from dialogs.walk import Mode
from rubrics import get_rubric

DialogHandler = Callable[[DialogState, Intent, UserContext], Outcome]
MAX_CHILDREN_LISTED = 20
#: Words that read the chair's own self-check.
SELF_CHECK_WORDS = ("自评", "继续", "进度")
#: `帮助` stays well inside WeChat's 2048 bytes, leaving room for a link.
HELP_BYTES = 1900


@dataclass(frozen=True)
class Needs:
    """What the service must load for this turn beyond the user's bindings and own self-check."""

    evaluation_code: str = ""  # 测评 CODE, scene eval:CODE
    evaluation_id: int = 0  # the ballot in progress
    member_evaluation: bool = False  # 测评 without a code: the evaluation the user is invited to
    assess_org: str = ""  # 考评 / 复查 / 抽查 / 退回 / 录入测评 / 补课验收 C
    assess_inspection_id: int = 0  # the walk in progress
    assess_mode: str = ""  # assessment | re_review | sample_check | return | paper | remediation
    children: bool = False  # an evaluator's 进度
    result: bool = False  # 结果 / 异议
    remediation: bool = False  # the chair's 补课 / 补课完成
    self_check: bool = False  # the chair's own self-check (自评, 进度, its walk, an idle message)

    @property
    def campaign(self) -> bool:
        """Whether the turn reads the open campaign beyond the chair's own inspection."""
        return bool(self.assess_org or self.member_evaluation or self.result or self.children)

    def merged(self, fallback: Needs) -> Needs:
        """These needs, with whatever they leave empty taken from ``fallback`` (the dialog's own); a
        word that names its target (``assess_org``) replaces the dialog's target."""
        if self.assess_org:
            fallback = replace(fallback, assess_inspection_id=0, assess_mode="")
        values = {f.name: getattr(self, f.name) or getattr(fallback, f.name) for f in fields(self)}
        return Needs(**values)


@dataclass(frozen=True)
class Turn:
    """One input, parsed once: the saved state, what the user wants, and what to load for it."""

    state: DialogState
    intent: Intent
    needs: Needs


# ---------------------------------------------------------------- what each word needs loaded


def _nothing(intent: Intent) -> Needs:
    return Needs()


def _first_code(intent: Intent) -> str:
    return intent.arg.split()[0] if intent.arg else ""


def _evaluation(intent: Intent) -> Needs:
    return Needs(evaluation_code=intent.arg.upper()) if intent.arg else Needs(member_evaluation=True)


def _organisation(mode: str) -> Callable[[Intent], Needs]:
    """A word whose first argument is an organisation's code; without one, the dialog in progress."""
    return lambda intent: Needs(assess_org=_first_code(intent), assess_mode=mode) if intent.arg else Needs()


def _always_organisation(mode: str) -> Callable[[Intent], Needs]:
    return lambda intent: Needs(assess_org=_first_code(intent), assess_mode=mode)


def _result(intent: Intent) -> Needs:
    return Needs(result=True)


def _remediation(intent: Intent) -> Needs:
    return Needs(remediation=True)


def _progress(intent: Intent) -> Needs:
    return Needs(children=True, remediation=True)


def dialog_needs(state: DialogState) -> Needs:
    """What the dialog in progress reads: its ballot or its inspection."""
    if state.dialog == ballot.NAME:
        evaluation_id = state.extra.get("evaluation_id")
        # A stored state is untrusted data: anything but a positive id means "no ballot in progress".
        return Needs(evaluation_id=evaluation_id if type(evaluation_id) is int and evaluation_id > 0 else 0)
    if state.dialog in (*WALKS, paper.NAME):
        return Needs(assess_inspection_id=state.inspection_id, assess_mode=state.dialog)
    return Needs()


# ---------------------------------------------------------------- the handlers of the words


def _walk_word(mode: Mode) -> Callable[[DialogState, Intent, UserContext], Outcome | None]:
    """`考评 C`, `复查 C`, `抽查 C`: start the walk, or let the walk in progress resume where it was."""

    def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
        current = ctx.assessment.org_code if ctx.assessment else ""
        if state.dialog == mode.name and (not intent.arg or _first_code(intent).upper() == current.upper()):
            return None
        return assessment.start(ctx, _first_code(intent), mode)

    return handle


def _self_check(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """`自评`, even inside the self-check: (re)start at the first unanswered item, as stored."""
    return selfcheck.start(ctx)


def _paper(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
    return None if state.dialog == paper.NAME and not intent.arg else paper.start(ctx, _first_code(intent))


def _continue(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
    return selfcheck.start(ctx) if ctx.has_role("chair") else None


def _help(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return Outcome(Reply(help_text(ctx)), DialogState())


def _show_progress(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return Outcome(Reply(progress(ctx)), DialogState())


@dataclass(frozen=True)
class Route:
    """One command word."""

    needs: Callable[[Intent], Needs]
    handle: Callable[
        [DialogState, Intent, UserContext], Outcome | None
    ]  # None: the dialog in progress answers
    roles: tuple[str, ...] = ()  # who it is for, in `帮助`; empty: everyone
    usage: str = ""  # its line in `帮助`
    anywhere: bool = True  # also inside a dialog; else only when no dialog is in progress


WALKS: dict[str, Mode] = {
    mode.name: mode for mode in (assessment.ASSESSMENT, assessment.RE_REVIEW, assessment.SAMPLE_CHECK)
}

ROUTES: dict[str, Route] = {
    "绑定": Route(_nothing, lambda s, i, c: binding.start(i.arg, s), usage="绑定 邀请码 —— 绑定新的身份"),
    "自评": Route(_nothing, _self_check, ("chair",), "自评 —— 开始或继续自查自评（从第一项未答处继续）"),
    "测评": Route(_evaluation, lambda s, i, c: ballot.start(c), ("member",), "测评 —— 参加民主测评（匿名）"),
    "考评": Route(
        _organisation(assessment.ASSESSMENT.name),
        _walk_word(assessment.ASSESSMENT),
        ("evaluator",),
        "考评 单位编号 —— 逐项考评（回复“同”沿用自评分，或回复分数）",
    ),
    "退回": Route(
        _always_organisation("return"),
        lambda s, i, c: assessment.return_self_check(c, i.arg, i.text),
        ("evaluator",),
        "退回 单位编号 原因 —— 把已提交的自评退回主席修改",
    ),
    "录入测评": Route(
        _organisation(paper.NAME), _paper, ("evaluator",), "录入测评 单位编号 —— 录入纸质测评表（只录份数）"
    ),
    "复查": Route(
        _organisation(assessment.RE_REVIEW.name),
        _walk_word(assessment.RE_REVIEW),
        ("evaluator",),
        "复查 单位编号 —— 复查有异议的结果（改分须说明原因）",
    ),
    "抽查": Route(
        _organisation(assessment.SAMPLE_CHECK.name),
        _walk_word(assessment.SAMPLE_CHECK),
        ("evaluator",),
        "抽查 单位编号 —— 市总工会抽查下级的评定结果",
    ),
    "补课验收": Route(
        _always_organisation("remediation"),
        lambda s, i, c: remediation.check(c, i.text),
        ("evaluator",),
        "补课验收 单位编号 通过/未通过 说明 —— 验收下级工会补课",
    ),
    "结果": Route(
        _result, lambda s, i, c: publication.show(c), ("chair", "member"), "结果 —— 查看公示的年检结果"
    ),
    "异议": Route(
        _result,
        lambda s, i, c: publication.object_to(c, i.text),
        ("chair", "member"),
        "异议 理由 —— 公示期内提出异议",
    ),
    "补课": Route(
        _remediation,
        lambda s, i, c: remediation.show(c),
        ("chair",),
        "补课 —— 结果低于建设标准时查看补课要求",
    ),
    "补课完成": Route(
        _remediation,
        lambda s, i, c: remediation.report(c, i.text),
        ("chair",),
        "补课完成 说明 —— 报告补课完成，待上级工会验收",
    ),
    "进度": Route(_progress, _show_progress, usage="进度 —— 查看年检进度", anywhere=False),
    "帮助": Route(_nothing, _help, usage="帮助 —— 查看本说明", anywhere=False),
    "继续": Route(_nothing, _continue, anywhere=False),
}

DIALOGS: dict[str, DialogHandler] = {
    selfcheck.NAME: selfcheck.handle,
    **{name: partial(assessment.handle, mode) for name, mode in WALKS.items()},
    ballot.NAME: ballot.handle,
    paper.NAME: paper.handle,
}


# ---------------------------------------------------------------- a turn


def plan(saved: dict[str, Any] | None, user_input: UserInput) -> Turn:
    """Parse the input once and decide what the service must load for it."""
    state = DialogState.from_dict(saved)
    intent = parse(user_input)
    route = ROUTES.get(intent.word) if intent.kind == "word" else None
    wanted = route.needs(intent) if route else Needs()
    # The chair's own inspection: for its words, its walk, and an idle message (whose hint names it).
    own = intent.word in SELF_CHECK_WORDS if route else state.dialog in ("", selfcheck.NAME)
    if own or state.dialog == selfcheck.NAME:
        wanted = replace(wanted, self_check=True)
    return Turn(state, intent, wanted.merged(dialog_needs(state)))


def respond(turn: Turn, ctx: UserContext) -> Outcome:
    """One turn: (state, intent, context) → (reply, new state, commands)."""
    state, intent = turn.state, turn.intent
    if intent.kind == "unsubscribe":
        return Outcome(Reply(""), DialogState())
    if intent.kind == "subscribe":
        return Outcome(Reply(f"{WELCOME}\n{help_text(ctx)}"), state)
    route = ROUTES.get(intent.word) if intent.kind == "word" else None
    if route is not None and route.anywhere:
        outcome = route.handle(state, intent, ctx)
        if outcome is not None:
            return outcome
    handler = DIALOGS.get(state.dialog)
    if handler is not None:
        if intent.kind == "word" and intent.word == "帮助":  # the dialog waits where it was
            return Outcome(
                Reply(f"{help_text(ctx)}\n发送“继续”回到刚才的问题。", (Choice("继续", "继续"),)), state
            )
        return handler(state, intent, ctx)
    if route is not None:
        outcome = route.handle(state, intent, ctx)
        if outcome is not None:
            return outcome
    return _idle(state, intent, ctx)


def _idle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """No dialog is active and no command word fits."""
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
    if count >= WRONG_INPUTS_BEFORE_HELP:
        return Outcome(Reply(f"{hint}\n{too_many_wrong_inputs(ctx, pausable=False)}", choices), DialogState())
    body = hint if ctx.bound else help_text(ctx)
    return Outcome(Reply(body, choices), DialogState(wrong_inputs=count))


def help_text(ctx: UserContext) -> str:
    """`帮助`: for each of the user's roles, its command words (from ``ROUTES``, each once) and what
    works inside its dialogs; then the words for everyone. Within WeChat's limit whatever the roles."""
    if not ctx.bound:
        return UNBOUND_HELP
    labels = [r.label for r in ctx.roles]
    shown = "、".join(labels[:3]) + (f" 等 {len(labels)} 个身份" if len(labels) > 3 else "")
    lines = [f"您当前的身份：{shown}"]
    inside: list[str] = []
    listed: set[str] = set()
    for role, label in ROLE_LABELS.items():
        if not ctx.has_role(role):
            continue
        words = [w for w, route in ROUTES.items() if role in route.roles and route.usage and w not in listed]
        listed.update(words)
        if words:
            lines.append(f"{label}可用指令：")
            lines += [f"· {ROUTES[w].usage}" for w in words]
        inside += [f"· {line}" for line in DIALOG_HELP.get(role, ())]
    lines.append(
        "通用：" + "；".join(route.usage for route in ROUTES.values() if not route.roles and route.usage)
    )
    full = "\n".join(lines[:-1] + inside + lines[-1:])
    return full if len(full.encode("utf-8")) <= HELP_BYTES else "\n".join(lines)


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

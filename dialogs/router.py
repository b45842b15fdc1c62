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
from dialogs.context import ROLE_LABELS, RoleView, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply, UserInput
from dialogs.parsing import Intent, parse
from dialogs.texts import common as texts
from dialogs.walk import Mode, paused_here
from rubrics import get_rubric
from rubrics.lifecycle import RemediationStatus
from rubrics.objections import source_short
from rubrics.scoring import Stars

DialogHandler = Callable[[DialogState, Intent, UserContext], Outcome]
MAX_CHILDREN_LISTED = 20
#: Words that read the chair's own self-check.
SELF_CHECK_WORDS = ("自评", "继续", "进度")
#: `帮助` and `进度` stay well inside WeChat's 2048 bytes, leaving room for a link.
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
    result_code: str = ""  # 结果 CODE / 异议 CODE 理由: that union's publication
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
    return Needs(result=True, result_code=publication.split_code(intent.text)[0])


def _remediation(intent: Intent) -> Needs:
    return Needs(remediation=True)


def _progress(intent: Intent) -> Needs:
    """An evaluator's children, a chair's remediation, a member's evaluation and published result."""
    return Needs(children=True, remediation=True, member_evaluation=True, result=True)


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
        return assessment.start(ctx, _first_code(intent), mode, state=state)

    return handle


def _self_check(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """`自评`, even inside the self-check: (re)start at the first unanswered item, as stored."""
    return selfcheck.start(ctx, paused=paused_here(state, ctx.self_check))


def _paper(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
    return None if state.dialog == paper.NAME and not intent.arg else paper.start(ctx, _first_code(intent))


def _continue(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
    return selfcheck.start(ctx, paused=paused_here(state, ctx.self_check)) if ctx.has_role("chair") else None


def _help(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return Outcome(Reply(help_text(ctx)), DialogState())


def _show_progress(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return Outcome(Reply(progress(ctx)), DialogState())


def _any_level(role: RoleView) -> bool:
    return True


def _city(role: RoleView) -> bool:
    """The city federation's own binding: 抽查 is the city's."""
    return role.top


def _inspected(role: RoleView) -> bool:
    """A union inspected each year (it has a rubric): its chair self-checks and remediates."""
    return role.inspected


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
    #: Which of those bindings may use it (the level of the organisation), in `帮助`.
    level: Callable[[RoleView], bool] = _any_level

    def offered_to(self, role: str, ctx: UserContext) -> bool:
        """Whether `帮助` lists the word under ``role`` for this user."""
        return role in self.roles and any(r.role == role and self.level(r) for r in ctx.roles)


USAGE = texts.USAGE
WALKS: dict[str, Mode] = {
    mode.name: mode for mode in (assessment.ASSESSMENT, assessment.RE_REVIEW, assessment.SAMPLE_CHECK)
}

ROUTES: dict[str, Route] = {
    "绑定": Route(_nothing, lambda s, i, c: binding.start(i.arg, s), usage=USAGE["绑定"]),
    "自评": Route(_nothing, _self_check, ("chair",), USAGE["自评"], level=_inspected),
    "测评": Route(_evaluation, lambda s, i, c: ballot.start(c), ("member",), USAGE["测评"]),
    "考评": Route(
        _organisation(assessment.ASSESSMENT.name),
        _walk_word(assessment.ASSESSMENT),
        ("evaluator",),
        USAGE["考评"],
    ),
    "退回": Route(
        _always_organisation("return"),
        lambda s, i, c: assessment.return_self_check(c, i.arg, i.text),
        ("evaluator",),
        USAGE["退回"],
    ),
    "录入测评": Route(_organisation(paper.NAME), _paper, ("evaluator",), USAGE["录入测评"]),
    "复查": Route(
        _organisation(assessment.RE_REVIEW.name),
        _walk_word(assessment.RE_REVIEW),
        ("evaluator",),
        USAGE["复查"],
    ),
    "抽查": Route(
        _organisation(assessment.SAMPLE_CHECK.name),
        _walk_word(assessment.SAMPLE_CHECK),
        ("evaluator",),
        USAGE["抽查"],
        level=_city,
    ),
    "补课验收": Route(
        _always_organisation("remediation"),
        lambda s, i, c: remediation.check(c, i.text),
        ("evaluator",),
        USAGE["补课验收"],
    ),
    "结果": Route(_result, lambda s, i, c: publication.show(c, i.text), ("chair", "member"), USAGE["结果"]),
    "异议": Route(
        _result, lambda s, i, c: publication.object_to(c, i.text), ("chair", "member"), USAGE["异议"]
    ),
    "补课": Route(
        _remediation, lambda s, i, c: remediation.show(c), ("chair",), USAGE["补课"], level=_inspected
    ),
    "补课完成": Route(
        _remediation,
        lambda s, i, c: remediation.report(c, i.text),
        ("chair",),
        USAGE["补课完成"],
        level=_inspected,
    ),
    **{
        word: Route(_nothing, lambda s, i, c: assessment.outside_assessment(c), anywhere=False)
        for word in ("方式", "意见", "结束测评", "免除测评")
    },
    "进度": Route(_progress, _show_progress, usage=USAGE["进度"], anywhere=False),
    "帮助": Route(_nothing, _help, usage=USAGE["帮助"], anywhere=False),
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
        return Outcome(Reply(f"{texts.WELCOME}\n{help_text(ctx)}"), state)
    route = ROUTES.get(intent.word) if intent.kind == "word" else None
    if route is not None and route.anywhere:
        outcome = route.handle(state, intent, ctx)
        if outcome is not None:
            return outcome
    handler = DIALOGS.get(state.dialog)
    if handler is not None:
        if intent.kind == "word" and intent.word == "帮助":  # the dialog waits where it was
            return Outcome(Reply(f"{help_text(ctx)}\n{texts.HELP_RESUME}", (Choice("继续", "继续"),)), state)
        return handler(state, intent, ctx)
    if route is not None:
        outcome = route.handle(state, intent, ctx)
        if outcome is not None:
            return outcome
    return _idle(state, intent, ctx)


#: Inputs that answer a question: sent with no questionnaire open, they are told which one to open.
ANSWERING_WORDS = ("满分", "同", "上一项", "跳过", "修改", "查看", "暂停", "提交", "上一页", "下一页")


def _idle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """No dialog is active and no command word fits: say which questionnaire is meant and how to open
    it; the third time in a row, where help is."""
    if not ctx.bound:
        return Outcome(Reply(texts.UNBOUND_HELP), DialogState())
    answering = intent.kind in ("number", "item_score") or (
        intent.kind == "word" and intent.word in ANSWERING_WORDS
    )
    self_check = ctx.self_check if ctx.has_role("chair") else None
    choices: tuple[Choice, ...] = (Choice("帮助", "帮助"), Choice("进度", "进度"))
    if self_check is not None and self_check.editable:
        hint = texts.IDLE_PHOTO if intent.kind == "photo" else texts.IDLE_SELF_CHECK
        choices = (Choice("自评", "自评"), Choice("帮助", "帮助"))
    elif answering and ctx.has_role("evaluator"):
        hint = texts.IDLE_ASSESSMENT
    elif self_check is not None:
        hint = texts.self_check_locked(self_check.state_label)
        choices = (Choice("进度", "进度"), Choice("帮助", "帮助"))
    elif answering and ctx.has_role("member"):
        hint = texts.IDLE_BALLOT
        choices = (Choice("进度", "进度"), Choice("帮助", "帮助"))
    else:
        hint = texts.NOT_UNDERSTOOD
    count = state.wrong_inputs + 1
    if count >= texts.WRONG_INPUTS_BEFORE_HELP:
        return Outcome(Reply(texts.stuck_hint(hint), choices), DialogState())
    return Outcome(Reply(hint, choices), DialogState(wrong_inputs=count))


def help_text(ctx: UserContext) -> str:
    """`帮助`: for each of the user's roles, its command words (from ``ROUTES``, each once) and what
    works inside its dialogs; then the words for everyone. Within WeChat's limit whatever the roles:
    where all of it would not fit, the lines about answering are left out for the roles listed after
    the first."""
    if not ctx.bound:
        return texts.UNBOUND_HELP
    listed: set[str] = set()
    sections = [
        _role_help(role, label, ctx, listed) for role, label in ROLE_LABELS.items() if ctx.has_role(role)
    ]
    everyone = texts.everyone_line(
        [route.usage for route in ROUTES.values() if not route.roles and route.usage]
    )
    return _fitted(texts.identities([r.label for r in ctx.roles]), sections, everyone)


def _role_help(role: str, label: str, ctx: UserContext, listed: set[str]) -> tuple[list[str], list[str]]:
    """One role's part of `帮助`: its heading, the command words not ``listed`` for a role before it
    (added to ``listed``) and the lines that always apply; and the lines about answering inside its
    dialogs."""
    offered = [w for w, route in ROUTES.items() if route.usage and route.offered_to(role, ctx)]
    words = [w for w in offered if w not in listed]
    listed.update(words)
    lines_of_role = texts.DIALOG_HELP.get(role, ())
    always = [f"· {line}" for word, line in lines_of_role if not word]
    inside = [f"· {line}" for word, line in lines_of_role if word and word in offered]
    heading = [texts.role_heading(label)] if words or always or inside else []
    return [*heading, *(f"· {ROUTES[w].usage}" for w in words), *always], inside


def _fitted(identities: str, sections: list[tuple[list[str], list[str]]], everyone: str) -> str:
    """The help within WeChat's limit: the answering lines of as many roles, from the first, as fit."""
    for keep in range(len(sections), -1, -1):  # answering lines for the first ``keep`` roles
        body = [
            line
            for n, (commands, inside) in enumerate(sections)
            for line in commands + (inside if n < keep else [])
        ]
        full = "\n".join([identities, *body, everyone])
        if len(full.encode("utf-8")) <= HELP_BYTES:
            return full
    return full


def progress(ctx: UserContext) -> str:
    """`进度` outside a dialog: the user's bindings, own self-check, and an evaluator's children."""
    if not ctx.bound:
        return f"{texts.UNBOUND_PROGRESS}\n{texts.UNBOUND_HELP}"
    lines = [texts.bindings_line([r.label for r in ctx.roles])]
    if ctx.self_check is not None:
        lines.append(selfcheck.progress_text(ctx.self_check, get_rubric(ctx.self_check.rubric_key)))
    elif ctx.has_role("chair"):
        lines.append(texts.NO_CAMPAIGN if ctx.campaign_year is None else texts.NOT_IN_SCOPE)
    if ctx.has_role("member"):
        lines.extend(_member_progress(ctx))
    if ctx.remediation is not None and ctx.remediation.status != RemediationStatus.PASSED:
        lines.append(texts.remediation_line(ctx.remediation.status_label, ctx.remediation.due))
    for line in ctx.coverage:
        lines.append(
            texts.coverage_line(
                line.name,
                line.rated,
                line.unions,
                line.share,
                line.cumulative_share,
                line.target,
            )
        )
    for objection in ctx.objections:
        source = source_short(objection.source)
        lines.append(
            texts.objection_line(
                objection.org_code, objection.org_name, objection.due, source, objection.text[:60]
            )
        )
    if ctx.has_role("evaluator") or ctx.has_role("admin"):
        total = max(ctx.children_total, len(ctx.children))
        if not ctx.children:
            lines.append(texts.NO_CHILDREN)
        else:
            lines.append(texts.children_heading(total))
            size = len("\n".join(lines).encode("utf-8")) + len(texts.more_children(total).encode("utf-8"))
            shown = 0
            for child in ctx.children[:MAX_CHILDREN_LISTED]:
                shown_child = texts.child_line(
                    child.org_code, child.org_name, child.state_label, child.self_total, child.assessed_total
                )
                size += len(shown_child.encode("utf-8")) + 1
                if size > HELP_BYTES:
                    break
                lines.append(shown_child)
                shown += 1
            if total > shown:
                lines.append(texts.more_children(total - shown))
    return "\n".join(lines)


def _member_progress(ctx: UserContext) -> list[str]:
    """A member's `进度`: their union's democratic evaluation as it stands for them, and the published
    result with their objection, if any."""
    ballot = ctx.ballot
    shown = ballot is not None and ballot.status in ("open", "voted", "closed")
    lines = [
        texts.ballot_line(ballot.org_name, ballot.status, len(ballot.answers))
        if ballot and shown
        else texts.NO_BALLOT
    ]
    result = ctx.result
    if result is None:
        lines.append(texts.NO_RESULT)
    else:
        lines.append(
            texts.result_progress(
                Stars(result.stars).label if result.stars else "未定星级",
                result.state_label,
                result.publication_ends,
                result.objection_open,
                result.already_objected,
            )
        )
    return lines

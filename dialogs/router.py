"""The top of every conversation: one input, parsed once, routed to a command word or the active dialog.

Every feature registers its words, its dialog and its commands on its own ``Router``
(dialogs/routing.py); they are included here, in one place, and including one that registers a word,
a synonym, a dialog or a command twice stops the import. The parser knows the words they registered
and the walk's answering words, each once. A turn is planned (``plan``: the state, the intent, what
the service must load) before the context is loaded, then answered (``respond``), so dialogs stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from dialogs import assessment, ballot, binding, guide, paper, publication, remediation, selfcheck, walk
from dialogs.context import UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply, UserInput
from dialogs.guide import help_text
from dialogs.parsing import Intent, Parser
from dialogs.routing import DialogRoute, Needs, Route, Router, RoutingError
from dialogs.texts import common as texts

root = Router.of("root")
root.include_router(
    binding.router,
    selfcheck.router,
    ballot.router,
    assessment.router,
    paper.router,
    publication.router,
    remediation.router,
    guide.router,
)

#: Every command word, each once, with what the turn needs loaded and its handler.
ROUTES: dict[str, Route] = root.routes
#: The dialog name kept in DialogState.dialog → its turn handler and what it reads.
DIALOGS: dict[str, DialogRoute] = root.dialogs
ANSWERING_WORDS = walk.ANSWERING_WORDS


def _vocabulary() -> Parser:
    """The parser of the chat: the included routers' words and the walk's answering words, each once."""
    doubled = (set(ROUTES) | set(root.aliases)) & set(ANSWERING_WORDS)
    doubled |= set(root.synonyms) & set(walk.ANSWERING_SYNONYMS)
    if doubled:
        raise RoutingError(texts.word_and_answer(sorted(doubled)))
    words = (*ROUTES, *ANSWERING_WORDS)
    return Parser(words, {**root.synonyms, **walk.ANSWERING_SYNONYMS}, root.aliases)


PARSER = _vocabulary()
#: Everything the parser reads as a command word: the words and their other spellings.
WORDS: tuple[str, ...] = (*PARSER.words, *PARSER.aliases)
parse = PARSER.parse
parse_text = PARSER.parse_text


@dataclass(frozen=True)
class Turn:
    """One input, parsed once: the saved state, what the user wants, and what to load for it."""

    state: DialogState
    intent: Intent
    needs: Needs


def dialog_needs(state: DialogState) -> Needs:
    """What the dialog in progress reads: its ballot or its inspection."""
    dialog = DIALOGS.get(state.dialog)
    return dialog.needs(state) if dialog is not None else Needs()


def plan(saved: dict[str, Any] | None, user_input: UserInput) -> Turn:
    """Parse the input once and decide what the service must load for it."""
    state = DialogState.from_dict(saved)
    intent = parse(user_input)
    route = ROUTES.get(intent.word) if intent.kind == "word" else None
    wanted = route.needs(intent) if route else Needs()
    # The chair's own inspection: for its words, its walk, and an idle message (whose hint names it).
    own = route.loads_self_check if route else state.dialog in ("", selfcheck.NAME)
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
    if intent.kind == "voice":  # no recognised text: how to answer instead; the dialog waits where it was
        if state.dialog:
            return Outcome(
                Reply(f"{texts.VOICE_NOT_HEARD}\n{texts.HELP_RESUME}", (Choice("继续", "继续"),)), state
            )
        return Outcome(Reply(texts.VOICE_NOT_HEARD, (Choice("帮助", "帮助"),)), state)
    route = ROUTES.get(intent.word) if intent.kind == "word" else None
    if route is not None and route.anywhere:
        outcome = route.handle(state, intent, ctx)
        if outcome is not None:
            return outcome
    dialog = DIALOGS.get(state.dialog)
    if dialog is not None:
        if intent.kind == "word" and intent.word == "帮助":  # the dialog waits where it was
            return Outcome(Reply(f"{help_text(ctx)}\n{texts.HELP_RESUME}", (Choice("继续", "继续"),)), state)
        return dialog.handle(state, intent, ctx)
    if route is not None:
        outcome = route.handle(state, intent, ctx)
        if outcome is not None:
            return outcome
    return _idle(state, intent, ctx)


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

"""Binding (绑定): a WeChat user takes the role and organisation of an invitation code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialogs.commands import Command
from dialogs.context import ROLE_LABELS, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent
from dialogs.routing import Router
from dialogs.texts import binding as texts
from dialogs.texts import common
from rubrics import words
from rubrics.binding import BindResult, BindStatus

CODE_PATTERN = re.compile(r"^[A-Za-z0-9]{4,32}$")
MAX_FAILED_ATTEMPTS = 5
FAILED_ATTEMPT_WINDOW = 3600


@dataclass(frozen=True)
class RedeemInvitation(Command):
    """Bind the user to the role and organisation of invitation ``code`` (绑定)."""

    code: str


BindingCommand = RedeemInvitation
router = Router.of("binding", BindingCommand)


@router.word(words.BIND, usage=texts.USAGE)
def _bind(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return start(intent.arg, state)


def start(code: str, state: DialogState) -> Outcome:
    """`绑定 CODE` or a QR scene `inv:CODE`: the service redeems the code and the reply follows its result."""
    code = code.strip().upper()
    if not code:
        return Outcome(Reply(texts.CODE_NEEDED), state)
    if not CODE_PATTERN.match(code):
        return Outcome(Reply(texts.bad_format(code[:32])), state)
    return Outcome(None, state, (RedeemInvitation(code),))


def _names(names: tuple[str, ...], shown: int = 3) -> str:
    listed = "、".join(f"“{name}”" for name in names[:shown])
    return listed + (texts.and_more(len(names)) if len(names) > shown else "")


def reply(result: BindResult) -> Reply:
    role = ROLE_LABELS.get(result.role, result.role)
    if result.status == BindStatus.BOUND:
        next_step = texts.NEXT_STEP.get(result.role, "")
        choices = (Choice("自评", "自评"),) if result.role == "chair" else (Choice("帮助", "帮助"),)
        if result.evaluations:
            word = f"测评 {result.evaluations[0]}"
            next_step = texts.evaluation_waiting(word)
            choices = (Choice(word, word),)
        elif result.paper or result.full:
            next_step = ""  # the evaluation has begun without them: "we will tell you when it opens" is wrong
        if result.paper:
            next_step += texts.on_paper(result.paper[0])
        if result.full:
            next_step += texts.no_room(_names(result.full))
        return Reply(texts.bound(result.org_name, role, next_step), choices)
    if result.status == BindStatus.ROLL_FULL:
        return Reply(texts.roll_full(result.org_name, result.roll))
    if result.status == BindStatus.ALREADY_BOUND:
        return Reply(texts.already_bound(result.org_name, role))
    if result.status == BindStatus.EXPIRED:
        return Reply(texts.EXPIRED)
    if result.status == BindStatus.USED_UP:
        return Reply(texts.USED_UP)
    if result.status == BindStatus.RATE_LIMITED:
        return Reply(texts.rate_limited(MAX_FAILED_ATTEMPTS))
    if result.status == BindStatus.LOCKED:
        return Reply(common.CODES_LOCKED)
    return Reply(texts.NOT_FOUND)

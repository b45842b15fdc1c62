"""Binding (绑定): a WeChat user takes the role and organisation of an invitation code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dialogs.commands import RedeemInvitation
from dialogs.context import ROLE_LABELS
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.texts import binding as texts
from dialogs.texts import common

#: Invitation codes: letters and digits without the look-alikes 0/O/1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PATTERN = re.compile(r"^[A-Za-z0-9]{4,32}$")
MAX_FAILED_ATTEMPTS = 5
FAILED_ATTEMPT_WINDOW = 3600


class BindStatus(StrEnum):
    BOUND = "bound"
    ALREADY_BOUND = "already_bound"
    NOT_FOUND = "not_found"
    EXPIRED = "expired"
    USED_UP = "used_up"
    RATE_LIMITED = "rate_limited"
    LOCKED = "locked"  # every code waits: too many wrong ones from all senders within the minute


@dataclass(frozen=True)
class BindResult:
    """What redeeming a code came to, as the service found it."""

    status: BindStatus
    role: str = ""
    org_name: str = ""
    #: Codes of the democratic evaluations the new member has joined, open now.
    evaluations: tuple[str, ...] = ()


def start(code: str, state: DialogState) -> Outcome:
    """`绑定 CODE` or a QR scene `inv:CODE`: the service redeems the code and the reply follows its result."""
    code = code.strip().upper()
    if not code:
        return Outcome(Reply(texts.CODE_NEEDED), state)
    if not CODE_PATTERN.match(code):
        return Outcome(Reply(texts.bad_format(code[:32])), state)
    return Outcome(None, state, (RedeemInvitation(code),))


def reply(result: BindResult) -> Reply:
    role = ROLE_LABELS.get(result.role, result.role)
    if result.status == BindStatus.BOUND:
        next_step = texts.NEXT_STEP.get(result.role, "")
        choices = (Choice("自评", "自评"),) if result.role == "chair" else (Choice("帮助", "帮助"),)
        if result.evaluations:
            word = f"测评 {result.evaluations[0]}"
            next_step = texts.evaluation_waiting(word)
            choices = (Choice(word, word),)
        return Reply(texts.bound(result.org_name, role, next_step), choices)
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

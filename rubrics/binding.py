"""Binding (绑定): the codes people type or scan, and what redeeming an invitation came to — the
values both the chat (dialogs/binding.py) and the domain (chatbot/inspection/bindings.py) speak."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: Invitation codes: letters and digits without the look-alikes 0/O/1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class BindStatus(StrEnum):
    BOUND = "bound"
    ALREADY_BOUND = "already_bound"
    NOT_FOUND = "not_found"
    EXPIRED = "expired"
    USED_UP = "used_up"
    RATE_LIMITED = "rate_limited"
    LOCKED = "locked"  # every code waits: too many wrong ones from all senders within the minute
    ROLL_FULL = "roll_full"  # a member code of a union whose members bound already number its roll


@dataclass(frozen=True)
class BindResult:
    """What redeeming a code came to, as the service found it."""

    status: BindStatus
    role: str = ""
    org_name: str = ""
    #: Codes of the democratic evaluations the new member has joined, open now.
    evaluations: tuple[str, ...] = ()
    #: Unions whose open evaluation, all members taking part, counts the new member in its paper part.
    paper: tuple[str, ...] = ()
    #: Unions whose open evaluation has no room left for the new member (fixed when it opened).
    full: tuple[str, ...] = ()
    roll: int = 0  # the union's member count, when its roll is full

"""Commands: what a dialog asks the service to apply, in one transaction, before the reply goes out.

Every command is a frozen dataclass deriving from ``Command``, defined in the feature that gives it
(``dialogs/selfcheck.py``, ``dialogs/ballot.py``, …) and declared by that feature's router
(``Router(commands=...)``, dialogs/routing.py). This module holds the base class and the commands the
item walk (dialogs/walk.py) gives for several features.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """What a dialog asks the service to apply; each type has exactly one handler in the service."""


@dataclass(frozen=True)
class AddEvidence(Command):
    """Attach a photo as evidence (佐证) to one item."""

    inspection_id: int
    item_no: int
    media_id: str
    pic_url: str


@dataclass(frozen=True)
class CloseEvaluation(Command):
    """The evaluator closes the union's democratic evaluation before its date, with the reason."""

    inspection_id: int
    reason: str


@dataclass(frozen=True)
class WaiveEvaluation(Command):
    """The evaluator sets the union's democratic evaluation aside (not counted), with the reason."""

    inspection_id: int
    reason: str


@dataclass(frozen=True)
class SaveAssessmentRecord(Command):
    """The assessment record: the methods used (考评方式) and the written opinion (考评意见); None keeps
    what is stored."""

    inspection_id: int
    methods: tuple[str, ...] | None = None
    opinion: str | None = None


def command_types(union: object) -> tuple[type[Command], ...]:
    """The command types a union (or a single command type) stands for; TypeError for anything else."""
    members = getattr(union, "__args__", None) or (union,)
    found = tuple(m for m in members if isinstance(m, type) and issubclass(m, Command))
    if len(found) != len(members):
        raise TypeError(f"不是命令类型：{union!r}")
    return found

"""Applies a dialog's commands to the database, inside the turn's transaction.

Each feature applies its own commands (chatbot/service/features/<feature>.py: one ``apply`` whose
``command`` parameter is annotated with the feature's command union, its ``match`` ending in
``assert_never``); who may give a command is checked by ``Rights`` (chatbot/service/rights.py). The
registry below is assembled here, once, and checked at import against every command type the routers
included in dialogs/router.py declare: a command type with no handler, or with two, stops the start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chatbot.service.features import (
    assessment,
    ballot,
    binding,
    paper,
    publication,
    re_review,
    remediation,
    sampling,
    selfcheck,
)
from chatbot.service.handlers import checked_registry
from chatbot.service.rights import Outcome, Rights
from dialogs.commands import Command
from dialogs.router import root

#: A handler applies the command types its ``command`` parameter is annotated with.
Handler = Callable[[Rights, Any], Outcome]

#: Every feature's handler, one each.
HANDLER_FUNCTIONS: tuple[Handler, ...] = (
    binding.apply,
    selfcheck.apply,
    ballot.apply,
    assessment.apply,
    re_review.apply,
    sampling.apply,
    paper.apply,
    publication.apply,
    remediation.apply,
)
#: Every command type's one handler, checked when this module is imported.
HANDLERS: Mapping[type, Handler] = checked_registry(HANDLER_FUNCTIONS, root.commands)


class Applier(Rights):
    """Applies the commands of one turn for one account."""

    def apply(self, command: Command) -> Outcome:
        """Apply one command through its one handler (HANDLERS); a command whose outcome decides the
        reply (a binding) returns it, one whose outcome only the database knows (the stars of a
        submitted assessment) adds it."""
        return HANDLERS[type(command)](self, command)

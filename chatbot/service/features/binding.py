"""Binding (绑定): redeem an invitation code; its result decides the reply."""

from __future__ import annotations

from chatbot.service.rights import Rights
from dialogs import binding
from dialogs.binding import BindingCommand
from dialogs.engine import Reply


def apply(applier: Rights, command: BindingCommand) -> Reply:
    """Redeem an invitation code (绑定)."""
    return binding.reply(applier.redeem(command.code))

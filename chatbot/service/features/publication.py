"""An objection (异议) to a published result."""

from __future__ import annotations

from chatbot.inspection import objections
from chatbot.service.rights import Rights
from dialogs.publication import PublicationCommand


def apply(applier: Rights, command: PublicationCommand) -> None:
    """File the objection: one per user per publication round, while the result is published."""
    inspection = applier.locked(command.inspection_id)
    objections.file(applier.session, inspection, applier.account.id, command.text, applier.actor, applier.now)

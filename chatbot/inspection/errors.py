"""The domain's two refusals: one for chat users, one for federation staff at the CLI and console."""

from __future__ import annotations


class Refused(Exception):
    """A chat command the stored state does not allow; ``message`` is for the user, in Chinese. The
    service rolls the whole turn back and answers with it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AdminError(ValueError):
    """An admin request that cannot be carried out; the message says why, in Chinese."""

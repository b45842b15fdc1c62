"""Codes people type or scan: invitations (绑定) and democratic evaluations (测评)."""

from __future__ import annotations

import secrets

from rubrics.binding import CODE_ALPHABET

CODE_LENGTH = 8


def new_code() -> str:
    """8 characters from an alphabet without look-alikes: about 8.5 × 10^11 codes."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))

"""The one error of the domain's admin requests."""

from __future__ import annotations


class AdminError(ValueError):
    """An admin request that cannot be carried out; the message says why, in Chinese."""

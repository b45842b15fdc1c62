"""Inspections read as Core rows for one turn, where building ORM objects would cost more than the
turn's own work (chatbot/service/context.py reads them; the domain functions that accept them write
with Core statements)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class InspectionRow:
    """An inspection read as Core rows, locked for the turn (no ORM objects): what the chair's walk
    shows and what saving a self score checks. ``self_scores`` follows the turn's own saves."""

    id: int
    state: str
    organisation_id: int
    org_code: str
    org_name: str
    year: int
    opened_at: datetime
    rubric_key: str
    rubric_version: str
    return_reason: str | None
    self_submitted_at: datetime | None
    self_scores: dict[int, Decimal]
    evidence: dict[int, int]

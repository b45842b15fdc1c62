"""Inspections read as Core rows for one turn, where building ORM objects would cost more than the
turn's own work (chatbot/service/context.py reads them; the domain functions that accept them write
with Core statements)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class InspectionRow:
    """An inspection read as Core rows, locked for the turn (no ORM objects): what a chair's or an
    evaluator's walk shows and what saving a score checks. The score maps follow the turn's own saves."""

    id: int
    state: str
    organisation_id: int
    org_code: str
    org_name: str
    org_parent_id: int | None
    year: int
    opened_at: datetime
    rubric_key: str
    rubric_version: str
    return_reason: str | None
    self_submitted_at: datetime | None
    methods: tuple[str, ...]  # the assessment's methods (考评方式), as recorded
    opinion: str  # the assessment's written opinion (考评意见)
    self_scores: dict[int, Decimal]
    assessed_scores: dict[int, Decimal]
    evidence: dict[int, int]

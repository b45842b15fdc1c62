"""Deadlines kept as dates or month/day, and which reminder offset is due on a given day."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date


def month_day(year: int, month: int, day: int) -> tuple[date, bool]:
    """The date of month/day in ``year``; a day past the month's end is the month's last day.

    Returns (date, clamped). The seed's 2月30日 is 28 February, or 29 in a leap year.
    """
    if not 1 <= month <= 12 or day < 1:
        raise ValueError(f"没有 {month} 月 {day} 日这样的日期。")
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day, last)), day > last


def report_due(campaign_year: int, month: int, day: int) -> tuple[date, bool]:
    """The county summaries of campaign Y are due on month/day of Y + 1 (每年2月30日前)."""
    return month_day(campaign_year + 1, month, day)


def parse_month_day(text: str) -> tuple[int, int]:
    """'02-30' → (2, 30); days up to 31 are accepted and clamped when used."""
    try:
        month_text, day_text = text.split("-")
        month, day = int(month_text), int(day_text)
    except ValueError as exc:
        raise ValueError(f"日期应写作 月-日，如 02-30，而不是“{text}”。") from exc
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise ValueError(f"没有“{text}”这样的月-日。")
    return month, day


def due_offset(today: date, deadline: date, offsets: Sequence[int]) -> int | None:
    """The reminder offset (days before the deadline) due today: the smallest offset whose day has
    come, so a reminder missed while the scheduler was down is not sent late beside a newer one.
    None before the first offset and after the deadline."""
    left = (deadline - today).days
    if left < 0:
        return None
    passed = [d for d in offsets if left <= d]
    return min(passed) if passed else None


#: The share of grassroots unions to be inspected each year (四(二): 2023 30 %, 2024 70 %, then all).
COVERAGE_TARGETS: dict[int, float] = {2023: 0.3, 2024: 0.7}


def coverage_target(year: int) -> float:
    if year >= 2025:
        return 1.0
    return COVERAGE_TARGETS.get(year, 0.3)

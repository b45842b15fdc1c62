"""Times: stored in UTC, shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_date(value: datetime) -> str:
    """2026-12-01: the Shanghai date of a stored time."""
    return as_utc(value).astimezone(SHANGHAI).date().isoformat()


def local_minute(value: datetime) -> str:
    """2026-12-01 14:05: the Shanghai date and minute of a stored time."""
    return as_utc(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def end_of_day(day: date) -> datetime:
    """23:59:59 Shanghai time on ``day``, in UTC."""
    return datetime.combine(day, time(23, 59, 59), SHANGHAI).astimezone(UTC)

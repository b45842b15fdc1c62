"""Text tables for the terminal, aligned by display width: a CJK character takes two columns, a
combining mark or zero-width character none (the rule of wcwidth, from the standard library's
``unicodedata.east_asian_width``). Text longer than its column is cut and marked with "…"."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence

ELLIPSIS = "…"
#: Between two columns.
GAP = "  "
#: What an empty cell shows.
EMPTY = "-"


def char_width(char: str) -> int:
    """Columns a terminal gives one character: 2 for wide and full-width (East Asian W/F), 0 for
    combining marks, format and control characters, else 1 (ambiguous ones as in Western terminals)."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf", "Cc"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal."""
    return sum(char_width(char) for char in text)


def clip(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` columns, ending in "…" when anything was cut."""
    if display_width(text) <= width:
        return text
    room = width - display_width(ELLIPSIS)
    kept: list[str] = []
    used = 0
    for char in text:
        size = char_width(char)
        if used + size > room:
            break
        kept.append(char)
        used += size
    return "".join(kept) + ELLIPSIS


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` filled with spaces to ``width`` columns (to the left when ``right``-aligned)."""
    fill = " " * max(width - display_width(text), 0)
    return fill + text if right else text + fill


def render(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    limits: Mapping[int, int] | None = None,
    right: Iterable[int] = (),
) -> list[str]:
    """The lines of a table: the header, a rule, then one line per row. ``limits`` caps a column's
    width (by index; longer text is clipped with "…"); columns in ``right`` are right-aligned
    (numbers). Empty cells show "-"; trailing spaces are dropped."""
    limits = limits or {}
    aligned_right = set(right)
    cells = [
        [
            clip(str(value) if value not in (None, "") else EMPTY, limits.get(i, 10**6))
            for i, value in enumerate(row)
        ]
        for row in rows
    ]
    widths = [
        max([display_width(header), *(display_width(row[i]) for row in cells)])
        for i, header in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        return GAP.join(pad(v, widths[i], i in aligned_right) for i, v in enumerate(values)).rstrip()

    return [line(list(headers)), line(["-" * w for w in widths]), *(line(row) for row in cells)]

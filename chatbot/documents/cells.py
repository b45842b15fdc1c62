"""Values made safe for a spreadsheet. A text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is one a spreadsheet program may run as a formula (CSV injection): a union imported as
``=HYPERLINK("http://evil.example/?x","点我")`` must reach a CSV file or a workbook as text. Numbers stay
numbers, a negative one too. Only the standard library here: the CLI's CSV commands import it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: The first characters that make a spreadsheet read a text as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A plain number as the exports write one (-3, 12.5, 30.5%): a number, never a formula.
PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?%?")
#: Characters XML 1.0 forbids, which a workbook cannot hold (openpyxl refuses them).
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula."""
    return text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text)


def csv_field(value: Any) -> Any:
    """A CSV field: a formula-like text gets a leading ``'`` (shown as text, the rest unchanged);
    anything else as it is."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def csv_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """``csv_field`` on every value of a ``DictWriter`` row."""
    return {key: csv_field(value) for key, value in row.items()}


def csv_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [csv_row(row) for row in rows]


def cell_text(text: str) -> str:
    """A text a workbook can hold: characters XML forbids become U+FFFD."""
    return XML_ILLEGAL.sub("\ufffd", text)

"""The columns of the results listing, declared once: the key a row of
``chatbot.inspection.listing.result_rows`` holds the value under, the Chinese header, how the value is
shown and how wide the column prints. `nianjian results` (table and CSV), the results workbook and the
console's list of unions all show these columns, in this order, with these headers and values. Only the
standard library and the listing's words here: the CLI's table imports it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from chatbot.documents.labels import DISQUALIFICATIONS, rubric_name
from chatbot.inspection.listing import marks_words
from rubrics.scoring import format_score

Row = Mapping[str, str]


def _plain(key: str) -> Callable[[Row], str]:
    return lambda row: row.get(key, "")


def _number(key: str, unit: str = "") -> Callable[[Row], str]:
    """A number in the one format of every score shown (``format_score``), with its unit."""

    def shown(row: Row) -> str:
        text = row.get(key, "").removesuffix(unit)
        return format_score(Decimal(text)) + unit if text else ""

    return shown


def _rubric(row: Row) -> str:
    return rubric_name(row["rubric"]) if row.get("rubric") else ""


def _marks(row: Row) -> str:
    return marks_words(row.get("marks", ""))


def _disqualified(row: Row) -> str:
    """The three disqualifications of a result below the standard, in one cell."""
    return "、".join(name for key, name in DISQUALIFICATIONS if row.get(key))


@dataclass(frozen=True)
class Column:
    """One column of the results listing."""

    key: str
    header: str
    shown: Callable[[Row], str]
    #: Printed width in the results workbook (characters; a Chinese character takes two).
    width: int
    #: The widest a terminal table shows it; longer text is cut and marked with "…".
    clip: int
    #: A number: right-aligned in a terminal, a number cell in the workbook.
    numeric: bool = False
    #: What follows the number in words ("%"); the workbook shows it with a number format.
    unit: str = ""
    #: Long text: left-aligned and wrapped in the workbook.
    long: bool = False


#: The results' columns. Twelve: 135 characters print on A4 landscape at full size (11 pt).
RESULT_COLUMNS: tuple[Column, ...] = (
    Column("code", "单位编号", _plain("code"), width=8, clip=16),
    Column("name", "单位名称", _plain("name"), width=22, clip=24, long=True),
    Column("rubric", "考评标准", _rubric, width=16, clip=14),
    Column("state", "状态", _plain("state"), width=8, clip=10),
    Column("self_score", "自评得分", _number("self_score"), width=7, clip=6, numeric=True),
    Column("assessed_score", "考评得分", _number("assessed_score"), width=7, clip=6, numeric=True),
    Column("democratic_score", "民主测评得分", _number("democratic_score"), width=8, clip=6, numeric=True),
    Column("turnout", "测评参与率", _number("turnout", "%"), width=8, clip=7, numeric=True, unit="%"),
    Column("stars", "星级", _plain("stars"), width=7, clip=6),
    Column("marks", "标记", _marks, width=20, clip=24, long=True),
    Column("disqualified", "取消的指标", _disqualified, width=14, clip=18),
    Column("remediation", "补课", _plain("remediation"), width=10, clip=10),
)
#: The widest the code column of the workbook grows for long codes ("PY-001-01" on one line).
MAX_CODE_WIDTH = 16


def headers(columns: Sequence[Column] = RESULT_COLUMNS) -> list[str]:
    return [column.header for column in columns]


def shown_row(row: Row, columns: Sequence[Column] = RESULT_COLUMNS) -> list[str]:
    """A result row as staff read it, column by column."""
    return [column.shown(row) for column in columns]


def cell_value(column: Column, row: Row) -> int | float | str | None:
    """A cell of the results workbook: the shown value, a number as a number (its unit left to the
    cell's number format), None for an empty cell."""
    return value_of(column, column.shown(row))


def value_of(column: Column, text: str) -> int | float | str | None:
    """The cell of a value ``text`` as the column shows it (``cell_value``)."""
    if not text:
        return None
    if column.numeric:
        value = Decimal(text.removesuffix(column.unit))
        return int(value) if value == value.to_integral_value() else float(value)
    return text


def number_format(column: Column) -> str:
    """The workbook's number format of a column: its unit after the number as ``format_score`` writes
    it (``General``: 66.7, 100, never 100.0)."""
    return f'General"{column.unit}"' if column.unit else "General"

"""Spreadsheets of a rubric sheet as federations type them, for the import tests: the 内容 cells
merged over their items, repeated on every row, or written once with blank cells below."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook

from rubrics import Rubric

Row = tuple[str, object, object, object]  # 内容, 子项, 基本要求, 分值


def rows_of(rubric: Rubric) -> list[Row]:
    return [(item.dimension, item.no, item.text, item.points) for item in rubric.items]


def read_rows(path: Path) -> list[Row]:
    """The item rows of a workbook in the plan's layout, each 内容 filled down (no 合计 row)."""
    sheet = load_workbook(path).worksheets[0]
    found: list[Row] = []
    dimension = ""
    for values in sheet.iter_rows(min_row=3, max_col=4, values_only=True):
        if values[0] == "合计":
            break
        dimension = str(values[0] or dimension)
        found.append((dimension, values[1], values[2], values[3]))
    return found


def write_table(
    path: Path, rows: list[Row], style: str = "merged", total: object = None, title: str = ""
) -> None:
    """A workbook with a title row, the header and ``rows``; ``style`` is merged, repeated or blank;
    a 合计 row with ``total`` when it is given."""
    book = Workbook()
    sheet = book.active
    sheet.append([title or "年检考评标准"])
    sheet.append(["内容", "子项", "基本要求", "分值"])
    start = 3
    for number, (dimension, no, text, points) in enumerate(rows, start=start):
        above = rows[number - start - 1][0] if number > start else None
        shown = dimension if style == "repeated" or dimension != above else None
        sheet.append([shown, no, text, points])
        if style == "merged" and dimension == above:
            first = number - 1
            while first > start and rows[first - start - 1][0] == dimension:
                first -= 1
            for merged in list(sheet.merged_cells.ranges):
                if merged.min_col == 1 and merged.min_row == first:
                    sheet.merged_cells.remove(merged)
            sheet.cell(row=number, column=1).value = None
            sheet.merge_cells(start_row=first, start_column=1, end_row=number, end_column=1)
    if total is not None:
        sheet.append(["合计", None, None, total])
    book.save(path)

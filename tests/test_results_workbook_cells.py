"""The results workbook (results.xlsx), whose body rows are written as XML for speed (issue 23), reads
back cell by cell as the same workbook built with openpyxl's ordinary cells: value, type, style, row
heights, column widths, panes, filter, print titles and merged title."""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from chatbot.documents import exports, layout
from chatbot.documents.columns import RESULT_COLUMNS, cell_value, headers, number_format
from chatbot.documents.exports import RESULTS_HEADER_ROW, WRAP_CENTER, WRAP_LEFT

ROWS: list[dict[str, str]] = [
    {
        "code": "U01", "name": "原州区南关街道南关社区工会联合会（一个长长的名称要折行才放得下）",
        "rubric": "village", "state": "已评定", "self_score": "100", "assessed_score": "87.5",
        "democratic_score": "66.7", "turnout": "80%", "stars": "★★★★", "marks": "provisional capped",
        "no_funding_support": "是", "no_hardship_aid": "是", "remediation": "补课中",
    },
    {"code": "-A1", "name": '=HYPERLINK("http://evil.example/?x","点我")', "state": "自评中"},
    {"code": "U03", "name": "  空格在两端  ", "rubric": "enterprise", "self_score": "0", "turnout": "0%"},
    {"code": "PY-001-01", "name": "a < b & c > d \"quoted\" 'single'", "assessed_score": "59.9"},
    {"code": "U05", "name": "控制字符\x01在此", "state": "未开始"},
]  # fmt: skip


def _reference(rows: Sequence[dict[str, str]], path: Path, title: str) -> None:
    """The workbook as openpyxl builds it cell by cell (the implementation before the XML body)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "年检结果"
    exports._merged_line(sheet, 1, len(RESULT_COLUMNS), title, size=16, bold=True, height=28)
    widths = exports._result_widths(rows)
    for column, header in enumerate(headers(), start=1):
        exports._cell(sheet, RESULTS_HEADER_ROW, column, header, bold=True)
    sheet.row_dimensions[RESULTS_HEADER_ROW].height = exports._row_height(zip(headers(), widths, strict=True))
    left, center = exports._style(sheet, WRAP_LEFT), exports._style(sheet, WRAP_CENTER)
    for index, row in enumerate(rows, start=RESULTS_HEADER_ROW + 1):
        texts: list[tuple[str, float]] = []
        for at, column in enumerate(RESULT_COLUMNS):
            cell = exports._put(sheet, index, at + 1, cell_value(column, row))
            cell._style = copy(left if column.long else center)
            if column.unit:
                cell.number_format = number_format(column)
            if isinstance(cell.value, str):
                texts.append((cell.value, widths[at]))
                if exports.is_formula_like(cell.value):
                    cell.quotePrefix = True
        sheet.row_dimensions[index].height = exports._row_height(texts)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{RESULTS_HEADER_ROW + 1}"
    last = get_column_letter(len(RESULT_COLUMNS))
    sheet.auto_filter.ref = f"A{RESULTS_HEADER_ROW}:{last}{len(rows) + RESULTS_HEADER_ROW}"
    layout.print_setup(sheet, f"1:{RESULTS_HEADER_ROW}")
    sheet.page_setup.orientation = "landscape"
    book.save(path)


def _cells(path: Path) -> list[tuple[object, ...]]:
    sheet = load_workbook(path).active
    return [
        (
            cell.coordinate,
            cell.value,
            cell.data_type,
            cell.number_format,
            cell.quotePrefix,
            repr(cell.font),
            repr(cell.alignment),
            repr(cell.border),
        )
        for row in sheet.iter_rows()
        for cell in row
    ]


def _layout(path: Path) -> dict[str, object]:
    sheet = load_workbook(path).active
    return {
        "title": sheet.title,
        "dimensions": sheet.dimensions,
        "heights": {n: sheet.row_dimensions[n].height for n in range(1, sheet.max_row + 1)},
        "widths": {k: d.width for k, d in sheet.column_dimensions.items()},
        "panes": sheet.freeze_panes,
        "filter": sheet.auto_filter.ref,
        "titles": sheet.print_title_rows,
        "merged": sorted(str(r) for r in sheet.merged_cells.ranges),
        "setup": repr(sheet.page_setup),
        "margins": repr(sheet.page_margins),
        "fit": sheet.sheet_properties.pageSetUpPr.fitToPage,
        "centered": sheet.print_options.horizontalCentered,
    }


def test_the_results_workbook_reads_back_as_openpyxl_builds_it_cell_by_cell(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    for rows in (ROWS, ROWS[:1], []):
        exports.results_book(rows, ours, "标题")
        _reference(rows, theirs, "标题")
        assert _cells(ours) == _cells(theirs)
        assert _layout(ours) == _layout(theirs)
    exports.results_book(ROWS, ours, "标题")
    formula = next(c for c in _cells(ours) if c[0] == "B4")
    assert formula[2] == "s" and formula[4]  # text, quote-prefixed: never run as a formula

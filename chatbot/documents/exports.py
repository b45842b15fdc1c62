"""Excel exports: the official score sheet of one union (the seed's attachment table, to print and
stamp for the 纸质盖章版) and the results of a campaign, one row per organisation."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.compat import safe_string
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.documents.cells import cell_text, is_formula_like
from chatbot.documents.columns import MAX_CODE_WIDTH, RESULT_COLUMNS, headers, number_format, value_of
from chatbot.documents.labels import DISQUALIFICATIONS, printed
from chatbot.documents.layout import LINE_UNITS, display_width, height_of, print_setup, row_height
from chatbot.inspection.evaluations import figures
from chatbot.inspection.queries import item_scores
from chatbot.inspection.rubric_versions import rubric_of
from chatbot.inspection.weaknesses import Weaknesses
from chatbot.store.models import AuditEntry, Inspection
from rubrics import Rubric
from rubrics.democratic import figures_phrase
from rubrics.lifecycle import InspectionState
from rubrics.scoring import ONE_DECIMAL, Stars, format_percent, format_score, percent_score, raw_total

HEADERS = ("内容", "子项", "基本要求", "分值", "自评得分", "考评得分")
WIDTHS = (12, 6, 62, 7, 9, 9)
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
FONT = "宋体"
HEADER_ROW = 4


def _cell(
    sheet: Worksheet,
    row: int,
    column: int,
    value: object,
    *,
    bold: bool = False,
    align: Alignment = WRAP_CENTER,
    border: bool = True,
) -> None:
    cell = _put(sheet, row, column, value)
    cell.font = Font(name=FONT, size=11, bold=bold)
    cell.alignment = align
    if border:
        cell.border = BOX


def _put(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write ``value`` into a cell: a text is always text, never a formula, whatever it starts with
    (a string cell marked quote-prefixed, so that editing it in Excel keeps it text)."""
    if isinstance(value, str):
        value = cell_text(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str) and is_formula_like(value):
        cell.data_type = "s"  # openpyxl takes a text starting with "=" for a formula
        cell.quotePrefix = True
    return cell


def _style(sheet: Worksheet, align: Alignment) -> Any:
    """The style (font, alignment, border) ``_cell`` gives a cell, as openpyxl stores it on a cell."""
    cell = Cell(sheet)
    cell.font = Font(name=FONT, size=11)
    cell.alignment = align
    cell.border = BOX
    return cell._style


#: What a cell shows where nothing was entered (an item not yet scored): not 0, which is a score.
NOT_ANSWERED = "—"
SHEET_TITLE = "年检考评表"


def _number(value: Decimal | None) -> int | float | str:
    """A score as a number cell (whole numbers as integers, so no cell shows "3.0"); "—" for none."""
    if value is None:
        return NOT_ANSWERED
    return int(value) if value == value.to_integral_value() else float(value)


def score_sheet(
    session: Session, inspection: Inspection, now: datetime, path: Path, config: Config | None = None
) -> None:
    """The filled form (年检考评表): the standard's table for the union's rubric with both scores,
    totals, the 百分制 scores, stars, the democratic evaluation and signature lines."""
    config = config or Config.from_env()
    rubric = rubric_of(session, inspection)
    scores = SheetScores(*item_scores(session, inspection.id))
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    _sheet_heading(sheet, inspection, rubric)
    blocks, row = _item_rows(sheet, rubric, scores)
    blocks.append(row)  # the totals close the last block
    _totals_row(sheet, row, rubric, scores)
    for line in _summary(session, inspection, rubric, scores, config, now):
        row += 1
        _merged_line(sheet, row, len(HEADERS), line, align=WRAP_LEFT)
        sheet.row_dimensions[row].height = max(22.0, row_height(line, sum(WIDTHS)))
    for column, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    print_setup(sheet, f"{HEADER_ROW}:{HEADER_ROW}")
    heights = [sheet.row_dimensions[n].height or DEFAULT_ROW_POINTS for n in range(1, row + 1)]
    for before in page_breaks(heights, blocks, HEADER_ROW, _print_scale(WIDTHS)):
        sheet.row_breaks.append(Break(id=before - 1))
    book.save(path)


@dataclass(frozen=True)
class SheetScores:
    """A union's item scores by item number: its own (自评) and the assessment's (考评)."""

    own: dict[int, Decimal]
    assessed: dict[int, Decimal]


def _merged_line(
    sheet: Worksheet,
    row: int,
    columns: int,
    text: str,
    *,
    size: int = 11,
    bold: bool = False,
    align: Alignment = WRAP_CENTER,
    height: float | None = None,
) -> None:
    """A line of text across the first ``columns`` columns, without a border."""
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    _cell(sheet, row, 1, text, bold=bold, align=align, border=False)
    sheet.cell(row=row, column=1).font = Font(name=FONT, size=size, bold=bold)
    if height is not None:
        sheet.row_dimensions[row].height = height


def _sheet_heading(sheet: Worksheet, inspection: Inspection, rubric: Rubric) -> None:
    """The title, the standard, the union, its year and state, and the table's header."""
    last = len(HEADERS)
    _merged_line(sheet, 1, last, SHEET_TITLE, size=18, bold=True, height=30)
    _merged_line(sheet, 2, last, printed(f"{rubric.name}年检考评标准"), size=12, height=20)
    unit = (
        f"单位：{inspection.organisation.name}　　年度：{inspection.campaign.year}　　"
        f"状态：{InspectionState(inspection.state).label}"
    )
    _merged_line(sheet, 3, last, unit, align=WRAP_LEFT, height=20)
    for column, header in enumerate(HEADERS, start=1):
        _cell(sheet, HEADER_ROW, column, header, bold=True)


def _item_rows(sheet: Worksheet, rubric: Rubric, scores: SheetScores) -> tuple[list[int], int]:
    """The standard's items with both scores, a dimension's rows merged in its first column: the first
    row of each dimension, and the row after the last item."""
    row = HEADER_ROW + 1
    blocks: list[int] = []
    for dimension in rubric.dimensions:
        first = row
        blocks.append(first)
        for item in rubric.items_of(dimension):
            text = printed(item.shown_text)
            values = (printed(dimension), item.no, text, item.points)
            for column, value in enumerate(values, start=1):
                _cell(sheet, row, column, value, align=WRAP_LEFT if column == 3 else WRAP_CENTER)
            _cell(sheet, row, 5, _number(scores.own.get(item.no)))
            _cell(sheet, row, 6, _number(scores.assessed.get(item.no)))
            sheet.row_dimensions[row].height = row_height(text, WIDTHS[2])
            row += 1
        sheet.merge_cells(start_row=first, start_column=1, end_row=row - 1, end_column=1)
    return blocks, row


def _totals_row(sheet: Worksheet, row: int, rubric: Rubric, scores: SheetScores) -> None:
    _cell(sheet, row, 1, "合计", bold=True)
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
    _cell(sheet, row, 4, rubric.max_total, bold=True)
    for column, given in ((5, scores.own), (6, scores.assessed)):
        _cell(sheet, row, column, _number(raw_total(given.values())) if given else NOT_ANSWERED, bold=True)


def _summary(
    session: Session,
    inspection: Inspection,
    rubric: Rubric,
    scores: SheetScores,
    config: Config,
    now: datetime,
) -> list[str]:
    """The lines under the table: the 百分制 scores, stars, the democratic evaluation, the assessment,
    a below-standard result's consequences, re-reviews and the signature lines."""
    own, assessed = scores.own, scores.assessed
    own_score = (
        format_score(percent_score(raw_total(own.values()), rubric.max_total)) + " 分"
        if own
        else NOT_ANSWERED
    )
    assessed_score = percent_score(raw_total(assessed.values()), rubric.max_total) if assessed else None
    shown = format_score(assessed_score) + " 分" if assessed_score is not None else NOT_ANSWERED
    rescaled = f"（原始得分 ÷ {rubric.max_total} × 100，保留一位小数）" if rubric.max_total != 100 else ""
    reason = inspection.override_reason or inspection.stars_reason
    summary = [
        f"百分制得分：自评 {own_score}；考评 {shown}{rescaled}",
        *_blended_line(inspection, assessed_score, config),
        f"星级：{Stars(inspection.stars).label if inspection.stars else '—'}"
        + (f"（{reason}）" if reason else ""),
        _democratic_line(session, inspection, now),
        "考评方式：" + ("、".join(inspection.assessment_methods or ()) or "未记录"),
        f"考评意见：{inspection.assessment_opinion or '未填写'}",
    ]
    if inspection.below_standard:
        lost = [name for key, name in DISQUALIFICATIONS if getattr(inspection, key)]
        summary.append(f"低于建设标准：须补课，并取消{'、'.join(lost)}指标。")
    return [*summary, *re_review_lines(session, inspection), "", *SIGNATURE_LINES]


SIGNATURE_LINES = (
    "自评单位（盖章）：　　　　　　　　工会主席（签字）：　　　　　　　　日期：　　年　　月　　日",
    "考评单位（盖章）：　　　　　　　　考评人（签字）：　　　　　　　　　日期：　　年　　月　　日",
)


#: A4's printable height (points) with the sheets' margins (1 inch top and bottom, openpyxl's default),
#: less a little for LibreOffice's rounding.
PRINTABLE_POINTS = (297 / 25.4 - 2) * 72 - 12
PRINTABLE_WIDTH_POINTS = (210 / 25.4 - 1) * 72
DEFAULT_ROW_POINTS = 15.0


#: Pixels (96 dpi) of a unit of column width: the width of a digit of the workbook's default font,
#: Calibri — Excel's, and LibreOffice's with Carlito (metric-compatible) installed, as .ci/run does.
WIDTH_UNIT_PX = 7


def _print_scale(widths: Sequence[float]) -> float:
    """The scale fit-to-width prints a sheet at: each column its units plus 5 px, at 96 dpi."""
    table_points = sum(w * WIDTH_UNIT_PX + 5 for w in widths) * 0.75
    return min(1.0, PRINTABLE_WIDTH_POINTS / table_points)


def page_breaks(heights: Sequence[float], blocks: Sequence[int], header: int, scale: float) -> list[int]:
    """The rows (1-based) a score sheet's pages start at, so that no dimension's rows are split and the
    last page holds the last dimension with the totals, the summary and the signature lines rather
    than these alone: ``heights`` of every row (points), ``blocks`` the first row of each dimension
    and, last, of the totals, ``header`` the row repeated on every page. None when all fit one page."""
    room = PRINTABLE_POINTS / scale
    ends = [*blocks[1:-1], len(heights) + 1]  # the last dimension runs to the end: totals and summary
    breaks: list[int] = []
    used = sum(heights[: blocks[0] - 1])
    for first, end in zip(blocks[:-1], ends, strict=True):
        block = sum(heights[first - 1 : end - 1])
        if used + block > room and used > heights[header - 1]:
            breaks.append(first)
            used = heights[header - 1]
        used += block
    return breaks


def re_review_lines(session: Session, inspection: Inspection) -> list[str]:
    """The scores a re-review changed (改分), from the audit log: a change after the Nth publication
    belongs to the Nth re-review."""
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity == "inspection",
            AuditEntry.entity_id == inspection.id,
            AuditEntry.action.in_(("publish", "assessed_score")),
        )
        .order_by(AuditEntry.id)
    )
    lines, published = [], 0
    for entry in entries:
        if entry.action == "publish":
            published += 1
            continue
        if not published:
            continue  # the assessment revised before any publication: not a re-review
        before, after = json.loads(entry.before or "{}"), json.loads(entry.after or "{}")
        lines.append(
            f"第{published}次复查改分：第{after.get('item')}项 {_audit_score(before.get('score'))} 分"
            f" → {_audit_score(after.get('score'))} 分，原因：{entry.reason or '未说明'}"
        )
    return lines


def _audit_score(value: object) -> str:
    return format_score(Decimal(str(value))) if value is not None else NOT_ANSWERED


def _blended_line(inspection: Inspection, assessed: Decimal | None, config: Config) -> list[str]:
    """The final score on its own line when the democratic score is blended in (DEMOCRATIC_WEIGHT > 0)
    and changed it."""
    weight = config.democratic_weight
    if not weight or inspection.score is None or assessed is None or inspection.democratic_score is None:
        return []
    if Decimal(inspection.score) == assessed:
        return []
    return [
        f"综合得分：{format_score(Decimal(inspection.score))} 分（考评得分占 {format_percent(1 - weight)}、"
        f"民主测评得分 {format_score(Decimal(inspection.democratic_score).quantize(ONE_DECIMAL, ROUND_HALF_UP))}"
        f" 分占 {format_percent(weight)}；星级按综合得分确定）"
    ]


def _row_height(cells: Iterable[tuple[str, float]]) -> float:
    """The height of a row of wrapped cells (text, column width): its tallest, one line at least."""
    return max((row_height(text, width) for text, width in cells), default=row_height("", 1))


def _democratic_line(session: Session, inspection: Inspection, now: datetime) -> str:
    """The count and turnout; the satisfaction rate and score only where the small-count rule
    discloses them."""
    result = figures(session, inspection, now)
    if result is None:
        return "民主测评：未开展"
    if result.waived:
        return f"民主测评：已免除，不计入结果（{result.waived_reason}）"
    turnout = f"{format_score(result.turnout)}%" if result.turnout is not None else "—"
    return f"民主测评：有效票 {result.ballots} 张，参与率 {turnout}，{figures_phrase(result)}"


def _width_for(text: str) -> int:
    """A column width that shows ``text`` whole, with room for a substitute CJK font's wider glyphs."""
    return round(display_width(text) * 1.1) + 2


def results_book(rows: Sequence[dict[str, str]], path: Path, title: str = "基层工会组织年检结果") -> None:
    """A title row, then one row per organisation in the results' columns: numbers as numbers, filterable,
    header frozen; columns of fixed widths, long texts wrapped, printed A4 landscape at full size, title
    and header on every page.

    openpyxl lays out the workbook (title, header, widths, styles, print setup); the body's rows, the
    same cells openpyxl writes, are written as XML directly: 120,000 cell objects for a large city took
    seconds to build and save, the XML takes a fraction of one (issue 23)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "年检结果"
    _merged_line(sheet, 1, len(RESULT_COLUMNS), title, size=16, bold=True, height=28)
    widths = _result_widths(rows)
    for column, header in enumerate(headers(), start=1):
        _cell(sheet, RESULTS_HEADER_ROW, column, header, bold=True)
    sheet.row_dimensions[RESULTS_HEADER_ROW].height = _row_height(zip(headers(), widths, strict=True))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{RESULTS_HEADER_ROW + 1}"
    last = get_column_letter(len(RESULT_COLUMNS))
    last_row = len(rows) + RESULTS_HEADER_ROW
    sheet.auto_filter.ref = f"A{RESULTS_HEADER_ROW}:{last}{last_row}"
    print_setup(sheet, f"{1}:{RESULTS_HEADER_ROW}")
    sheet.page_setup.orientation = "landscape"
    body = _result_body(sheet, rows, widths)
    laid_out = io.BytesIO()
    book.save(laid_out)
    _add_rows(laid_out.getvalue(), body, f"A1:{last}{max(last_row, RESULTS_HEADER_ROW)}", path)


RESULTS_HEADER_ROW = 2


def _result_widths(rows: Sequence[dict[str, str]]) -> list[float]:
    """The columns' printed widths; the code column wide enough for a code on one line, within reason."""
    fitted = max((_width_for(row.get("code", "")) for row in rows), default=0)
    return [
        max(column.width, min(MAX_CODE_WIDTH, fitted)) if column.key == "code" else column.width
        for column in RESULT_COLUMNS
    ]


@dataclass(frozen=True)
class _BodyStyles:
    """The style ids (``s``) of a column's body cells, plain and quote-prefixed (a formula-like text)."""

    plain: tuple[int, ...]
    quoted: tuple[int, ...]


def _body_styles(sheet: Worksheet) -> _BodyStyles:
    """Each column's body style registered in the workbook, as openpyxl gives a styled cell its id."""
    plain, quoted = [], []
    for column in RESULT_COLUMNS:
        cell = Cell(sheet)
        cell._style = copy(_style(sheet, WRAP_LEFT if column.long else WRAP_CENTER))
        if column.unit:
            cell.number_format = number_format(column)
        plain.append(cell.style_id)
        cell._style = copy(cell._style)  # the registered one stays as it is
        cell.quotePrefix = True
        quoted.append(cell.style_id)
    return _BodyStyles(tuple(plain), tuple(quoted))


def _result_body(sheet: Worksheet, rows: Sequence[dict[str, str]], widths: Sequence[float]) -> str:
    """The body's ``<row>`` elements, one line per result, each cell in its column's style, each line
    as tall as its wrapped texts: what openpyxl writes for the same cells (inline strings).

    A cell is made once per column and shown value (states, stars, scores repeat across thousands of
    rows), then only its reference is written. openpyxl's own write-only mode, ``WriteOnlyCell``s given
    these styles registered once, took 3.3 s of CPU for a large city's 10,000 rows against 0.39 s here
    (0.34 s with the cache; tests/bench/bench_results_book.py, load 6–8): eight to ten times as long,
    so the body stays ours."""
    styles = _body_styles(sheet)
    letters = [get_column_letter(at) for at in range(1, len(RESULT_COLUMNS) + 1)]
    room = [max(1, int(width * LINE_UNITS)) for width in widths]  # units of text a line holds
    made: dict[tuple[int, str], tuple[str, int]] = {}
    heights: dict[int, str] = {}
    lines = []
    for index, row in enumerate(rows, start=RESULTS_HEADER_ROW + 1):
        cells, tallest = [], 1  # as row_height counts: one line at least
        for at, column in enumerate(RESULT_COLUMNS):
            shown = column.shown(row)
            cell = made.get((at, shown))
            if cell is None:
                cell = made[(at, shown)] = _body_cell(value_of(column, shown), styles, at, room[at])
            tail, taller = cell
            cells.append(f'<c r="{letters[at]}{index}"{tail}')
            if taller > tallest:
                tallest = taller
        height = heights.get(tallest) or heights.setdefault(tallest, safe_string(height_of(tallest)))
        lines.append(f'<row r="{index}" ht="{height}" customHeight="1">{"".join(cells)}</row>')
    return "".join(lines)


def _body_cell(value: int | float | str | None, styles: _BodyStyles, at: int, room: int) -> tuple[str, int]:
    """A body cell of column ``at`` after its reference (`` s="…" t="…">…</c>``), and the lines its
    text takes in a column holding ``room`` units of text a line."""
    if value is None:
        return f' s="{styles.plain[at]}" t="n"></c>', 1
    if not isinstance(value, str):
        return f' s="{styles.plain[at]}" t="n"><v>{safe_string(value)}</v></c>', 1
    text = cell_text(value)
    lines = 1
    if 2 * len(text) > room:  # else one line whatever its characters
        lines = -(-display_width(text) // room)
    style = styles.quoted[at] if is_formula_like(text) else styles.plain[at]
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f' s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>', lines


#: zlib's level for the results workbook: openpyxl's (ZIP_DEFLATED at zlib's default, 6). Measured on a
#: large city's 6.4 MB sheet (tests/bench/bench_results_book.py, load 7.7, CPU of the whole workbook):
#: level 6 0.31 s and 519 kB, level 3 0.27 s and 595 kB, level 1 0.27 s and 734 kB, level 9 0.59 s and
#: 484 kB. The 0.04 s a lower level saves costs more than that on a slow link: kept at 6.
RESULTS_COMPRESSION = 6

#: The worksheet openpyxl writes the results into (the workbook's only sheet).
RESULTS_SHEET = "xl/worksheets/sheet1.xml"


def _add_rows(laid_out: bytes, body: str, dimension: str, path: Path) -> None:
    """The workbook openpyxl saved with the body's rows put at the end of its sheet's ``sheetData``
    (and the sheet's dimension covering them), written to ``path``."""
    with (
        zipfile.ZipFile(io.BytesIO(laid_out)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=RESULTS_COMPRESSION) as out,
    ):
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == RESULTS_SHEET:
                xml = data.decode("utf-8")
                xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', xml, count=1)
                head, tail = xml.split("</sheetData>", 1)
                data = (head + body + "</sheetData>" + tail).encode("utf-8")
            out.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=RESULTS_COMPRESSION)


# ---------------------------------------------------------------- where the points are lost


def weakness_book(found: Weaknesses, counties: Sequence[Weaknesses], path: Path) -> None:
    """The weakness figures of one scope: every item (those losing most first), every dimension, self
    scores against assessed ones, and — for the city — each county's item that loses most. Each sheet
    has a title, a frozen filterable header, numbers as numbers and every text as text."""
    from chatbot.documents import weakness_table as table

    compared = f"（与{found.previous_year}年比较）" if found.previous_year else ""
    title = f"{found.name}{found.year}年度年检失分分析{compared}"
    book = Workbook()
    first = book.active
    first.title = "子项失分"
    items = table.ranked(found)
    _table_sheet(
        first,
        title,
        table.ITEM_HEADERS,
        [table.item_row(rank, item) for rank, item in enumerate(items, start=1)],
        table.ITEM_LONG,
    )
    _table_sheet(
        book.create_sheet("内容失分"),
        title,
        table.DIMENSION_HEADERS,
        [table.dimension_row(d) for d in found.dimensions],
        frozenset({1}),
    )
    rated_items = sorted(
        found.items, key=lambda i: (-i.self_rating.mean_gap, -i.self_rating.over, i.key, i.no)
    )
    _table_sheet(
        book.create_sheet("自评与考评"),
        title,
        table.SELF_HEADERS,
        [table.self_row(item) for item in rated_items if item.self_rating.both],
        table.SELF_LONG,
    )
    if counties:
        _table_sheet(
            book.create_sheet("各县（区）"),
            title,
            table.COUNTY_HEADERS,
            [table.county_row(county) for county in counties],
            frozenset({2}),
        )
    book.save(path)


#: The widest a column of short texts or numbers grows to, the narrowest any column is, and the
#: narrowest and widest a long text column (基本要求) gets of the room the others leave.
NARROW_MAX = 16
NARROW_MIN = 5
LONG_MIN = 30
LONG_MAX = 60
#: Units of column width an A4 landscape page holds at full size between the sheets' side margins
#: (0.5 inch each): (297 mm − 1 inch) at 96 dpi, less 5 px a column (``_print_scale``).
LANDSCAPE_UNITS = ((297 / 25.4 - 1) * 96) / WIDTH_UNIT_PX


def table_widths(
    headers: Sequence[str], rows: Sequence[Sequence[object]], long: frozenset[int]
) -> list[float]:
    """Column widths for a table printed A4 landscape, one page wide at (nearly) full size: a column of
    short cells as wide as its longest cell, or half of it (two lines) where that is wider than
    ``NARROW_MAX``, and at least half its header (headers wrap onto two lines); the long text columns
    share the room the others leave (``LONG_MIN`` … ``LONG_MAX`` each)."""
    widths: list[float] = []
    for at, header in enumerate(headers):
        if at in long:
            widths.append(0)
            continue
        cell = max((_width_for(cell_text_of(row[at])) for row in rows), default=0)
        if cell > NARROW_MAX:
            cell = -(-cell // 2) + 2
        widths.append(max(NARROW_MIN, _width_for(header) // 2 + 2, min(NARROW_MAX, cell)))
    if long:
        room = LANDSCAPE_UNITS - sum(widths) - 5 * len(headers) / WIDTH_UNIT_PX
        share = min(LONG_MAX, max(LONG_MIN, room / len(long)))
        widths = [share if at in long else width for at, width in enumerate(widths)]
    return widths


def cell_text_of(value: object) -> str:
    return "" if value is None else str(value)


def _table_sheet(
    sheet: Worksheet,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    long: frozenset[int],
) -> None:
    """A title row, a header and the rows: filterable, the header frozen, printed A4 landscape one page
    wide (``layout.print_setup``) with the title and the header on every page and the page number below."""
    _merged_line(sheet, 1, len(headers), title, size=14, bold=True, height=24)
    widths = table_widths(headers, rows, long)
    for column, header in enumerate(headers, start=1):
        _cell(sheet, RESULTS_HEADER_ROW, column, header, bold=True)
    sheet.row_dimensions[RESULTS_HEADER_ROW].height = _row_height(zip(headers, widths, strict=True))
    for index, row in enumerate(rows, start=RESULTS_HEADER_ROW + 1):
        for at, value in enumerate(row):
            _cell(sheet, index, at + 1, value, align=WRAP_LEFT if at in long else WRAP_CENTER)
        sheet.row_dimensions[index].height = _row_height(
            (str(value), widths[at]) for at, value in enumerate(row) if isinstance(value, str)
        )
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{RESULTS_HEADER_ROW + 1}"
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{RESULTS_HEADER_ROW}:{last}{len(rows) + RESULTS_HEADER_ROW}"
    print_setup(sheet, f"1:{RESULTS_HEADER_ROW}")
    sheet.page_setup.orientation = "landscape"
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.oddFooter.center.text = PAGE_FOOTER
    sheet.oddFooter.center.size = 9


#: The footer of a printed table: the sheet's name and the page's number (Excel's and LibreOffice's
#: fields; LibreOffice numbers a workbook's pages on across its sheets, so no "of N").
PAGE_FOOTER = "&A　第 &P 页"

"""A rubric sheet as the plan prints it, in a workbook: 内容 / 子项 / 基本要求 / 分值, each 内容 cell
merged over its items as Word and Excel users make them, and a 合计 row. ``write`` makes one
(`nianjian rubrics export --xlsx`); ``read`` takes one back, merged, repeated or blank-continued
内容 cells alike, as rows for ``rubrics.versions.sheet_from_rows`` to check."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zipfile import BadZipFile, ZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from chatbot.documents.cells import cell_text, is_formula_like
from chatbot.documents.layout import print_setup, row_height
from rubrics import Rubric
from rubrics.versions import SheetRow

HEADERS: tuple[str, ...] = ("内容", "子项", "基本要求", "分值")
NOTE_HEADER = "备注"
WIDTHS: tuple[float, ...] = (16, 7, 70, 7, 14)
TOTAL = "合计"
#: What a sheet's workbook may unpack to (a few sheets of text unpack to a few hundred kB), and the
#: rows and columns its first sheet may fill: a file from outside (the console's upload, a file
#: mailed to the federation) is never trusted to be as small as it looks. Blank rows past MAX_ROWS (a
#: column formatted to the sheet's end) are passed over without being kept.
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_ROWS = 1000
MAX_COLUMNS = 30
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)


class BookError(ValueError):
    """The file is not a workbook with the plan's table; the message is Chinese."""


def _put(sheet: Worksheet, row: int, column: int, value: object, *, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=column, value=cell_text(value) if isinstance(value, str) else value)
    if isinstance(value, str) and is_formula_like(value):
        cell.data_type = "s"  # a text, never a formula
        cell.quotePrefix = True
    cell.font = Font(name="宋体", size=11, bold=bold)
    cell.alignment = _LEFT if column == 3 else _CENTER
    cell.border = _BOX


def write(rubric: Rubric, path: Path) -> None:
    """The sheet in the plan's layout: a title row, the header, one row per item, the 合计 row."""
    book = Workbook()
    sheet = book.active
    sheet.title = rubric.key
    headers = HEADERS + ((NOTE_HEADER,) if any(item.note for item in rubric.items) else ())
    sheet.cell(row=1, column=1, value=cell_text(f"{rubric.name}年检考评标准"))
    sheet.cell(row=1, column=1).font = Font(name="宋体", size=14, bold=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for column, header in enumerate(headers, start=1):
        _put(sheet, 2, column, header, bold=True)
    row = 3
    for dimension in rubric.dimensions:
        items = rubric.items_of(dimension)
        _put(sheet, row, 1, dimension)
        for offset, item in enumerate(items):
            _put(sheet, row + offset, 2, item.no)
            _put(sheet, row + offset, 3, item.text)
            _put(sheet, row + offset, 4, item.points)
            if len(headers) > len(HEADERS):
                _put(sheet, row + offset, 5, item.note)
            # Rows as tall as their wrapped requirement (and note): spreadsheet programs do not grow a
            # row for text they did not lay out, so a long 基本要求 would show as one clipped line.
            texts = [(item.text, WIDTHS[2])] + (
                [(item.note, WIDTHS[4])] if len(headers) > len(HEADERS) else []
            )
            sheet.row_dimensions[row + offset].height = max(row_height(text, width) for text, width in texts)
        if len(items) > 1:
            sheet.merge_cells(start_row=row, start_column=1, end_row=row + len(items) - 1, end_column=1)
        row += len(items)
    _put(sheet, row, 1, TOTAL, bold=True)
    _put(sheet, row, 4, rubric.max_total, bold=True)
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
    for column, width in enumerate(WIDTHS[: len(headers)], start=1):
        sheet.column_dimensions[chr(64 + column)].width = width
    print_setup(sheet, "1:2")  # A4, one page wide, the title and header on every page
    book.save(path)


@dataclass(frozen=True)
class ReadSheet:
    """What a workbook holds: the title above the table ("" when none) and the table's rows."""

    title: str
    rows: list[SheetRow]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return str(Decimal(str(value)))
    return str(value).strip()


def _columns(header: list[str]) -> dict[str, int] | None:
    cleaned = [h.replace(" ", "").replace("\u3000", "") for h in header]
    if not all(name in cleaned for name in HEADERS):
        return None
    return {name: cleaned.index(name) for name in (*HEADERS, NOTE_HEADER) if name in cleaned}


def read(path: Path, name: str = "") -> ReadSheet:
    """The table of the workbook's first sheet: the header row (内容 子项 基本要求 分值) is found
    wherever it stands; the rows below it become SheetRows; a title above it is kept. ``name`` is the
    file's name as its messages say it (an upload's own name; by default the path's)."""
    name = name or path.name
    _refuse_oversized(path, name)
    try:
        cells = _cells(path, name)
    except BookError:
        raise
    except (OSError, BadZipFile, InvalidFileException, KeyError) as exc:
        raise BookError(f"无法读取 {name}：不是 Excel 工作簿（.xlsx）。") from exc
    except Exception as exc:  # a damaged workbook makes openpyxl raise almost anything
        raise BookError(f"无法读取 {name}：文件已损坏，或不是 Excel 工作簿（.xlsx）。") from exc
    title = ""
    for number, values in enumerate(cells, start=1):
        columns = _columns(values)
        if columns is None:
            title = title or next((v for v in values if v), "")
            continue
        return ReadSheet(title=_title(title), rows=[_row(n, v, columns) for n, v in _below(cells, number)])
    raise BookError(f"{name} 中找不到表头：第一张工作表应有一行“内容、子项、基本要求、分值”。")


def _refuse_oversized(path: Path, name: str) -> None:
    """BookError unless ``path`` is a zip archive (as every .xlsx is) that unpacks to a sane size:
    what is larger is refused before it is parsed."""
    try:
        with ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (OSError, BadZipFile, ValueError) as exc:
        raise BookError(f"无法读取 {name}：不是 Excel 工作簿（.xlsx）。") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise BookError(
            f"{name} 过大：解压后超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB，不像一张考评标准表，未读取。"
        )


def _cells(path: Path, name: str) -> list[list[str]]:
    """The first sheet's rows as texts, read as a stream (formulas as their saved values, never run),
    blank rows at the end left out; BookError when text lies past ``MAX_ROWS`` or ``MAX_COLUMNS``."""
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        if not book.worksheets:
            raise BookError(f"{name} 中没有工作表。")
        cells: list[list[str]] = []
        blank: list[list[str]] = []
        for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            values = [_text(v) for v in row]
            if not any(values):
                if number <= MAX_ROWS:  # past it, only a blank row can be passed over
                    blank.append(values)
                continue
            if number > MAX_ROWS or any(values[MAX_COLUMNS:]):
                raise BookError(
                    f"{name} 的第一张工作表过大：第 {number} 行还有内容，考评标准表最多 {MAX_ROWS} 行、"
                    f"{MAX_COLUMNS} 列；请删去多余的行和列后再导入。"
                )
            cells += blank
            blank = []
            cells.append(values)
        return cells
    finally:
        book.close()


def _below(cells: list[list[str]], header: int) -> list[tuple[int, list[str]]]:
    return [(number, values) for number, values in enumerate(cells, start=1) if number > header]


def _row(number: int, values: list[str], columns: dict[str, int]) -> SheetRow:
    def at(name: str) -> str:
        index = columns.get(name)
        return values[index] if index is not None and index < len(values) else ""

    return SheetRow(number, at("内容"), at("子项"), at("基本要求"), at("分值"), at(NOTE_HEADER))


def _title(text: str) -> str:
    """The sheet's name from the title row (…年检考评标准 dropped; a number before it, printed or not,
    is left to ``sheet_from_rows``, which keeps the current title when only that differs)."""
    return text.removesuffix("年检考评标准").strip()

"""Sheet layout shared by the workbooks (the exports and the rubric book): row heights for wrapped
Chinese text and the print setup."""

from __future__ import annotations

import re

from openpyxl.worksheet.worksheet import Worksheet

#: Units of text (a Chinese character two) one line of a column holds, per unit of the column's width:
#: an 11 pt Chinese character is 11 × 96 / 72 ≈ 14.7 px wide, a unit of width 7 px
#: (``exports.WIDTH_UNIT_PX``), so a unit holds 2 × 7 / 14.7 ≈ 0.95 units of text; 0.93 leaves room for
#: the cell's padding.
LINE_UNITS = 0.93


def row_height(text: str, width: float) -> float:
    """Points for a row whose wrapped text fills a column ``width`` characters wide (a CJK character
    takes two): spreadsheet programs do not grow rows for wrapped text they did not lay out."""
    units = display_width(text)
    # 28 Chinese characters a line in the score sheet's column 62 wide: a row as tall as the lines it
    # prints, no taller.
    lines = max(1, -(-units // max(1, int(width * LINE_UNITS))))
    return height_of(lines)


def height_of(lines: int) -> float:
    """Points for a row of ``lines`` lines of 11 pt text."""
    return 15.5 * lines + 6


def print_setup(sheet: Worksheet, title_rows: str | None) -> None:
    """Print ``sheet`` on A4 portrait, one page wide, centred, with ``title_rows`` (``"1:2"``) repeated
    on every page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    if title_rows:
        sheet.print_title_rows = title_rows


#: The characters that take two columns: CJK and full-width ones (from U+2E81 on).
WIDE = re.compile("[\u2e81-\U0010ffff]")


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a CJK (or full-width) character takes two."""
    return len(text) + len(WIDE.findall(text))

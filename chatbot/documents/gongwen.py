"""The layout of an official document (公文, after GB/T 9704-2012) in python-docx: A4 with the standard
margins, a 二号 title, 三号 body on fixed 28 pt lines, headings in 黑体 / 楷体 style without Word's blue
"Heading 1", tables, the signature (落款) with room for the stamp, and "— 1 —" page numbers.

The standard's fonts (方正小标宋, 黑体, 楷体, 仿宋) are not free; the nearest free ones installed with
``fonts-noto-cjk`` stand in for them: Noto Serif CJK SC (title, body) and Noto Sans CJK SC (headings).
Every style names its East Asian font (``w:eastAsia``) as well, so Word and LibreOffice use it for
Chinese text. A federation with the official fonts changes ``FONTS`` in one place.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph


@dataclass(frozen=True)
class Fonts:
    """The typefaces of one document: title (小标宋), level-1 heading (黑体), level-2 heading (楷体),
    body (仿宋)."""

    title: str = "Noto Serif CJK SC"
    heading: str = "Noto Sans CJK SC"
    subheading: str = "Noto Serif CJK SC"
    body: str = "Noto Serif CJK SC"


FONTS = Fonts()
BLACK = RGBColor(0, 0, 0)
#: 字号: 二号 22 pt (title), 三号 16 pt (body, headings), 四号 14 pt (page numbers), 五号 10.5 pt (tables:
#: a county's short name and every header fit a nine-column table, each header whole on its lines).
TITLE_SIZE, BODY_SIZE, PAGE_NUMBER_SIZE, TABLE_SIZE = Pt(22), Pt(16), Pt(14), Pt(10.5)
#: The type area's width (A4 less the margins) and what a table cell adds to its text (its margins,
#: 0.38 cm, and some room).
TYPE_AREA_CM, CELL_PADDING_CM = 15.6, 0.5
#: Fixed line spacing of the body: 22 lines on the 225 mm type area.
LINE = Pt(28)
INDENT = Pt(32)  # two characters of 三号

TITLE_STYLE = "公文标题"
TABLE_STYLE = "公文表格文字"
CAPTION_STYLE = "公文图表题"


def new_document(fonts: Fonts = FONTS) -> DocumentType:
    """An empty A4 document with the 公文 margins, styles and page numbers."""
    document = Document()
    for section in document.sections:
        section.start_type = WD_SECTION_START.NEW_PAGE
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
        section.footer_distance = Cm(2.5)
        _page_number(section.footer.paragraphs[0], fonts.body)
    styles = document.styles
    normal = styles["Normal"]
    assert isinstance(normal, ParagraphStyle)  # the template's own
    _font(normal, fonts.body, BODY_SIZE)
    _lines(normal, LINE)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    for name, font, bold in (("Heading 1", fonts.heading, False), ("Heading 2", fonts.subheading, True)):
        heading = styles[name]
        assert isinstance(heading, ParagraphStyle)
        _font(heading, font, BODY_SIZE, bold=bold)
        _lines(heading, LINE)
        heading.paragraph_format.first_line_indent = INDENT
        heading.paragraph_format.keep_with_next = True
        heading.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        heading.font.italic = False
    title = styles.add_style(TITLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    title.base_style = normal
    _font(title, fonts.title, TITLE_SIZE, bold=True)
    _lines(title, Pt(35))
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for name, size in ((TABLE_STYLE, TABLE_SIZE), (CAPTION_STYLE, TABLE_SIZE)):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        _font(style, fonts.body, size, bold=name == CAPTION_STYLE)
        style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        style.paragraph_format.space_before = style.paragraph_format.space_after = Pt(2)
    return document


def _font(style: ParagraphStyle, name: str, size: Pt, bold: bool = False) -> None:
    """The style's font in every script slot, black, without the theme fonts Word would prefer."""
    style.font.name = name
    style.font.size = size
    style.font.bold = bold
    style.font.color.rgb = BLACK
    properties = style.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    assert fonts is not None  # made by font.name above
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), name)
    colour = properties.find(qn("w:color"))
    if colour is not None:
        for theme in ("w:themeColor", "w:themeShade", "w:themeTint"):
            colour.attrib.pop(qn(theme), None)


def _lines(style: ParagraphStyle, exactly: Pt) -> None:
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = exactly
    fmt.space_before = fmt.space_after = Pt(0)


def _page_number(paragraph: Paragraph, font: str) -> None:
    """ "— 7 —" centred at the foot of every page (GB/T 9704: 4号 Arabic numerals between dashes)."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    number = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    number.append(text)
    field.append(number)
    paragraph._p.append(field)
    paragraph.add_run(" —")
    for run in paragraph.runs:
        run.font.size = PAGE_NUMBER_SIZE
        run.font.name = font


def title(document: DocumentType, lines: Sequence[str]) -> None:
    """The title, centred, one line per item (a long title breaks where the caller says), then a
    blank line."""
    paragraph = document.add_paragraph(style=TITLE_STYLE)
    for index, line in enumerate(lines):
        run = paragraph.add_run(line)
        if index < len(lines) - 1:
            run.add_break()
    document.add_paragraph()


def addressee(document: DocumentType, name: str) -> None:
    """主送机关: flush left, ending in a full-width colon."""
    document.add_paragraph(name.rstrip("：:") + "：")


def heading(document: DocumentType, text: str, level: int = 1) -> None:
    document.add_heading(text, level=level)


def body(document: DocumentType, text: str) -> Paragraph:
    """A paragraph of the body, its first line indented two characters."""
    paragraph = document.add_paragraph(text)
    paragraph.paragraph_format.first_line_indent = INDENT
    return paragraph


def table(
    document: DocumentType,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    caption: str | None = None,
    widths: Sequence[float] | None = None,
    groups: Sequence[int] | None = None,
) -> Table:
    """A bordered table in 五号 across the type area, centred, its header row bold and repeated on every
    page, no row split across two, the caption kept with the header; columns as wide
    as their longest cell (``column_widths``) unless ``widths`` says otherwise. ``groups``: the sizes
    of runs of rows to keep on one page each (a county's rows, a dimension's items; ``keep_groups``)."""
    if caption:
        document.add_paragraph(caption, style=CAPTION_STYLE).paragraph_format.keep_with_next = True
    grid = document.add_table(rows=1, cols=len(header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = widths or column_widths(header, rows)
    shown = [_header_text(t, w) for t, w in zip(header, widths, strict=True)] if widths else header
    style_id = document.styles.get_style_id(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)  # looked up once
    _cells(grid.rows[0].cells, shown, style_id, bold=True)
    header_properties = grid.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_properties.append(repeat)
    if rows:  # the first row built cell by cell, the others copied from it (see _copied_rows)
        _cells(grid.add_row().cells, rows[0], style_id)
    for row in grid.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    if widths:  # the grid's columns (LibreOffice reads these) and every cell's (Word reads those)
        grid.autofit = False
        for column, width in zip(grid.columns, widths, strict=True):
            column.width = Cm(width)
        for row in grid.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Cm(width)
    _copied_rows(grid, rows[1:])
    if groups is not None:
        keep_groups(grid, groups)
    document.add_paragraph(style=TABLE_STYLE)  # air below the table
    return grid


#: The most rows a group kept on one page may have (about a page of 五号 rows).
KEEP_WHOLE_ROWS = 20


def keep_groups(grid: Table, groups: Sequence[int]) -> None:
    """Keep the header with the first row, and each group's rows (``groups``: their counts, in order)
    with one another: every paragraph of a row but a group's last keeps with the next (Word and
    LibreOffice move the rows to the next page together rather than split them). A group longer than
    ``KEEP_WHOLE_ROWS`` could not be kept on a page: its rows are not held together."""
    rows = grid._tbl.findall(qn("w:tr"))  # the header, then the body's rows 1 … n
    ends: set[int] = set()
    at = 0
    for size in groups:
        if size > KEEP_WHOLE_ROWS:  # longer than a page: its rows flow on as they come
            ends.update(range(at + 1, at + size))
        at += size
        ends.add(at)  # a group's last row
    for index, row in enumerate(rows):
        if index in ends or index == len(rows) - 1:
            continue
        for paragraph in row.iter(qn("w:p")):
            paragraph.get_or_add_pPr().keepNext_val = True


def _text_cm(text: str) -> float:
    return _width(text) * TABLE_SIZE.pt * 2.54 / 72


#: A header of this many characters or more may take two lines, broken before its last two: 平均/得分,
#: 五星级/名额, 民主测评/得分. Shorter ones (已评定, 五星级, 覆盖率) are one word and never break.
BREAKABLE_HEADER = 4


def header_lines(title: str) -> tuple[str, ...]:
    """The lines a header takes when it must be narrow: between its words, or one line."""
    if len(title) < BREAKABLE_HEADER or "\n" in title:
        return (title,)
    return (title[:-2], title[-2:])


#: What a table cell adds to its text: Word's and LibreOffice's margins (0.19 cm each side), with room to
#: spare (``CELL_PADDING_CM``) unless a table is too wide for that.
TIGHT_CELL_PADDING_CM = 0.4


def column_widths(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[float]:
    """Widths (cm) filling the type area: each column as wide as its longest cell and its header, the
    room left shared in proportion. Where that is too wide, headers go onto two lines between their
    words (``header_lines``), and the room that frees brings back to one line as many headers as it
    can, alike ones together; then the cells' spare margin goes. Only a table too wide even so is
    narrowed all over (and its texts wrap)."""
    cells = [
        max((_text_cm("" if row[i] is None else str(row[i])) for row in rows), default=0.0)
        for i in range(len(header))
    ]
    for padding in (CELL_PADDING_CM, TIGHT_CELL_PADDING_CM):
        full = [max(cell, _text_cm(title)) + padding for cell, title in zip(cells, header, strict=True)]
        if sum(full) <= TYPE_AREA_CM:
            return [w * TYPE_AREA_CM / sum(full) for w in full]
        widths = [
            max(cell, *(_text_cm(line) for line in header_lines(title))) + padding
            for cell, title in zip(cells, header, strict=True)
        ]
        # back to one line, the columns whose headers are alike (平均得分 … ) together or none of them
        alike: dict[float, list[int]] = {}
        for i, (width, whole) in enumerate(zip(widths, full, strict=True)):
            if whole > width:
                alike.setdefault(round(whole - width, 6), []).append(i)
        for deficit, columns in sorted(alike.items()):
            if sum(widths) + deficit * len(columns) <= TYPE_AREA_CM:
                for i in columns:
                    widths[i] = full[i]
        if sum(widths) <= TYPE_AREA_CM:
            break
    return [w * TYPE_AREA_CM / sum(widths) for w in widths]


def _header_text(title: str, width_cm: float) -> str:
    """The header as its cell prints it: on one line where the column holds it, else broken between
    its words (an explicit line break, so no narrow column breaks it mid-word)."""
    if _text_cm(title) + TIGHT_CELL_PADDING_CM <= width_cm:
        return title
    return "\n".join(header_lines(title))


def _cells(
    cells: Sequence[object], values: Sequence[object], style_id: str | None, bold: bool = False
) -> None:
    """Each cell's text in one run, its paragraph of the style ``style_id`` (as ``paragraph.style = name``
    sets it, without looking the name up again for every cell)."""
    for cell, value in zip(cells, values, strict=True):
        paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
        paragraph._p.style = style_id
        run = paragraph.add_run("" if value is None else str(value))
        run.font.bold = bold or None


def _copied_rows(grid: Table, rows: Sequence[Sequence[object]]) -> None:
    """Rows after the first as copies of its XML (style, widths, no split) with their own texts: setting
    each cell's style by name looks the style up every time, seconds for a city's thousands of rows.
    Each cell's run holds one prepared ``<w:t>`` whose text is set, as python-docx's ``run.text`` would
    write it (no ``<w:t>`` for an empty text, ``xml:space="preserve"`` around spaces); a text with a
    tab or a line break is left to ``run.text``, which writes those as elements of their own."""
    template = deepcopy(grid.rows[-1]._tr)
    for run in template.iter(qn("w:r")):
        run.text = "·"  # one <w:t> a cell
    text_tag, space = qn("w:t"), qn("xml:space")
    for values in rows:
        copy = deepcopy(template)
        for text, value in zip(list(copy.iter(text_tag)), values, strict=True):
            shown = "" if value is None else str(value)
            if not shown or _SPECIAL.intersection(shown):
                text.getparent().text = shown  # type: ignore[union-attr]
                continue
            text.text = shown
            if len(shown.strip()) < len(shown):
                text.set(space, "preserve")
        grid._tbl.append(copy)


#: Characters ``run.text`` writes as elements of their own (``<w:tab/>``, ``<w:br/>``).
_SPECIAL = frozenset("\t\r\n")


def picture(document: DocumentType, png: bytes, width_cm: float = 15.0) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(width_cm))
    paragraph = document.paragraphs[-1]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    paragraph.paragraph_format.first_line_indent = Pt(0)


def chinese_date(day: date) -> str:
    """成文日期 as GB/T 9704 writes it: 2026年12月8日 (Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def _width(text: str) -> float:
    """Width in characters of 三号: a CJK character is one, a digit or Latin letter half."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.5 for ch in text)


def signature(document: DocumentType, issuer: str, day: date) -> None:
    """落款: two blank lines for the stamp (盖章), then the issuer centred over the date, the date four
    characters from the right margin (moved left when the issuer's name is the longer)."""
    if document.paragraphs:  # never the signature alone on a page (GB/T 9704 7.3.5)
        document.paragraphs[-1].paragraph_format.keep_with_next = True
    for _blank in range(2):
        document.add_paragraph().paragraph_format.keep_with_next = True
    when = chinese_date(day)
    name_width, date_width = _width(issuer), _width(when)
    date_indent = 4.0
    name_indent = date_indent + (date_width - name_width) / 2
    if name_indent < 2.0:
        name_indent = 2.0
        date_indent = name_indent + (name_width - date_width) / 2
    for text, indent in ((issuer, name_indent), (when, date_indent)):
        paragraph = document.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.right_indent = Pt(16 * indent)
        paragraph.paragraph_format.keep_with_next = text == issuer

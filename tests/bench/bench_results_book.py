"""Benchmark: the results workbook (results.xlsx) of a large city, the writing alone (run by hand).

BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_d .venv/bin/python tests/bench/bench_results_book.py

Reads the seed's rows once (tests/bench/bench_console_seed.py), then writes the workbook N times
(BENCH_REPEAT, default 5) each way: ``exports.results_book`` as it is, and openpyxl's own write-only
mode (``WriteOnlyCell``s styled from one styled cell per column, built once) — the question of issue
23's review: is the library as fast as the body written as XML? Prints the median wall and CPU
seconds and the size of each; and the same for zlib's compression levels of the archive.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from copy import copy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402
from openpyxl.cell import WriteOnlyCell  # noqa: E402
from openpyxl.styles import Font  # noqa: E402
from openpyxl.utils import get_column_letter  # noqa: E402
from openpyxl.worksheet.dimensions import RowDimension  # noqa: E402
from openpyxl.writer.excel import ExcelWriter  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from chatbot.config import Config  # noqa: E402
from chatbot.documents import exports, layout  # noqa: E402
from chatbot.documents.cells import cell_text, is_formula_like  # noqa: E402
from chatbot.documents.columns import RESULT_COLUMNS, cell_value, headers, number_format  # noqa: E402
from chatbot.inspection.listing import result_rows  # noqa: E402
from chatbot.store.engine import make_engine  # noqa: E402
from chatbot.store.models import Campaign  # noqa: E402


def write_only_book(rows: Sequence[dict[str, str]], path: Path, level: int | None = None) -> None:
    """The results workbook through openpyxl's write-only mode: the same layout, each body cell a
    ``WriteOnlyCell`` given its column's style (registered once) and each row its height."""
    title = "基层工会组织年检结果"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("年检结果")
    widths = exports._result_widths(rows)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{exports.RESULTS_HEADER_ROW + 1}"
    last = get_column_letter(len(RESULT_COLUMNS))
    sheet.auto_filter.ref = f"A2:{last}{len(rows) + 2}"
    layout.print_setup(sheet, "1:2")  # type: ignore[arg-type]
    sheet.page_setup.orientation = "landscape"
    sheet.merged_cells.add(f"A1:{last}1")

    def styled(
        value: object, align: object, *, bold: bool = False, size: int = 11, border: bool = True
    ) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.font = Font(name=exports.FONT, size=size, bold=bold)
        cell.alignment = align
        if border:
            cell.border = exports.BOX
        return cell

    sheet.row_dimensions[1] = RowDimension(sheet, 1, ht=28)
    sheet.append([styled(title, exports.WRAP_CENTER, bold=True, size=16, border=False)])
    height = exports._row_height(zip(headers(), widths, strict=True))
    sheet.row_dimensions[2] = RowDimension(sheet, 2, ht=height)
    sheet.append([styled(h, exports.WRAP_CENTER, bold=True) for h in headers()])
    plain, quoted = [], []
    for column in RESULT_COLUMNS:
        cell = styled(None, exports.WRAP_LEFT if column.long else exports.WRAP_CENTER)
        if column.unit:
            cell.number_format = number_format(column)
        plain.append(cell._style)
        cell.quotePrefix = True
        quoted.append(cell._style)
    room = [max(1, int(width * exports.LINE_UNITS)) for width in widths]
    for index, row in enumerate(rows, start=3):
        cells, tallest = [], 1
        for at, column in enumerate(RESULT_COLUMNS):
            value = cell_value(column, row)
            cell = WriteOnlyCell(sheet)
            if isinstance(value, str):
                text = cell_text(value)
                cell.value = text
                if 2 * len(text) > room[at]:
                    tallest = max(tallest, -(-exports.display_width(text) // room[at]))
                if is_formula_like(text):
                    cell.data_type = "s"
                    cell._style = copy(quoted[at])
                else:
                    cell._style = copy(plain[at])
            else:
                cell.value = value
                cell._style = copy(plain[at])
            cells.append(cell)
        sheet.row_dimensions[index] = RowDimension(sheet, index, ht=exports.height_of(tallest))
        sheet.append(cells)
    if level is None:
        book.save(path)
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
            ExcelWriter(book, archive).save()


def leveled(rows: Sequence[dict[str, str]], path: Path, level: int) -> None:
    """``results_book`` with the archive compressed at zlib's ``level``."""
    kept, exports.RESULTS_COMPRESSION = exports.RESULTS_COMPRESSION, level
    try:
        exports.results_book(rows, path)
    finally:
        exports.RESULTS_COMPRESSION = kept


def measured(write: Callable[[Path], None], repeat: int) -> tuple[float, float, int]:
    walls, cpus, size = [], [], 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.xlsx"
        for _ in range(repeat):
            began, cpu = time.perf_counter(), time.process_time()
            write(path)
            walls.append(time.perf_counter() - began)
            cpus.append(time.process_time() - cpu)
            size = path.stat().st_size
    return statistics.median(walls), statistics.median(cpus), size


def run() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test_d"
    repeat = int(os.environ.get("BENCH_REPEAT", "5"))
    engine = make_engine(url)
    with Session(engine) as session:
        campaign = session.query(Campaign).filter_by(year=2026).one()
        rows = result_rows(session, campaign, Config.from_env({"DATABASE_URL": url, "SECRET_KEY": "b"}))
    print(f"load {os.getloadavg()[0]:.2f}; {len(rows):,} rows; median of {repeat}\n")
    print("| way | wall (s) | CPU (s) | bytes |\n| --- | --- | --- | --- |")
    ways: list[tuple[str, Callable[[Path], None]]] = [
        ("results_book (body as XML)", lambda path: exports.results_book(rows, path)),
        ("write-only WriteOnlyCell", lambda path: write_only_book(rows, path)),
    ]
    ways += [
        (f"write-only, zlib level {n}", lambda path, n=n: write_only_book(rows, path, n)) for n in (1, 6)
    ]
    ways += [
        (f"results_book, zlib level {n}", lambda path, n=n: leveled(rows, path, n)) for n in (1, 3, 6, 9)
    ]
    for label, write in ways:
        wall, cpu, size = measured(write, repeat)
        print(f"| {label} | {wall:.3f} | {cpu:.3f} | {size:,} |", flush=True)


if __name__ == "__main__":
    run()

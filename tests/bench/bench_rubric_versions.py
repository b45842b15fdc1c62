"""Benchmark: a sheet written as a workbook, read back, checked and compared, for each of the six
sheets; and a listing's sheets read through ``rubric_of`` for 10,000 inspections on a stored version
(run by hand).

.venv/bin/python tests/bench/bench_rubric_versions.py
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from chatbot.documents import rubric_book
from chatbot.inspection import rubric_versions
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import Inspection
from rubrics import all_rubrics
from rubrics.versions import changes, sheet_from_rows


def round_trips(work: Path) -> None:
    for rubric in all_rubrics():
        path = work / f"{rubric.key}.xlsx"
        start = time.perf_counter()
        rubric_book.write(rubric, path)
        written = time.perf_counter()
        read = rubric_book.read(path)
        again = sheet_from_rows(read.rows, rubric, "bench.1", read.title)
        found = changes(rubric, again)
        done = time.perf_counter()
        print(
            f"{rubric.key:12} {rubric.item_count:3} items: write {1000 * (written - start):6.1f} ms, "
            f"read+check+diff {1000 * (done - written):6.1f} ms, changes {len(found)}"
        )


def lookups(work: Path) -> None:
    engine = make_engine(f"sqlite:///{work / 'bench.db'}")
    migrate(engine)
    with session_factory(engine).begin() as session:
        village = next(r for r in all_rubrics() if r.key == "village")
        rubric_versions.store(session, replace(village, version="2027.1"), "bench")
    with Session(engine) as session:
        fake = [Inspection(rubric_key="village", rubric_version="2027.1") for _ in range(10_000)]
        start = time.perf_counter()
        for inspection in fake:
            rubric_versions.rubric_of(session, inspection)
        print(
            f"rubric_of x 10,000 (one stored version, one session): {1000 * (time.perf_counter() - start):.1f} ms"
        )
    engine.dispose()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="nianjian-versions-"))
    round_trips(work)
    lookups(work)


if __name__ == "__main__":
    main()

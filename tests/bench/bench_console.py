"""Benchmark: the console's pages and downloads at a large city's size (run by hand).

BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_d .venv/bin/python tests/bench/bench_console_seed.py
BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_d .venv/bin/python tests/bench/bench_console.py

Signs in as the seed's city account through the Flask test client (no Redis: in-process state) and
times each page N times (BENCH_REPEAT, default 3): the first request apart (it loads the modules and
caches a page needs), then the median of the others — wall time, and this process's CPU time (on shared
cores the steadier figure) — with the size of the answer.
BENCH_PROFILE=/console/... profiles one request with cProfile and prints its top 25 functions.
BENCH_ONLY=weaknesses times only the paths containing it.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from flask.testing import FlaskClient  # noqa: E402

from chatbot.app import create_app  # noqa: E402
from chatbot.config import Config  # noqa: E402
from chatbot.store.counters import MemoryRateCounter  # noqa: E402
from chatbot.store.state import MemoryStateStore, MemoryUserLock  # noqa: E402
from tests.bench.bench_console_seed import CITY_USER  # noqa: E402

PAGES = (
    ("dashboard", "/console/"),
    ("inspections list (page 1)", "/console/inspections"),
    ("inspections list (search)", "/console/inspections?q=G0999"),
    ("inspections list (last page)", "/console/inspections?page=200"),
    ("report.docx (city)", "/console/campaigns/2026/report.docx"),
    ("results.xlsx", "/console/campaigns/2026/results.xlsx"),
    ("失分分析 (city)", "/console/weaknesses?year=2026"),
    ("失分分析 (one county)", "/console/weaknesses?year=2026&county=C0"),
    ("失分分析.xlsx (city)", "/console/weaknesses/2026.xlsx"),
)


def client(url: str) -> FlaskClient:
    config = Config.from_env({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    app = create_app(config, store=MemoryStateStore(), lock=MemoryUserLock(), counter=MemoryRateCounter())
    browser = app.test_client()
    page = browser.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    username, password = CITY_USER
    form = {"username": username, "password": password, "csrf_token": token.group(1)}
    assert browser.post("/console/login", data=form).status_code == 302, "sign-in refused: seed first"
    return browser


def timed(browser: FlaskClient, path: str) -> tuple[float, int]:
    elapsed, _cpu, size = measured(browser, path)
    return elapsed, size


def measured(browser: FlaskClient, path: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of this process and bytes of one request."""
    began, cpu = time.perf_counter(), time.process_time()
    response = browser.get(path)
    body = response.get_data()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert response.status_code == 200, (path, response.status_code)
    return elapsed, cpu, len(body)


def run() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test_d"
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    browser = client(url)
    profiled = os.environ.get("BENCH_PROFILE")
    if profiled:
        timed(browser, profiled)
        profile = cProfile.Profile()
        profile.runcall(timed, browser, profiled)
        pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_TOP", "25"))
        )
        return
    print(f"load {os.getloadavg()[0]:.2f}; {repeat} requests each\n")
    print("| page | first (s) | median of the rest (s) | CPU (s) | bytes |\n| --- | --- | --- | --- | --- |")
    only = os.environ.get("BENCH_ONLY", "")  # a part of the paths to time, e.g. "weaknesses"
    for label, path in PAGES:
        if only not in path:
            continue
        times = [measured(browser, path) for _ in range(repeat)]
        rest = times[1:] or times
        wall, cpu = statistics.median(t[0] for t in rest), statistics.median(t[1] for t in rest)
        print(f"| {label} | {times[0][0]:.2f} | {wall:.2f} | {cpu:.2f} | {times[-1][2]:,} |", flush=True)


if __name__ == "__main__":
    run()

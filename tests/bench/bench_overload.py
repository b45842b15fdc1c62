"""Benchmark of issue 23, point 3: every push answered within 4.5 s when offered more than it can do.

年检助手 under gunicorn (2 sync workers on loopback, PostgreSQL + Redis) takes wrk's closed loop of
``BENCH_CONCURRENCY`` connections (256: several times what 2 workers answer in time) for
``BENCH_SECONDS`` (60), 48 chairs scoring self-check items (turns.lua, wrk_seed.py: each push signed
with the second it is sent). Prints wrk's figures: turns/s, p50/p99/max, the replies slower than
4.5 s (goal 0) and past wrk's 10 s timeout, and how many were answers and how many busy.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_b \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python tests/bench/bench_overload.py
    … BENCH_SERVER_ROOT=/tmp/base   # serve another checkout (the code before a change) with this venv

Not collected by pytest; the database and Redis db given are wiped.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_wrk import SERVERS, free_port, gunicorn, wait_listening, wrk  # noqa: E402
from tests.bench.wrk_seed import SCENARIOS, seed, service_env  # noqa: E402


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    database_url, redis_url = os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_REDIS_URL"]
    seconds = int(os.environ.get("BENCH_SECONDS", "60"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "256"))
    server_root = os.environ.get("BENCH_SERVER_ROOT")
    workdir = Path(tempfile.mkdtemp(prefix="nianjian-overload-"))
    seed(database_url, redis_url, workdir)
    env = os.environ | service_env(database_url, redis_url, workdir)
    if server_root:
        env["PYTHONPATH"] = server_root
    port = free_port()
    process = gunicorn(SERVERS["service"], port, env, cwd=Path(server_root) if server_root else ROOT)
    try:
        wait_listening(port, process)
        scenario = SCENARIOS[0]
        wrk(port, scenario, 16, 3)  # warm-up
        figures = wrk(port, scenario, concurrency, seconds)
    finally:
        process.terminate()
        process.wait(timeout=20)
    figures["turns_per_s"] = round(figures["requests"] / figures["seconds"], 1)
    figures["load"] = os.getloadavg()[0]
    print(f"{scenario.name}, c={concurrency}, {seconds} s, {server_root or ROOT}:")
    print(json.dumps(figures, ensure_ascii=False))
    print(time.strftime("%Y-%m-%d %H:%M:%S"), "load", os.getloadavg())


if __name__ == "__main__":
    main()

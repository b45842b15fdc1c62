"""Benchmark: complete self-check turns through the real service under gunicorn, on loopback.

Each turn is a signed POST → per-user lock → dialog state → database write → reply. Simulated chairs
answer their union's items one message at a time; several chairs talk at once (the concurrency).
A bare wechatpy echo webhook runs in the same session under the same gunicorn settings, and the
ratio of the two is printed. First, what one answering turn costs in process (SQL statements, Redis
round trips, CPU ms: `turn_cost.py`); then each gunicorn setting in BENCH_WORKERS, ``CLASS:WORKERSxTHREADS``
separated by commas (default ``gthread:4x8`` — what `serve` runs on 2 cores — ``gthread:4x2``,
``gthread:2x8`` and ``sync:4x1`` with Redis; without Redis one
process holds the state, so ``sync:1x1,gthread:1x8``).

    .venv/bin/python tests/bench/bench_selfcheck.py                      # SQLite + in-process state
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
    BENCH_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python tests/bench/bench_selfcheck.py

Not collected by pytest. Everything stays on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.inspection import campaigns, organisations  # noqa: E402
from chatbot.store.engine import make_engine, migrate, session_factory  # noqa: E402
from chatbot.wechat.simulator import Simulator  # noqa: E402
from tests.bench.turn_cost import measure, print_costs  # noqa: E402

TOKEN = "benchtoken"
CONCURRENCIES = (16, 64)
TURNS_PER_CHAIR = 20
DURATION_LIMIT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def transport(session: requests.Session, url: str) -> Callable[[dict[str, str], bytes], tuple[int, str]]:
    def post(params: dict[str, str], body: bytes) -> tuple[int, str]:
        response = session.post(url, params=params, data=body, timeout=30)
        return response.status_code, response.text

    return post


def drive(
    url: str, openids: list[str], messages: Callable[[int], list[str]], concurrency: int
) -> dict[str, float]:
    """Each worker plays one chair at a time, sending its messages in order; latency per POST."""
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()

    def play(index: int) -> None:
        nonlocal errors
        session = requests.Session()
        sim = Simulator(transport(session, url), openids[index], TOKEN)
        for content in messages(index):
            if time.perf_counter() - started > DURATION_LIMIT:
                return
            t0 = time.perf_counter()
            status, _ = sim.text(content)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors += 1

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(play, range(len(openids))))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "turns": len(latencies),
        "errors": errors,
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


@dataclass(frozen=True)
class Workers:
    """A gunicorn setting: the worker class, processes and threads per process."""

    worker_class: str
    processes: int
    threads: int

    @classmethod
    def parse(cls, spec: str) -> Workers:
        worker_class, counts = spec.strip().split(":")
        processes, threads = counts.split("x")
        return cls(worker_class, int(processes), int(threads))

    def __str__(self) -> str:
        return f"{self.worker_class}, {self.processes} workers × {self.threads} threads"


def gunicorn(app: str, port: int, setting: Workers, env: dict[str, str]) -> subprocess.Popen:
    threads = ["--threads", str(setting.threads)] if setting.worker_class == "gthread" else []
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(setting.processes),
            "--worker-class",
            setting.worker_class,
            *threads,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def main() -> None:
    redis_url = os.environ.get("BENCH_REDIS_URL", "")
    workdir = Path(tempfile.mkdtemp(prefix="nianjian-bench-"))
    cost_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'cost.db'}"
    print_costs(measure(cost_url, redis_url, workdir))
    default = "gthread:4x8,gthread:4x2,gthread:2x8,sync:4x1" if redis_url else "sync:1x1,gthread:1x8"
    for spec in os.environ.get("BENCH_WORKERS", default).split(","):
        workdir = Path(tempfile.mkdtemp(prefix="nianjian-bench-"))
        database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
        run(workdir, database_url, redis_url, Workers.parse(spec))


def run(workdir: Path, database_url: str, redis_url: str, setting: Workers) -> None:
    """Seed chairs, then drive the service and the echo under one gunicorn worker class."""
    if database_url.startswith("postgresql"):
        reset = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with reset.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        reset.dispose()
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    chairs = max(CONCURRENCIES) * 2
    engine = make_engine(database_url)
    migrate(engine)
    codes: list[str] = []
    with session_factory(engine).begin() as session:
        organisations.add_org(session, organisations.OrgRow("GY", "固原市总工会"))
        for i in range(chairs):
            organisations.add_org(
                session, organisations.OrgRow(f"U{i:04d}", f"基准测试工会{i}", "non_public", "GY", 30)
            )
        campaigns.open_year(session, 2026)
        codes = [organisations.create_invitation(session, f"U{i:04d}", "chair").code for i in range(chairs)]
    engine.dispose()

    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WECHAT_TOKEN": TOKEN,
        "NIANJIAN_INSTANCE": str(workdir),
        "SECRET_KEY": "bench",
    }
    port = free_port()
    service = gunicorn("chatbot.app:create_app()", port, setting, env)
    echo_port = free_port()
    echo = gunicorn("tests.bench.echo_app:app", echo_port, setting, env)
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz")
        wait_up(f"http://127.0.0.1:{echo_port}/")
        url = f"http://127.0.0.1:{port}/wechat"
        openids = [f"bench-chair-{i}" for i in range(chairs)]
        # Binding and 自评 first (not measured).
        drive(url, openids, lambda i: [f"绑定 {codes[i]}", "自评"], 16)
        print(
            f"database: {database_url.split('@')[-1]}  state: {'redis' if redis_url else 'in-process'}  "
            f"gunicorn: {setting}  "
            f"cores: {os.cpu_count()}"
        )
        print(f"{'target':<28}{'conc':>5}{'turns':>7}{'err':>5}{'turns/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
        rows = []
        answered = 0
        for concurrency in CONCURRENCIES:
            group = openids[:concurrency]
            start_item = answered
            result = drive(
                url,
                group,
                lambda i, s=start_item: ["满分" if (s + k) % 3 else "2.5" for k in range(TURNS_PER_CHAIR)],
                concurrency,
            )
            answered += TURNS_PER_CHAIR
            baseline = drive(
                f"http://127.0.0.1:{echo_port}/wechat",
                group,
                lambda i: ["满分"] * TURNS_PER_CHAIR,
                concurrency,
            )
            for name, row in (("self-check turn (service)", result), ("wechatpy echo (baseline)", baseline)):
                print(
                    f"{name:<28}{concurrency:>5}{row['turns']:>7}{row['errors']:>5}{row['turns_per_s']:>10.1f}"
                    f"{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
                )
            rows.append((concurrency, result, baseline))
        for concurrency, result, baseline in rows:
            print(
                f"concurrency {concurrency}: service / echo throughput = "
                f"{result['turns_per_s'] / baseline['turns_per_s']:.2f}"
            )
    finally:
        for process in (service, echo):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()

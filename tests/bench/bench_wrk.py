"""Benchmark of issue 23: the service's answering turn beside the same work written plainly, with wrk.

Three servers, one at a time, each under gunicorn with 2 sync workers on loopback, on one PostgreSQL
database and one Redis db: the bare wechatpy echo (echo_app.py), the plain turn (plain_turn.py) and
年检助手 (``chatbot.app:create_app()``). For each of three scenarios — 48 chairs scoring self-check
items, 48 members answering a ballot, 48 evaluators scoring assessment items, each alternating an answer
and ``上一项`` (wrk_seed.py seeds them through the service) — wrk (turns.lua) posts signed text pushes
after a warm-up, at each concurrency. Prints one table: server × scenario × concurrency → turns/s, p50,
p99, non-2xx, the replies that were answers, and each server's rate over the plain turn's.

    apt-get install wrk      # the bench installs nothing; it stops when wrk is missing
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_e \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python tests/bench/bench_wrk.py
    … BENCH_SECONDS=20 BENCH_WARMUP=5 BENCH_CONCURRENCY=16,64 BENCH_SERVERS=echo,plain,service \
      BENCH_ROUNDS=3      # servers taken in turn R times (the machine is shared); the median run shown
    … BENCH_BEFORE_ROOT=/tmp/base BENCH_SERVERS=echo,plain,before,service   # the code before a change
      beside it, served by this venv (git archive BASE | tar -x -C /tmp/base)

Not collected by pytest; the database and Redis db given are wiped.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.turn_cost import TOKEN  # noqa: E402
from tests.bench.wrk_seed import SCENARIOS, USERS, Scenario, seed, service_env  # noqa: E402

SERVERS = {
    "echo": "tests.bench.echo_app:app",
    "plain": "tests.bench.plain_turn:app",
    "service": "chatbot.app:create_app()",
    "before": "chatbot.app:create_app()",  # 年检助手 from BENCH_BEFORE_ROOT (the code before a change)
}
LABELS = {
    "echo": "bare Flask + wechatpy echo",
    "plain": "the same work written plainly",
    "service": "年检助手",
    "before": "年检助手 before",
}
WORKERS = 2
WRK_THREADS = 4
SCRIPT = ROOT / "tests" / "bench" / "turns.lua"


@dataclass(frozen=True)
class Run:
    """One wrk run's figures (turns.lua's BENCH line)."""

    server: str
    scenario: str
    concurrency: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    answers: int
    echoed: int
    busy: int
    other: int
    #: The slowest reply, and the replies slower than 4.5 s and past wrk's timeout.
    max_ms: float
    over_budget: int
    timeouts: int
    #: The machine's load average (1 min) when the run ended: the cores are shared.
    load: float

    @property
    def turns_per_s(self) -> float:
        """Turns answered a second: a busy reply (the overload's, chatbot/wechat/webhook.py) is not a turn."""
        return (self.echoed if self.server == "echo" else self.answers) / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} stopped at start")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port}")


def wait_answering(port: int, timeout: float = 120.0) -> None:
    """Until the workers answer HTTP (any status): gunicorn listens before its workers have booted, and
    on loaded cores the service's imports take seconds — a run begun then measures the boot."""
    deadline = time.monotonic() + timeout
    answered = 0
    while answered < 4:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no worker answers on port {port}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10):
                pass
        except urllib.error.HTTPError:
            pass  # an answer all the same (404, 405)
        except OSError:
            answered = 0
            time.sleep(0.5)
            continue
        answered += 1


def gunicorn(app: str, port: int, env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}"]
    command += [
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--timeout",
        "30",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)


def wrk(port: int, scenario: Scenario, concurrency: int, seconds: int) -> dict[str, float]:
    """One wrk run; the figures of turns.lua's BENCH line. A new MsgId base each run."""
    base = int(time.time() * 1000) * 1000
    threads = min(WRK_THREADS, concurrency)
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(SCRIPT), f"http://127.0.0.1:{port}", "--", TOKEN, scenario.openid_prefix]
    command += [str(USERS), str(base), scenario.first, scenario.second, str(threads)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return json.loads(line.removeprefix("BENCH "))


def bench_server(
    server: str, env: dict[str, str], concurrencies: list[int], seconds: int, warmup: int
) -> list[Run]:
    port = free_port()
    root = Path(env["BENCH_BEFORE_ROOT"]) if server == "before" else ROOT
    process = gunicorn(SERVERS[server], port, env | {"PYTHONPATH": str(root)}, cwd=root)
    runs = []
    try:
        wait_listening(port, process)
        wait_answering(port)
        for scenario in SCENARIOS:
            wrk(port, scenario, min(concurrencies), warmup)
            for concurrency in concurrencies:
                figures = wrk(port, scenario, concurrency, seconds) | {"load": os.getloadavg()[0]}
                runs.append(Run(server, scenario.name, concurrency, **figures))  # type: ignore[arg-type]
                print(format_row(runs[-1], None), flush=True)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return runs


HEADER = "| server | scenario | c | turns/s | p50 ms | p99 ms | non-2xx | answers | ratio to plain | load |"


def format_row(run: Run, ratios: list[float] | None) -> str:
    """A table row; ``ratios``: the server's rate over the plain turn's, one per round, in order."""
    answered = run.echoed if run.server == "echo" else run.answers
    ratio = ", ".join(f"{each:.2f}" for each in ratios) if ratios else "—"
    return (
        f"| {LABELS[run.server]} | {run.scenario} | {run.concurrency} | {run.turns_per_s:,.0f} | "
        f"{run.p50_ms:.1f} | {run.p99_ms:.1f} | {run.non2xx + run.socket_errors} | "
        f"{answered:,} of {run.requests:,}{f' ({run.busy} busy)' if run.busy else ''} | {ratio} | {run.load:.1f} |"
    )


def median_run(runs: list[Run]) -> Run:
    """The run of median rate among a server's rounds of one scenario and concurrency."""
    return sorted(runs, key=lambda run: run.turns_per_s)[(len(runs) - 1) // 2]


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    database_url, redis_url = os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_REDIS_URL"]
    seconds, warmup = int(os.environ.get("BENCH_SECONDS", "20")), int(os.environ.get("BENCH_WARMUP", "5"))
    concurrencies = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "16,64").split(",")]
    servers = os.environ.get("BENCH_SERVERS", "echo,plain,service").split(",")
    if "before" in servers and not os.environ.get("BENCH_BEFORE_ROOT"):
        sys.exit("BENCH_SERVERS has before: set BENCH_BEFORE_ROOT to the checkout to serve")
    rounds = int(os.environ.get("BENCH_ROUNDS", "1"))
    workdir = Path(tempfile.mkdtemp(prefix="nianjian-wrk-"))
    started = time.monotonic()
    seed(database_url, redis_url, workdir)
    print(f"seeded in {time.monotonic() - started:.0f} s; {WORKERS} sync workers each, wrk {seconds} s a run")
    env = os.environ | service_env(database_url, redis_url, workdir)
    measured: dict[tuple[str, str, int], list[Run]] = {}
    for _ in range(rounds):
        for server in servers:
            for run in bench_server(server, env, concurrencies, seconds, warmup):
                measured.setdefault((run.server, run.scenario, run.concurrency), []).append(run)
    print(
        f"the median run of {rounds} rounds by turns/s; the ratio to plain of each round:"
        if rounds > 1
        else ""
    )
    print(HEADER)
    print("|" + " --- |" * (HEADER.count("|") - 1))
    for (_server, scenario, concurrency), each in measured.items():
        plain = measured.get(("plain", scenario, concurrency), [])
        ratios = [
            run.turns_per_s / reference.turns_per_s for run, reference in zip(each, plain, strict=False)
        ]
        print(format_row(median_run(each), ratios))


if __name__ == "__main__":
    main()

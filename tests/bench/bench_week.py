"""Benchmark: a large city's busiest week, replayed against `nianjian serve` on PostgreSQL + Redis.

Members' ballots, chairs' self-checks and evaluators' assessments (70 / 20 / 10 % of the turns), 3 %
of the pushes sent again as WeChat's retries (same MsgId), 2 % bursts (two messages of one user at
once), open loop at a target rate (tests/bench/loadmix.py describes the mix). Afterwards the database
is checked against the replies: every acknowledged answer stored exactly once, every ballot once.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_h6 \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python tests/bench/bench_week.py
    … bench_week.py --instances 2          # two `serve` on two ports, one database and Redis
    … bench_week.py --rate 200 --duration 120

The database and the Redis db given are wiped. Everything stays on 127.0.0.1 and stops by itself.
Exit status 1 when the database check finds a problem. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.store.engine import make_engine  # noqa: E402
from tests.bench import loadmix  # noqa: E402


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=400.0, help="target turns per second (default 400)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sending (default 60)")
    parser.add_argument("--instances", type=int, choices=(1, 2), default=1, help="`serve` processes (1 or 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument(
        "--unions", type=int, default=1200, help="grassroots unions in the city (default 1200)"
    )
    parser.add_argument(
        "--submitted",
        type=int,
        default=300,
        help="of them, self-checks submitted before the run (default 300)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql") or not args.redis_url:
        parser.error("needs PostgreSQL and Redis: BENCH_DATABASE_URL and BENCH_REDIS_URL (both are wiped)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    workdir = Path(tempfile.mkdtemp(prefix="nianjian-week-"))
    env = loadmix.service_env(args.database_url, args.redis_url, workdir)
    began = time.perf_counter()
    city = loadmix.seed_city(env, workdir, args.unions, args.submitted)
    print(
        f"city: {len(city.unions):,} unions in {loadmix.COUNTIES} counties, {len(city.submitted_unions)} "
        f"self-checks submitted, {len(city.open_unions):,} evaluations open "
        f"(seeded in {time.perf_counter() - began:.0f} s; {workdir})"
    )
    fake, wechat = loadmix.fake_wechat(env, workdir)
    env |= wechat
    servers: list[loadmix.Server] = []
    try:
        for n in range(args.instances):
            servers.append(loadmix.serve(env, workdir, args.workers, args.threads, name=f"serve{n + 1}"))
        return _run(args, city, servers, workdir)
    finally:
        for server in servers:
            server.stop()
        fake.terminate()
        fake.wait(timeout=10)


def _run(args: argparse.Namespace, city: loadmix.City, servers: list[loadmix.Server], workdir: Path) -> int:
    pids = {pid: role for server in servers for pid, role in server.processes().items()}
    cpu_before = {pid: loadmix.cpu_seconds(pid) for pid in pids}
    load_before = loadmix.load_average()
    mix = loadmix.Mix([s.port for s in servers], city, seed=args.seed)
    generator_cpu = time.process_time()
    mix.run(args.rate, args.duration)
    generator_cpu = time.process_time() - generator_cpu
    fig = loadmix.figures(mix.pushes, mix.started)
    server_cpu = sum(loadmix.cpu_seconds(pid) - cpu_before[pid] for pid in pids)
    print(
        f"\nsetup: {args.instances} × `nianjian serve` ({args.workers} gthread workers × {args.threads} threads), "
        f"PostgreSQL + Redis, {os.cpu_count()} cores shared with the load generator and with other work "
        f"(load average {load_before} before, {loadmix.load_average()} after)"
    )
    print(
        f"target {args.rate:.0f} turns/s for {args.duration:.0f} s (open loop): "
        f"{fig.turns:,} turns in {fig.seconds:.1f} s = {fig.rate:.1f} turns/s achieved"
    )
    print(
        f"latency from the scheduled instant: p50 {fig.p50_ms:.0f} ms, p99 {fig.p99_ms:.0f} ms, "
        f"max {fig.max_ms:.0f} ms (single turns, no burst or retry: p99 {fig.single_p99_ms:.0f} ms); from the send: p50 {fig.service_p50_ms:.0f} ms, p99 {fig.service_p99_ms:.0f} ms"
    )
    print(
        f"turns by kind: {fig.kinds}; retries (same MsgId) {fig.duplicates:,}; in bursts {fig.bursts:,}; "
        f"slots without a free user {mix.idle_slots}"
    )
    print(f"replies later than WeChat's 5 s deadline (from the send): {fig.over_5s:,}")
    print(
        f"replies: {fig.categories}  (errors: non-200, transport failures, apologies = {loadmix.errors_of(fig)})"
    )
    print(
        f"CPU: server processes {server_cpu:.0f} s, load generator {generator_cpu:.0f} s, "
        f"over {fig.seconds:.0f} s on {os.cpu_count()} cores"
    )
    for server in servers:
        print(f"{server.log.name}: {server.log_problems()}")
    engine = make_engine(args.database_url)
    check = loadmix.check_database(engine, mix.users, mix.pushes)
    engine.dispose()
    print("\ndatabase check:")
    for line in check.lines:
        print(f"  {line}")
    sends = loadmix.fake_sends(workdir)
    print(f"notices recorded by the fake WeChat during the run: {sends:,}")
    return 1 if check.problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Soak: mixed chat turns at a steady rate against `nianjian serve` on PostgreSQL + Redis for a long
while (default 30 minutes), sampling each process's resident memory and the latency minute by minute.

The mix and its checks are bench_week's (tests/bench/loadmix.py): ballots, self-checks, assessments,
WeChat's retries and bursts, open loop; the scheduler runs beside the webhook and delivers its
notices to `nianjian fake-wechat`. Reported: per minute, turns, errors, p50/p99 latency and the RSS of
the workers; per process, the memory growth from the end of the warm-up to the end (goal < 10 %);
then the database check (every acknowledged answer stored once).

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_h7 \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python tests/faults/soak.py
    … soak.py --minutes 5 --rate 30        # a short one

The database and the Redis db given are wiped. Exit status 1 when memory grows 10 % or more, an
error reply is seen, or the database check finds a problem. Run by hand; not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.store.engine import make_engine  # noqa: E402
from tests.bench import loadmix  # noqa: E402

GROWTH_GOAL = 0.10
SAMPLE_SECONDS = 10.0


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the soak (default 30)")
    parser.add_argument("--rate", type=float, default=50.0, help="steady turns per second (default 50)")
    parser.add_argument(
        "--warm-up", type=float, default=5.0, help="minutes before memory is the baseline (default 5)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--unions", type=int, default=1500, help="grassroots unions in the city (default 1500)"
    )
    parser.add_argument(
        "--submitted", type=int, default=450, help="self-checks submitted before (default 450)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql") or not args.redis_url:
        parser.error("needs PostgreSQL and Redis: BENCH_DATABASE_URL and BENCH_REDIS_URL (both are wiped)")
    if args.warm_up >= args.minutes:
        parser.error("--warm-up must be shorter than --minutes")
    return args


class Sampler(threading.Thread):
    """Every ``SAMPLE_SECONDS``: the RSS of each of the server's processes, and the load average."""

    def __init__(self, server: loadmix.Server, started: float) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.server = server
        self.started = started
        self.samples: list[tuple[float, dict[int, tuple[str, int]], float]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rss = {}
            for pid, role in self.server.processes().items():
                kib = loadmix.rss_kib(pid)
                if kib is not None:
                    rss[pid] = (role, kib)
            load = float(loadmix.load_average().split()[0])
            self.samples.append((time.monotonic() - self.started, rss, load))
            self.halt.wait(SAMPLE_SECONDS)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    workdir = Path(tempfile.mkdtemp(prefix="nianjian-soak-"))
    env = loadmix.service_env(args.database_url, args.redis_url, workdir)
    city = loadmix.seed_city(env, workdir, args.unions, args.submitted)
    fake, wechat = loadmix.fake_wechat(env, workdir)
    env |= wechat
    server = loadmix.serve(env, workdir, args.workers, args.threads, name="soak")
    try:
        return _soak(args, city, server, workdir)
    finally:
        server.stop()
        fake.terminate()
        fake.wait(timeout=10)


def _soak(args: argparse.Namespace, city: loadmix.City, server: loadmix.Server, workdir: Path) -> int:
    minutes: dict[int, list[loadmix.Push]] = defaultdict(list)
    mix = loadmix.Mix([server.port], city, seed=args.seed)
    print(
        f"soak: {args.minutes:g} min at {args.rate:g} turns/s against `nianjian serve` ({args.workers} workers × "
        f"{args.threads} threads, PostgreSQL + Redis, scheduler and fake WeChat beside it); {os.cpu_count()} "
        f"cores shared with the generator and other work; load average {loadmix.load_average()}; {workdir}",
        flush=True,
    )
    sampler = Sampler(server, time.monotonic())
    sampler.start()
    mix.on_done = lambda push: minutes[int((push.scheduled - mix.started) // 60)].append(push)
    progress = threading.Thread(target=_progress, args=(mix, sampler, args.minutes), daemon=True)
    progress.start()
    mix.run(args.rate, args.minutes * 60)
    sampler.halt.set()
    sampler.join()
    fig = loadmix.figures(mix.pushes, mix.started)
    print(
        f"\n{'minute':>6}{'turns':>8}{'errors':>8}{'busy':>6}{'>5 s':>6}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'workers RSS MiB':>17}{'load':>6}"
    )
    for minute in sorted(minutes):
        pushes = minutes[minute]
        late = [(p.done_at - p.scheduled) * 1000 for p in pushes]
        errors = sum(1 for p in pushes if p.category not in ("ok", "busy"))
        busy = sum(1 for p in pushes if p.category == "busy")
        slow = sum(1 for p in pushes if p.done_at - p.sent_at > 5)
        rss, load = _minute_memory(sampler, minute)
        print(
            f"{minute + 1:>6}{len(pushes):>8}{errors:>8}{busy:>6}{slow:>6}{statistics.median(late):>8.0f}"
            f"{loadmix.percentile(late, 0.99):>8.0f}{rss:>17.1f}{load:>6.2f}"
        )
    growth = _growth(sampler, args.warm_up * 60)
    print(
        "\nmemory after the warm-up (median of the samples in its last minute → in the soak's last minute):"
    )
    worst = 0.0
    for pid, (role, before, after) in sorted(growth.items()):
        change = (after - before) / before
        worst = max(worst, change) if role != "master" else worst
        print(
            f"  {role:<9} pid {pid:>7}: {before / 1024:7.1f} MiB → {after / 1024:7.1f} MiB  ({change:+.1%})"
        )
    errors = loadmix.errors_of(fig)
    print(
        f"\n{fig.turns:,} turns in {fig.seconds:.0f} s ({fig.rate:.1f}/s): p50 {fig.p50_ms:.0f} ms, "
        f"p99 {fig.p99_ms:.0f} ms, max {fig.max_ms:.0f} ms; replies {fig.categories}; "
        f"retries {fig.duplicates:,}, bursts {fig.bursts:,}; errors {errors}"
    )
    print(f"server log: {server.log_problems()}")
    engine = make_engine(args.database_url)
    check = loadmix.check_database(engine, mix.users, mix.pushes)
    engine.dispose()
    print("database check:")
    for line in check.lines:
        print(f"  {line}")
    sends = loadmix.fake_sends(workdir)
    print(f"notices recorded by the fake WeChat: {sends:,}")
    verdict = worst < GROWTH_GOAL and errors == 0 and not check.problems
    print(
        f"\nworst growth of a worker or the scheduler: {worst:+.1%} (goal < {GROWTH_GOAL:.0%}); "
        + ("PASS" if verdict else "FAIL")
    )
    return 0 if verdict else 1


def _progress(mix: loadmix.Mix, sampler: Sampler, minutes: float) -> None:
    """One line a minute, so a long soak shows it is alive."""
    for minute in range(1, int(minutes) + 1):
        time.sleep(60)
        pushes = list(mix.pushes)
        done = sum(1 for p in pushes if p.done_at)
        errors = sum(1 for p in pushes if p.done_at and p.category not in ("ok", "busy"))
        rss = sampler.samples[-1][1] if sampler.samples else {}
        workers = sum(kib for role, kib in rss.values() if role == "worker") / 1024
        print(
            f"  … minute {minute}: {done:,} turns answered, {errors} errors, workers {workers:.1f} MiB, "
            f"load {loadmix.load_average()}",
            flush=True,
        )


def _minute_memory(sampler: Sampler, minute: int) -> tuple[float, float]:
    """The workers' total RSS (MiB) and the load average at the last sample of ``minute``."""
    inside = [s for s in sampler.samples if minute * 60 <= s[0] < (minute + 1) * 60]
    if not inside:
        return float("nan"), float("nan")
    _at, rss, load = inside[-1]
    return sum(kib for role, kib in rss.values() if role == "worker") / 1024, load


def _growth(sampler: Sampler, warm_up: float) -> dict[int, tuple[str, float, float]]:
    """Per process alive throughout: median RSS in the warm-up's last minute and in the last minute."""
    end = sampler.samples[-1][0] if sampler.samples else 0.0
    base = [s for s in sampler.samples if warm_up - 60 <= s[0] < warm_up]
    last = [s for s in sampler.samples if s[0] >= end - 60]
    found: dict[int, tuple[str, float, float]] = {}
    for pid, (role, _kib) in (base[-1][1] if base else {}).items():
        before = [s[1][pid][1] for s in base if pid in s[1]]
        after = [s[1][pid][1] for s in last if pid in s[1]]
        if before and after:
            found[pid] = (role, statistics.median(before), statistics.median(after))
    return found


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: delivering a queued outbox with N delivery workers against `nianjian fake-wechat` (run by hand).

For each N (1, 2, 4): a fresh database with NOTICES template notices due now (one per user), the fake
WeChat API started on a free loopback port, then `nianjian deliver --workers N --once` until the queue
is empty. The rate is the sends the fake recorded ÷ the time from its first send to its last (process
start-up left out; the wall time with it is printed too). Every notice must reach the fake exactly once.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_b \
    BENCH_REDIS_URL=redis://127.0.0.1:6379/11 .venv/bin/python tests/bench/bench_delivery.py

Without BENCH_DATABASE_URL it runs on SQLite (one writer at a time). BENCH_NOTICES (20000) and
BENCH_WORKERS (1,2,4) change the load; BENCH_LATENCY_MS makes the fake answer each send that much
later (POST /_fake/delay), as WeChat across the internet does; BENCH_CONCURRENCY sets each worker's
DELIVERY_CONCURRENCY (calls in flight at once; 1 is one call at a time, as before issue 23). The
database is wiped. Not collected by pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.store.engine import make_engine, migrate  # noqa: E402
from chatbot.store.models import Account, OutboxMessage  # noqa: E402
from tests.bench.bench_selfcheck import free_port, wait_up  # noqa: E402

NIANJIAN = [sys.executable, "-c", "from chatbot.cli import main; main()"]


def fresh_database(url: str, notices: int) -> None:
    """Wipe the database, migrate it, queue ``notices`` notices due a minute ago (a third deadline ones)."""
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    engine = make_engine(url)
    migrate(engine)
    due = datetime.now(UTC) - timedelta(minutes=1)
    with engine.begin() as conn:
        conn.execute(insert(Account), [{"openid": f"bench-{n}", "subscribed": True} for n in range(notices)])
        ids = dict(conn.execute(text("SELECT openid, id FROM accounts")).all())
        rows = [
            {
                "dedup_key": f"bench:{n}",
                "account_id": ids[f"bench-{n}"],
                "kind": "report_due" if n % 3 == 0 else "result_published",
                "subject": "基准测试",
                "due": "",
                "text": f"基准测试通知 {n}",
                "status": "pending",
                "attempts": 0,
                "created_at": due,
                "next_attempt_at": due,
            }
            for n in range(notices)
        ]
        conn.execute(insert(OutboxMessage), rows)
    engine.dispose()


def run(
    workers: int, url: str, redis_url: str | None, notices: int, work: Path, latency: float
) -> dict[str, float]:
    fresh_database(url, notices)
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    fake = subprocess.Popen(
        [*NIANJIAN, "fake-wechat", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/_fake/calls")
        requests.post(base + "/_fake/delay", json={"seconds": latency}, timeout=5).raise_for_status()
        env = os.environ | {
            "DATABASE_URL": url,
            "NIANJIAN_INSTANCE": str(work),
            "SECRET_KEY": "bench",
            "WECHAT_APP_ID": "wxbench",
            "WECHAT_APP_SECRET": "bench",
            "WECHAT_API_BASE_URL": base + "/cgi-bin/",
            "WECHAT_TEMPLATE_ID": "TPL-BENCH",
        }
        if redis_url:
            env["REDIS_URL"] = redis_url
        if os.environ.get("BENCH_CONCURRENCY"):
            env["DELIVERY_CONCURRENCY"] = os.environ["BENCH_CONCURRENCY"]
        started = time.perf_counter()
        done = subprocess.run(
            [*NIANJIAN, "deliver", "--workers", str(workers), "--once"],
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        if done.returncode:
            raise RuntimeError(done.stderr)
        calls = requests.get(base + "/_fake/calls", timeout=60).json()
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    sends = [c for c in calls if c["api"] == "message/template/send" and c["errcode"] == 0]
    per_user = Counter(c["touser"] for c in sends)
    if len(per_user) != notices or set(per_user.values()) != {1}:
        raise RuntimeError(f"expected {notices} notices sent once each, got {len(sends)} sends")
    times = sorted(datetime.fromisoformat(c["at"]) for c in sends)
    span = (times[-1] - times[0]).total_seconds()
    return {"sends": len(sends), "span": span, "rate": (len(sends) - 1) / span, "wall": wall}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="nianjian-delivery-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work / 'bench.db'}"
    redis_url = os.environ.get("BENCH_REDIS_URL")
    notices = int(os.environ.get("BENCH_NOTICES", "20000"))
    counts = [int(n) for n in os.environ.get("BENCH_WORKERS", "1,2,4").split(",")]
    latency = float(os.environ.get("BENCH_LATENCY_MS", "0")) / 1000
    where = url.split("@")[-1] if "@" in url else "SQLite"
    print(
        f"{notices} template notices, {where}, token in {'Redis' if redis_url else 'the database'}, "
        f"fake WeChat latency {latency * 1000:.0f} ms, "
        f"{os.environ.get('BENCH_CONCURRENCY', 'default')} calls in flight per worker, {os.cpu_count()} cores"
    )
    print("| workers | notices | sends/s | send span s | wall s (with start-up) |")
    print("| --- | --- | --- | --- | --- |")
    for workers in counts:
        result = run(workers, url, redis_url, notices, work, latency)
        print(
            f"| {workers} | {result['sends']} | {result['rate']:.0f} | {result['span']:.1f} | {result['wall']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

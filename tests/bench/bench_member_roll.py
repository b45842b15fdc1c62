"""Benchmark: `member import` of 300,000 rows into an empty roll and onto a roll of 1,500,000 (run by hand).

BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_c \
    .venv/bin/python tests/bench/bench_member_roll.py [--roll 1500000] [--rows 300000] [--source DIR] \
    [--cases empty,bare,analyzed]

10,000 unions are imported through the CLI; the roll is generated straight into ``members``: the
numbers the file lists by COPY with real keyed hashes and ciphers (so they are found), the others by
generate_series with stand-ins. The file holds 300,000 rows:
half of them numbers already on the large roll (refreshed), half new. Each import runs the CLI under
``/usr/bin/time -v`` and prints its wall time and peak RSS; onto the large roll it runs twice, first
with no statistics on ``members`` (as after a bulk load with autovacuum off), then after ANALYZE.
``--source`` runs the CLI of another checkout (e.g. ``git archive main | tar -x -C /tmp/old``) to
compare. SQLite works too (BENCH_DATABASE_URL unset) but is not what the figures are about.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.store.personal import PersonalDataKey  # noqa: E402

KEY = base64.urlsafe_b64encode(b"b" * 32).decode()
UNIONS = 10_000
BATCH = 50_000
STATISTICS = {"bare": "no statistics on members", "analyzed": "members analyzed"}


def phone(n: int) -> str:
    return f"13{n % 10}{n:08d}"


def union(n: int) -> str:
    return f"G{n % UNIONS:05d}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--roll", type=int, default=1_500_000)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--cases", default="empty,bare,analyzed", help="empty, bare, analyzed")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nianjian-roll-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work / 'bench.db'}"
    env = os.environ | {
        "DATABASE_URL": url,
        "NIANJIAN_INSTANCE": str(work),
        "SECRET_KEY": "bench",
        "PERSONAL_DATA_KEY": KEY,
        "PYTHONPATH": str(args.source),
    }
    members = work / "members.csv"
    start = max(args.roll - args.rows // 2, 0)
    rows = (f"会员{n},{phone(n)},{union(n)}\n" for n in range(start, start + args.rows))
    members.write_text("name,phone,organisation\n" + "".join(rows), encoding="utf-8")
    print(f"{url.split('://')[0]}: {_autovacuum(url)}; file {args.rows:,} rows from member {start:,}")
    database = url.rsplit("/", 1)[-1].split("?")[0]

    if "empty" in args.cases:
        _reset(url, env, work, args.source)
        _run("into an empty roll", env, members, args.source, database)
    for case in ("bare", "analyzed"):
        if case in args.cases:
            _reset(url, env, work, args.source)
            _seed_roll(url, args.roll, start)
            if case == "analyzed":
                _sql(url, "ANALYZE members")
            _run(f"onto {args.roll:,}, {STATISTICS[case]}", env, members, args.source, database)


def _autovacuum(url: str) -> str:
    if not url.startswith("postgresql"):
        return "SQLite"
    engine = create_engine(url)
    with engine.connect() as connection:
        setting = connection.scalar(text("SHOW autovacuum"))
    engine.dispose()
    return f"autovacuum {setting}"


def _sql(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def _reset(url: str, env: dict[str, str], work: Path, source: Path) -> None:
    """An empty schema with 10,000 unions under ten counties."""
    if url.startswith("postgresql"):
        _sql(url, "DROP SCHEMA IF EXISTS public CASCADE")
        _sql(url, "CREATE SCHEMA public")
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    orgs = work / "orgs.csv"
    lines = ["code,name,rubric,parent,members", "CITY,市总工会,,,"]
    lines += [f"C{c},第{c}县总工会,,CITY," for c in range(10)]
    lines += [f"G{n:05d},第{n}基层工会,village,C{n % 10},{n % 90}" for n in range(UNIONS)]
    orgs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [sys.executable, "-c", "from chatbot.cli import main; main()", "org", "import", str(orgs)]
    subprocess.run(command, env=env, cwd=source, check=True, capture_output=True)


def _seed_roll(url: str, size: int, real_from: int) -> None:
    """``size`` members (n = 0 … size-1) straight into the table: those from ``real_from`` on (the
    numbers the file lists) with real keyed hashes and ciphers, by COPY; the others by one INSERT …
    SELECT generate_series with distinct stand-in hashes and a stand-in cipher (never decrypted)."""
    started = time.perf_counter()
    key = PersonalDataKey(KEY)
    engine = create_engine(url)
    with engine.begin() as connection:
        ids = dict(connection.execute(text("SELECT code, id FROM organisations")).all())
        now = datetime.now(UTC).replace(tzinfo=None)
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    "INSERT INTO members (organisation_id, name, phone_cipher, phone_hash, created_at,"
                    " imported_at) SELECT o.id, '会员' || n, 'stand-in', encode(sha256(('m' || n)::bytea),"
                    " 'hex'), :now, :now FROM generate_series(0, :last) AS n"
                    " JOIN organisations o ON o.code = 'G' || lpad((n % :unions)::text, 5, '0')"
                ),
                {"now": now, "last": min(real_from, size) - 1, "unions": UNIONS},
            )
            real_from = min(real_from, size)
        else:
            real_from = 0
        for first in range(real_from, size, BATCH):
            numbers = range(first, min(first + BATCH, size))
            phones = [phone(n) for n in numbers]
            rows = zip(
                [ids[union(n)] for n in numbers],
                [f"会员{n}" for n in numbers],
                key.encrypt_many(phones),
                key.phone_hashes(phones),
                strict=True,
            )
            _insert(connection, [(*row, now, now) for row in rows])
    engine.dispose()
    print(f"  roll of {size:,} generated in {time.perf_counter() - started:.1f} s")


def _insert(connection, rows: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    columns = "organisation_id, name, phone_cipher, phone_hash, created_at, imported_at"
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY members ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        connection.exec_driver_sql(f"INSERT INTO members ({columns}) VALUES (?, ?, ?, ?, ?, ?)", rows)


def _run(what: str, env: dict[str, str], members: Path, source: Path, database: str) -> None:
    """The CLI's import under ``/usr/bin/time``: wall time, peak RSS, the client's CPU seconds and the
    CPU seconds of the database's backends (sampled from /proc while it runs: a local PostgreSQL whose
    database no one else uses), with the load average — on shared cores the CPU is what compares."""
    command = ["/usr/bin/time", "-v", sys.executable, "-c", "from chatbot.cli import main; main()"]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "member", "import", str(members)],
        env=env,
        cwd=source,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    backends: dict[int, float] = {}
    while process.poll() is None:
        backends.update(_backend_cpu(database))
        time.sleep(0.1)
    out, err = process.communicate()
    elapsed = time.perf_counter() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    rss = f"{int(peak.group(1)) / 1024:.0f} MB" if peak else "?"
    client = sum(float(t) for t in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", err))
    print(
        f"  {what}: {out.strip()} in {elapsed:.1f} s, peak RSS {rss}, CPU client {client:.1f} s +"
        f" server {sum(backends.values()):.1f} s, load {load:.1f}→{os.getloadavg()[0]:.1f}"
        f" (exit {process.returncode})"
    )
    if process.returncode:
        print(err[-2000:])


def _backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each local PostgreSQL backend connected to ``database`` (Linux /proc)."""
    found = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f" {database} " not in (entry / "cmdline").read_text() + " ":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


if __name__ == "__main__":
    main()

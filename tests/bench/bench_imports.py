"""Benchmark: importing 10,000 organisations and 100,000 members through the CLI (run by hand).

.venv/bin/python tests/bench/bench_imports.py
BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python tests/bench/bench_imports.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="nianjian-import-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work / 'bench.db'}"
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    orgs = work / "orgs.csv"
    lines = ["code,name,rubric,parent,members", "CITY,市总工会,,,"]
    lines += [f"C{c},第{c}县总工会,,CITY," for c in range(10)]
    lines += [f"G{n:05d},第{n}基层工会,village,C{n % 10},{n % 90}" for n in range(10_000)]
    orgs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    members = work / "members.csv"
    rows = ["name,phone,organisation"] + [
        f"会员{n},13{n % 10}{n:08d},G{n % 10_000:05d}" for n in range(100_000)
    ]
    members.write_text("\n".join(rows) + "\n", encoding="utf-8")
    env = os.environ | {"DATABASE_URL": url, "NIANJIAN_INSTANCE": str(work), "SECRET_KEY": "bench"}
    command = [sys.executable, "-c", "from chatbot.cli import main; main()"]
    subprocess.run([*command, "campaign", "open", "2026"], env=env, cwd=ROOT, check=True, capture_output=True)
    for what, path in (("org", orgs), ("member", members)):
        started = time.perf_counter()
        done = subprocess.run(
            [*command, what, "import", str(path)], env=env, cwd=ROOT, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        print(f"{what} import: {done.stdout.strip()} in {elapsed:.1f} s (exit {done.returncode})")


if __name__ == "__main__":
    main()

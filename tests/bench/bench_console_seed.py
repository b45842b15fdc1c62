"""Seed a large city for the console benchmarks: 10,000 unions in 10 counties, every inspection rated.

BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_d \\
    .venv/bin/python tests/bench/bench_console_seed.py

The database is wiped. It reuses bench_campaign.py's steps (organisations through `nianjian org import`,
chairs' accounts and bindings, every inspection assessed and rated in a few INSERT … SELECT), without
members, then opens the campaign, confirms the results and creates the console account `city`
(password `city-password-1`) that tests/bench/bench_console.py signs in with. BENCH_UNIONS makes it
smaller (default 10000).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.cli import main  # noqa: E402
from chatbot.store.engine import make_engine, migrate  # noqa: E402
from chatbot.timeutil import SHANGHAI  # noqa: E402
from tests.bench import bench_campaign as campaign  # noqa: E402

CITY_USER = ("city", "city-password-1")


def _invoke(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def seed(url: str) -> None:
    """Wipe the database at `url` and build the large city in it."""
    work = Path(tempfile.mkdtemp(prefix="nianjian-console-"))
    env = campaign.wipe(url, work)
    campaign.MEMBERS = 0
    campaign.COUNTIES = 10
    campaign.UNIONS = int(os.environ.get("BENCH_UNIONS", "10000"))
    engine = make_engine(url)
    migrate(engine)
    began = time.perf_counter()
    campaign._build(work, env, engine)
    due = (datetime.now(SHANGHAI).date() + timedelta(days=7)).isoformat()
    _invoke("campaign", "open", "2026", "--self-check-due", due, "--review-due", due)
    campaign._timed("every inspection assessed and rated", lambda: campaign._rate_all(engine))
    _invoke("results", "confirm", "--year", "2026")
    username, password = CITY_USER
    _invoke("admin", "create", "--org", "CITY", "--username", username, "--password-stdin", stdin=password)
    engine.dispose()
    print(f"seeded in {time.perf_counter() - began:.0f} s; console account {username}")


if __name__ == "__main__":
    seed(os.environ.get("BENCH_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test_d")

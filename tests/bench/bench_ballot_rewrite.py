"""Benchmark: what a cast costs when it rewrites the evaluation's whole ballot set (run by hand).

Every cast writes the evaluation's ballots again in a random order under new ids
(``chatbot.inspection.evaluations.rewrite_ballots``), so its cost grows with the ballots already cast.
For each size (100, 500, 2000 ballots) this times the rewrite with one new ballot, in its own
transaction, five times, and prints the median.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python tests/bench/bench_ballot_rewrite.py

Without BENCH_DATABASE_URL it runs on a SQLite file in a temporary directory. The database is wiped.
Not collected by pytest.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.inspection.evaluations import rewrite_ballots  # noqa: E402
from chatbot.store.engine import make_engine, migrate, session_factory  # noqa: E402
from chatbot.store.models import Ballot, Campaign, Evaluation, Inspection, Organisation  # noqa: E402
from tests.conftest import reset_postgres  # noqa: E402

SIZES = (100, 500, 2000)
RUNS = 5


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    if url.startswith("postgresql"):
        reset_postgres(url)
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        org = Organisation(code="U01", name="第1社区工会", created_at=now)
        campaign = Campaign(year=2026, opened_at=now)
        session.add_all([org, campaign])
        session.flush()
        inspection = Inspection(
            campaign_id=campaign.id, organisation_id=org.id, rubric_key="village", rubric_version="1"
        )
        session.add(inspection)
        session.flush()
        evaluation = Evaluation(
            inspection_id=inspection.id, code="BENCH", opened_at=now, closes_at=now + timedelta(days=7)
        )
        session.add(evaluation)
        session.flush()
        evaluation_id = evaluation.id
    for size in SIZES:
        with sessions.begin() as session:
            session.execute(delete(Ballot))
            rows = [
                {
                    "id": uuid.uuid4().hex,
                    "evaluation_id": evaluation_id,
                    "answers": [1] * 8,
                    "suggestion": "无",
                }
                for _ in range(size)
            ]
            session.execute(insert(Ballot), rows)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            with sessions.begin() as session:
                rewrite_ballots(session, [evaluation_id], {evaluation_id: ([2] * 8, "新的一张")})
            times.append((time.perf_counter() - started) * 1000)
            with sessions.begin() as session:
                session.execute(delete(Ballot).where(Ballot.suggestion == "新的一张"))
        print(
            f"{engine.dialect.name}: {size} ballots, a cast's rewrite {statistics.median(times):.0f} ms (median)"
        )
    engine.dispose()


if __name__ == "__main__":
    main()

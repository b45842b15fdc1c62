"""Benchmark: the weakness figures (失分分析) of a city of 10,000 rated village unions in two years
(run by hand).

Seven counties of about 1,430 unions each; every union rated in 2025 and 2026 on the village sheet
(30 items: 600,000 item scores), one item in five below its points. Times, median of three: the
whole city's figures (with last year's), one county's, every county's (the city summary's draft), and
the drafted paragraph of the city.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python tests/bench/bench_weaknesses.py

Without BENCH_DATABASE_URL it runs on a SQLite file in a temporary directory. The database is wiped,
unless BENCH_REUSE=1 and it already holds the bench's unions (then it is migrated and reused as is).
Not collected by pytest.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.documents.narratives import problems_draft  # noqa: E402
from chatbot.inspection import weaknesses  # noqa: E402
from chatbot.inspection.hierarchy import load_tree  # noqa: E402
from chatbot.store.engine import make_engine, migrate, session_factory  # noqa: E402
from chatbot.store.models import Campaign, Inspection, ItemScore, Organisation  # noqa: E402
from rubrics import get_rubric  # noqa: E402
from tests.conftest import reset_postgres  # noqa: E402

UNIONS = 10_000
COUNTIES = 7
RUNS = 3
VILLAGE = get_rubric("village")


def seed(sessions: Callable[..., object]) -> None:
    rng = random.Random(25)
    now = datetime.now(UTC)
    with sessions.begin() as session:  # type: ignore[attr-defined]
        city = Organisation(code="GY", name="固原市总工会", created_at=now)
        session.add(city)
        session.flush()
        counties = [
            Organisation(code=f"C{n}", name=f"第{n}县总工会", parent_id=city.id, created_at=now)
            for n in range(COUNTIES)
        ]
        session.add_all(counties)
        session.flush()
        session.execute(
            insert(Organisation),
            [
                {"code": f"U{n:05d}", "name": f"第{n}社区工会", "rubric_key": "village",
                 "parent_id": counties[n % COUNTIES].id, "created_at": now}
                for n in range(UNIONS)
            ],
        )  # fmt: skip
        unions = list(session.scalars(select(Organisation.id).where(Organisation.rubric_key == "village")))
        for year in (2025, 2026):
            campaign = Campaign(year=year, opened_at=now)
            session.add(campaign)
            session.flush()
            session.execute(
                insert(Inspection),
                [
                    {"campaign_id": campaign.id, "organisation_id": union, "rubric_key": "village",
                     "rubric_version": VILLAGE.version, "state": "rated", "updated_at": now}
                    for union in unions
                ],
            )  # fmt: skip
            ids = list(session.scalars(select(Inspection.id).where(Inspection.campaign_id == campaign.id)))
            rows = []
            for inspection in ids:
                for item in VILLAGE.items:
                    low = rng.random() < 0.2
                    assessed = rng.randint(0, item.points - 1) if low else item.points
                    rows.append(
                        {"inspection_id": inspection, "item_no": item.no, "assessed_score": assessed,
                         "self_score": item.points if low and rng.random() < 0.5 else assessed, "updated_at": now}
                    )  # fmt: skip
            session.execute(insert(ItemScore), rows)


def console_figures(session: Session) -> object:
    """What the city's console page reads: the tree, then the city's and every county's figures."""
    campaign = session.scalar(select(Campaign).order_by(Campaign.year.desc()).limit(1))
    assert campaign is not None
    return weaknesses.survey(session, campaign, load_tree(session))


def seeded(engine: Engine) -> bool:
    """Whether the database already holds the bench's unions and both years' scores."""
    try:
        with engine.connect() as conn:
            unions = conn.scalar(text("SELECT count(*) FROM organisations WHERE rubric_key = 'village'"))
            scores = conn.scalar(text("SELECT count(*) FROM item_scores"))
    except DBAPIError:
        return False
    return unions == UNIONS and scores == UNIONS * 2 * VILLAGE.item_count


def timed(what: str, run: Callable[[], object], cold: bool = True) -> None:
    """The median of RUNS runs; ``cold``: the kept figures dropped before each (computed afresh)."""
    times = []
    for _ in range(RUNS):
        if cold:
            weaknesses.forget()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(f"{what}{'' if cold else ' (kept figures)'}: {statistics.median(times) * 1000:.0f} ms")


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    if not (os.environ.get("BENCH_REUSE") == "1" and seeded(engine)):
        engine.dispose()
        if url.startswith("postgresql"):
            reset_postgres(url)
        engine = make_engine(url)
        migrate(engine)
        start = time.perf_counter()
        seed(session_factory(engine))
        print(
            f"seeded {UNIONS} unions × 2 years × {VILLAGE.item_count} items in {time.perf_counter() - start:.0f} s"
        )
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
    else:
        migrate(engine)
        print("reusing the seeded database")
    sessions = session_factory(engine)
    with sessions() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.year == 2026))
        assert campaign is not None
        tree = load_tree(session)
        groups = tree.groups()
        city = session.scalar(select(Organisation).where(Organisation.code == "GY"))
        assert city is not None
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        timed("the whole city (with 2025)", lambda: weaknesses.of_city(session, campaign, tree))
        timed("one county", lambda: weaknesses.of_group(session, campaign, groups[0]))
        timed("the city and every county", lambda: weaknesses.survey(session, campaign, tree))
        timed("the city's drafted paragraph", lambda: problems_draft(session, campaign, city))
        for cold in (True, False):  # computed afresh, then answered from the kept figures
            timed("the city page's figures (city and every county)", lambda: console_figures(session), cold)
            timed("a county page's figures", lambda: weaknesses.of_group(session, campaign, groups[0]), cold)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    engine.dispose()


if __name__ == "__main__":
    main()

"""Benchmark: a campaign year of 10,000 unions and 1,800,000 members, command by command (run by hand).

.venv/bin/python tests/bench/bench_campaign.py                        # SQLite, in a temporary directory
BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_a .venv/bin/python tests/bench/bench_campaign.py

BENCH_UNIONS and BENCH_MEMBERS make it smaller (defaults 10000 and 1800000). The database is wiped.

The data set is built the way the federations build it where there is a command for it: the
organisations through `nianjian org import` of a generated CSV, the members through `nianjian member
import` (files of 300,000). What has no bulk command is written directly, in a few INSERT … SELECT:

- accounts and their bindings (a chair for every union, and 5 in 18 members bound, about 500,000):
  bindings come from WeChat, one `绑定 CODE` chat turn per person, and half a million of them through
  the webhook would measure the chat for hours, not the campaign;
- a democratic evaluation in one union of four, its bound members invited, ten ballots each;
- every self-check and assessment, item by item (about 350,000 item scores), and the ratings computed
  from them with the project's own scoring functions — what the evaluators' `提交` does one at a time.

Each measured operation is a `nianjian` command run in this process (the CLI's own engine, migration
check and transaction included; the interpreter's start and imports are measured once, apart), with
its wall time and the number of SQL statements it sent (tests/statements.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import DateTime, Engine, Numeric, TextClause, bindparam, create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.cli import main  # noqa: E402
from chatbot.store.engine import make_engine, migrate  # noqa: E402
from chatbot.timeutil import SHANGHAI  # noqa: E402
from rubrics import get_rubric  # noqa: E402
from rubrics.loader import RUBRIC_KEYS  # noqa: E402
from rubrics.scoring import below_standard, percent_score, star_level  # noqa: E402
from tests.statements import counting  # noqa: E402

UNIONS = int(os.environ.get("BENCH_UNIONS", "10000"))
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1800000"))
COUNTIES = 8
MEMBER_FILE_ROWS = 300_000
BOUND = "m.id % 18 < 5"  # the members bound to an account: 5 in 18
CHAIR_IDS = 100_000_000  # chairs' account ids: this plus the union's id
PUBLISHED = "state = 'published'"
RUBRICS = ("village", "non_public", "state_owned", "agency", "joint", "township")


def run() -> None:
    work = Path(tempfile.mkdtemp(prefix="nianjian-campaign-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work / 'bench.db'}"
    env = wipe(url, work)
    print(f"{UNIONS:,} unions, {MEMBERS:,} members on {url.split('://')[0]} ({work})")
    engine = make_engine(url)
    migrate(engine)

    started = time.perf_counter()
    _build(work, env, engine)
    print(f"built in {time.perf_counter() - started:.0f} s\n")

    today = datetime.now(SHANGHAI).date()
    due = (today + timedelta(days=7)).isoformat()
    figures: list[tuple[str, float, int, str]] = []

    def measure(label: str, *args: str, note: Callable[[], str] = lambda: "") -> str:
        runner = CliRunner()
        with counting() as counter:
            began = time.perf_counter()
            result = runner.invoke(main, list(args), catch_exceptions=False)
            elapsed = time.perf_counter() - began
        assert result.exit_code == 0, result.output
        figures.append((label, elapsed, counter.count, note()))
        print(f"{label:<34} {elapsed:8.2f} s {counter.count:7,d} statements  {figures[-1][3]}", flush=True)
        return result.output

    measure("campaign open", "campaign", "open", "2026", "--self-check-due", due, "--review-due", due)
    _timed("(built) evaluations and ballots", lambda: _evaluations(engine))
    measure(
        "tick (reminders: self-check T-7)",
        "tick",
        "--now",
        f"{today.isoformat()}T09:00",
        note=lambda: f"{_count(engine, 'outbox'):,} notices queued",
    )
    _timed("(built) every inspection assessed and rated", lambda: _rate_all(engine))
    measure("results confirm (rating, quota)", "results", "confirm", "--year", "2026")
    measure("results --csv", "results", "--year", "2026", "--csv")
    measure("export results", "export", "results", "--year", "2026", "--out", str(work / "results.xlsx"))
    measure("coverage", "coverage", "--year", "2026")
    before = _count(engine, "outbox")
    measure(
        "publish (queue every notice)",
        "publish",
        "--year",
        "2026",
        note=lambda: (
            f"{_count(engine, 'outbox') - before:,} notices queued for "
            f"{_count(engine, 'inspections', PUBLISHED):,} results"
        ),
    )
    later = datetime.now(SHANGHAI) + timedelta(days=8)
    measure(
        "tick (finalise, remediations)",
        "tick",
        "--now",
        later.strftime("%Y-%m-%dT%H:%M"),
        note=lambda: f"{_count(engine, 'remediations'):,} remediations opened",
    )
    engine.dispose()

    command = [sys.executable, "-c", "from chatbot.cli import main"]
    began = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    print(f"\n(starting the CLI: interpreter and imports, {time.perf_counter() - began:.2f} s per command)")
    print("\n| operation | seconds | statements | |\n| --- | --- | --- | --- |")
    for label, elapsed, statements, note in figures:
        print(f"| {label} | {elapsed:.2f} | {statements:,} | {note} |")


def wipe(url: str, work: Path) -> dict[str, str]:
    """Empty the database at ``url`` (PostgreSQL: its schema dropped) and point the CLI's environment at
    it and at ``work``; that environment."""
    if url.startswith("postgresql"):
        wiping = create_engine(url, isolation_level="AUTOCOMMIT")
        with wiping.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        wiping.dispose()
    env = {"DATABASE_URL": url, "NIANJIAN_INSTANCE": str(work), "SECRET_KEY": "bench"}
    os.environ.update(env)
    return env


def _count(engine: Engine, table: str, where: str = "TRUE") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one())


#: Parameters typed as the models store them (SQLite keeps times and numbers as SQLAlchemy writes them).
TYPED = {
    "now": DateTime(timezone=True),
    "opened": DateTime(timezone=True),
    "closes": DateTime(timezone=True),
    "raw": Numeric(5, 1),
    "score": Numeric(4, 1),
}


def sql(statement: str) -> TextClause:
    """A statement for building the data set, its times and scores typed."""
    found = [bindparam(name, type_=kind) for name, kind in TYPED.items() if f":{name}" in statement]
    return text(statement).bindparams(*found)


def _cli(env: dict[str, str], *args: str) -> str:
    """A `nianjian` command in its own process, as the federations run it."""
    command = [sys.executable, "-c", "from chatbot.cli import main; main()", *args]
    done = subprocess.run(command, env=os.environ | env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"nianjian {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def _build(work: Path, env: dict[str, str], engine: Engine) -> None:
    orgs = work / "orgs.csv"
    lines = ["code,name,rubric,parent,members", "CITY,市总工会,,,"]
    lines += [f"C{c},第{c}县总工会,,CITY," for c in range(COUNTIES)]
    per_union = MEMBERS // UNIONS
    for n in range(UNIONS):
        parent = "CITY" if n % 20 == 19 else f"C{n % COUNTIES}"  # one in 20: a city-direct union
        lines.append(f"G{n:05d},第{n}基层工会,{RUBRICS[n % len(RUBRICS)]},{parent},{per_union}")
    orgs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _timed("org import", lambda: _cli(env, "org", "import", str(orgs)))

    def members() -> str:
        done = []
        for start in range(0, MEMBERS, MEMBER_FILE_ROWS):
            path = work / f"members-{start // MEMBER_FILE_ROWS}.csv"
            rows = ["name,phone,organisation"] + [
                f"会员{n},13{n % 10}{n:08d},G{n % UNIONS:05d}"
                for n in range(start, min(start + MEMBER_FILE_ROWS, MEMBERS))
            ]
            path.write_text("\n".join(rows) + "\n", encoding="utf-8")
            done.append(_cli(env, "member", "import", str(path)))
            path.unlink()
        return f"{len(done)} files"

    _timed("member import", members)
    _timed("accounts and bindings", lambda: _bind(engine))


def _timed(label: str, step: Callable[[], Any]) -> None:
    began = time.perf_counter()
    result = step()
    print(f"  {label}: {result or ''} {time.perf_counter() - began:.0f} s", flush=True)


def _bind(engine: Engine) -> str:
    """Accounts bound as chairs of every union and as members (5 in 18), evaluators and admins of the
    counties and the city — directly, see the module's docstring."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sql(
                "INSERT INTO accounts (id, openid, created_at, cs_since_message, cs_since_event, subscribed) "
                f"SELECT m.id, 'member-' || m.id, :now, 0, 0, TRUE FROM members m WHERE {BOUND}"
            ),
            {"now": now},
        )
        conn.execute(
            sql(
                "INSERT INTO accounts (id, openid, created_at, cs_since_message, cs_since_event, subscribed) "
                "SELECT :base + o.id, 'org-' || o.code, :now, 0, 0, TRUE FROM organisations o"
            ),
            {"now": now, "base": CHAIR_IDS},
        )
        conn.execute(
            sql(
                "INSERT INTO role_bindings (account_id, organisation_id, role, created_at) "
                f"SELECT m.id, m.organisation_id, 'member', :now FROM members m WHERE {BOUND}"
            ),
            {"now": now},
        )
        conn.execute(
            sql(
                "INSERT INTO role_bindings (account_id, organisation_id, role, created_at) "
                "SELECT :base + o.id, o.id, CASE WHEN o.rubric_key IS NULL THEN 'admin' ELSE 'chair' END, :now "
                "FROM organisations o"
            ),
            {"now": now, "base": CHAIR_IDS},
        )
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts))"))
        conn.execute(text("ANALYZE"))
    return f"{_count(engine, 'accounts'):,} accounts, {_count(engine, 'role_bindings'):,} bindings"


def _evaluations(engine: Engine) -> str:
    """A democratic evaluation, closed, in one union of four: its bound members invited, ten ballots."""
    now = datetime.now(UTC)
    json = "CAST(:answers AS JSON)" if engine.dialect.name == "postgresql" else ":answers"
    with engine.begin() as conn:
        conn.execute(
            sql(
                "INSERT INTO evaluations (inspection_id, code, opened_at, closes_at, open_slots, open_used,"
                " paper_distributed, paper_returned) "
                "SELECT i.id, 'EV' || i.id, :opened, :closes, 0, 0, 0, 0 FROM inspections i WHERE i.id % 4 = 0"
            ),
            {"opened": now - timedelta(days=10), "closes": now - timedelta(days=3)},
        )
        conn.execute(
            sql(
                "INSERT INTO evaluation_participants (evaluation_id, account_id, source, added_at) "
                "SELECT e.id, b.account_id, 'member', :now FROM evaluations e "
                "JOIN inspections i ON i.id = e.inspection_id "
                "JOIN role_bindings b ON b.organisation_id = i.organisation_id AND b.role = 'member'"
            ),
            {"now": now},
        )
        for key in RUBRIC_KEYS:
            answers = [1 + d % 3 for d in range(len(get_rubric(key).dimensions) + 2)]
            conn.execute(
                sql(
                    "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 10) "
                    f"INSERT INTO ballots (id, evaluation_id, answers) SELECT 'b' || e.id || '-' || k.n, e.id, {json} "
                    "FROM evaluations e JOIN inspections i ON i.id = e.inspection_id CROSS JOIN k "
                    "WHERE i.rubric_key = :key"
                ),
                {"answers": str(answers), "key": key},
            )
    return f"{_count(engine, 'evaluations'):,} evaluations, {_count(engine, 'ballots'):,} ballots"


def _rate_all(engine: Engine) -> str:
    """Every inspection self-checked at full marks and assessed with deductions spread over the unions
    (about a quarter at 90 or more, one in six below 60), then rated with the project's scoring
    functions."""
    now = datetime.now(UTC)
    items = [(key, item.no, item.points) for key in RUBRIC_KEYS for item in get_rubric(key).items]
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TEMPORARY TABLE bench_items (rubric_key VARCHAR(32), item_no INT, points INT)")
        )
        conn.execute(
            text("INSERT INTO bench_items VALUES (:key, :no, :points)"),
            [{"key": key, "no": no, "points": points} for key, no, points in items],
        )
        p = "(i.id * 7919 % 1000) * 7 / 10"
        conn.execute(
            sql(
                "INSERT INTO item_scores (inspection_id, item_no, self_score, assessed_score, updated_at) "
                "SELECT i.id, b.item_no, b.points, b.points"
                f" - CASE WHEN (i.id * 2654435761 + b.item_no * 40503) % 1000 < {p} THEN 1 ELSE 0 END"
                f" - CASE WHEN (i.id * 97 + b.item_no * 7331) % 1000 < {p} THEN 1 ELSE 0 END, :now "
                "FROM inspections i JOIN bench_items b ON b.rubric_key = i.rubric_key"
            ),
            {"now": now},
        )
        totals = conn.execute(
            sql(
                "SELECT i.id, i.rubric_key, sum(s.assessed_score) FROM inspections i "
                "JOIN item_scores s ON s.inspection_id = i.id GROUP BY i.id, i.rubric_key"
            )
        ).all()
        rated = []
        for inspection_id, key, raw in totals:
            raw = Decimal(str(raw))
            score = percent_score(raw, get_rubric(key).max_total)
            missed = below_standard(score)
            stars = int(star_level(score))
            rated.append(
                {
                    "id": inspection_id,
                    "raw": raw,
                    "score": score,
                    "stars": stars,
                    "missed": missed,
                    "now": now,
                }
            )
        conn.execute(
            sql(
                "UPDATE inspections SET state = 'rated', raw_total = :raw, score = :score, stars_by_score = :stars,"
                " stars = :stars, below_standard = :missed, no_funding_support = :missed,"
                " no_hardship_aid = :missed, no_award_eligibility = :missed, rated_at = :now,"
                " self_submitted_at = :now WHERE id = :id"
            ),
            rated,
        )
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    top = sum(1 for row in rated if row["score"] >= 90)
    low = sum(1 for row in rated if row["missed"])
    return f"{len(rated):,} rated, {top:,} at 90 or more, {low:,} below 60;"


if __name__ == "__main__":
    run()

"""What one chat turn costs, measured in process: SQL statements (an SQLAlchemy event listener), Redis
round trips (redis-py's sends, a pipeline counting once) and CPU milliseconds, for an answering turn of
each kind — a chair's self-check item, a member's ballot question, an evaluator's assessment item.

    .venv/bin/python tests/bench/turn_cost.py                       # SQLite + in-process state
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python tests/bench/turn_cost.py

Used by bench_selfcheck.py too. Not collected by pytest; the database and Redis db given are wiped —
unless BENCH_KEEP=1: then the turns are measured in a database already holding a city (the large one
of bench_console_seed.py), their unions added under its city and its campaign reopened for them.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis
from sqlalchemy import create_engine, event, select, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.app import create_app  # noqa: E402
from chatbot.config import Config  # noqa: E402
from chatbot.inspection import campaigns, evaluations, organisations  # noqa: E402
from chatbot.store.engine import session_factory  # noqa: E402
from chatbot.store.models import Organisation  # noqa: E402
from chatbot.wechat.simulator import Simulator  # noqa: E402

TOKEN = "benchtoken"
SAMPLES = 20


@dataclass(frozen=True)
class Cost:
    kind: str
    statements: float
    round_trips: float
    cpu_ms: float


class Counters:
    """Counts SQL statements on an engine and Redis sends in this process."""

    def __init__(self) -> None:
        self.statements = 0
        self.round_trips = 0
        self.last: list[str] = []

    def listen(self, engine) -> None:  # type: ignore[no-untyped-def]
        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            self.statements += 1
            self.last.append(" ".join(statement.split())[:160])

    @contextmanager
    def redis_sends(self) -> Iterator[None]:
        plain = redis.Redis.execute_command
        batched = redis.client.Pipeline.execute
        counters = self

        def execute_command(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if not isinstance(self, redis.client.Pipeline):
                counters.round_trips += 1
            return plain(self, *args, **kwargs)

        def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            counters.round_trips += 1
            return batched(self, *args, **kwargs)

        redis.Redis.execute_command = execute_command  # type: ignore[method-assign]
        redis.client.Pipeline.execute = execute  # type: ignore[method-assign]
        try:
            yield
        finally:
            redis.Redis.execute_command = plain  # type: ignore[method-assign]
            redis.client.Pipeline.execute = batched  # type: ignore[method-assign]


def reset(database_url: str, redis_url: str) -> None:
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()


def measure(database_url: str, redis_url: str, workdir: Path, keep: bool = False) -> list[Cost]:
    """Answering turns of each kind, ``SAMPLES`` of each after a warm-up, averaged; with ``keep``, in
    the city the database already holds."""
    if not keep:
        reset(database_url, redis_url)
    config = Config.from_env(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "WECHAT_TOKEN": TOKEN,
            "NIANJIAN_INSTANCE": str(workdir),
            "SECRET_KEY": "bench",
        }
    )
    app = create_app(config)
    engine = app.extensions["nianjian.engine"]
    with session_factory(engine).begin() as session:
        city = "GY"
        if keep:
            city = session.scalar(select(Organisation.code).where(Organisation.parent_id.is_(None))) or city
        else:
            organisations.add_org(session, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(session, organisations.OrgRow("YZ", "原州区总工会", parent=city))
        organisations.add_org(session, organisations.OrgRow("U1", "基准测试社区工会", "village", "YZ", 40))
        organisations.add_org(session, organisations.OrgRow("N1", "基准测试商贸工会", "non_public", "YZ", 40))
        campaigns.open_year(session, 2026)
        chair = organisations.create_invitation(session, "U1", "chair").code
        chair2 = organisations.create_invitation(session, "N1", "chair").code
        evaluator = organisations.create_invitation(session, "YZ", "evaluator").code
        member = organisations.create_invitation(session, "U1", "member", uses=5).code
    client = app.test_client()

    def post(params: dict[str, str], body: bytes) -> tuple[int, str]:
        response = client.post("/wechat", query_string=params, data=body, content_type="text/xml")
        return response.status_code, response.get_data(as_text=True)

    counters = Counters()
    counters.listen(engine)

    def sample(sim: Simulator, messages: list[str], kind: str) -> Cost:
        statements, trips, cpu = [], [], []
        for content in messages:
            counters.statements = counters.round_trips = 0
            counters.last = []
            started = time.process_time()
            sim.say(content)
            cpu.append((time.process_time() - started) * 1000)
            statements.append(counters.statements)
            trips.append(counters.round_trips)
        if os.environ.get("TURN_COST_SQL"):
            print(f"-- the last {kind}'s statements:", *counters.last, sep="\n  ")
        return Cost(kind, statistics.mean(statements), statistics.mean(trips), statistics.median(cpu))

    with counters.redis_sends():
        # A chair whose union's evaluation and assessment follow; another chair answers the measured items.
        first = Simulator(post, "bench-chair", TOKEN)
        first.say(f"绑定 {chair}")
        first.say("自评")
        for _ in range(30):
            first.say("满分")
        first.say("提交")
        second = Simulator(post, "bench-chair-2", TOKEN)
        second.say(f"绑定 {chair2}")
        second.say("自评")
        second.say("满分")  # warm-up
        costs = [sample(second, ["满分" if n % 2 else "2.5" for n in range(SAMPLES)], "self-check item")]
        voter = Simulator(post, "bench-member", TOKEN)
        voter.say(f"绑定 {member}")  # bound before the opening: invited in chat
        with session_factory(engine).begin() as session:
            evaluations.open_evaluation(session, "U1", None, 0, datetime.now(UTC))
        voter.say("测评")
        voter.say("1")  # warm-up
        answers = [("2" if n % 2 else "1") if n % 2 == 0 else "上一项" for n in range(SAMPLES)]
        costs.append(sample(voter, answers, "ballot question"))
        assessor = Simulator(post, "bench-evaluator", TOKEN)
        assessor.say(f"绑定 {evaluator}")
        assessor.say("考评 U1")
        assessor.say("同")  # warm-up
        costs.append(sample(assessor, ["同" if n % 2 else "4" for n in range(SAMPLES)], "assessment item"))
    engine.dispose()
    return costs


def print_costs(costs: list[Cost]) -> None:
    print(f"{'answering turn':<20}{'SQL statements':>16}{'Redis round trips':>19}{'CPU ms':>9}")
    for cost in costs:
        print(f"{cost.kind:<20}{cost.statements:>16.1f}{cost.round_trips:>19.1f}{cost.cpu_ms:>9.1f}")


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="nianjian-cost-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'cost.db'}"
    keep = os.environ.get("BENCH_KEEP") == "1"
    print_costs(measure(database_url, os.environ.get("BENCH_REDIS_URL", ""), workdir, keep))


if __name__ == "__main__":
    main()

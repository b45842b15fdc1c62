"""The data of the wrk bench (bench_wrk.py): 48 chairs in an open self-check, 48 members in an open
ballot, 48 evaluators scoring a submitted self-check — each user alone in their union, all seeded through
the service itself (domain functions and signed turns in process), on the project's migrated schema.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_e \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python tests/bench/wrk_seed.py   # seed, print replies

Not collected by pytest; the database and Redis db given are wiped.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.app import create_app  # noqa: E402
from chatbot.config import Config  # noqa: E402
from chatbot.inspection import campaigns, evaluations, organisations  # noqa: E402
from chatbot.store.engine import session_factory  # noqa: E402
from chatbot.store.models import Organisation  # noqa: E402
from chatbot.wechat.simulator import Simulator  # noqa: E402
from tests.bench.turn_cost import TOKEN, reset  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "48"))
#: Items of the non-public union's sheet: all scored before the self-check is submitted.
ITEMS = 43
#: The plain turn keeps its dialog state under its own keys (plain_turn.py), seeded here.
PLAIN_STATE = "plain:{openid}:state"


@dataclass(frozen=True)
class Scenario:
    """Who talks and what they alternate: each user sends ``first``, then ``second``, then ``first`` …"""

    name: str
    openid_prefix: str
    first: str
    second: str

    def openid(self, n: int) -> str:
        return f"{self.openid_prefix}{n}"


SCENARIOS = (
    Scenario("self-check item", "bench-chair-", "满分", "上一项"),
    Scenario("ballot question", "bench-member-", "满意", "上一项"),
    Scenario("assessment item", "bench-evaluator-", "满分", "上一项"),
)


def service_env(database_url: str, redis_url: str, workdir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WECHAT_TOKEN": TOKEN,
        "NIANJIAN_INSTANCE": str(workdir),
        "SECRET_KEY": "bench",
    }


def seed(database_url: str, redis_url: str, workdir: Path, show: bool = False) -> None:
    """Wipe, migrate (the app does) and seed; the plain turn's state written to Redis."""
    reset(database_url, redis_url)
    app = create_app(Config.from_env(service_env(database_url, redis_url, workdir)))
    engine = app.extensions["nianjian.engine"]
    with session_factory(engine).begin() as session:
        organisations.add_org(session, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(session, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
        for n in range(USERS):
            for prefix in ("S", "A"):
                organisations.add_org(
                    session,
                    organisations.OrgRow(f"{prefix}{n:02d}", f"基准工会{prefix}{n}", "non_public", "YZ", 40),
                )
        campaigns.open_year(session, 2026)
        codes = {
            (kind, n): organisations.create_invitation(session, f"{prefix}{n:02d}", role).code
            for n in range(USERS)
            for kind, prefix, role in (
                ("chair", "S", "chair"),
                ("submitter", "A", "chair"),
                ("member", "A", "member"),
            )
        }
        evaluator_codes = [
            organisations.create_invitation(session, "YZ", "evaluator").code for _ in range(USERS)
        ]
    client = app.test_client()

    def post(params: dict[str, str], body: bytes) -> tuple[int, str]:
        response = client.post("/wechat", query_string=params, data=body, content_type="text/xml")
        return response.status_code, response.get_data(as_text=True)

    def say(openid: str, *messages: str) -> str:
        sim = Simulator(post, openid, TOKEN)
        reply = ""
        for content in messages:
            reply = sim.say(content)
        return reply

    selfcheck, ballot, assessment = SCENARIOS
    last: dict[str, str] = {}
    for n in range(USERS):
        last["chair"] = say(selfcheck.openid(n), f"绑定 {codes['chair', n]}", "自评")
        last["submitter"] = say(
            f"bench-submitter-{n}", f"绑定 {codes['submitter', n]}", "自评", *["满分"] * ITEMS, "提交"
        )
        say(ballot.openid(n), f"绑定 {codes['member', n]}")
        say(assessment.openid(n), f"绑定 {evaluator_codes[n]}")
    with session_factory(engine).begin() as session:
        for n in range(USERS):
            evaluations.open_evaluation(session, f"A{n:02d}", None, 0, datetime.now(UTC))
    for n in range(USERS):
        last["member"] = say(ballot.openid(n), "测评")
        last["evaluator"] = say(assessment.openid(n), f"考评 A{n:02d}")
    if show:
        for who, reply in last.items():
            print(f"-- {who} starts:\n{reply}")
        for scenario in SCENARIOS:
            for content in (scenario.first, scenario.second):
                print(f"-- {scenario.name}, {content}:\n{say(scenario.openid(0), content)}")
    write_plain_state(engine, redis_url)
    engine.dispose()


def write_plain_state(engine, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    """Where the plain turn's users stand: chairs on item 1, members on question 1 of their union's
    evaluation, evaluators on item 1 of their union."""
    with engine.connect() as conn:
        org_ids = {code: org_id for code, org_id in conn.execute(select(Organisation.code, Organisation.id))}
    client = redis.Redis.from_url(redis_url)
    selfcheck, ballot, assessment = SCENARIOS
    for n in range(USERS):
        client.set(PLAIN_STATE.format(openid=selfcheck.openid(n)), json.dumps({"item": 1}))
        client.set(PLAIN_STATE.format(openid=ballot.openid(n)), json.dumps({"item": 1}))
        state = {"item": 1, "org": org_ids[f"A{n:02d}"]}
        client.set(PLAIN_STATE.format(openid=assessment.openid(n)), json.dumps(state))


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="nianjian-wrk-"))
    seed(os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_REDIS_URL"], workdir, show=True)


if __name__ == "__main__":
    main()

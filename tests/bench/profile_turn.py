"""Profile answering self-check turns in process (cProfile): where a turn's CPU time goes.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python tests/bench/profile_turn.py [TURNS]

Prints the functions with the most cumulative time over TURNS turns (default 300), grouped as the
note of issue 12 reports them: wall time (waits on PostgreSQL and Redis included), or the process's
CPU time with PROFILE_CPU=1; PROFILE_TOP=N lines (default 45); PROFILE_CALLERS=PATTERN adds who calls it. Not collected by pytest; the database and Redis db given are wiped.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chatbot.app import create_app  # noqa: E402
from chatbot.config import Config  # noqa: E402
from chatbot.inspection import campaigns, organisations  # noqa: E402
from chatbot.store.engine import session_factory  # noqa: E402
from chatbot.wechat.simulator import Simulator  # noqa: E402
from tests.bench.turn_cost import TOKEN, reset  # noqa: E402


def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    workdir = Path(tempfile.mkdtemp(prefix="nianjian-profile-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'profile.db'}"
    redis_url = os.environ.get("BENCH_REDIS_URL", "")
    reset(database_url, redis_url)
    app = create_app(
        Config.from_env(
            {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "WECHAT_TOKEN": TOKEN,
                "NIANJIAN_INSTANCE": str(workdir),
                "SECRET_KEY": "bench",
            }
        )
    )
    engine = app.extensions["nianjian.engine"]
    chairs = turns // 40 + 1
    with session_factory(engine).begin() as session:
        organisations.add_org(session, organisations.OrgRow("GY", "固原市总工会"))
        for n in range(chairs):
            organisations.add_org(
                session, organisations.OrgRow(f"U{n}", f"剖析工会{n}", "non_public", "GY", 40)
            )
        campaigns.open_year(session, 2026)
        codes = [organisations.create_invitation(session, f"U{n}", "chair").code for n in range(chairs)]
    client = app.test_client()

    def post(params: dict[str, str], body: bytes) -> tuple[int, str]:
        response = client.post("/wechat", query_string=params, data=body, content_type="text/xml")
        return response.status_code, response.get_data(as_text=True)

    sims = []
    for n, code in enumerate(codes):
        sim = Simulator(post, f"profile-chair-{n}", TOKEN)
        sim.say(f"绑定 {code}")
        sim.say("自评")
        sim.say("满分")
        sims.append(sim)
    profile = cProfile.Profile(time.process_time) if os.environ.get("PROFILE_CPU") else cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    profile.enable()
    for k in range(turns):
        sims[k // 40].say("满分" if k % 2 else "2.5")
    profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{turns} turns: {wall / turns * 1000:.1f} ms wall, {cpu / turns * 1000:.1f} ms CPU a turn (profiled)"
    )
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(int(os.environ.get("PROFILE_TOP", "45")))
    if os.environ.get("PROFILE_CALLERS"):
        stats.print_callers(os.environ["PROFILE_CALLERS"])


if __name__ == "__main__":
    main()

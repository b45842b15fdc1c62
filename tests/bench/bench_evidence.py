"""Evidence photos downloaded per second by the tick's job (chatbot.notify.evidence), run by hand.

N pending photos of S KB each (distinct JPEG-headed bytes) are fetched from the fake WeChat API on
loopback into a temporary evidence directory, on SQLite (default) or BENCH_DATABASE_URL:

    .venv/bin/python tests/bench/bench_evidence.py
    BENCH_PHOTOS=500 BENCH_KB=300 BENCH_DATABASE_URL=postgresql+psycopg://… .venv/bin/python tests/bench/bench_evidence.py

It prints photos per second; the tick gives the job 10 s a minute, so the rate × 10 is what one
scheduler keeps up with per minute.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from chatbot.config import Config
from chatbot.inspection import campaigns, organisations
from chatbot.notify.evidence import fetch_due
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import Account, Evidence, Inspection
from chatbot.wechat.api import make_client
from chatbot.wechat.fake_api import FakeWeChatServer

HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def main() -> None:
    photos = int(os.environ.get("BENCH_PHOTOS", "300"))
    size = int(os.environ.get("BENCH_KB", "200")) * 1024
    fake = FakeWeChatServer().start()
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.db"
        config = Config.from_env(
            {
                "DATABASE_URL": url,
                "NIANJIAN_INSTANCE": folder,
                "SECRET_KEY": "bench",
                "WECHAT_APP_ID": "wxbench",
                "WECHAT_APP_SECRET": "bench",
                "WECHAT_API_BASE_URL": fake.base_url,
                "EVIDENCE_DIR": str(Path(folder) / "evidence"),
            }
        )
        engine = make_engine(config.database_url)
        migrate(engine)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            organisations.add_org(session, organisations.OrgRow("GY", "固原市总工会"))
            organisations.add_org(session, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
            organisations.add_org(session, organisations.OrgRow("U01", "第1社区工会", "village", "YZ"))
            campaigns.open_year(session, 2026)
            account = Account(openid="bench-chair")
            session.add(account)
            session.flush()
            inspection_id = session.scalar(select(Inspection.id))
            session.execute(
                insert(Evidence),
                [
                    {
                        "inspection_id": inspection_id,
                        "item_no": 1 + n % 30,
                        "media_id": f"BENCH-{n}",
                        "pic_url": "",
                        "account_id": account.id,
                    }
                    for n in range(photos)
                ],
            )
        filler = os.urandom(size - len(HEADER))
        for n in range(photos):  # distinct bytes: no two photos share a file
            fake.state.media[f"BENCH-{n}"] = (HEADER + n.to_bytes(4, "big") + filler[4:], "image/jpeg")
        client = make_client(config, sessions)
        started = time.perf_counter()
        report = fetch_due(sessions, client, config, datetime.now(UTC), budget=3600)
        seconds = time.perf_counter() - started
        engine.dispose()
    fake.stop()
    print(
        f"{report.stored} photos of {size // 1024} KB stored in {seconds:.2f} s: "
        f"{report.stored / seconds:.1f} photos/s ({report.failed} failed, {report.retried} retried) on "
        f"{url.split(':')[0]}"
    )


if __name__ == "__main__":
    main()

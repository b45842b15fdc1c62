"""Process death in the suite: the short version of death.py (4 chairs × 12 items, a worker and then the
whole server killed with SIGKILL, a restart) on PostgreSQL + Redis; nothing lost, added or doubled."""

from __future__ import annotations

from death import run

from chatbot.config import Config
from tests.conftest import service_url


def test_kill_9_a_worker_then_the_whole_server_loses_no_acknowledged_answer() -> None:
    database_url = Config.from_env({"DATABASE_URL": service_url("TEST_DATABASE_URL") or ""}).database_url
    redis_url = service_url("TEST_REDIS_URL") or ""
    figures = run(database_url, redis_url, chairs=4, items=12, quiet=True)
    assert len(figures.kills) == 2
    assert figures.acked == 4 * 12
    assert (figures.lost, figures.extra, figures.doubled, figures.wrong_resume) == (0, 0, 0, 0)
    assert figures.errors == []

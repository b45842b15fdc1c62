"""One access-token refresher among processes (issue 19, point 8).

Two OS processes (multiprocessing, spawn), each with its own engine and API client as `nianjian
deliver` has, race behind a barrier for the token against the fake WeChat API on loopback, which
counts the fetches: for the first token, for an expired one, and after WeChat rejected the stored one
(40001). Each time exactly one fetch, both processes end with the same token, neither fails, and the
day's fetch count is right — with the token in the database (SQLite and PostgreSQL) and in Redis.

The fake holds every token fetch for FETCH_HANG seconds: a window wide enough that two refreshers that
were not serialised would both fetch. The assertions count fetches; they time nothing.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select

from chatbot.config import Config
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import ApiToken
from chatbot.timeutil import SHANGHAI
from chatbot.wechat.fake_api import FakeWeChatServer, Fault
from tests.conftest import APP_ID, Backend, service_url

RACERS = 2
FETCH_HANG = 0.3
#: Seconds before a racer that never answers fails the test (it never passes one).
STUCK = 60


def _racer(env: dict[str, str], commands: Any, results: Any, barrier: Any) -> None:
    """One process: its own engine and API client; on each command, waits for the other racer at the
    barrier, then asks for the token ("token") or sends a text ("send"), and reports the token it holds
    after, or the error."""
    from chatbot.wechat.api import make_client

    config = Config.from_env(env)
    engine = make_engine(config.database_url)
    client = make_client(config, session_factory(engine))
    results.put(("ready", str(os.getpid())))
    for action in iter(commands.get, "stop"):
        barrier.wait(STUCK)
        try:
            if action == "send":
                client.send_text("racer", "测试")
            results.put(("ok", client.access_token))
        except Exception as error:  # noqa: BLE001 — reported to the parent, which fails the test
            results.put(("error", f"{type(error).__name__}: {error}"[:600]))
    engine.dispose()


class Racers:
    """RACERS processes started together, each round released at once by a barrier."""

    def __init__(self, env: dict[str, str]) -> None:
        spawn = multiprocessing.get_context("spawn")
        self._barrier = spawn.Barrier(RACERS)
        self._results = spawn.Queue()
        self._commands = [spawn.Queue() for _ in range(RACERS)]
        self._processes = [
            spawn.Process(target=_racer, args=(env, commands, self._results, self._barrier), daemon=True)
            for commands in self._commands
        ]
        for process in self._processes:
            process.start()
        ready = [self._results.get(timeout=STUCK) for _ in self._processes]
        assert [kind for kind, _ in ready] == ["ready"] * RACERS, ready

    def race(self, action: str) -> list[tuple[str, str]]:
        """Every racer does ``action`` at the same moment; what each reports."""
        for commands in self._commands:
            commands.put(action)
        return [self._results.get(timeout=STUCK) for _ in self._processes]

    def stop(self) -> None:
        for commands in self._commands:
            commands.put("stop")
        for process in self._processes:
            process.join(STUCK)
            if process.is_alive():
                process.kill()
                process.join()


class Stores:
    """The shared token as the racers keep it: plant one, read the day's fetch count."""

    def __init__(self, env: dict[str, str]) -> None:
        self.redis = redis.Redis.from_url(env["REDIS_URL"]) if "REDIS_URL" in env else None
        self.engine = make_engine(env["DATABASE_URL"])
        migrate(self.engine)
        self.sessions = session_factory(self.engine)

    def plant(self, token: str, expires_at: datetime) -> None:
        if self.redis is not None:
            value = json.dumps({"token": token, "expires_at": expires_at.isoformat()})
            self.redis.set(f"nianjian:{APP_ID}:access-token", value)
            return
        with self.sessions.begin() as session:
            row = session.get(ApiToken, APP_ID)
            assert row is not None
            row.token, row.expires_at = token, expires_at

    def fetches_today(self) -> int:
        today = datetime.now(UTC).astimezone(SHANGHAI).date()
        if self.redis is not None:
            return int(self.redis.get(f"nianjian:{APP_ID}:token-fetches:{today}") or 0)
        with self.sessions() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.app_id == APP_ID))
            return row.fetches if row is not None and row.day == today.isoformat() else 0

    def close(self) -> None:
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


def _env(database_url: str, fake: FakeWeChatServer, tmp_path: Path, redis_url: str | None) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": "app-secret",
        "WECHAT_API_BASE_URL": fake.base_url,
        "NIANJIAN_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
    }
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    Config.from_env(env)  # the instance's generated keys exist before the racers read them
    return env


def _race_for_tokens(env: dict[str, str], fake: FakeWeChatServer) -> None:
    stores = Stores(env)
    racers = Racers(env)
    try:

        def round_(action: str) -> str:
            """One race: exactly one token fetch, and both racers hold the token it fetched."""
            fake.state.faults[:] = [Fault("token", RACERS, hang=FETCH_HANG)]
            before = fake.state.token_fetches
            answers = racers.race(action)
            assert [kind for kind, _ in answers] == ["ok"] * RACERS, answers
            assert fake.state.token_fetches - before == 1, answers
            tokens = {value for _, value in answers}
            assert len(tokens) == 1, answers
            return tokens.pop()

        first = round_("token")  # nothing stored yet: the first token
        assert first in fake.state.tokens
        stores.plant(first, datetime.now(UTC) - timedelta(minutes=1))
        renewed = round_("token")  # the stored token has expired
        assert renewed != first
        stores.plant("REVOKED_TOKEN", datetime.now(UTC) + timedelta(hours=1))
        sends = len(fake.sends())
        after_rejection = round_("send")  # WeChat rejects the stored token (40001)
        assert after_rejection not in (renewed, "REVOKED_TOKEN")
        assert len(fake.sends()) - sends == RACERS  # each racer's send went through, once
        assert stores.fetches_today() == 3
    finally:
        racers.stop()
        stores.close()


def test_one_token_refresher_among_processes_with_the_token_in_the_database(
    backend: Backend, fake: FakeWeChatServer, tmp_path: Path
) -> None:
    _race_for_tokens(_env(backend.database_url, fake, tmp_path, None), fake)


def test_one_token_refresher_among_processes_with_the_token_in_redis(
    fake: FakeWeChatServer, tmp_path: Path
) -> None:
    redis_url = service_url("TEST_REDIS_URL")
    assert redis_url is not None
    redis.Redis.from_url(redis_url).flushdb()
    _race_for_tokens(_env(f"sqlite:///{tmp_path / 'redis.db'}", fake, tmp_path, redis_url), fake)

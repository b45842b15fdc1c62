"""Shared fixtures: every storage test runs on SQLite + in-process state, and on PostgreSQL + Redis
when TEST_DATABASE_URL / TEST_REDIS_URL are set (always under CI=true, where a missing one fails)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.cli import main
from chatbot.config import Config
from chatbot.inspection import campaigns, organisations
from chatbot.store.counters import MemoryRateCounter, RateCounter, RedisRateCounter
from chatbot.store.engine import make_engine, session_factory
from chatbot.store.state import (
    MemoryStateStore,
    MemoryUserLock,
    RedisStateStore,
    RedisUserLock,
    StateStore,
    UserLock,
)
from chatbot.wechat.fake_api import FakeWeChatServer
from chatbot.wechat.simulator import Simulator, Transport

TOKEN = "testtoken"
APP_ID = "wx0000000000000001"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OTHER_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


def service_url(name: str) -> str | None:
    """The URL of a test service, or skip (locally) / fail (under CI=true) when it is not configured."""
    url = os.environ.get(name)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} must be set under CI=true")
    pytest.skip(f"{name} is not set")


def reset_postgres(url: str) -> None:
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@dataclass
class Backend:
    """A database URL and a state store + lock that the app under test uses."""

    name: str
    database_url: str
    store: StateStore
    lock: UserLock
    counter: RateCounter
    redis_client: redis.Redis | None = None

    def parts(self) -> dict[str, Any]:
        """The state store, lock and rate counter, as ``create_app`` takes them."""
        return {"store": self.store, "lock": self.lock, "counter": self.counter}

    def flush_state(self) -> None:
        if self.redis_client is not None:
            self.redis_client.flushdb()
        else:
            assert isinstance(self.store, MemoryStateStore)
            self.store.flush()

    def fresh_parts(self) -> dict[str, Any]:
        """The state of a 'restarted' process (Redis persists; memory does not)."""
        if self.redis_client is not None:
            client = self.redis_client
            return {
                "store": RedisStateStore(client),
                "lock": RedisUserLock(client),
                "counter": RedisRateCounter(client),
            }
        return {"store": MemoryStateStore(), "lock": MemoryUserLock(), "counter": MemoryRateCounter()}


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend(
            "sqlite",
            f"sqlite:///{tmp_path / 'test.db'}",
            MemoryStateStore(),
            MemoryUserLock(),
            MemoryRateCounter(),
        )
        return
    db_url = service_url("TEST_DATABASE_URL")
    redis_url = service_url("TEST_REDIS_URL")
    assert db_url and redis_url
    reset_postgres(db_url)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield Backend(
        "postgres+redis",
        Config.from_env({"DATABASE_URL": db_url}).database_url,
        RedisStateStore(client),
        RedisUserLock(client),
        RedisRateCounter(client),
        client,
    )
    client.flushdb()
    client.close()


def service_env(backend: Backend, tmp_path: Path, **env: str) -> dict[str, str]:
    """The environment of the service under test: the backend's database, the test account's token and
    id, an instance folder of the test's own and a fixed secret key; ``env`` added or overriding.

    A push may wait the most seconds allowed (4) before it is answered 系统繁忙: a push the simulator
    signs "now" reads as up to 0.99 s old (the signed second is whole), so under the default 2 s one
    stalled a second by a busy machine would be shed. tests/test_overload.py holds its own limit."""
    values = {
        "DATABASE_URL": backend.database_url,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "NIANJIAN_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "WECHAT_BUSY_AFTER": "4",
    }
    return values | env


def fake_wechat_env(backend: Backend, fake: FakeWeChatServer, tmp_path: Path, **env: str) -> dict[str, str]:
    """``service_env`` with the API client pointed at the fake WeChat on loopback, and the backend's Redis
    (for a command or a process that builds its own state store from the environment)."""
    values = service_env(backend, tmp_path, WECHAT_APP_SECRET="app-secret", WECHAT_API_BASE_URL=fake.base_url)
    if backend.redis_client is not None:
        values["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    return values | env


def make_config(backend: Backend, tmp_path: Path, **env: str) -> Config:
    return Config.from_env(service_env(backend, tmp_path, **env))


@pytest.fixture
def fake() -> Iterator[FakeWeChatServer]:
    """The fake WeChat API on a loopback port of its own, stopped after the test."""
    server = FakeWeChatServer().start()
    yield server
    server.stop()


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(make_config(backend, tmp_path), **backend.parts())
    yield application
    application.extensions["nianjian.engine"].dispose()


def transport_for(client: FlaskClient) -> Transport:
    def post(params: dict[str, str], body: bytes) -> tuple[int, str]:
        response = client.post("/wechat", query_string=params, data=body, content_type="text/xml")
        return response.status_code, response.get_data(as_text=True)

    return post


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def user(client: FlaskClient):
    def make(openid: str, aes_key: str | None = None) -> Simulator:
        return Simulator(transport_for(client), openid, TOKEN, APP_ID, aes_key)

    return make


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the app's database for arranging and checking."""
    engine = make_engine(app.extensions["nianjian.config"].database_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


@dataclass
class City:
    """A small city: one county, one non-public union (43 items, 102 points) in an open campaign."""

    chair_code: str
    member_code: str
    evaluator_code: str


@pytest.fixture
def city(db: Session) -> City:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(
            db, organisations.OrgRow("XJ-001", "西吉县宏达商贸有限公司工会", "non_public", "XJ", 46)
        )
        campaigns.open_year(db, 2026)
        chair = organisations.create_invitation(db, "XJ-001", "chair", uses=3)
        member = organisations.create_invitation(db, "XJ-001", "member", uses=50)
        evaluator = organisations.create_invitation(db, "XJ", "evaluator")
    return City(chair.code, member.code, evaluator.code)


@pytest.fixture
def cli(backend: Backend, monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", backend.database_url)
    monkeypatch.setenv("NIANJIAN_INSTANCE", str(tmp_path / "cli-instance"))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    def refused(*args: str) -> str:
        """Run a command that must fail; its message."""
        result = runner.invoke(main, list(args))
        assert result.exit_code != 0, result.output
        return result.output

    run.refused = refused  # type: ignore[attr-defined]
    return run

"""A world for the stateful tests that drive the public surfaces: one app (webhook, console) and the
CLI on one database, wiped between Hypothesis examples so that every example starts from nothing
(migrating once per test, not once per example)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.store.engine import make_engine, session_factory
from chatbot.store.models import Base
from chatbot.wechat.simulator import Simulator
from tests.conftest import APP_ID, TOKEN, Backend, make_config, transport_for


@dataclass
class World:
    """The app, a simulated WeChat user maker, the CLI and a session for checking."""

    app: Flask
    backend: Backend
    cli: Callable[..., str]
    db: Session
    tmp: Path

    def user(self, openid: str) -> Simulator:
        return Simulator(transport_for(self.app.test_client()), openid, TOKEN, APP_ID)

    def wipe(self) -> None:
        """Every row gone, ids from 1 again, and the dialog state flushed: a new example's world."""
        self.db.rollback()
        with self.db.begin():
            if self.db.get_bind().dialect.name == "postgresql":
                names = ", ".join(table.name for table in Base.metadata.sorted_tables)
                self.db.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    self.db.execute(table.delete())
        self.db.expire_all()
        self.backend.flush_state()

    def fresh(self) -> Session:
        """The checking session, with nothing cached from an earlier read."""
        self.db.rollback()
        self.db.expire_all()
        return self.db


def world_for(app: Flask, backend: Backend, cli: Callable[..., str], tmp_path: Path) -> Iterator[World]:
    engine = make_engine(app.extensions["nianjian.config"].database_url)
    with session_factory(engine)() as session:
        yield World(app, backend, cli, session, tmp_path)
    engine.dispose()


@pytest.fixture
def world(app: Flask, backend: Backend, cli: Callable[..., str], tmp_path: Path) -> Iterator[World]:
    yield from world_for(app, backend, cli, tmp_path)


def app_with(backend: Backend, tmp_path: Path, **env: str) -> Flask:
    return create_app(make_config(backend, tmp_path, **env), **backend.parts())


__all__: list[Any] = ["World", "app_with", "world", "world_for"]

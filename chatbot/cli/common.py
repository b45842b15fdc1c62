"""What the CLI sub-commands share: configuration and a migrated database session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from chatbot.config import Config, ConfigError
from chatbot.inspection.errors import AdminError
from chatbot.store.engine import make_engine, migrate, session_factory


def load_config() -> Config:
    try:
        return Config.from_env()
    except ConfigError as error:
        raise click.ClickException(f"配置有误（环境变量）：{error}") from error


@contextmanager
def db_session() -> Iterator[Session]:
    """One transaction on the configured database, migrated first; AdminError (its message is
    Chinese) becomes a CLI error."""
    engine = make_engine(load_config().database_url)
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            yield session
    except AdminError as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()

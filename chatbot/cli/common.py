"""What the CLI sub-commands share: configuration and a migrated database session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from chatbot.config import Config, ConfigError
from chatbot.inspection import campaigns
from chatbot.inspection.errors import AdminError
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import Campaign


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


def campaign_of_year(session: Session, year: int) -> Campaign:
    """The campaign of ``year``; a CLI error (in Chinese) when there is none."""
    try:
        return campaigns.campaign_of_year(session, year)
    except ValueError as error:
        raise click.ClickException(str(error)) from error


Command = TypeVar("Command", bound=Callable[..., Any])


def port_option(flag: str, default: int, help: str) -> Callable[[Command], Command]:
    """An option naming a TCP port (1–65535), its default shown in the help."""
    return click.option(flag, default=default, show_default=True, type=click.IntRange(1, 65535), help=help)

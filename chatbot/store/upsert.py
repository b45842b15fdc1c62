"""``INSERT … ON CONFLICT`` for the database in use: PostgreSQL's and SQLite's dialects spell it alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(bind: Session | Connection) -> Any:
    """The dialect's ``insert`` (the one with ``on_conflict_do_nothing`` / ``on_conflict_do_update``)."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert

"""``column IN (ids)`` for a long list of ids, as the database in use takes it best.

SQLAlchemy sends ``IN`` with one bound parameter per value; at a large city's size (10,000 unions a
console page filters by) each such statement costs psycopg a few hundred milliseconds just to rewrite
its placeholders, and PostgreSQL as long to parse them. On PostgreSQL the ids go as one array instead
(``column = ANY(%(ids)s)``); SQLite keeps ``IN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Integer, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def among(bind: Session | Connection, column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column`` is one of ``ids``: one array parameter on PostgreSQL, ``IN`` elsewhere."""
    values = sorted(set(ids))
    connection = bind.connection() if isinstance(bind, Session) else bind
    if connection.dialect.name != "postgresql":
        return column.in_(values)  # type: ignore[no-any-return]
    return column == any_(bindparam(None, values, type_=postgresql.ARRAY(Integer)))  # type: ignore[no-any-return]

"""Database engine, sessions and migrations (Alembic, run at start-up)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
#: Seconds to open a connection to PostgreSQL (libpq's connect_timeout; its minimum is 2): a database
#: that is down or unreachable fails a turn quickly enough to answer WeChat with an apology.
CONNECT_TIMEOUT_SECONDS = 2
#: Seconds a turn waits for a pooled connection when every one is taken.
POOL_TIMEOUT_SECONDS = 3
#: Seconds after which a pooled connection is replaced instead of lent (ahead of a server's or a
#: proxy's idle cut). The pool does not ping a connection before lending it (a round trip a turn): a
#: connection dropped meanwhile fails its first statement, the pool then replaces every connection
#: older than that failure, and the turn runs once more (chatbot/service/turn.py).
POOL_RECYCLE_SECONDS = 1800


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout for threaded use and
    secure deletion."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Deleted rows are overwritten with zeros, not left in the file's free space: a ballot's
            # draft, or a ballot set rewritten at a cast, leaves no copy for a reader of the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    given = "connect_timeout" in make_url(url).query  # a connect_timeout in the URL wins
    return create_engine(
        url,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_size=10,
        max_overflow=20,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={} if given else {"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


#: SQLite's OperationalErrors that say the file cannot be used now; its others ("no such table" …) are
#: faults of the program, not of the database's availability.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "unable to open database file",
    "disk i/o error",
    "database is full",
)


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached or used now (down, unreachable, a dropped
    connection, no pooled connection free, SQLite locked) rather than that a statement is wrong."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, InterfaceError | PoolTimeout):
        return True
    if not isinstance(error, OperationalError):
        return False
    if type(error.orig).__module__.startswith("sqlite3"):
        return any(text in str(error.orig).lower() for text in _SQLITE_UNAVAILABLE)
    return True


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig  # a migration's tool, not a worker's

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


#: A migration's own id, as its file declares it (``revision = "0016_notices"``).
_REVISION = re.compile(r'^revision = "([^"]+)"', re.MULTILINE)


def head_revision() -> str:
    """The newest migration: files are numbered ``0001_…``, ``0002_…``; its id is the one the newest
    file declares (``0015``, or ``0016_<name>`` for a branch's; a test checks this against Alembic's
    own reading of the scripts)."""
    newest = max((MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"), key=lambda path: path.name)
    found = _REVISION.search(newest.read_text(encoding="utf-8"))
    return found.group(1) if found else newest.name[:4]


def is_current(engine: Engine) -> bool:
    """Whether the database is already at the newest migration — one query, without Alembic."""
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return False  # no schema yet
    return current == head_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` (the newest by default); a database already at the
    newest costs one query.

    On SQLite, foreign keys are off while migrating: a batch migration rebuilds a table by copying it
    and dropping the old one, which referencing rows would otherwise forbid.
    """
    if revision == "head" and is_current(engine):
        return
    from alembic import command

    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where it takes effect
        try:
            with connection.begin():
                config = alembic_config(engine.url.render_as_string(hide_password=False))
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

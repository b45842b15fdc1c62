"""Backups of the whole database and their restore (备份与恢复).

SQLite is copied through its online backup API: a consistent snapshot of what was committed, taken
while the service keeps answering. PostgreSQL is dumped by ``pg_dump`` in its custom format and
restored through ``pg_restore`` and ``psql`` in one transaction, so a failed restore changes nothing.
A restore goes into an empty database (a migrated schema without rows counts as empty); a database
that holds data is replaced only when the caller forces it. Errors are ``BackupError`` with a message
in Chinese, for the command line to print.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from chatbot.store.engine import MIGRATIONS, head_revision, make_engine, migrate

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
#: What a summary counts, with the Chinese words it is printed with.
COUNTED: tuple[tuple[str, str], ...] = (
    ("organisations", "单位 {} 个"),
    ("inspections", "年检 {} 项"),
    ("item_scores", "逐项评分 {} 条"),
    ("ballots", "测评选票 {} 张"),
    ("audit_log", "办理记录 {} 条"),
)
PG_CLIENT_HINT = (
    "请安装与数据库服务器同版本或更新的 PostgreSQL 客户端（Debian/Ubuntu：apt-get install postgresql-client），"
    "或在数据库服务器上直接运行："
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is Chinese and says what to do."""


@dataclass(frozen=True)
class Summary:
    """What a database holds: its migration and the rows people care about, by table."""

    revision: str | None
    counts: Mapping[str, int]

    def describe(self) -> str:
        rows = "、".join(words.format(self.counts.get(table, 0)) for table, words in COUNTED)
        return f"迁移版本 {self.revision or '无'}；{rows}"


def summary(engine: Engine) -> Summary:
    """The migration and the counted rows of the database behind ``engine``."""
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        counts = {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
            for table, _words in COUNTED
        }
    return Summary(revision, counts)


def backup(url: str, out: Path) -> Summary:
    """Write a backup of the database at ``url`` to ``out`` (replaced whole, only once complete)."""
    out = out.resolve()
    if not out.parent.is_dir():
        raise BackupError(f"目录 {out.parent} 不存在，请先创建它。")
    part = out.with_name(out.name + ".part")
    try:
        if is_sqlite(url):
            held = _sqlite_backup(_sqlite_path(url), part)
        else:
            _pg_backup(url, part)
            held = _summary_of(url)  # the database as it is now: pg_dump's snapshot cannot be counted
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return held


def restore(url: str, source: Path, force: bool = False) -> Summary:
    """Restore the backup ``source`` into the database at ``url``, then migrate it to this version.

    The database must be empty, or ``force`` given; a backup made by a newer version is refused."""
    if not source.is_file():
        raise BackupError(f"备份文件 {source} 不存在。")
    with source.open("rb") as stream:
        magic = stream.read(len(SQLITE_MAGIC))
    sqlite_target = is_sqlite(url)
    if magic.startswith(PG_DUMP_MAGIC) and sqlite_target:
        raise BackupError(
            "这是 PostgreSQL 的备份（pg_dump），当前数据库是 SQLite：请把 DATABASE_URL 指向 PostgreSQL 数据库。"
        )
    if magic == SQLITE_MAGIC and not sqlite_target:
        raise BackupError(
            "这是 SQLite 的备份，当前数据库是 PostgreSQL：请把 DATABASE_URL 指向 SQLite 数据库文件。"
        )
    if magic != SQLITE_MAGIC and not magic.startswith(PG_DUMP_MAGIC):
        raise BackupError(f"{source} 不是年检助手的备份文件（既不是 SQLite 数据库，也不是 pg_dump 的备份）。")
    if sqlite_target:
        _sqlite_restore(source, _sqlite_path(url), force)
    else:
        _pg_restore(source, url, force)
    engine = make_engine(url)
    try:
        migrate(engine)
        return summary(engine)
    finally:
        engine.dispose()


def _summary_of(url: str) -> Summary:
    engine = make_engine(url)
    try:
        return summary(engine)
    except SQLAlchemyError as error:
        raise BackupError(f"读取数据库失败：{error}") from error
    finally:
        engine.dispose()


def _known(revision: str | None, where: str) -> None:
    """Refuse a backup that is no backup of ours, or one made by a newer version of the service."""
    if revision is None:
        raise BackupError(f"{where} 里没有年检助手的数据（缺少 alembic_version 表），不是年检助手的备份。")
    known = {path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")}
    if revision not in known:
        raise BackupError(
            f"备份来自更新版本的年检助手（迁移版本 {revision}，本版本最高为 {head_revision()}）：请先升级年检助手再恢复。"
        )


def _refuse_data(tables: Mapping[str, int], force: bool) -> None:
    held = {table: rows for table, rows in tables.items() if rows and table != "alembic_version"}
    if held and not force:
        largest = "、".join(f"{t} {n} 行" for t, n in sorted(held.items(), key=lambda kv: -kv[1])[:3])
        raise BackupError(
            f"目标数据库不是空的（{largest} 等 {len(held)} 个表有数据），未做任何更改。"
            "请恢复到一个空数据库；确要用备份覆盖现有数据，请加 --force。"
        )


# ---------------------------------------------------------------- SQLite


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复：请在 DATABASE_URL 中写数据库文件的路径。")
    return Path(database).resolve()


def _sqlite_backup(path: Path, part: Path) -> Summary:
    """Copy the database at ``path`` to ``part``, check the copy, and count what the copy holds."""
    if not path.is_file():
        raise BackupError(f"数据库文件 {path} 不存在：还没有数据可以备份。")
    try:
        with closing(sqlite3.connect(path, timeout=30)) as source, closing(sqlite3.connect(part)) as copy:
            source.backup(copy)  # one step: a consistent snapshot; writers in WAL mode go on meanwhile
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            checked = copy.execute("PRAGMA integrity_check").fetchone()[0]
            revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            counts = {
                table: copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table, _words in COUNTED
            }
    except sqlite3.Error as error:
        raise BackupError(f"SQLite 备份失败：{error}") from error
    if checked != "ok":
        raise BackupError(f"备份副本未通过完整性检查：{checked}")
    return Summary(revision, counts)


def _sqlite_tables(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _sqlite_restore(source: Path, target: Path, force: bool) -> None:
    try:
        backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"无法打开备份文件 {source}：{error}") from error
    with closing(backup):
        try:
            checked = backup.execute("PRAGMA quick_check").fetchone()[0]
            tables = _sqlite_tables(backup)
            revision = (
                backup.execute("SELECT version_num FROM alembic_version").fetchone()[0]
                if "alembic_version" in tables
                else None
            )
        except sqlite3.Error as error:
            raise BackupError(f"备份文件 {source} 已损坏或无法读取：{error}") from error
        if checked != "ok":
            raise BackupError(f"备份文件 {source} 未通过完整性检查：{checked}")
        _known(revision, str(source))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(target, timeout=30)) as database:
                _refuse_data(_sqlite_tables(database), force)
                backup.backup(database)  # replaces every page of the target in one transaction
        except sqlite3.Error as error:
            raise BackupError(f"SQLite 恢复失败：{error}") from error


# ---------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class _Libpq:
    """How the PostgreSQL client programs reach the database: a URL without the password, which
    travels in the environment instead (never on a command line that ``ps`` shows)."""

    conninfo: str
    env: dict[str, str]
    name: str


def _libpq(url: str) -> _Libpq:
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return _Libpq(plain.render_as_string(hide_password=False), env, parsed.database or "")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        example = {
            "pg_dump": "pg_dump -Fc -f nianjian.dump 数据库名",
            "pg_restore": "pg_restore -d 数据库名 --no-owner nianjian.dump",
            "psql": "pg_restore -d 数据库名 --no-owner nianjian.dump",
        }[name]
        raise BackupError(f"未找到 {name}（PATH 中没有）。{PG_CLIENT_HINT}{example}")
    return found


def _run(args: list[str], env: Mapping[str, str], what: str) -> str:
    try:
        done = subprocess.run(args, env=dict(env), capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(f"{what}无法运行：{error}") from error
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise BackupError(f"{what}失败：{' / '.join(detail[-5:]) or f'退出码 {done.returncode}'}")
    return done.stdout


def _pg_backup(url: str, part: Path) -> None:
    target = _libpq(url)
    _run(
        [_tool("pg_dump"), "--format=custom", f"--file={part}", f"--dbname={target.conninfo}"],
        target.env,
        "pg_dump 备份",
    )
    _run([_tool("pg_restore"), "--list", str(part)], target.env, "检查备份（pg_restore --list）")


#: The line after ``COPY public.alembic_version … FROM stdin;`` in a plain script is the revision.
_REVISION = re.compile(r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n([^\n\\]+)\n", re.MULTILINE)


def _pg_revision(source: Path, target: _Libpq) -> str | None:
    listing = _run([_tool("pg_restore"), "--list", str(source)], target.env, "读取备份（pg_restore --list）")
    if not re.search(r"TABLE DATA \S+ alembic_version ", listing):
        return None
    script = _run(
        [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(source)],
        target.env,
        "读取备份（pg_restore）",
    )
    found = _REVISION.search(script)
    return found.group(1) if found else None


def _pg_tables(url: str) -> tuple[str, dict[str, int]]:
    """The target's default schema, and each table in it with its row count."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            schema = inspector.default_schema_name or "public"
            tables = {
                name: int(connection.execute(text(f'SELECT count(*) FROM "{schema}"."{name}"')).scalar() or 0)
                for name in inspector.get_table_names(schema)
            }
    except SQLAlchemyError as error:
        where = make_url(url).render_as_string(hide_password=True)
        raise BackupError(
            f"无法读取目标数据库 {where}：{error.__cause__ or error}（数据库须已存在，可用 createdb 建一个空库）"
        ) from error
    finally:
        engine.dispose()
    return schema, tables


def _pg_restore(source: Path, url: str, force: bool) -> None:
    target = _libpq(url)
    _tool("psql")
    _known(_pg_revision(source, target), str(source))
    schema, tables = _pg_tables(url)
    _refuse_data(tables, force)
    with tempfile.TemporaryDirectory(prefix="nianjian-restore-") as folder:
        script = Path(folder) / "restore.sql"
        _run(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(source)],
            target.env,
            "pg_restore 读取备份",
        )
        drop = (
            "DROP TABLE IF EXISTS "
            + ", ".join(f'"{schema}"."{name}"' for name in sorted(tables))
            + " CASCADE"
            if tables
            else "SELECT 1"
        )
        # One transaction: the old tables go and the backup's arrive together, or nothing changes.
        _run(
            [
                _tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",
                f"--dbname={target.conninfo}",
                f"--command={drop}",
                f"--file={script}",
            ],
            target.env,
            "psql 恢复",
        )

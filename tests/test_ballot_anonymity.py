"""Ballots no one can tie to their voters (issue 19, point 1), tested as an attacker would.

Two worlds run the same script through the signed webhook — members bind, vote (one on an open place,
one by typing the answers' words, one going back a question, some of WeChat's retries), one is still
answering at the end — except that two voters' answers and suggestions are swapped. Then everything
someone with full access to the storage can read is taken from each world: every row of every table
with its system columns (SQLite: in ``rowid`` order; PostgreSQL: the transactions that wrote, locked or
deleted it — ``xmin``, ``xmax`` — by rank, which tells the order transactions ran in, and ``cmin``),
every key and value of Redis (or of the process's state), the log, and a backup made with `nianjian
backup` (its raw bytes too, on SQLite). Masking only times, the random codes and message ids and the
ballots' random ids, the two worlds must read the same — the ballots as a multiset, since their order
is random. Besides: every cast rewrites the evaluation's whole ballot set (all ids new, on PostgreSQL
one ``xmin`` for all), and their physical order (``ctid``, ``rowid``) is not the order they were cast in.

On PostgreSQL the rows are compared in any order: where an updated row's new version lands depends on
page pruning, which a background writer holding the page can put off, so ``ctid`` order is not the
same from one run to the next even for the same script; the order of the writes is what the ranks of
``xmin`` and ``xmax`` tell, and they are compared.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine, MetaData, func, select, text
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.cli import main
from chatbot.inspection import evaluations
from chatbot.inspection.evaluations import voter_hash
from chatbot.store.engine import make_engine, session_factory
from chatbot.store.models import Account, Ballot, Evaluation, EvaluationVoter
from chatbot.store.state import MemoryStateStore
from chatbot.wechat.protocol import body_digest
from chatbot.wechat.simulator import Simulator
from dialogs.parsing import normalise
from tests.conftest import APP_ID, TOKEN, Backend, make_config, reset_postgres, transport_for
from tests.helpers import setup_county

SECRET = "test-secret"  # the conftest's SECRET_KEY: voters' keyed hashes are made with it
SATISFACTION = {1: "满意", 2: "基本满意", 3: "不满意"}
TRUST = {1: "信任", 2: "基本信任", 3: "不信任"}


@dataclass(frozen=True)
class Profile:
    """What one voter answers: the eight rated questions of a village union's ballot, a suggestion."""

    answers: tuple[int, ...]
    suggestion: str


PROFILES = [
    Profile((1, 1, 1, 1, 1, 1, 1, 1), "希望多组织文体活动"),
    Profile((2, 1, 2, 1, 2, 1, 2, 1), "无"),
    Profile((3, 3, 3, 3, 3, 3, 3, 3), "主席挪用经费，我是张三"),
    Profile((1, 2, 3, 1, 2, 3, 1, 2), "职工书屋开放时间太短"),
    Profile((2, 2, 2, 2, 2, 2, 2, 2), "建议每季度公开经费收支"),
    Profile((1, 1, 1, 1, 1, 1, 3, 3), "慰问金发放不透明"),
    Profile((3, 2, 1, 3, 2, 1, 3, 2), "食堂伙食有待改善"),
    Profile((2, 3, 2, 3, 2, 3, 2, 3), "希望增加技能培训"),
]
#: The two voters whose answers and suggestions change places in the second world.
SWAPPED = (2, 5)
OPEN_PLACE, BY_WORDS, GOES_BACK = 1, 2, 4  # voters with a behaviour of their own
RETRIED = {0, 3, 5}  # voters some of whose messages WeChat sends twice
TIME = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?")
MSG_ID = re.compile(r"msg:(\d+)")
BALLOT_ID = re.compile(r"^[0-9a-f]{32}\t")  # a ballot's line in a dump starts with its random id


def profiles(swap: bool) -> list[Profile]:
    found = list(PROFILES)
    if swap:
        a, b = SWAPPED
        found[a], found[b] = found[b], found[a]
    return found


# ---------------------------------------------------------------- one world


@dataclass
class World:
    """One run of the script: its database, its app, and what was seen on the way."""

    url: str
    app: Flask
    engine: Engine
    instance: Path
    #: after each cast: (ids of the ballots before, ids after)
    rewrites: list[tuple[set[str], set[str]]] = field(default_factory=list)
    cast_order: list[str] = field(default_factory=list)
    backup_bytes: bytes = b""

    def cli(self, *args: str) -> str:
        env = {"DATABASE_URL": self.url, "NIANJIAN_INSTANCE": str(self.instance), "SECRET_KEY": "test-secret"}
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    def member(self, openid: str) -> Simulator:
        return Simulator(transport_for(self.app.test_client()), openid, TOKEN, APP_ID)

    def ballot_ids(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(connection.scalars(select(Ballot.id)))


@pytest.fixture
def worlds(backend: Backend, tmp_path: Path) -> Iterator[Any]:
    """Make a world: a fresh database and state (one after the other: PostgreSQL and Redis are shared)."""
    made: list[World] = []

    def make(name: str) -> tuple[World, Backend]:
        for world in made:
            world.app.extensions["nianjian.engine"].dispose()
            world.engine.dispose()
        if backend.name == "sqlite":
            here = replace(backend, database_url=f"sqlite:///{tmp_path / name / 'nianjian.db'}")
        else:
            reset_postgres(backend.database_url)
            here = backend
        backend.flush_state()
        parts = backend.fresh_parts()
        here = replace(here, store=parts["store"], lock=parts["lock"], counter=parts["counter"])
        app = create_app(make_config(here, tmp_path / name), **here.parts())
        engine = make_engine(here.database_url)
        world = World(here.database_url, app, engine, tmp_path / name / "cli")
        made.append(world)
        return world, here

    yield make
    for world in made:
        world.app.extensions["nianjian.engine"].dispose()
        world.engine.dispose()


def _tables(connection) -> list[str]:
    metadata = MetaData()
    metadata.reflect(connection)
    return list(metadata.tables)


def vote(world: World, n: int, profile: Profile, code: str) -> None:
    """Voter ``n`` answers ``profile`` through the webhook, with the behaviour of their own."""
    member = world.member(f"member-{n}")
    retried = n in RETRIED
    if n == OPEN_PLACE:
        assert "【1/9】" in member.say(f"测评 {code}")
    else:
        assert "【1/9】" in member.say("测评")
    for no, value in enumerate(profile.answers, start=1):
        if n == GOES_BACK and no == 3:
            member.say("1")  # a slip, taken back
            assert "【3/9】" in member.say("上一项")
        scale = TRUST if no == len(profile.answers) else SATISFACTION
        reply = member.say(scale[value] if n == BY_WORDS else str(value))
        assert f"【{no + 1}/9】" in reply, reply
        if retried and no == 2:
            member.again()
    before = world.ballot_ids()
    assert "感谢参与" in member.say(profile.suggestion)
    if retried:
        member.again()
    world.rewrites.append((before, world.ballot_ids()))
    world.cast_order.append(profile.suggestion)


def run_script(world: World, swap: bool) -> None:
    with session_factory(world.engine)() as db:
        codes = setup_county(db, 1)
    voters = list(enumerate(profiles(swap)))
    for n, _profile in voters:  # bound before the opening: the electorate is fixed then
        if n != OPEN_PLACE:
            assert "绑定成功" in world.member(f"member-{n}").say(f"绑定 {codes['member1']}")
    still = world.member("member-still-answering")  # a draft, the same in both worlds
    still.say(f"绑定 {codes['member1']}")
    code = world.cli("evaluation", "open", "--org", "U01", "--open", "1").strip().splitlines()[-1]
    for n, profile in voters:
        vote(world, n, profile, code)
    still.say("测评")
    still.say("2")
    still.say("1")


# ---------------------------------------------------------------- what the attacker reads


class Masks:
    """Times, the random codes and WeChat's message ids as placeholders (the same in both worlds)."""

    def __init__(self, engine: Engine) -> None:
        self.codes: dict[str, str] = {}
        with engine.connect() as connection:
            for table in ("invitations", "evaluations"):
                rows = connection.scalars(text(f"SELECT code FROM {table} ORDER BY id"))
                self.codes |= {code: f"<{table} {n}>" for n, code in enumerate(rows)}
            keys = list(connection.scalars(text("SELECT dedup_key FROM inbound_messages")))
        ids = sorted({int(m.group(1)) for key in keys for m in MSG_ID.finditer(key)})
        self.msg_ids = {str(value): f"msg:#{rank}" for rank, value in enumerate(ids)}

    def __call__(self, value: Any) -> str:
        if isinstance(value, datetime | date):
            return "<time>"
        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        shown = TIME.sub("<time>", shown)
        shown = MSG_ID.sub(lambda m: self.msg_ids.get(m.group(1), "msg:?"), shown)
        for code, name in self.codes.items():
            shown = shown.replace(code, name)
        return shown


Rows = dict[str, list[tuple[str, ...]]]


def read_tables(engine: Engine, masks: Masks) -> Rows:
    """Every row of every table with its system columns — on SQLite the rowid, rows in its order; on
    PostgreSQL the transaction ids that wrote (xmin), locked or deleted (xmax) each row replaced by their
    rank (what they tell is the order transactions ran in) and the command within it (cmin), rows
    sorted (see above). The ballots' random ids are masked and, their order being random, sorted."""
    postgres = engine.dialect.name == "postgresql"
    raw: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in _tables(connection):
            if postgres:
                columns = "xmin::text::bigint, xmax::text::bigint, cmin::text::bigint, t.*"
                query = f'SELECT {columns} FROM "{table}" t'
            else:
                query = f'SELECT rowid, * FROM "{table}" ORDER BY rowid'
            raw[table] = [tuple(row) for row in connection.execute(text(query))]
    xids = sorted({x for rows in raw.values() for row in rows for x in row[:2] if postgres and x})
    rank = {x: n + 1 for n, x in enumerate(xids)}
    seen: Rows = {}
    for table, rows in raw.items():
        system = 3 if postgres else 1
        masked = []
        for row in rows:
            head = (
                (str(rank.get(row[0], 0)), str(rank.get(row[1], 0)), str(row[2]))
                if postgres
                else (str(row[0]),)
            )
            values = tuple(masks(v) for v in row[system:])
            if table == "ballots":  # their places (rowid; cmin, the command within the
                head = head[:2] if postgres else ()  # transaction) are random: checked on their own
                values = ("<ballot id>", *values[1:])
            masked.append(head + values)
        seen[table] = sorted(masked) if table == "ballots" or postgres else masked
    return seen


def message_digests(engine: Engine) -> set[str]:
    """What a signed query may be remembered with: a digest of a handled message's sender and dedup
    key (chatbot.wechat.protocol.identity) — nothing of what the message said."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT openid, dedup_key FROM inbound_messages")).all()
    return {body_digest(f"{openid}\n{key}".encode()) for openid, key in rows}


def _signed_query(key: str, value: str, allowed: set[str]) -> tuple[str, str] | None:
    """A remembered signed query (its key hashes the query's timestamp, nonce and signature: times),
    masked once its value is shown to be a message digest."""
    if "signed:" not in key:
        return None
    assert value in allowed, (key, value)  # never a digest of the body, which holds the answer
    return "<signed query>", "<message digest>"


def read_state(here: Backend, masks: Masks, allowed: set[str]) -> list[tuple[str, str]]:
    """Every Redis key with its type and value (TTLs are times), or the process's state, counters and
    kept values."""
    if here.redis_client is None:
        assert isinstance(here.store, MemoryStateStore)
        entries = [(key, value) for key, (_expires, value) in here.store._data.items()]
        counts = getattr(here.counter, "_counts", {})
        entries += [(key, str(value)) for key, (_expires, value) in counts.items()]
        kept = getattr(here.counter, "_values", {})
        entries += [(key, str(value)) for key, (_expires, value) in kept.items()]
        return sorted(
            _signed_query(key, value, allowed) or (masks(key), masks(value)) for key, value in entries
        )
    client = here.redis_client
    readers = {
        "string": client.get,
        "hash": client.hgetall,
        "list": lambda key: client.lrange(key, 0, -1),
        "set": lambda key: sorted(client.smembers(key)),
        "zset": lambda key: client.zrange(key, 0, -1, withscores=True),
    }
    found = []
    for key in client.scan_iter():
        kind = client.type(key).decode()
        value = readers[kind](key)
        signed = _signed_query(key.decode(), value.decode() if isinstance(value, bytes) else "", allowed)
        found.append(signed or (masks(key), f"{kind} {masks(value)}"))
    return sorted(found)


def read_backup(world: World, masks: Masks, folder: Path) -> tuple[list[str], bytes]:
    """A backup made with `nianjian backup`: its rows as the attacker reads them (a PostgreSQL dump as
    SQL text, lines sorted since the ballots' lines come in random order; a SQLite file by rowid, the
    ballots sorted) and its raw bytes."""
    file = folder / "backup.bin"
    world.cli("backup", "--out", str(file))
    raw = file.read_bytes()
    if world.engine.dialect.name == "postgresql":
        sql = subprocess.run(
            ["pg_restore", "-f", "-", str(file)], check=True, capture_output=True, text=True
        ).stdout
        lines = [BALLOT_ID.sub("<ballot id>\t", masks(line)) for line in sql.splitlines() if _data(line)]
        return sorted(lines), raw
    lines, ballots = [], []
    with sqlite3.connect(file) as connection:
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in connection.execute(f'SELECT rowid, * FROM "{table}" ORDER BY rowid'):
                if table == "ballots":
                    ballots.append(repr(tuple(masks(v) for v in row[2:])))
                else:
                    lines.append(f"{table} {tuple(masks(v) for v in row)!r}")
    return lines + sorted(ballots), raw


def _data(line: str) -> bool:
    """A line of a dump that holds data or schema: not a comment, nor pg_dump's random \\restrict key."""
    return bool(line) and not line.startswith(("--", "\\restrict", "\\unrestrict"))


@dataclass
class Seen:
    """Everything an attacker with full access to the storage reads in one world, masked."""

    tables: Rows
    state: list[tuple[str, str]]
    log: list[str]
    backup: list[str]


def attacker_view(world: World, here: Backend, caplog: pytest.LogCaptureFixture, folder: Path) -> Seen:
    masks = Masks(world.engine)
    log = [f"{r.name} {r.levelname} {masks(r.getMessage())}" for r in caplog.records]
    folder.mkdir(parents=True, exist_ok=True)
    backup, world.backup_bytes = read_backup(world, masks, folder)
    state = read_state(here, masks, message_digests(world.engine))
    return Seen(read_tables(world.engine, masks), state, log, backup)


# ---------------------------------------------------------------- the test


def test_nothing_stored_tells_which_answers_a_voter_gave(
    backend: Backend, worlds, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[Seen] = []
    made: list[World] = []
    for name, swap in (("first", False), ("swapped", True)):
        world, here = worlds(name)
        caplog.clear()  # the schema's migration, logged once per process, is no part of the script
        run_script(world, swap)
        seen.append(attacker_view(world, here, caplog, tmp_path / name))
        made.append(world)
    first, swapped = seen
    for table in first.tables:
        assert first.tables[table] == swapped.tables[table], table
    assert first.state == swapped.state
    assert first.log == swapped.log
    assert first.backup == swapped.backup
    for world in made:
        check_ballot_set(world)


def check_ballot_set(world: World) -> None:
    """Every cast wrote the whole ballot set again under new ids; the ballots' physical order is not
    the order they were cast in; on PostgreSQL they all carry the last cast's transaction id; the raw
    bytes of a backup (SQLite) hold each suggestion once — no copy left behind by the rewrites."""
    for before, after in world.rewrites:
        assert len(after) == len(before) + 1 and not before & after
    postgres = world.engine.dialect.name == "postgresql"
    order = "ctid" if postgres else "rowid"
    with world.engine.connect() as connection:
        placed = list(connection.scalars(text(f"SELECT suggestion FROM ballots ORDER BY {order}")))
        if postgres:
            assert connection.scalar(text("SELECT count(DISTINCT xmin::text) FROM ballots")) == 1
    cast = [None if s == "无" else normalise(s) for s in world.cast_order]  # stored as typed, NFKC
    assert Counter(placed) == Counter(cast) and placed != cast  # 1 chance in 8! to be in cast order
    if not postgres:  # a file's free space keeps what was deleted, unless it is overwritten
        for suggestion in filter(None, cast):
            assert world.backup_bytes.count(suggestion.encode()) == 1, suggestion
        with world.engine.connect() as connection:
            evaluation = connection.scalar(select(Evaluation.id))
        for n in range(len(PROFILES)):  # a draft's row: the voter's keyed hash, then the answers
            draft = voter_hash(SECRET, evaluation, f"member-{n}") + "["
            assert draft.encode() not in world.backup_bytes, n


# ---------------------------------------------------------------- two casts at once


def test_a_cast_waits_for_another_in_flight_and_neither_ballot_is_lost_or_doubled(
    backend: Backend, app: Flask, user, db: Session, cli
) -> None:
    """Another process casts a ballot and has not committed when a voter's cast arrives: the turn waits
    for it and then rewrites the whole set — three ballots, each once (without the wait both rewrites
    would keep the first ballot: four)."""
    codes = setup_county(db, 1)
    db.close()
    first, second, third = (user(f"member-{n}") for n in range(3))
    for member in (first, second, third):
        member.say(f"绑定 {codes['member1']}")
    code = cli("evaluation", "open", "--org", "U01").strip().splitlines()[-1]
    for member in (first, second, third):
        member.say("测评")
        for _ in range(8):
            member.say("2")
    assert "感谢参与" in first.say("第一张")
    engine: Engine = app.extensions["nianjian.engine"]
    elsewhere = make_engine(backend.database_url)
    replies: list[str] = []
    try:
        with session_factory(elsewhere)() as other, other.begin():
            evaluation_id = other.scalar(select(Evaluation.id).where(Evaluation.code == code))
            assert evaluation_id is not None
            caller = other.scalar(select(Account).where(Account.openid == third.openid))
            assert caller is not None
            now = datetime.now(UTC)
            evaluation, where = evaluations.admit(other, evaluation_id, caller, SECRET, now)
            evaluations.cast(other, evaluation, where, (2,) * 8, "第三张")
            sender = threading.Thread(target=lambda: replies.append(second.say("第二张")))
            sender.start()
            wait_until_blocked(elsewhere, backend, sender)
        sender.join(30)
    finally:
        elsewhere.dispose()
    assert replies and "感谢参与" in replies[0], replies
    with engine.connect() as connection:
        placed = sorted(connection.scalars(select(Ballot.suggestion)))
        voters = connection.scalar(select(func.count()).select_from(EvaluationVoter))
    assert placed == sorted(["第一张", "第二张", "第三张"]) and voters == 3


def wait_until_blocked(engine: Engine, backend: Backend, thread: threading.Thread) -> None:
    """Until the turn waits on the open transaction: a lock wait on PostgreSQL; on SQLite, the writer's
    lock (the thread is still alive after it had time to reach its first write)."""
    if backend.name == "sqlite":
        time.sleep(0.5)
    else:
        with engine.connect() as connection:
            for _ in range(500):
                waiting = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                )
                if waiting:
                    break
                time.sleep(0.02)
    assert thread.is_alive(), "the cast finished without waiting for the other one"

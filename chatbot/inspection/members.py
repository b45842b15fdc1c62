"""The member roll (会员名册): entries added or refreshed by imports, read with their phones decrypted.

A phone number is stored encrypted and found by its keyed hash (chatbot.store.personal), never compared
in plaintext: one entry per number in an organisation's roll; importing the roll again refreshes names
and marks the entries as listed (``imported_at``) instead of adding them twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Result, bindparam, select, text
from sqlalchemy.orm import Session

from chatbot.store.models import Member
from chatbot.store.personal import PersonalDataKey, normalise_phone

STAGING = "member_staging"
#: The roll's unique index's order (its hashes are hex: byte order is any collation's, and cheap to sort).
HASH_ORDER = 'phone_hash COLLATE "C", organisation_id'
#: COPY's text format: a backslash, tab, newline or carriage return in a value is written escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class RollEntry(NamedTuple):
    """One row of an import (a tuple: hundreds of thousands are made a file)."""

    organisation_id: int
    name: str
    phone: str


@dataclass(frozen=True)
class RollChange:
    added: int
    refreshed: int


class RollStaging:
    """An import's entries gathered in a temporary table of the session's connection, then merged onto
    the roll by two joins on its unique (organisation, phone hash) index — a plan that needs no
    statistics of the roll, so the roll's size hardly matters. On PostgreSQL one COPY stays open while
    the file streams, fed a batch at a time by a writer thread: the server stores a batch while the
    next one is read, checked, hashed and encrypted (one batch waits at most, so memory stays flat).
    Use it as a context manager (the COPY ends on leaving it, aborted if an error left it), then
    ``merge``."""

    def __init__(self, session: Session, key: PersonalDataKey) -> None:
        self._session, self._key = session, key
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._line = 0
        self._copying = ExitStack()
        self._copy: Any = None
        self._writer: ThreadPoolExecutor | None = None
        self._written: Future[None] | None = None
        session.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
        session.execute(
            text(
                f"CREATE TEMPORARY TABLE {STAGING} (line INTEGER NOT NULL, organisation_id INTEGER NOT NULL,"
                " name VARCHAR(60) NOT NULL, phone_hash VARCHAR(64) NOT NULL, phone_cipher TEXT NOT NULL,"
                " member_id INTEGER)" + (" ON COMMIT DROP" if self._postgres else "")
            )
        )

    def __enter__(self) -> RollStaging:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        pending, self._written = self._written, None
        if self._writer is not None:
            self._writer.shutdown()  # the last batch written
        failure = pending.exception() if pending is not None and error is None else None
        if failure is not None:
            kind, error, trace = type(failure), failure, failure.__traceback__
        self._copy = self._writer = None
        self._copying.__exit__(kind, error, trace)
        if failure is not None:
            raise failure

    def add(self, entries: Sequence[RollEntry]) -> None:
        """Stage a batch: its phones hashed and encrypted together."""
        phones = [p if p.isdigit() and p.isascii() else normalise_phone(p) for _o, _n, p in entries]
        hashes, ciphers = self._key.phone_hashes(phones), self._key.encrypt_many(phones)
        first, self._line = self._line, self._line + len(entries)
        if self._postgres:
            self._write(first, entries, hashes, ciphers)
            return
        self._session.execute(
            text(f"INSERT INTO {STAGING} VALUES (:l, :o, :n, :h, :c, NULL)"),
            [
                {"l": first + n, "o": entry.organisation_id, "n": entry.name, "h": digest, "c": cipher}
                for n, (entry, digest, cipher) in enumerate(zip(entries, hashes, ciphers, strict=True))
            ],
        )

    def _write(self, first: int, entries: Sequence[RollEntry], hashes: list[str], ciphers: list[str]) -> None:
        """The batch as COPY text in one write (only a name can hold a character COPY escapes)."""
        if self._copy is None:
            driver = self._session.connection().connection.driver_connection
            cursor = self._copying.enter_context(driver.cursor())  # type: ignore[union-attr]
            columns = "line, organisation_id, name, phone_hash, phone_cipher"
            self._copy = self._copying.enter_context(cursor.copy(f"COPY {STAGING} ({columns}) FROM STDIN"))
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="member-copy")
        lines = [
            f"{first + n}\t{entry.organisation_id}\t{entry.name.translate(_COPY_ESCAPES)}\t{digest}\t{cipher}\n"
            for n, (entry, digest, cipher) in enumerate(zip(entries, hashes, ciphers, strict=True))
        ]
        data = "".join(lines).encode("utf-8")
        if self._written is not None:
            self._written.result()
        self._written = self._writer.submit(self._copy.write, data)

    def merge(self, now: datetime) -> RollChange:
        """Refresh the name and ``imported_at`` of the staged numbers already on their organisation's
        roll; add the others in the file's order; drop the staging table."""
        at = bindparam("now", now, type_=Member.__table__.c.imported_at.type)
        change = self._merge_postgres(at) if self._postgres else self._merge_sqlite(at)
        self._session.execute(text(f"DROP TABLE {STAGING}"))
        return change

    def _merge_sqlite(self, at: BindParameter[datetime]) -> RollChange:
        refreshed = self._session.execute(
            text(
                f"UPDATE members SET name = s.name, imported_at = :now FROM {STAGING} AS s"
                " WHERE members.organisation_id = s.organisation_id AND members.phone_hash = s.phone_hash"
            ).bindparams(at)
        )
        added = self._session.execute(
            text(
                "INSERT INTO members (organisation_id, name, phone_cipher, phone_hash, created_at, imported_at)"
                f" SELECT organisation_id, name, phone_cipher, phone_hash, :now, :now FROM {STAGING}"
                " WHERE true ORDER BY line ON CONFLICT (organisation_id, phone_hash) DO NOTHING"
            ).bindparams(at)
        )
        return RollChange(_count(added), _count(refreshed))

    def _merge_postgres(self, at: BindParameter[datetime]) -> RollChange:
        """Each staged row first finds its member (one hash join: the roll read once, whatever its
        statistics). The roll's rows are then written in the order of its unique index (phone hash,
        organisation), so each index page is visited once rather than at random through the whole
        index: the refreshed by their ids, and the new ones with ids drawn in the file's order."""
        run = self._session.execute
        # Analyzed before member_id is set, "member_id IS NOT NULL" looks rare to the planner: the
        # refresh then probes the ids by the primary key in the order given, not by a hash join.
        run(text(f"ANALYZE {STAGING}"))
        run(text("SET LOCAL work_mem = '64MB'"))
        sequence = str(run(text("SELECT pg_get_serial_sequence('members', 'id')")).scalar_one())
        ids = "'" + sequence.replace("'", "''") + "'"  # a literal: resolved once, not on every row
        run(
            text(
                f"UPDATE {STAGING} AS s SET member_id = m.id FROM members AS m"
                " WHERE m.phone_hash = s.phone_hash AND m.organisation_id = s.organisation_id"
            )
        )
        refreshed = run(
            text(
                "UPDATE members SET name = s.name, imported_at = :now FROM (SELECT member_id, name"
                f" FROM {STAGING} WHERE member_id IS NOT NULL ORDER BY {HASH_ORDER}) AS s"
                " WHERE members.id = s.member_id"
            ).bindparams(at)
        )
        added = run(
            text(
                "INSERT INTO members (id, organisation_id, name, phone_cipher, phone_hash, created_at,"
                " imported_at) SELECT id, organisation_id, name, phone_cipher, phone_hash, :now, :now"
                f" FROM (SELECT nextval({ids}) AS id, *"
                f" FROM (SELECT * FROM {STAGING} WHERE member_id IS NULL ORDER BY line) AS listed) AS numbered"
                f" ORDER BY {HASH_ORDER} ON CONFLICT (organisation_id, phone_hash) DO NOTHING"
            ).bindparams(at)
        )
        return RollChange(_count(added), _count(refreshed))


def _count(result: Result[Any]) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


def import_roll(
    session: Session,
    key: PersonalDataKey,
    entries: Iterable[Sequence[RollEntry]],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> RollChange:
    """Add the entries (given in batches) not yet on their organisation's roll; refresh the name and
    ``imported_at`` of those already there (same number, same organisation)."""
    with RollStaging(session, key) as staging:
        for batch in entries:
            staging.add(batch)
            if progress:
                progress(len(batch))
    return staging.merge(now)


def roll(session: Session, key: PersonalDataKey, organisation_id: int) -> list[tuple[str, str]]:
    """(name, phone) of every member on an organisation's roll, phones decrypted, in import order."""
    rows = session.execute(
        select(Member.name, Member.phone_cipher)
        .where(Member.organisation_id == organisation_id)
        .order_by(Member.id)
    ).all()
    return [(name, key.decrypt(cipher)) for name, cipher in rows]


def with_phone(
    session: Session, key: PersonalDataKey, phone: str, organisation_id: int | None = None
) -> list[Member]:
    """The roll entries with this number (in every organisation, or one), found by the keyed hash."""
    query = select(Member).where(Member.phone_hash == key.phone_hash(phone))
    if organisation_id is not None:
        query = query.where(Member.organisation_id == organisation_id)
    return list(session.scalars(query.order_by(Member.id)))

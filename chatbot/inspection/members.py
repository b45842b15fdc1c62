"""The member roll (会员名册): entries added or refreshed by imports, read with their phones decrypted.

A phone number is stored encrypted and found by its keyed hash (chatbot.store.personal), never compared
in plaintext: one entry per number in an organisation's roll; importing the roll again refreshes names
and marks the entries as listed (``imported_at``) instead of adding them twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Result, bindparam, select, text
from sqlalchemy.orm import Session

from chatbot.store.models import Member
from chatbot.store.personal import PersonalDataKey, normalise_phone

STAGING = "member_staging"


@dataclass(frozen=True)
class RollEntry:
    organisation_id: int
    name: str
    phone: str


@dataclass(frozen=True)
class RollChange:
    added: int
    refreshed: int


class RollStaging:
    """An import's entries gathered in a temporary table of the session's connection (COPY on
    PostgreSQL), then merged onto the roll by two joins on its unique (organisation, phone hash) index
    — a plan that needs no statistics of the roll, so the roll's size hardly matters."""

    def __init__(self, session: Session, key: PersonalDataKey) -> None:
        self._session, self._key = session, key
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._line = 0
        session.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
        session.execute(
            text(
                f"CREATE TEMPORARY TABLE {STAGING} (line INTEGER NOT NULL, organisation_id INTEGER NOT NULL,"
                " name VARCHAR(60) NOT NULL, phone_hash VARCHAR(64) NOT NULL, phone_cipher TEXT NOT NULL)"
                + (" ON COMMIT DROP" if self._postgres else "")
            )
        )

    def add(self, entries: Sequence[RollEntry]) -> None:
        """Stage a batch: its phones hashed and encrypted together."""
        phones = [normalise_phone(entry.phone) for entry in entries]
        rows = [
            (self._line + n, entry.organisation_id, entry.name, digest, cipher)
            for n, (entry, digest, cipher) in enumerate(
                zip(entries, self._key.phone_hashes(phones), self._key.encrypt_many(phones), strict=True)
            )
        ]
        self._line += len(rows)
        if self._postgres:
            self._copy(rows)
        else:
            self._session.execute(
                text(f"INSERT INTO {STAGING} VALUES (:l, :o, :n, :h, :c)"),
                [{"l": r[0], "o": r[1], "n": r[2], "h": r[3], "c": r[4]} for r in rows],
            )

    def _copy(self, rows: list[tuple[int, int, str, str, str]]) -> None:
        driver = self._session.connection().connection.driver_connection
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            columns = "line, organisation_id, name, phone_hash, phone_cipher"
            with cursor.copy(f"COPY {STAGING} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def merge(self, now: datetime) -> RollChange:
        """Refresh the name and ``imported_at`` of the staged numbers already on their organisation's
        roll; add the others in the file's order; drop the staging table."""
        at = bindparam("now", now, type_=Member.__table__.c.imported_at.type)
        if self._postgres:  # the join hashes the staged rows in memory rather than in batches on disk
            self._session.execute(text(f"ANALYZE {STAGING}"))
            self._session.execute(text("SET LOCAL work_mem = '64MB'"))
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
        self._session.execute(text(f"DROP TABLE {STAGING}"))
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
    staging = RollStaging(session, key)
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

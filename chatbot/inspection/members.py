"""The member roll (会员名册): entries added or refreshed by imports, read with their phones decrypted.

A phone number is stored encrypted and found by its keyed hash (chatbot.store.personal), never compared
in plaintext: one entry per number in an organisation's roll; importing the roll again refreshes names
and marks the entries as listed (``imported_at``) instead of adding them twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.orm import Session

from chatbot.store.models import Member
from chatbot.store.personal import PersonalDataKey, normalise_phone

CHUNK = 2000


@dataclass(frozen=True)
class RollEntry:
    organisation_id: int
    name: str
    phone: str


@dataclass(frozen=True)
class RollChange:
    added: int
    refreshed: int


def import_roll(
    session: Session,
    key: PersonalDataKey,
    entries: Sequence[RollEntry],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> RollChange:
    """Add the entries not yet on their organisation's roll; refresh the name and ``imported_at`` of
    those already there (same number, same organisation). Chunked: one read and two writes a chunk."""
    added = refreshed = 0
    for start in range(0, len(entries), CHUNK):
        chunk = {(e.organisation_id, key.phone_hash(e.phone)): e for e in entries[start : start + CHUNK]}
        known = {
            (org_id, digest): member_id
            for org_id, digest, member_id in session.execute(
                select(Member.organisation_id, Member.phone_hash, Member.id).where(
                    tuple_(Member.organisation_id, Member.phone_hash).in_(list(chunk))
                )
            )
        }
        new = [
            {
                "organisation_id": entry.organisation_id,
                "name": entry.name,
                "phone_cipher": key.encrypt(normalise_phone(entry.phone)),
                "phone_hash": digest,
                "created_at": now,
                "imported_at": now,
            }
            for (org_id, digest), entry in chunk.items()
            if (org_id, digest) not in known
        ]
        if new:
            session.execute(insert(Member), new)
        again = [
            {"id": member_id, "name": chunk[pair].name, "imported_at": now}
            for pair, member_id in known.items()
        ]
        if again:
            session.execute(update(Member), again)
        added, refreshed = added + len(new), refreshed + len(again)
        if progress:
            progress(min(CHUNK, len(entries) - start))
    return RollChange(added, refreshed)


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

"""The versions of each rubric sheet: the shipped TOML sheet is a key's first version, a federation's
imports (`nianjian rubrics import`, or the console's upload) the next ones, stored in ``rubric_versions``. A campaign year pins
the latest version of each sheet when it opens; an inspection keeps the version it was made with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.inspection.errors import AdminError
from chatbot.store.models import Campaign, Inspection, RubricVersion
from rubrics import Rubric, get_rubric
from rubrics.loader import RUBRIC_KEYS
from rubrics.versions import Change, SheetRow, changes, sheet_from_rows

_MEMO = "rubric_versions"
#: The longest version label (``RubricVersion.version``).
LABEL_MAX = 32


@dataclass(frozen=True)
class VersionInfo:
    """One version of a sheet as listed: the shipped one has no date and no author."""

    rubric: Rubric
    created_at: datetime | None
    created_by: str
    origin: str

    @property
    def shipped(self) -> bool:
        return self.created_at is None


def _memo(session: Session) -> dict[tuple[str, str], Rubric]:
    memo: dict[tuple[str, str], Rubric] = session.info.setdefault(_MEMO, {})
    return memo


def rubric_for(session: Session, key: str, version: str) -> Rubric:
    """The sheet ``key`` in ``version``: the shipped sheet, or a stored version (read once per
    session). A label never stored (an inspection made before versions were stored, under an older
    label of the shipped sheet) is the shipped sheet, as it always was."""
    shipped = get_rubric(key)
    if not version or version == shipped.version:
        return shipped
    memo = _memo(session)
    if (key, version) not in memo:
        row = session.scalar(
            select(RubricVersion).where(RubricVersion.rubric_key == key, RubricVersion.version == version)
        )
        memo[(key, version)] = shipped if row is None else Rubric.from_dict(row.sheet, shipped.source)
    return memo[(key, version)]


def rubric_of(session: Session, inspection: Inspection) -> Rubric:
    """The sheet an inspection was made with, to its end."""
    return rubric_for(session, inspection.rubric_key, inspection.rubric_version)


def latest(session: Session, key: str) -> Rubric:
    """The newest version of sheet ``key``: the last imported, else the shipped sheet."""
    version = session.scalar(
        select(RubricVersion.version)
        .where(RubricVersion.rubric_key == key)
        .order_by(RubricVersion.id.desc())
        .limit(1)
    )
    return rubric_for(session, key, version or "")


def versions(session: Session, key: str) -> list[VersionInfo]:
    """Every version of sheet ``key``, oldest first (the shipped one first)."""
    found = [VersionInfo(get_rubric(key), None, "", "")]
    rows = session.scalars(
        select(RubricVersion).where(RubricVersion.rubric_key == key).order_by(RubricVersion.id)
    )
    for row in rows:
        rubric = Rubric.from_dict(row.sheet, get_rubric(key).source)
        found.append(VersionInfo(rubric, row.created_at, row.created_by, row.origin))
    return found


#: A version label of the form the service gives: a year and a running number (2026.1, 2026.12).
NUMBERED_LABEL = re.compile(r"(\d{4})\.(\d+)")


def next_label(session: Session, key: str, year: int) -> str:
    """A label for a new version: the year and a running number (2026.1, 2026.2 …), never taken and
    never below a label already given (after 2027.1, the next in 2026 is 2027.2; after 2026.9, 2026.10),
    so that the newest version always has the highest label."""
    taken = {info.rubric.version for info in versions(session, key)}
    numbered = [(int(m[1]), int(m[2])) for label in taken if (m := NUMBERED_LABEL.fullmatch(label))]
    year, number = max([(year, 0), *numbered])
    number += 1
    while f"{year}.{number}" in taken:
        number += 1
    return f"{year}.{number}"


def store(session: Session, rubric: Rubric, actor: str, origin: str = "") -> RubricVersion:
    """Store ``rubric`` as a new version of its sheet (audited); AdminError if its label is taken."""
    if rubric.key not in RUBRIC_KEYS:
        raise AdminError(f"没有代号为 {rubric.key} 的考评标准。")
    if taken(session, rubric.key, rubric.version):
        raise AdminError(f"考评标准 {rubric.key} 已有版本 {rubric.version}，请换一个版本号。")
    row = RubricVersion(
        rubric_key=rubric.key,
        version=rubric.version,
        sheet=rubric.to_dict() | {"source": rubric.source},
        created_by=actor,
        origin=origin[:200],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "import",
        "rubric_version",
        row.id,
        after={
            "key": rubric.key,
            "version": rubric.version,
            "items": rubric.item_count,
            "max_total": rubric.max_total,
            "origin": origin,
        },
    )
    _memo(session)[(rubric.key, rubric.version)] = rubric
    return row


def pin_latest(session: Session, campaign: Campaign) -> None:
    """Pin the newest version of every sheet on a campaign that has just opened."""
    campaign.rubric_versions = {key: latest(session, key).version for key in RUBRIC_KEYS}


def pinned(campaign: Campaign, key: str) -> str:
    """The version of sheet ``key`` a campaign's inspections are made with."""
    return (campaign.rubric_versions or {}).get(key) or get_rubric(key).version


def used_by(session: Session, key: str) -> dict[str, int]:
    """How many inspections use each version of sheet ``key``."""
    rows = session.execute(
        select(Inspection.rubric_version, func.count())
        .where(Inspection.rubric_key == key)
        .group_by(Inspection.rubric_version)
    )
    return {version: count for version, count in rows}


@dataclass(frozen=True)
class Proposal:
    """A sheet read from a federation's spreadsheet, checked, and what it changes from the current
    version: what `nianjian rubrics import` and the console's upload show before storing it."""

    current: Rubric
    new: Rubric
    changes: tuple[Change, ...]

    @property
    def unchanged(self) -> bool:
        return not self.changes and self.new.title == self.current.title

    @property
    def lines(self) -> tuple[str, ...]:
        """Every difference as people read it, the sheet's new name last."""
        found = [change.line for change in self.changes]
        if self.new.title != self.current.title:
            found.append(f"名称：{self.current.title} → {self.new.title}")
        return tuple(found)

    @property
    def note(self) -> str:
        """A word on a total other than 100 ("" when it is 100)."""
        total = self.new.max_total
        return "" if total == 100 else f"提示：满分 {total} 分，不是 100 分，按百分制折算。"


def propose(session: Session, key: str, rows: list[SheetRow], title: str, label: str, year: int) -> Proposal:
    """The rows checked as the next version of sheet ``key`` (labelled ``label``, else the year's next
    label) against its current version. SheetRejected with every problem; AdminError for a label
    too long."""
    current = latest(session, key)
    label = label.strip() or next_label(session, key, year)
    if len(label) > LABEL_MAX:
        raise AdminError(f"版本号过长（最多 {LABEL_MAX} 个字符）。")
    new = sheet_from_rows(rows, current, label, title)
    return Proposal(current, new, tuple(changes(current, new)))


def taken(session: Session, key: str, label: str) -> bool:
    """Whether sheet ``key`` has a version labelled ``label`` (the shipped one included)."""
    return any(info.rubric.version == label for info in versions(session, key))


def lock(session: Session, key: str) -> None:
    """Hold sheet ``key``'s versions for the rest of the transaction, before reading them: two stores
    compared with the same current version go one after the other, so the second sees the first's
    version. PostgreSQL: an advisory lock on the sheet; SQLite: its one writer's lock, taken by a
    write that changes nothing."""
    if session.get_bind().dialect.name == "postgresql":
        name = f"rubric_versions:{key}"
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
    else:
        session.execute(text("UPDATE rubric_versions SET origin = origin WHERE 1 = 0"))

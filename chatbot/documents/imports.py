"""Imports at scale: organisations and members from CSV or XLSX.

Every bad row is reported with its line number and reason, and then nothing is imported. Valid files
are inserted in bulk (10,000 organisations or 100,000 members in seconds), with a progress callback.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.inspection.errors import AdminError
from chatbot.inspection.organisations import OrgRow, check_row
from chatbot.inspection.queries import open_campaign
from chatbot.store.models import Inspection, Member, Organisation
from rubrics import get_rubric
from rubrics.lifecycle import InspectionState

ORG_COLUMNS = ("code", "name", "rubric", "parent", "members")
MEMBER_COLUMNS = ("name", "phone", "organisation")
CHUNK = 5000
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class MemberRow:
    name: str
    phone: str
    organisation: str


def read_table(
    path: Path, required: Iterable[str], columns: Iterable[str]
) -> list[tuple[int, dict[str, str]]]:
    """(line number, values by column) for every non-empty row of a CSV or XLSX file with a header."""
    if path.suffix.lower() == ".xlsx":
        sheet = load_workbook(path, read_only=True, data_only=True).active
        rows: Iterable[Iterable[object]] = sheet.iter_rows(values_only=True)
    else:
        rows = csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")))
    iterator = iter(rows)
    try:
        header = [str(cell or "").strip().lower() for cell in next(iterator)]
    except StopIteration:
        raise AdminError(f"{path.name}: empty file") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise AdminError(
            f"{path.name}: line 1: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}"
        )
    table = []
    for line, cells in enumerate(iterator, start=2):
        values = [_text(cell) for cell in cells]
        record = {name: values[i] if i < len(values) else "" for i, name in enumerate(header)}
        if any(record.values()):
            table.append((line, record))
    return table


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _refuse(path: Path, errors: list[str]) -> None:
    shown = errors[:200]
    more = f"\n… and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
    raise AdminError(f"{path.name}: nothing imported, {len(errors)} bad row(s):\n" + "\n".join(shown) + more)


def read_codes(path: Path) -> tuple[str, ...]:
    """Organisation codes from a list: a text file with one code per line, or a CSV/XLSX whose header
    has a ``code`` column."""
    if path.suffix.lower() in (".csv", ".xlsx"):
        return tuple(
            values["code"] for _line, values in read_table(path, ("code",), ("code",)) if values["code"]
        )
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    return tuple(code for code in (line.strip() for line in lines) if code and not code.startswith("#"))


# ---------------------------------------------------------------- organisations


def parse_orgs(path: Path) -> list[tuple[int, OrgRow]]:
    errors: list[str] = []
    parsed: list[tuple[int, OrgRow]] = []
    seen: dict[str, int] = {}
    for line, values in read_table(path, ("code", "name"), ORG_COLUMNS):
        try:
            row = OrgRow(
                values["code"],
                values["name"],
                values.get("rubric") or None,
                values.get("parent") or None,
                _whole(values.get("members", ""), "members"),
            )
            check_row(row)
            if row.code in seen:
                raise AdminError(f"code {row.code} already on line {seen[row.code]}")
            seen[row.code] = line
            parsed.append((line, row))
        except AdminError as error:
            errors.append(f"line {line}: {error}")
    if errors:
        _refuse(path, errors)
    return parsed


def _whole(value: str, name: str) -> int | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.5
    if number < 0 or number != int(number):
        raise AdminError(f"{name} must be a whole number ≥ 0, got {value!r}")
    return int(number)


def import_orgs(
    session: Session,
    path: Path,
    rows: list[tuple[int, OrgRow]],
    actor: str = "cli",
    progress: Progress | None = None,
) -> int:
    """Check every row against the database and the file, then insert all, parents first."""
    known: dict[str, tuple[int, bool]] = {
        code: (org_id, rubric is not None)
        for code, org_id, rubric in session.execute(
            select(Organisation.code, Organisation.id, Organisation.rubric_key)
        )
    }
    in_file = {row.code: row for _line, row in rows}
    errors = []
    for line, row in rows:
        if row.code in known:
            errors.append(f"line {line}: organisation {row.code} already exists")
        if row.parent:
            parent = in_file.get(row.parent)
            if parent is None and row.parent not in known:
                errors.append(f"line {line}: parent {row.parent} does not exist")
        elif row.rubric:
            errors.append(f"line {line}: a grassroots union needs a parent (its evaluator)")
    cyclic = _levels(rows, known)
    errors += [f"line {line}: parent {row.parent} is never reached (a cycle?)" for line, row in cyclic]
    if errors:
        _refuse(path, errors)
    campaign = open_campaign(session)
    if campaign is not None and campaign.scoped:
        campaign = None  # a campaign narrowed to a list: new unions do not join it
    done = 0
    for level in _levels(rows, known, collect=True):
        for start in range(0, len(level), CHUNK):
            chunk = level[start : start + CHUNK]
            session.execute(
                insert(Organisation),
                [
                    {
                        "code": r.code,
                        "name": r.name.strip(),
                        "rubric_key": r.rubric,
                        "member_count": r.members,
                        "parent_id": known[r.parent][0] if r.parent else None,
                    }
                    for r in chunk
                ],
            )
            ids = dict(
                session.execute(
                    select(Organisation.code, Organisation.id).where(
                        Organisation.code.in_([r.code for r in chunk])
                    )
                ).all()
            )
            for r in chunk:
                known[r.code] = (ids[r.code], r.rubric is not None)
            if campaign is not None:
                grassroots = [r for r in chunk if r.rubric]
                if grassroots:
                    session.execute(
                        insert(Inspection),
                        [
                            {
                                "campaign_id": campaign.id,
                                "organisation_id": ids[r.code],
                                "rubric_key": r.rubric,
                                "rubric_version": get_rubric(r.rubric).version,
                                "state": InspectionState.NOT_STARTED.value,
                            }
                            for r in grassroots
                            if r.rubric is not None
                        ],
                    )
            done += len(chunk)
            if progress:
                progress(len(chunk))
    audit.record(session, actor, "import", "organisation", None, after={"file": path.name, "count": done})
    return done


def _levels(rows: list[tuple[int, OrgRow]], known: dict[str, tuple[int, bool]], collect: bool = False):
    """Rows grouped so that each parent comes in an earlier group; with ``collect`` False, the rows that
    can never be placed."""
    placed = set(known)
    pending = [row for _line, row in rows]
    lines = {row.code: line for line, row in rows}
    levels: list[list[OrgRow]] = []
    while pending:
        ready = [r for r in pending if not r.parent or r.parent in placed]
        if not ready:
            break
        levels.append(ready)
        placed.update(r.code for r in ready)
        ready_codes = {r.code for r in ready}
        pending = [r for r in pending if r.code not in ready_codes]
    if collect:
        return levels
    return [(lines[r.code], r) for r in pending]


# ---------------------------------------------------------------- members


def mask_phone(phone: str) -> str:
    """138****5678: how a phone number appears in every screen and export."""
    digits = phone.replace("-", "")
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) > 7 else "****"


def parse_members(session: Session, path: Path) -> list[tuple[int, MemberRow, int]]:
    """(line, row, organisation id) for every row, or AdminError listing every bad line."""
    orgs = dict(session.execute(select(Organisation.code, Organisation.id)).all())
    errors: list[str] = []
    parsed: list[tuple[int, MemberRow, int]] = []
    for line, values in read_table(path, MEMBER_COLUMNS, MEMBER_COLUMNS):
        row = MemberRow(values["name"], values["phone"].replace(" ", ""), values["organisation"])
        problems = []
        if not row.name or len(row.name) > 60:
            problems.append("the name is empty or longer than 60 characters")
        if not (MOBILE.match(row.phone) or LANDLINE.match(row.phone)):
            problems.append(f"phone {mask_phone(row.phone)} is not a mobile or landline number")
        if row.organisation not in orgs:
            problems.append(f"organisation {row.organisation!r} does not exist")
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
        else:
            parsed.append((line, row, orgs[row.organisation]))
    if errors:
        _refuse(path, errors)
    return parsed


def import_members(
    session: Session,
    path: Path,
    rows: list[tuple[int, MemberRow, int]],
    actor: str = "cli",
    progress: Progress | None = None,
) -> int:
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        session.execute(
            insert(Member),
            [
                {"organisation_id": org_id, "name": row.name, "phone": row.phone}
                for _line, row, org_id in chunk
            ],
        )
        if progress:
            progress(len(chunk))
    audit.record(session, actor, "import", "member", None, after={"file": path.name, "count": len(rows)})
    return len(rows)

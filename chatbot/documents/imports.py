"""Imports at scale: organisations and members from CSV or XLSX.

Every bad row is reported with its line number and reason, and then nothing is imported. Valid files
are inserted in bulk (10,000 organisations or 100,000 members in seconds), with a progress callback.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from hashlib import blake2b
from operator import itemgetter
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.inspection.errors import AdminError
from chatbot.inspection.members import RollChange, RollEntry, RollStaging
from chatbot.inspection.organisations import OrgRow, check_row
from chatbot.inspection.queries import open_campaign
from chatbot.inspection.rubric_versions import pinned
from chatbot.store.models import Campaign, Inspection, Organisation
from chatbot.store.personal import PersonalDataKey, mask_phone, normalise_phone
from rubrics.lifecycle import InspectionState

ORG_COLUMNS = ("code", "name", "rubric", "parent", "members")
MEMBER_COLUMNS = ("name", "phone", "organisation")
CHUNK = 5000
SHOWN = 200
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")

Progress = Callable[[int], None]


def read_table(
    path: Path, required: Iterable[str], columns: Iterable[str]
) -> list[tuple[int, dict[str, str]]]:
    """(line number, values by column) for every non-empty row of a CSV or XLSX file with a header."""
    return list(iter_table(path, required, columns))


def iter_table(
    path: Path, required: Iterable[str], columns: Iterable[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """``read_table`` row by row, the file streamed (XLSX read-only): memory flat in the file's size."""
    with _rows(path) as rows:
        iterator = iter(rows)
        header = _header(path, iterator, required, columns)
        width = len(header)
        for line, values in enumerate(iterator, start=2):
            if len(values) < width:
                values += [""] * (width - len(values))
            record = dict(zip(header, values, strict=False))
            if any(record.values()):
                yield line, record


def iter_columns(
    path: Path, required: Sequence[str], columns: Iterable[str]
) -> Iterator[tuple[int, tuple[str, ...]]]:
    """``iter_table`` without a dict a row: (line number, the ``required`` columns' values in their
    order) for every non-empty row — the same rows, for files of hundreds of thousands of them."""
    with _rows(path) as rows:
        iterator = iter(rows)
        header = _header(path, iterator, required, columns)
        width = len(header)
        where = {name: i for i, name in enumerate(header)}  # a name twice: its last column, as dict()
        every = list(where.values())
        pick = itemgetter(*(where[name] for name in required))
        for line, values in enumerate(iterator, start=2):
            if len(values) < width:
                values += [""] * (width - len(values))
            picked = pick(values)
            if any(picked) or any(values[i] for i in every):
                yield line, picked


def _header(
    path: Path, rows: Iterator[list[str]], required: Iterable[str], columns: Iterable[str]
) -> list[str]:
    try:
        header = [str(cell or "").strip().lower() for cell in next(rows)]
    except StopIteration:
        raise AdminError(f"{path.name}：文件是空的") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise AdminError(f"{path.name}：第 1 行缺少列 {'、'.join(missing)}；应有的列：{'、'.join(columns)}")
    return header


@contextmanager
def _rows(path: Path) -> Iterator[Iterator[list[str]]]:
    """The file's rows as lists of cell texts."""
    if path.suffix.lower() == ".xlsx":
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            yield ([_text(cell) for cell in row] for row in book.active.iter_rows(values_only=True))
        finally:
            book.close()
    else:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            yield (list(map(str.strip, row)) for row in csv.reader(stream))


def count_rows(path: Path) -> int:
    """About how many data rows a file holds (for a progress bar), without parsing it."""
    if path.suffix.lower() == ".xlsx":
        book = load_workbook(path, read_only=True)
        try:
            return max((book.active.max_row or 1) - 1, 0)
        finally:
            book.close()
    lines = 0
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _refuse(path: Path, errors: list[str], count: int | None = None) -> None:
    """Refuse the file: its first ``SHOWN`` bad lines and how many more (``count`` of them in all)."""
    count = len(errors) if count is None else count
    shown = errors[:SHOWN]
    more = f"\n……另有 {count - len(shown)} 行有误" if count > len(shown) else ""
    raise AdminError(f"{path.name}：有 {count} 行有误，未导入任何内容：\n" + "\n".join(shown) + more)


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
                raise AdminError(f"代码 {row.code} 已在第 {seen[row.code]} 行出现")
            seen[row.code] = line
            parsed.append((line, row))
        except AdminError as error:
            errors.append(f"第 {line} 行：{error}")
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
        raise AdminError(f"{name} 应为不小于 0 的整数，实为“{value}”")
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
    errors = _row_errors(rows, known)
    if errors:
        _refuse(path, errors)
    campaign = open_campaign(session)
    if campaign is not None and campaign.scoped:
        campaign = None  # a campaign narrowed to a list: new unions do not join it
    done = 0
    for level in _levels(rows, known, collect=True):
        for start in range(0, len(level), CHUNK):
            chunk = level[start : start + CHUNK]
            _insert_chunk(session, chunk, known, campaign)
            done += len(chunk)
            if progress:
                progress(len(chunk))
    audit.record(session, actor, "import", "organisation", None, after={"file": path.name, "count": done})
    return done


def _row_errors(rows: list[tuple[int, OrgRow]], known: dict[str, tuple[int, bool]]) -> list[str]:
    """What is wrong with the rows against the database (``known``) and the file itself."""
    in_file = {row.code: row for _line, row in rows}
    errors = []
    for line, row in rows:
        if row.code in known:
            errors.append(f"第 {line} 行：组织 {row.code} 已存在")
        if row.parent:
            parent = in_file.get(row.parent)
            if parent is None and row.parent not in known:
                errors.append(f"第 {line} 行：上级组织 {row.parent} 不存在")
        elif row.rubric:
            errors.append(f"第 {line} 行：基层工会须有上级组织（由其考评）")
    cyclic = _levels(rows, known)
    return errors + [
        f"第 {line} 行：上级组织 {row.parent} 无法追溯到市总工会（上下级循环？）" for line, row in cyclic
    ]


def _insert_chunk(
    session: Session, chunk: list[OrgRow], known: dict[str, tuple[int, bool]], campaign: Campaign | None
) -> None:
    """Insert the organisations of ``chunk`` (their parents are in ``known``, where they are added),
    and the grassroots unions' inspections in ``campaign``."""
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
            select(Organisation.code, Organisation.id).where(Organisation.code.in_([r.code for r in chunk]))
        ).all()
    )
    for r in chunk:
        known[r.code] = (ids[r.code], r.rubric is not None)
    grassroots = [r for r in chunk if r.rubric]
    if campaign is None or not grassroots:
        return
    session.execute(
        insert(Inspection),
        [
            {
                "campaign_id": campaign.id,
                "organisation_id": ids[r.code],
                "rubric_key": r.rubric,
                "rubric_version": pinned(campaign, r.rubric),
                "state": InspectionState.NOT_STARTED.value,
            }
            for r in grassroots
            if r.rubric is not None
        ],
    )


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


class MemberCheck:
    """The checks of a member file's rows as they stream by: each row's reasons, and a number twice in
    one organisation (remembered by one integer for the pair when the number is a valid one, else by an
    8-byte digest of the pair — never the pair itself). Only the first ``SHOWN`` errors are kept."""

    def __init__(self, orgs: dict[str, int]) -> None:
        self.orgs = orgs
        self.errors: list[str] = []
        self.refused = 0
        self._first_line: dict[int | bytes, int] = {}

    def entry(self, line: int, name: str, phone: str, organisation: str) -> RollEntry | None:
        """The row as a roll entry, or None with its reasons added to ``errors``."""
        if not (phone.isdigit() and phone.isascii()):  # a plain number is its own normal form
            phone = normalise_phone(phone)
        org_id = self.orgs.get(organisation)
        valid = MOBILE.match(phone) is not None or LANDLINE.match(phone) is not None
        pair: int | bytes
        if valid and org_id is not None and phone.isascii():  # ≤ 12 ASCII digits: < 2**40
            pair = (org_id << 44) | (len(phone) << 40) | int(phone)
        else:
            pair = blake2b(f"{organisation}\x1f{phone}".encode(), digest_size=8).digest()
        earlier = self._first_line.setdefault(pair, line)
        if valid and org_id is not None and earlier == line and name and len(name) <= 60:
            return RollEntry(org_id, name, phone)
        problems = []
        if not name or len(name) > 60:
            problems.append("姓名为空或超过 60 个字")
        if not valid:
            problems.append(f"电话 {mask_phone(phone)} 不是有效的手机或固定电话号码")
        if org_id is None:
            problems.append(f"组织 {organisation} 不存在")
        if earlier != line:
            problems.append(f"电话 {mask_phone(phone)} 在本组织中已在第 {earlier} 行出现")
        self.refused += 1
        if len(self.errors) < SHOWN:
            self.errors.append(f"第 {line} 行：" + "；".join(problems))
        return None


def import_members(
    session: Session,
    path: Path,
    key: PersonalDataKey,
    actor: str = "cli",
    progress: Progress | None = None,
) -> RollChange:
    """The file's rows onto the roll, phones encrypted, or AdminError listing every bad line and nothing
    imported. A number already on its organisation's roll is refreshed, not added again (found by its
    keyed hash). The file is streamed and staged in batches; the roll is changed once all rows passed."""
    check = MemberCheck(dict(session.execute(select(Organisation.code, Organisation.id)).all()))
    count = 0
    with RollStaging(session, key) as staging:
        batch: list[RollEntry] = []
        for line, (name, phone, organisation) in iter_columns(path, MEMBER_COLUMNS, MEMBER_COLUMNS):
            entry = check.entry(line, name, phone, organisation)
            count += 1
            if entry is not None and not check.refused:
                batch.append(entry)
                if len(batch) == CHUNK:
                    staging.add(batch)
                    batch = []
            if progress and count % CHUNK == 0:
                progress(CHUNK)
        if check.refused:
            _refuse(path, check.errors, check.refused)
        if batch:
            staging.add(batch)
        if progress and count % CHUNK:
            progress(count % CHUNK)
    change = staging.merge(datetime.now(UTC))
    audit.record(
        session,
        actor,
        "import",
        "member",
        None,
        after={"file": path.name, "count": count, "added": change.added, "refreshed": change.refreshed},
    )
    return change

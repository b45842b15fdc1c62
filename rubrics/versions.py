"""A sheet's new version as a federation types it (内容 / 子项 / 基本要求 / 分值): the rows read from its
spreadsheet checked into a Rubric, and what changed from another version. Pure: the file is read in
``chatbot/documents/rubric_book.py``; every problem names its row and reason in Chinese."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher

from rubrics.model import Item, Rubric, unnumbered

#: How alike two texts at the same number must be (difflib's ratio) to count as one item reworded,
#: not one removed and another added.
REWORDED_RATIO = 0.5
#: The words of a total row (合计 / 总分) in the 内容 or 子项 column.
TOTAL_WORDS: tuple[str, ...] = ("合计", "总计", "总分")
#: The most points one item may carry (the shipped sheets' items carry at most 5).
MAX_POINTS = 100
#: The longest texts a row may hold (characters): the requirement, its note, its 内容; the shipped
#: sheets' longest requirement is under 200. A longer cell is a paste gone wrong, not a requirement.
MAX_TEXT = 500
MAX_NOTE = 200
MAX_DIMENSION = 50
#: How much of a wrong cell a problem quotes.
QUOTED = 20
#: A whole number as typed: digits (any script's, full-width ones once NFKC), an optional ``.0``.
_DIGITS = re.compile(r"\d+(?:\.0*)?")


@dataclass(frozen=True)
class SheetRow:
    """One row of the table as read, every cell as text (empty when blank or merged away)."""

    row: int  # the row number people see in Excel
    dimension: str
    no: str
    text: str
    points: str
    note: str = ""


@dataclass(frozen=True)
class SheetProblem:
    row: int  # 0: the sheet as a whole
    reason: str

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.reason}" if self.row else self.reason


class SheetRejected(ValueError):
    """The sheet has problems; nothing may be stored."""

    def __init__(self, problems: list[SheetProblem]) -> None:
        super().__init__("；".join(str(p) for p in problems))
        self.problems = problems


def _clean(text: str) -> str:
    return text.strip()


def _quoted(text: str) -> str:
    """A cell's text as a problem quotes it: its start when it is long."""
    text = _clean(text)
    return text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"


def _whole(text: str) -> int | None:
    """A positive whole number typed in a cell ("5", "5.0", "５", "٥", "5分"), else None — not
    "1e3", "NaN", "-0" or "Infinity", which Decimal would take."""
    cleaned = unicodedata.normalize("NFKC", text).strip().removesuffix("分").strip()
    if not _DIGITS.fullmatch(cleaned) or len(cleaned) > 12:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if value <= 0:
        return None
    return int(value)


def is_total_row(row: SheetRow) -> bool:
    return any(_clean(cell) in TOTAL_WORDS for cell in (row.dimension, row.no, row.text))


@dataclass
class _Reader:
    problems: list[SheetProblem] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    current: str = ""
    stated_total: tuple[int, str] | None = None
    points_unread: bool = False  # a 分值 was empty or wrong: no total to compare

    def problem(self, row: int, reason: str) -> None:
        self.problems.append(SheetProblem(row, reason))

    def dimension_of(self, row: SheetRow) -> str:
        name = _clean(row.dimension)
        if not name:
            if not self.current:
                self.problem(row.row, "“内容”为空，上方也没有可沿用的内容")
            return self.current
        if len(name) > MAX_DIMENSION:
            self.problem(row.row, f"“内容”过长（{len(name)} 字，最多 {MAX_DIMENSION} 字）")
            name = name[:MAX_DIMENSION]
        if name != self.current and name in self.dimensions:
            self.problem(row.row, f"内容“{name}”在前面已经出现过，同一内容的子项应排在一起")
        if name not in self.dimensions:
            self.dimensions.append(name)
        self.current = name
        return name

    def read(self, row: SheetRow) -> None:
        if is_total_row(row):
            self.stated_total = (row.row, _clean(row.points))
            return
        dimension = self.dimension_of(row)
        expected = len(self.items) + 1
        no = _whole(row.no) if _clean(row.no) else None
        if not _clean(row.no):
            self.problem(row.row, "“子项”序号为空")
        elif no is None:
            self.problem(row.row, f"“子项”序号应为正整数，实为“{_quoted(row.no)}”")
        elif no != expected:
            self.problem(row.row, f"“子项”序号应为 {expected}，实为 {no}（序号从 1 起连续编排）")
        text = _clean(row.text)
        if not text:
            self.problem(row.row, "“基本要求”为空")
        for name, cell, most in (("基本要求", text, MAX_TEXT), ("备注", row.note, MAX_NOTE)):
            if len(_clean(cell)) > most:
                self.problem(row.row, f"“{name}”过长（{len(_clean(cell))} 字，最多 {most} 字）")
        points = _whole(row.points) if _clean(row.points) else None
        if points is not None and points > MAX_POINTS:
            self.problem(row.row, f"“分值”{points} 过大（每项最多 {MAX_POINTS} 分）")
            points = None
        elif not _clean(row.points):
            self.problem(row.row, "“分值”为空")
        elif points is None:
            self.problem(row.row, f"“分值”应为正整数，实为“{_quoted(row.points)}”")
        self.points_unread = self.points_unread or points is None
        self.items.append(
            Item(no=expected, dimension=dimension, points=points or 0, text=text, note=_clean(row.note))
        )

    def check_total(self) -> None:
        if self.stated_total is None or self.points_unread:
            return
        row, stated = self.stated_total
        total = sum(item.points for item in self.items)
        value = _whole(stated) if stated else None
        if stated and value is None:
            self.problem(row, f"合计应为正整数，实为“{_quoted(stated)}”")
        elif value is not None and value != total:
            self.problem(row, f"合计 {value} 分，与各子项分值之和 {total} 分不符")


def sheet_from_rows(rows: list[SheetRow], current: Rubric, version: str, title: str = "") -> Rubric:
    """The rows checked into a new version of ``current``'s sheet; SheetRejected with every problem."""
    reader = _Reader()
    for row in rows:
        if not any(_clean(c) for c in (row.dimension, row.no, row.text, row.points)):
            continue
        reader.read(row)
    if not reader.items:
        reader.problem(0, "表中没有任何子项（表头应为：内容、子项、基本要求、分值）")
    reader.check_total()
    if reader.problems:
        raise SheetRejected(reader.problems)
    # a sheet printed with its title unnumbered (or numbered another way) keeps the title it had
    same = not title.strip() or unnumbered(title) == unnumbered(current.title)
    return Rubric(
        key=current.key,
        title=current.title if same else title.strip(),
        version=version,
        source=current.source,
        dimensions=tuple(reader.dimensions),
        items=tuple(reader.items),
    )


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a sheet, as people read it."""

    kind: str  # added | removed | reworded | repointed | moved
    line: str


def _key(item: Item) -> str:
    return item.text


def changes(old: Rubric, new: Rubric) -> list[Change]:
    """What changed from ``old`` to ``new``: items matched by their text where it is unchanged, else
    by their number; added, removed, reworded, re-pointed and moved to another 内容."""
    result: list[Change] = []
    by_text = {_key(item): item for item in old.items}
    matched: dict[int, Item] = {}
    for item in new.items:
        same = by_text.get(_key(item))
        if same is not None and same.no not in {m.no for m in matched.values()}:
            matched[item.no] = same
    taken = {m.no for m in matched.values()}
    for item in new.items:
        if item.no in matched:
            continue
        candidate = old.items[item.no - 1] if item.no <= len(old.items) else None
        if (
            candidate is not None
            and candidate.no not in taken
            and _key(candidate) not in _texts(new)
            and _similar(candidate.text, item.text)
        ):
            matched[item.no] = candidate
            taken.add(candidate.no)
    renumbered = 0
    for item in new.items:
        before = matched.get(item.no)
        if before is not None and before.no != item.no and before == replace(item, no=before.no):
            renumbered += 1
        if before is None:
            result.append(
                Change("added", f"新增 第 {item.no} 项（{item.dimension}，{item.points} 分）：{item.text}")
            )
            continue
        result += _item_changes(before, item)
    for item in old.items:
        if item.no not in taken:
            result.append(
                Change(
                    "removed", f"删除 原第 {item.no} 项（{item.dimension}，{item.points} 分）：{item.text}"
                )
            )
    if renumbered:
        result.append(Change("renumbered", f"另有 {renumbered} 项仅序号改变"))
    if old.max_total != new.max_total:
        result.append(Change("total", f"满分 {old.max_total} 分 → {new.max_total} 分"))
    return result


def _similar(before: str, after: str) -> bool:
    """Whether ``after`` reads as a rewording of ``before`` rather than another requirement."""
    return SequenceMatcher(None, before, after, autojunk=False).ratio() >= REWORDED_RATIO


def _texts(rubric: Rubric) -> set[str]:
    return {_key(item) for item in rubric.items}


def _item_changes(before: Item, after: Item) -> list[Change]:
    where = f"第 {after.no} 项" if before.no == after.no else f"第 {after.no} 项（原第 {before.no} 项）"
    found = []
    if _key(before) != _key(after) or before.note != after.note:
        found.append(Change("reworded", f"改写 {where}：{before.shown_text} → {after.shown_text}"))
    if before.points != after.points:
        found.append(Change("repointed", f"分值 {where}：{before.points} 分 → {after.points} 分"))
    if before.dimension != after.dimension:
        found.append(Change("moved", f"内容 {where}：{before.dimension} → {after.dimension}"))
    return found

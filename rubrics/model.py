"""The rubric data model: a sheet (考评标准) of numbered items (子项) grouped by dimension (内容)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Item:
    """One item (子项) of a sheet: its number, dimension, requirement text (基本要求) and points (分值)."""

    no: int
    dimension: str
    points: int
    text: str
    #: A remark on the source, shown after the text (e.g. 原文不完整 where the seed breaks off).
    note: str = ""

    @property
    def shown_text(self) -> str:
        """The text as people see it: verbatim, with the note in brackets where there is one."""
        return f"{self.text}（{self.note}）" if self.note else self.text


#: A sheet's number before its title, in any of the forms a sheet or a document gives it: （一） (一)
#: 一、 1. 1、 （1）.
_SHEET_NUMBER = re.compile(
    r"^\s*(?:[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|[一二三四五六七八九十]+\s*、|\d+\s*[.、．])\s*"
)


def unnumbered(title: str) -> str:
    """A sheet's title without its number: the seed numbers four of its six sheets, (一) to (四), and
    not the other two, so every printout names a sheet by this form alone."""
    return _SHEET_NUMBER.sub("", title, count=1).strip()


@dataclass(frozen=True)
class Rubric:
    """One rubric sheet. ``max_total`` is computed from the items, never typed in."""

    key: str
    title: str
    version: str
    source: str
    dimensions: tuple[str, ...]
    items: tuple[Item, ...]

    @cached_property  # read for every row of a listing: summed once
    def max_total(self) -> int:
        return sum(item.points for item in self.items)

    @property
    def name(self) -> str:
        """The title as every printout and page shows it: without the seed's sheet number
        (``unnumbered``); ``title`` stays verbatim."""
        return unnumbered(self.title)

    @property
    def item_count(self) -> int:
        return len(self.items)

    def item(self, no: int) -> Item:
        """The item numbered ``no`` (1-based); raises KeyError for an unknown number."""
        if 1 <= no <= len(self.items):
            return self.items[no - 1]
        raise KeyError(no)

    def items_of(self, dimension: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.dimension == dimension)

    def dimension_max(self, dimension: str) -> int:
        return sum(item.points for item in self.items_of(dimension))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> Rubric:
        """The sheet ``to_dict`` gave (a version stored in the database)."""
        return cls(
            key=str(data["key"]),
            title=str(data["title"]),
            version=str(data["version"]),
            source=str(data.get("source", source)),
            dimensions=tuple(str(d) for d in data["dimensions"]),
            items=tuple(
                Item(
                    no=int(i["no"]),
                    dimension=str(i["dimension"]),
                    points=int(i["points"]),
                    text=str(i["text"]),
                    note=str(i.get("note", "")),
                )
                for i in data["items"]
            ),
        )

    def to_dict(self) -> dict[str, object]:
        """The export form read by auditors and admins (`nianjian rubrics export --json`)."""
        return {
            "key": self.key,
            "title": self.title,
            "version": self.version,
            "max_total": self.max_total,
            "dimensions": list(self.dimensions),
            "items": [
                {"no": item.no, "dimension": item.dimension, "points": item.points, "text": item.text}
                | ({"note": item.note} if item.note else {})
                for item in self.items
            ],
        }

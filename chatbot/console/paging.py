"""Long console lists shown a page at a time: the requested page of a list, and the links to the
others keeping the query string (search and filters) as it is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import request, url_for

#: Rows on a page of a console list.
PAGE_SIZE = 50
#: Page numbers shown on each side of the current page (the first and the last always show).
AROUND = 2

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, its number (from 1), how many pages and rows the list has."""

    items: Sequence[T]
    number: int
    pages: int
    total: int
    size: int

    @property
    def first_row(self) -> int:
        """The place of the page's first row in the whole list, from 1 (0 when the list is empty)."""
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.items) - 1 if self.total else 0

    def numbers(self) -> list[int | None]:
        """The page numbers to link: the first, the last, those around the current; None for a gap."""
        shown = {1, self.pages} | set(range(self.number - AROUND, self.number + AROUND + 1))
        found: list[int | None] = []
        for n in sorted(n for n in shown if 1 <= n <= self.pages):
            if found and n - (found[-1] or 0) > 1:
                found.append(None)
            found.append(n)
        return found


def requested_page() -> int:
    """The ``page`` asked for in the query: 1 when absent or not a number."""
    raw = request.args.get("page", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1


def page_of(rows: Sequence[T], size: int = PAGE_SIZE) -> Page[T]:
    """The requested page of ``rows``; a number past the last page shows the last."""
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, requested_page()), pages)
    start = (number - 1) * size
    return Page(rows[start : start + size], number, pages, len(rows), size)


def paged(read: Callable[[int, int], tuple[Sequence[T], int]], size: int = PAGE_SIZE) -> Page[T]:
    """The requested page of a list read a page at a time: ``read(offset, limit)`` gives those rows
    and the length of the whole list; a number past the last page shows the last (read again)."""
    number = max(1, requested_page())
    items, total = read((number - 1) * size, size)
    pages = max(1, -(-total // size))
    if number > pages:
        number = pages
        items, total = read((number - 1) * size, size)
    return Page(items, number, pages, total, size)


def page_url(number: int) -> str:
    """This page's address with another page number, the rest of its query string kept."""
    values: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
    return url_for(str(request.endpoint), **values)

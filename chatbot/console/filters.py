"""The inspections list's search and filters: what the query string asks for, and the rows it keeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chatbot.inspection.hierarchy import Group
from chatbot.inspection.listing import MARK_LABELS, Wanted
from chatbot.inspection.results import AnyRow
from rubrics.lifecycle import InspectionState
from rubrics.scoring import Stars

#: The longest search text read (a code or a name).
SEARCH_MAX = 40

#: The choices of each filter, as the form offers them (value, label).
STATE_CHOICES: tuple[tuple[str, str], ...] = tuple((s.value, s.label) for s in InspectionState)
STAR_CHOICES: tuple[tuple[str, str], ...] = tuple((str(int(s)), s.label) for s in reversed(Stars))
#: Marks are asked for by their words (the page shows no key of a mark).
MARK_CHOICES: tuple[tuple[str, str], ...] = tuple((label, label) for label in MARK_LABELS.values())
MARK_KEYS = {label: key for key, label in MARK_LABELS.items()}


@dataclass(frozen=True)
class ListFilter:
    """A search (code or name, any part of it) and the filters; "" where not asked for."""

    search: str = ""
    county: str = ""
    state: str = ""
    stars: str = ""
    mark: str = ""

    @property
    def active(self) -> bool:
        return any((self.search, self.county, self.state, self.stars, self.mark))


def _choice(args: Mapping[str, str], name: str, choices: Sequence[tuple[str, str]]) -> str:
    value = args.get(name, "").strip()
    return value if value in {v for v, _ in choices} else ""


def read_filter(args: Mapping[str, str], counties: Sequence[Group]) -> ListFilter:
    """The filter the query string asks for; a value that is no choice is ignored."""
    return ListFilter(
        search=" ".join(args.get("q", "").split())[:SEARCH_MAX],
        county=_choice(args, "county", [(c.code, c.name) for c in counties]),
        state=_choice(args, "state", STATE_CHOICES),
        stars=_choice(args, "stars", STAR_CHOICES),
        mark=_choice(args, "mark", MARK_CHOICES),
    )


def scope_of(wanted: ListFilter, visible: frozenset[int], counties: Sequence[Group]) -> set[int]:
    """The organisations the list may show: the viewer's, within the county asked for."""
    for county in counties:
        if county.code == wanted.county:
            return set(visible) & set(county.unions)
    return set(visible)


def kept(wanted: ListFilter, inspection: AnyRow) -> bool:
    """Whether an inspection (``listing.listed``) passes the search and the state and stars filters;
    its stars count once it is rated, as the list shows them."""
    search = wanted.search.casefold()
    if search and search not in inspection.code.casefold() and search not in inspection.name.casefold():
        return False
    if wanted.state and inspection.state != wanted.state:
        return False
    if wanted.stars:
        rated = InspectionState(inspection.state).is_rated
        return rated and inspection.stars == int(wanted.stars)
    return True


def wanted_rows(wanted: ListFilter) -> Wanted:
    """The search and the state and stars filters as ``listing.listed_page`` reads them (``kept``)."""
    return Wanted(wanted.search, wanted.state, int(wanted.stars) if wanted.stars else None)


def marked(wanted: ListFilter, row: Mapping[str, str]) -> bool:
    """Whether a result row (``listing.result_rows``) bears the mark asked for (any, if none is)."""
    return not wanted.mark or MARK_KEYS[wanted.mark] in row["marks"].split()

"""Where the points are lost (失分分析): for a county/zone federation's unions or the whole city, in one
campaign year, per item (子项) and per dimension (内容) of each sheet — how many rated unions lost
points, the points lost on average, the share — the change from the previous year, and the chairs'
self scores against the assessed ones (where chairs over-rate themselves).

Set-based: a fixed number of grouped queries per scope and year, whatever the number of inspections
(the rows read are one per item and distinct score, never one per inspection). Items of two years are
matched by sheet key and item number; an item last year's sheet did not have says so, and one whose
wording changed is marked (``sheet_of``: the sheet in the inspection's version).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from chatbot.inspection.hierarchy import WHOLE_CITY, Group, OrgTree
from chatbot.inspection.rubric_versions import rubric_for
from chatbot.store.models import Campaign, Inspection, ItemScore, Organisation
from rubrics import Rubric
from rubrics.lifecycle import RATED, values

#: How many items the ranking lists.
TOP = 10


def sheet_of(session: Session, key: str, version: str) -> Rubric:
    """The sheet an inspection was scored on: its key in its version (the shipped sheet or a stored
    one), so that an item number is read with the text it had that year."""
    return rubric_for(session, key, version)


def _number(value: object) -> Decimal:
    """A sum as the database returns it (Decimal, int or, on SQLite, a float of halves) as Decimal."""
    return Decimal(0) if value is None else Decimal(str(value))


def _count(value: object) -> int:
    """A count (or an item number) as the database returns it."""
    if value is None:
        return 0
    assert isinstance(value, int)
    return value


def _parent(value: object) -> int | None:
    """A parent's id as read (None for the city itself, which has no parent)."""
    return None if value is None else _count(value)


@dataclass(frozen=True)
class Loss:
    """One item's or dimension's figures in one year: the unions assessed on it, those that lost
    points, and the points lost in all."""

    assessed: int = 0
    losing: int = 0
    lost: Decimal = Decimal(0)

    @property
    def share(self) -> Decimal:
        """The share of the assessed unions that lost points (0 … 1)."""
        return Decimal(self.losing) / self.assessed if self.assessed else Decimal(0)

    @property
    def average(self) -> Decimal:
        """Points lost per assessed union."""
        return self.lost / self.assessed if self.assessed else Decimal(0)

    def plus(self, other: Loss) -> Loss:
        return Loss(self.assessed + other.assessed, self.losing + other.losing, self.lost + other.lost)


class LastYear(Enum):
    """How an item or dimension compares with the previous year."""

    COMPARED = "compared"  # in last year's sheet, with assessed unions
    NEW = "new"  # not in last year's sheet
    NO_DATA = "no_data"  # no previous campaign, or no union assessed on it then


@dataclass(frozen=True)
class SelfRating:
    """Self scores against assessed scores of one item: the unions with both, the sum of (self −
    assessed), and how many rated themselves higher than the assessment."""

    both: int = 0
    gap_sum: Decimal = Decimal(0)
    over: int = 0

    def plus(self, other: SelfRating) -> SelfRating:
        return SelfRating(self.both + other.both, self.gap_sum + other.gap_sum, self.over + other.over)

    @property
    def mean_gap(self) -> Decimal:
        return self.gap_sum / self.both if self.both else Decimal(0)

    @property
    def over_share(self) -> Decimal:
        return Decimal(self.over) / self.both if self.both else Decimal(0)


@dataclass(frozen=True)
class ItemLoss:
    key: str
    no: int
    dimension: str
    text: str
    points: int
    now: Loss
    before: Loss | None  # None unless ``last_year`` is COMPARED
    last_year: LastYear
    reworded: bool  # last year's sheet words the item differently
    self_rating: SelfRating

    @property
    def share_change(self) -> Decimal | None:
        """The change of the share (0 … 1) from last year, where there is one."""
        return None if self.before is None else self.now.share - self.before.share

    @property
    def average_change(self) -> Decimal | None:
        return None if self.before is None else self.now.average - self.before.average


@dataclass(frozen=True)
class DimensionLoss:
    key: str
    dimension: str
    points: int  # the dimension's maximum on the sheet
    now: Loss
    before: Loss | None
    last_year: LastYear

    @property
    def lost_share(self) -> Decimal:
        """The share of the dimension's points lost by the assessed unions."""
        most = self.now.assessed * self.points
        return self.now.lost / most if most else Decimal(0)

    @property
    def share_change(self) -> Decimal | None:
        return None if self.before is None else self.now.share - self.before.share


@dataclass(frozen=True)
class Weaknesses:
    """The figures of one scope (a county/zone federation's, the city-direct unions', or the city's)."""

    code: str
    name: str
    year: int
    previous_year: int | None
    rated: int  # unions rated in the year
    items: tuple[ItemLoss, ...]  # every item with an assessed union, sheet by sheet, in item order
    dimensions: tuple[DimensionLoss, ...]

    def top(self, count: int = TOP) -> list[ItemLoss]:
        """The items that lose most: most points lost in all, then most unions losing, then the
        sheet's order; items nobody lost points on are left out."""
        losing = [i for i in self.items if i.now.losing]
        return sorted(losing, key=lambda i: (-i.now.lost, -i.now.losing, i.key, i.no))[:count]

    def over_rated(self, count: int = TOP) -> list[ItemLoss]:
        """The items where chairs rate themselves highest above the assessment (mean self − assessed)."""
        found = [i for i in self.items if i.self_rating.over]
        return sorted(found, key=lambda i: (-i.self_rating.mean_gap, -i.self_rating.over, i.key, i.no))[
            :count
        ]


# ---------------------------------------------------------------- reading one year

#: Where a union hangs in the tree: its parent's id (the city's direct unions: the city's).
Parent = int | None


@dataclass(frozen=True)
class _Figures:
    """One year's aggregates of one scope, keyed by (sheet key, item number) and (sheet key, dimension)."""

    sheets: dict[str, Rubric]
    rated: int
    items: dict[tuple[str, int], Loss]
    dimensions: dict[tuple[str, str], Loss]
    self_rating: dict[tuple[str, int], SelfRating]


@dataclass(frozen=True)
class _Year:
    """One year's aggregates split by the unions' parents, so that one read serves the city and every
    county (each parent's unions are in one group)."""

    sheets: dict[str, Rubric]  # the sheet each key was scored on (its newest version in the year)
    rated: dict[Parent, int]
    items: dict[tuple[Parent, str, int], Loss]
    dimensions: dict[tuple[Parent, str, str], Loss]
    self_rating: dict[tuple[Parent, str, int], SelfRating]

    def fold(self, chosen: Callable[[Parent], bool]) -> _Figures:
        """The sums over the parents ``chosen`` keeps."""
        items: dict[tuple[str, int], Loss] = defaultdict(Loss)
        for (parent, key, no), loss in self.items.items():
            if chosen(parent):
                items[(key, no)] = items[(key, no)].plus(loss)
        dimensions: dict[tuple[str, str], Loss] = defaultdict(Loss)
        for (parent, key, name), loss in self.dimensions.items():
            if chosen(parent):
                dimensions[(key, name)] = dimensions[(key, name)].plus(loss)
        rating: dict[tuple[str, int], SelfRating] = defaultdict(SelfRating)
        for (parent, key, no), found in self.self_rating.items():
            if chosen(parent):
                rating[(key, no)] = rating[(key, no)].plus(found)
        rated = sum(count for parent, count in self.rated.items() if chosen(parent))
        return _Figures(self.sheets, rated, dict(items), dict(dimensions), dict(rating))


def _scope(ids: Collection[int], unions: Collection[int] | None) -> list[ColumnElement[bool]]:
    """The conditions keeping a query to the campaigns' rated inspections of the unions (None: every
    union)."""
    found: list[ColumnElement[bool]] = [
        Inspection.campaign_id.in_(list(ids)),
        Inspection.state.in_(values(RATED)),
    ]
    if unions is not None:
        found.append(Inspection.organisation_id.in_(list(unions)))
    return found


#: By campaign id: the sheets used (key → sheet).
Sheets = dict[int, dict[str, Rubric]]


def _sheets(
    session: Session, ids: Collection[int], unions: Collection[int] | None
) -> tuple[Sheets, dict[int, dict[Parent, int]]]:
    """By campaign: the sheets used (key → sheet; the newest version where a key has several) and the
    number of rated unions by parent."""
    rows = session.execute(
        select(
            Inspection.campaign_id,
            Organisation.parent_id,
            Inspection.rubric_key,
            Inspection.rubric_version,
            func.count(),
        )
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(*_scope(ids, unions))
        .group_by(
            Inspection.campaign_id, Organisation.parent_id, Inspection.rubric_key, Inspection.rubric_version
        )
        .order_by(Inspection.rubric_version)
    ).all()
    sheets: Sheets = {campaign: {} for campaign in ids}
    rated: dict[int, dict[Parent, int]] = {campaign: defaultdict(int) for campaign in ids}
    for campaign, parent, key, version, count in rows:
        sheets[campaign][str(key)] = sheet_of(session, str(key), str(version))
        rated[campaign][_parent(parent)] += _count(count)
    return sheets, {campaign: dict(found) for campaign, found in rated.items()}


def _dimension_place(sheets: Sheets) -> ColumnElement[int]:
    """The place (0, 1, …) on its sheet of the dimension an item score counts in, as SQL: by campaign
    and sheet key, then by item number (NULL for an item of no dimension). A number, not the
    dimension's name, so that the database groups by it cheaply."""
    by_sheet = [
        (
            and_(Inspection.campaign_id == campaign, Inspection.rubric_key == key),
            case(
                *[
                    (ItemScore.item_no.in_([i.no for i in sheet.items_of(d)]), place)
                    for place, d in enumerate(sheet.dimensions)
                ]
            ),
        )
        for campaign, used in sheets.items()
        for key, sheet in used.items()
    ]
    return case(*by_sheet)


def _read_years(session: Session, campaigns: list[Campaign], unions: Collection[int] | None) -> list[_Year]:
    """The campaigns' figures, each read by the same three queries (one pass over the item scores
    serves every year)."""
    ids = [campaign.id for campaign in campaigns]
    sheets, rated = _sheets(session, ids, unions)
    items, rating = _read_items(session, ids, unions, sheets)
    dimensions = _read_dimensions(session, ids, unions, sheets)
    return [
        _Year(
            sheets[campaign],
            rated[campaign],
            items.get(campaign, {}),
            dimensions.get(campaign, {}),
            rating.get(campaign, {}),
        )
        for campaign in ids
    ]


def _read_items(
    session: Session, ids: Collection[int], unions: Collection[int] | None, sheets: Sheets
) -> tuple[
    dict[int, dict[tuple[Parent, str, int], Loss]], dict[int, dict[tuple[Parent, str, int], SelfRating]]
]:
    """By campaign: each item's figures and its self scores against the assessed ones, counted by
    distinct assessed score (one pass over the item scores)."""
    gap = ItemScore.self_score - ItemScore.assessed_score  # NULL without a self score: not summed
    rows = session.execute(
        select(
            Inspection.campaign_id,
            Organisation.parent_id,
            Inspection.rubric_key,
            ItemScore.item_no,
            ItemScore.assessed_score,
            func.count(),
            func.count(ItemScore.self_score),
            func.sum(gap),
            func.sum(case((gap > 0, 1), else_=0)),
        )
        .select_from(ItemScore)
        .join(Inspection, ItemScore.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(*_scope(ids, unions), ItemScore.assessed_score.is_not(None))
        .group_by(
            Inspection.campaign_id,
            Organisation.parent_id,
            Inspection.rubric_key,
            ItemScore.item_no,
            ItemScore.assessed_score,
        )
    ).all()
    items: dict[int, dict[tuple[Parent, str, int], Loss]] = defaultdict(lambda: defaultdict(Loss))
    rating: dict[int, dict[tuple[Parent, str, int], SelfRating]] = defaultdict(
        lambda: defaultdict(SelfRating)
    )
    for campaign, parent, key, number, score, count, both, gap_sum, over in rows:
        no, sheet = _count(number), sheets.get(_count(campaign), {}).get(str(key))
        if sheet is None or not 1 <= no <= sheet.item_count:
            continue
        lost = Decimal(sheet.item(no).points) - _number(score)
        units = _count(count)
        at, year = (_parent(parent), str(key), no), _count(campaign)
        items[year][at] = items[year][at].plus(Loss(units, units if lost > 0 else 0, lost * units))
        rating[year][at] = rating[year][at].plus(SelfRating(_count(both), _number(gap_sum), _count(over)))
    return (
        {year: dict(found) for year, found in items.items()},
        {year: dict(found) for year, found in rating.items()},
    )


def _read_dimensions(
    session: Session, ids: Collection[int], unions: Collection[int] | None, sheets: Sheets
) -> dict[int, dict[tuple[Parent, str, str], Loss]]:
    """By campaign: each dimension's figures, from the inspections' dimension totals counted by
    distinct total."""
    if not any(sheets.values()):
        return {}
    scores = (
        select(
            ItemScore.inspection_id.label("inspection_id"),
            Inspection.campaign_id.label("campaign_id"),
            Inspection.organisation_id.label("organisation_id"),
            Inspection.rubric_key.label("key"),
            _dimension_place(sheets).label("place"),
            ItemScore.assessed_score.label("score"),
        )
        .select_from(ItemScore)
        .join(Inspection, ItemScore.inspection_id == Inspection.id)
        .where(*_scope(ids, unions), ItemScore.assessed_score.is_not(None))
        .subquery()
    )  # the dimension computed once, so that grouping by it repeats no bound parameter
    per_inspection = (
        select(
            scores.c.campaign_id,
            scores.c.organisation_id,
            scores.c.key,
            scores.c.place,
            func.sum(scores.c.score).label("got"),
        )
        .group_by(
            scores.c.inspection_id,
            scores.c.campaign_id,
            scores.c.organisation_id,
            scores.c.key,
            scores.c.place,
        )
        .subquery()
    )  # one row per inspection and dimension: its total there (the parent joined to these rows only)
    grouped = (
        per_inspection.c.campaign_id,
        Organisation.parent_id,
        per_inspection.c.key,
        per_inspection.c.place,
        per_inspection.c.got,
    )
    found: dict[int, dict[tuple[Parent, str, str], Loss]] = defaultdict(lambda: defaultdict(Loss))
    rows = session.execute(
        select(*grouped, func.count())
        .join(Organisation, per_inspection.c.organisation_id == Organisation.id)
        .group_by(*grouped)
    ).all()
    for campaign, parent, key, place, got, count in rows:
        sheet = sheets.get(_count(campaign), {}).get(str(key))
        if sheet is None or place is None or not 0 <= _count(place) < len(sheet.dimensions):
            continue
        name = sheet.dimensions[_count(place)]
        lost = Decimal(sheet.dimension_max(name)) - _number(got)
        units = _count(count)
        at, year = (_parent(parent), str(key), name), _count(campaign)
        found[year][at] = found[year][at].plus(Loss(units, units if lost > 0 else 0, lost * units))
    return {year: dict(losses) for year, losses in found.items()}


# ---------------------------------------------------------------- comparing two years


def _previous(session: Session, campaign: Campaign) -> Campaign | None:
    """The campaign of the year before ``campaign``'s, if there was one."""
    return session.scalar(
        select(Campaign).where(Campaign.year < campaign.year).order_by(Campaign.year.desc()).limit(1)
    )


def _compare_item(key: str, no: int, earlier: _Figures | None) -> tuple[Loss | None, LastYear, str | None]:
    """Last year's figures of the item, how it compares, and last year's wording."""
    sheet = earlier.sheets.get(key) if earlier else None
    if earlier is None or sheet is None:
        return None, LastYear.NO_DATA, None
    if no > sheet.item_count:
        return None, LastYear.NEW, None
    before = earlier.items.get((key, no))
    status = LastYear.COMPARED if before else LastYear.NO_DATA
    return before, status, sheet.item(no).text


def _compare_dimension(key: str, name: str, earlier: _Figures | None) -> tuple[Loss | None, LastYear]:
    sheet = earlier.sheets.get(key) if earlier else None
    if earlier is None or sheet is None:
        return None, LastYear.NO_DATA
    if name not in sheet.dimensions:
        return None, LastYear.NEW
    before = earlier.dimensions.get((key, name))
    return before, LastYear.COMPARED if before else LastYear.NO_DATA


@dataclass(frozen=True)
class _Scope:
    code: str
    name: str
    year: int
    previous_year: int | None


def _build(scope: _Scope, now: _Figures, earlier: _Figures | None) -> Weaknesses:
    """The scope's figures, each item and dimension compared with last year's."""
    items = []
    for key, sheet in now.sheets.items():
        for item in sheet.items:
            loss = now.items.get((key, item.no))
            if loss is None:
                continue
            before, status, wording = _compare_item(key, item.no, earlier)
            items.append(
                ItemLoss(
                    key,
                    item.no,
                    item.dimension,
                    item.text,
                    item.points,
                    loss,
                    before,
                    status,
                    wording is not None and wording != item.text,
                    now.self_rating.get((key, item.no), SelfRating()),
                )
            )
    dimensions = []
    for key, sheet in now.sheets.items():
        for dimension in sheet.dimensions:
            loss = now.dimensions.get((key, dimension))
            if loss is None:
                continue
            before, status = _compare_dimension(key, dimension, earlier)
            dimensions.append(
                DimensionLoss(key, dimension, sheet.dimension_max(dimension), loss, before, status)
            )
    return Weaknesses(
        scope.code, scope.name, scope.year, scope.previous_year, now.rated, tuple(items), tuple(dimensions)
    )


# ---------------------------------------------------------------- computed once per state of the results

#: How many computed figures are kept (a scope and year each; the oldest used is dropped first).
CACHED = 64

_T = TypeVar("_T")
_cache: OrderedDict[Hashable, Any] = OrderedDict()
_cache_lock = threading.Lock()


def _results_state(session: Session, campaign: Campaign, previous: Campaign | None) -> Hashable:
    """What the figures of ``campaign`` (and of ``previous``) depend on in the database, read cheaply:
    the database, the inspections' latest change and number, the latest change of any item score
    (indexed). Any change of a result, a state or a score moves it on."""
    ids = [campaign.id] + ([previous.id] if previous else [])
    changed, count = session.execute(
        select(func.max(Inspection.updated_at), func.count()).where(Inspection.campaign_id.in_(ids))
    ).one()
    scored = session.scalar(select(func.max(ItemScore.updated_at)))
    return (str(session.get_bind().engine.url), tuple(ids), changed, count, scored)


def _cached(
    session: Session, campaign: Campaign, previous: Campaign | None, key: Hashable, compute: Callable[[], _T]
) -> _T:
    """``compute()``'s figures, kept in this process under ``key`` and the state of the results, so
    that a page asked again while nothing changed answers at once. Figures are immutable."""
    at = (key, _results_state(session, campaign, previous))
    with _cache_lock:
        if at in _cache:
            _cache.move_to_end(at)
            found: _T = _cache[at]
            return found
    computed = compute()
    with _cache_lock:
        _cache[at] = computed
        while len(_cache) > CACHED:
            _cache.popitem(last=False)
    return computed


def forget() -> None:
    """Drop every kept figure (the next request computes afresh)."""
    with _cache_lock:
        _cache.clear()


def _everyone(_parent: Parent) -> bool:
    return True


def weaknesses(
    session: Session, campaign: Campaign, code: str, name: str, unions: Collection[int] | None
) -> Weaknesses:
    """The figures of the unions ``unions`` (None: every union of the city) in ``campaign``'s year,
    compared with the year before (computed once per state of the results, see ``_cached``)."""
    previous = _previous(session, campaign)
    members = None if unions is None else frozenset(unions)
    key = ("scope", code, name, members)
    return _cached(
        session, campaign, previous, key, lambda: _compute(session, campaign, previous, code, name, unions)
    )


def _compute(
    session: Session,
    campaign: Campaign,
    previous: Campaign | None,
    code: str,
    name: str,
    unions: Collection[int] | None,
) -> Weaknesses:
    years = _read_years(session, [campaign] + ([previous] if previous else []), unions)
    now = years[0].fold(_everyone)
    earlier = years[1].fold(_everyone) if previous else None
    return _build(_Scope(code, name, campaign.year, previous.year if previous else None), now, earlier)


def survey(session: Session, campaign: Campaign, tree: OrgTree) -> tuple[Weaknesses, list[Weaknesses]]:
    """The whole city's figures and each group's (in the order of ``tree.groups()``), from one read
    of each year: every union's figures are summed under its parent, and each parent's unions belong to
    one group (computed once per state of the results and of the tree, see ``_cached``)."""
    previous = _previous(session, campaign)
    shape = tuple(
        (n.id, n.parent_id, n.code, n.name, n.rubric_key, n.sort_order)
        for n in sorted(tree.nodes.values(), key=lambda n: n.id)
    )  # the groups and their names, as the tree stands
    whole, groups = _cached(
        session, campaign, previous, ("survey", shape), lambda: _survey(session, campaign, previous, tree)
    )
    return whole, list(groups)


def _survey(
    session: Session, campaign: Campaign, previous: Campaign | None, tree: OrgTree
) -> tuple[Weaknesses, tuple[Weaknesses, ...]]:
    years = _read_years(session, [campaign] + ([previous] if previous else []), None)
    now, earlier = years[0], years[1] if previous else None
    roots = tree.children.get(None, [])
    city = _Scope(
        tree.nodes[roots[0]].code if roots else "",
        WHOLE_CITY,
        campaign.year,
        previous.year if previous else None,
    )
    whole = _build(city, now.fold(_everyone), earlier.fold(_everyone) if earlier else None)

    parents = now.rated.keys() | (earlier.rated.keys() if earlier else set())
    # each parent's group: its county's code, or the city's for the city's direct unions
    group_of = {parent: tree.group_of(parent)[0] for parent in parents if parent is not None}
    groups = []
    for group in tree.groups():

        def chosen(parent: Parent, code: str = group.code) -> bool:
            return parent is not None and group_of.get(parent) == code

        scope = _Scope(group.code, group.name, campaign.year, city.previous_year)
        groups.append(_build(scope, now.fold(chosen), earlier.fold(chosen) if earlier else None))
    return whole, tuple(groups)


def of_group(session: Session, campaign: Campaign, group: Group) -> Weaknesses:
    """A county/zone federation's unions (or the city-direct unions)."""
    return weaknesses(session, campaign, group.code, group.name, group.unions)


def of_city(session: Session, campaign: Campaign, tree: OrgTree) -> Weaknesses:
    """Every grassroots union of the city."""
    return survey(session, campaign, tree)[0]

"""Where the points are lost (失分分析): per item and dimension, the change from last year, self scores
against assessed ones — for the city (the whole city, or one county it picks) and for a county (its
own unions only). Charts drawn at a phone's width, tables, and the same figures as a workbook."""

from __future__ import annotations

import functools
from typing import Any

from flask import abort, g, render_template, request, url_for
from sqlalchemy import select

from chatbot.console.access import signed_in
from chatbot.console.inputs import requested_year
from chatbot.console.pages import XLSX, Chart, _campaign, _chart, _file, bp
from chatbot.inspection import weaknesses
from chatbot.inspection.hierarchy import CITY_DIRECT, Group, load_tree
from chatbot.inspection.weaknesses import Weaknesses
from chatbot.store.models import Campaign


def _group_asked(groups: list[Group]) -> Group | None:
    """The group the page is about: None for the whole city (the city's own view); a county sees its
    own group only, and any other is no page (404)."""
    code = request.args.get("county", "").strip()
    if g.viewer.is_city:
        if not code:
            return None
        found = next((group for group in groups if group.code == code), None)
        if found is None:
            abort(404)
        return found
    own = next(
        (group for group in groups if group.code == g.viewer.org_code and group.name != CITY_DIRECT), None
    )
    if own is None or (code and code != own.code):
        abort(404)
    return own


def _figures(campaign: Campaign) -> tuple[Weaknesses, list[Weaknesses], list[Group]]:
    """The scope's figures, each county's (for the city's own view) and the groups the city may pick."""
    tree = load_tree(g.db)
    groups = tree.groups()
    group = _group_asked(groups)
    if group is not None:
        return weaknesses.of_group(g.db, campaign, group), [], groups
    city, counties = weaknesses.survey(g.db, campaign, tree)
    return city, counties, groups


def _year_campaign() -> Campaign:
    campaign = _campaign(requested_year())
    if campaign is None:
        campaign = g.db.scalar(select(Campaign).order_by(Campaign.year.desc()).limit(1))
    if campaign is None:
        abort(404)
    return campaign


@functools.lru_cache(maxsize=64)
def _loss_chart(
    labels: tuple[str, ...], percents: tuple[float, ...], value_axis: str, category_axis: str
) -> Chart:
    """The bars of these shares, drawn once: the same figures are drawn the same (kept like the
    figures themselves, so that a page asked again while nothing changed answers at once)."""
    from chatbot.documents import charts  # matplotlib: loaded when a page draws a chart

    return _chart(charts.loss_bars(list(labels), list(percents), "", value_axis, category_axis))


@bp.get("/weaknesses")
@signed_in
def weaknesses_page() -> Any:
    from chatbot.documents import weakness_table as table

    campaign = _year_campaign()
    found, counties, groups = _figures(campaign)
    top = found.top()
    several = len({d.key for d in found.dimensions}) > 1
    item_bars = table.item_bars(top)
    dimension_bars = table.dimension_bars(found.dimensions, several)
    item_chart = (
        _loss_chart(
            tuple(b.label for b in item_bars),
            tuple(b.percent for b in item_bars),
            table.ITEM_AXES.value,
            table.ITEM_AXES.category,
        )
        if item_bars
        else None
    )
    dimension_chart = (
        _loss_chart(
            tuple(b.label for b in dimension_bars),
            tuple(b.percent for b in dimension_bars),
            table.DIMENSION_AXES.value,
            table.DIMENSION_AXES.category,
        )
        if dimension_bars
        else None
    )
    years = g.db.scalars(select(Campaign.year).order_by(Campaign.year.desc())).all()
    county = request.args.get("county", "").strip() if g.viewer.is_city else ""
    return render_template(
        "console/weaknesses.html",
        campaign=campaign,
        years=years,
        found=found,
        groups=groups if g.viewer.is_city else [],
        county=county,
        top=[table.item_row(rank, item) for rank, item in enumerate(top, start=1)],
        item_headers=table.ITEM_HEADERS,
        dimensions=[table.dimension_row(d) for d in found.dimensions],
        dimension_headers=table.DIMENSION_HEADERS,
        over=[table.self_row(item) for item in found.over_rated()],
        self_headers=table.SELF_HEADERS,
        counties=[table.county_row(c) for c in counties],
        county_headers=table.COUNTY_HEADERS,
        item_chart=item_chart,
        dimension_chart=dimension_chart,
        several=several,
        item_axes=table.ITEM_AXES,
        dimension_axes=table.DIMENSION_AXES,
        download=url_for("console.weaknesses_download", year=campaign.year, county=county or None),
    )


@bp.get("/weaknesses/<int:year>.xlsx")
@signed_in
def weaknesses_download(year: int) -> Any:
    from chatbot.documents import exports  # openpyxl: loaded by a download

    campaign = _campaign(year) or abort(404)
    found, counties, _groups = _figures(campaign)
    return _file(
        lambda path: exports.weakness_book(found, counties, path),
        f"{year}-{found.name}-年检失分分析.xlsx",
        XLSX,
    )

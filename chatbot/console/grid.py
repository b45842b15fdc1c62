"""网格化管理 in the console: a county federation's plan for the year (its own target and deadlines),
its unions with nobody responsible, the responsible person of each union, and each person's unions by
state. A county admin sees and changes its own county; the city sees every county (and its direct
unions) and may change any. Every change is audited (chatbot.inspection.grid)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from chatbot.console.access import signed_in
from chatbot.console.inputs import requested_year
from chatbot.console.pages import _campaign, _date, _number, bp
from chatbot.inspection import grid
from chatbot.inspection.coverage import coverage, target_of
from chatbot.inspection.errors import AdminError
from chatbot.inspection.hierarchy import OrgTree, load_tree
from chatbot.store.models import Campaign
from chatbot.timeutil import SHANGHAI


def _now() -> datetime:
    return datetime.now(UTC)


def _own_group(tree: OrgTree, code: str) -> str:
    """The group (county, or the city's direct unions) the viewer asks for and may see; 404 when it is
    not theirs, 403 when the viewer belongs to no county or city."""
    codes = {group.code for group in tree.groups()}
    if g.viewer.is_city:
        if code and code not in codes:
            abort(404)
        return code
    if code and code != g.viewer.org_code:
        abort(404)
    if g.viewer.org_code not in codes:
        abort(403)
    return str(g.viewer.org_code)


@bp.get("/grid")
@signed_in
def grid_page() -> Any:
    campaign = _campaign(requested_year())
    tree = load_tree(g.db)
    code = _own_group(tree, request.args.get("county", "").strip())
    if campaign is None:
        return render_template("console/grid.html", campaign=None)
    now = _now()
    found = grid.grids(g.db, campaign, tree, now.astimezone(SHANGHAI).date(), now, [code] if code else None)
    shares = {row.code: row for row in coverage(g.db, campaign, tree)}
    years = g.db.scalars(select(Campaign.year).order_by(Campaign.year.desc())).all()
    detail = found[0] if code and found else None
    choices: list[grid.UnionLine] = []
    if detail is not None:
        choices = sorted(detail.lines, key=lambda line: (not line.unassigned, line.code))
    return render_template(
        "console/grid.html",
        campaign=campaign,
        years=years,
        grids=found,
        detail=detail,
        choices=choices,
        shares=shares,
        city_target=target_of(campaign),
        buckets=[name for name, _states in grid.BUCKETS],
    )


def _back(code: str, year: int, message: str, kind: str) -> Any:
    if kind == "ok":
        g.db.commit()
    else:
        g.db.rollback()
    flash(message, kind)
    return redirect(url_for("console.grid_page", year=year, county=code or None))


@bp.post("/grid/<int:year>/plan")
@signed_in
def save_grid_plan(year: int) -> Any:
    campaign = _campaign(year) or abort(404)
    tree = load_tree(g.db)
    code = request.form.get("county", "").strip() or g.viewer.org_code
    county = tree.by_code(code)
    if county is None or not g.viewer.sees(county.id) or not grid.is_county(tree, county.id):
        abort(404)  # not a county's, or not the viewer's: the city's own plan is the campaign
    try:
        percent = _number("target", Decimal(0), Decimal(100), "本地年检目标（%）")
        if percent is None:
            raise AdminError("请填写本地年检目标（%），不低于全市目标。")
        deadlines = grid.Deadlines(_date("self_check_due"), _date("review_due"))
        grid.save_plan(
            g.db,
            campaign,
            tree,
            county.code,
            percent / 100,
            deadlines,
            request.form.get("text", ""),
            g.viewer.actor,
            _now(),
        )
    except ValueError as error:  # AdminError too
        return _back(county.code, year, f"未能保存：{error}", "error")
    return _back(county.code, year, f"{county.name} {year} 年度年检计划已保存。", "ok")


@bp.post("/grid/<int:year>/assign")
@signed_in
def assign_grid(year: int) -> Any:
    campaign = _campaign(year) or abort(404)
    tree = load_tree(g.db)
    union = tree.by_code(request.form.get("org", "").strip())
    if union is None or not union.is_grassroots or not g.viewer.sees(union.id):
        abort(404)
    group = tree.group_of(union.id)[0]
    back = group if g.viewer.is_city else ""
    choice = request.form.get("person", "").strip()
    if not choice:
        return _back(back, year, "请选择负责人。", "error")
    person = None
    if choice != "none":
        person = grid.person_of_key(g.db, choice)
        if person is None or not g.viewer.sees(person.org_id):
            return _back(back, year, "没有这位负责人，请重新选择。", "error")
    try:
        grid.assign(g.db, campaign, tree, union.code, person, g.viewer.actor, _now())
    except AdminError as error:
        return _back(back, year, f"未能保存：{error}", "error")
    who = person.label if person is not None else "无（列为未落实）"
    return _back(back, year, f"{union.code} {union.name} 的网格负责人：{who}。", "ok")

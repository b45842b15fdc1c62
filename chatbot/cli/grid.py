"""``nianjian grid``: 网格化管理 — each county's plan for the year, one responsible person per union,
and who has how far to go."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import click
from sqlalchemy.orm import Session

from chatbot.cli.common import campaign_of_year, db_session
from chatbot.cli.table import render
from chatbot.inspection import grid
from chatbot.inspection.coverage import CoverageRow, coverage, target_of
from chatbot.inspection.errors import AdminError
from chatbot.inspection.hierarchy import OrgTree, load_tree
from chatbot.store.models import Campaign
from chatbot.timeutil import SHANGHAI
from rubrics.scoring import format_percent

#: Widest person and union name in the tables (columns; a Chinese character takes two).
NAME_WIDTH = 40
#: Unions listed by name under "未落实" before the rest are counted.
SHOWN_UNASSIGNED = 50


@click.group("grid")
def grid_group() -> None:
    """网格化管理：各县（区）的本年度计划，每个工会一名责任人。"""


@grid_group.command("plan")
@click.option("--county", "county_code", required=True, help="县（区）、开发区总工会的编号。")
@click.option("--year", required=True, type=int, help="年度。")
@click.option(
    "--target",
    required=True,
    type=click.FloatRange(0, 1),
    help="本县（区）的覆盖率目标（整百分数，不低于全市目标），如 0.8。",
)
@click.option("--self-check-due", type=click.DateTime(["%Y-%m-%d"]), help="本县（区）的自查自评截止日期。")
@click.option("--review-due", type=click.DateTime(["%Y-%m-%d"]), help="本县（区）的组织评定截止日期。")
@click.option("--text", default="", help="简短说明：本县（区）如何组织本年度年检。")
def grid_plan(
    county_code: str,
    year: int,
    target: float,
    self_check_due: datetime | None,
    review_due: datetime | None,
    text: str,
) -> None:
    """登记某县（区）本年度的计划（制定本地年检计划和目标）：目标不低于全市目标，截止时间不晚于全市。"""
    with db_session() as session:
        campaign = campaign_of_year(session, year)
        tree = load_tree(session)
        deadlines = grid.Deadlines(
            self_check_due.date() if self_check_due else None, review_due.date() if review_due else None
        )
        plan = grid.save_plan(
            session,
            campaign,
            tree,
            county_code,
            Decimal(str(target)),
            deadlines,
            text,
            "cli",
            datetime.now(UTC),
        )
        county = tree.by_code(county_code)
        assert county is not None
        click.echo(
            f"{county.name} {year} 年度年检计划已保存：目标 {format_percent(plan.coverage_target)}"
            f"（全市 {format_percent(target_of(campaign))}）；"
            f"自评截止 {plan.self_check_due or campaign.self_check_due or '未设定'}；"
            f"考评截止 {plan.review_due or campaign.review_due or '未设定'}。"
        )


def _person(
    session: Session, tree: OrgTree, org_code: str, user: str | None, openid: str | None
) -> grid.Person:
    if user is not None:
        return grid.person_of_user(session, user)
    union = tree.by_code(org_code)
    if union is None:
        raise AdminError(f"没有编号为 {org_code} 的基层工会。")
    assert openid is not None
    return grid.person_of_openid(session, tree, union.id, openid)


@grid_group.command("assign")
@click.option("--org", "org_code", required=True, help="工会的单位编号。")
@click.option("--year", required=True, type=int, help="年度。")
@click.option("--user", help="该工会所在县（区）总工会的管理台账号（用户名）。")
@click.option("--openid", help="在该工会上级绑定为考评员的微信账号（openid）。")
def grid_assign(org_code: str, year: int, user: str | None, openid: str | None) -> None:
    """指定某人为本年度某工会的责任人（网格员），取代原来的责任人。"""
    if (user is None) == (openid is None):
        raise click.UsageError("请用 --user 或 --openid 指定一位负责人（只能选一个）。")
    with db_session() as session:
        campaign = campaign_of_year(session, year)
        tree = load_tree(session)
        person = _person(session, tree, org_code, user, openid)
        grid.assign(session, campaign, tree, org_code, person, "cli", datetime.now(UTC))
        union = tree.by_code(org_code)
        assert union is not None
        click.echo(f"{org_code} {union.name} {year} 年度网格负责人：{person.label}")


@grid_group.command("unassign")
@click.option("--org", "org_code", required=True, help="工会的单位编号。")
@click.option("--year", required=True, type=int, help="年度。")
def grid_unassign(org_code: str, year: int) -> None:
    """撤销某工会的责任人（该工会重新列为未落实）。"""
    with db_session() as session:
        campaign = campaign_of_year(session, year)
        grid.assign(session, campaign, load_tree(session), org_code, None, "cli", datetime.now(UTC))
        click.echo(f"{org_code} {year} 年度已无网格负责人（列为未落实）。")


@grid_group.command("show")
@click.option("--year", required=True, type=int, help="年度。")
@click.option("--county", "county_code", help="只看一个县区；或市总工会编号，只看市直工会。")
def grid_show(year: int, county_code: str | None) -> None:
    """各县（区）的计划、没有责任人的工会，以及每位责任人所负责的工会及其状态。"""
    now = datetime.now(UTC)
    with db_session() as session:
        campaign = campaign_of_year(session, year)
        tree = load_tree(session)
        if county_code is not None and county_code not in {g.code for g in tree.groups()}:
            raise click.ClickException(f"{county_code} 不是县（区）、开发区总工会或市总工会。")
        found = grid.grids(
            session,
            campaign,
            tree,
            now.astimezone(SHANGHAI).date(),
            now,
            [county_code] if county_code else None,
        )
        shares = {row.code: row for row in coverage(session, campaign, tree)}
        city_target = target_of(campaign)
    for n, each in enumerate(found):
        if n:
            click.echo("")
        for line in _grid_lines(each, shares.get(each.code), campaign, city_target):
            click.echo(line)


def _grid_lines(
    each: grid.Grid, row: CoverageRow | None, campaign: Campaign, city_target: Decimal
) -> list[str]:
    """One county's (or the city-direct unions') part of `grid show`."""
    return [
        *_plan_lines(each, row, campaign, city_target),
        *_unassigned_lines(each),
        *_progress_lines(each),
    ]


def _plan_lines(
    each: grid.Grid, row: CoverageRow | None, campaign: Campaign, city_target: Decimal
) -> list[str]:
    """The group's plan (target, deadlines, text) and how far its coverage has come."""
    reached = f"累计已评定 {format_percent(row.cumulative_share)}" if row else ""
    plan = each.plan
    if plan is not None:
        heading = (
            f"{each.name}：本地目标 {format_percent(plan.coverage_target)}（全市 {format_percent(city_target)}），"
            f"{reached}；自评截止 {plan.self_check_due or campaign.self_check_due or '未设定'}，"
            f"考评截止 {plan.review_due or campaign.review_due or '未设定'}"
        )
        return [heading, f"  计划：{plan.text}"] if plan.text else [heading]
    if each.county_id is not None:
        return [f"{each.name}：尚未制定本年度年检计划（全市目标 {format_percent(city_target)}），{reached}"]
    return [f"{each.name}：全市目标 {format_percent(city_target)}，{reached}"]


def _unassigned_lines(each: grid.Grid) -> list[str]:
    """How many unions have nobody (able to act) responsible, and the first of them."""
    unassigned = each.unassigned
    lines = [f"年检单位 {len(each.lines)} 个，未落实负责人 {len(unassigned)} 个"]
    if unassigned:
        shown = "、".join(f"{line.code} {line.name}" for line in unassigned[:SHOWN_UNASSIGNED])
        more = f" 等 {len(unassigned)} 个" if len(unassigned) > SHOWN_UNASSIGNED else ""
        lines.append(f"  未落实：{shown}{more}")
    return lines


def _progress_lines(each: grid.Grid) -> list[str]:
    """Each responsible person's unions by state, then the overdue ones."""
    if not each.progress:
        return []
    headers = ["负责人", "单位", *(name for name, _states in grid.BUCKETS), "逾期"]
    rows = [[p.person.label, len(p.lines), *p.by_bucket, p.overdue] for p in each.progress]
    lines = render(headers, rows, limits={0: NAME_WIDTH}, right=range(1, len(headers)))
    overdue = [
        f"  逾期：{line.code} {line.name}：{'、'.join(line.overdue)}（{p.person.label}）"
        for p in each.progress
        for line in p.lines
        if line.overdue
    ]
    return [*lines, *overdue]

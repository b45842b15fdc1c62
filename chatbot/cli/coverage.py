"""``nianjian coverage`` and ``sample``: how far each county has come, and the city's re-check draw."""

from __future__ import annotations

import csv
import sys

import click

from chatbot.cli.common import campaign_of_year, db_session
from chatbot.cli.table import render
from chatbot.documents.cells import csv_rows
from chatbot.inspection import sampling, texts
from chatbot.inspection.coverage import COLUMNS as SHOWN_COLUMNS
from chatbot.inspection.coverage import CoverageRow, coverage, follow_ups, shown
from chatbot.inspection.order import short_name
from rubrics.scoring import format_percent

#: The table's headers and the row fields they show: the code, then the columns the console shows too
#: (the CSV keeps the field names, and every field).
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (("编号", "code"), *SHOWN_COLUMNS)
NAME_WIDTH = 24

COLUMNS = (
    "code",
    "name",
    "unions",
    "in_scope",
    "submitted",
    "assessed",
    "rated",
    "published",
    "final",
    "share",
    "ever_rated",
    "cumulative",
    "target",
    "on_target",
    "remediation_open",
    "remediation_overdue",
    "plan_target",  # added after the others, so that a script reading the columns by place still works
    "on_plan",
)


def yes_no(value: bool) -> str:
    """A yes-or-no figure as the table and the CSV show it."""
    return "是" if value else "否"


def _csv_row(row: CoverageRow) -> dict[str, str | int]:
    """Every field of a row, for scripts: the shown figures and the ones the table leaves out."""
    return {
        **shown(row),
        "code": row.code,
        "assessed": row.assessed,
        "ever_rated": row.ever_rated,
        "on_target": yes_no(row.on_target),
        "on_plan": "" if row.on_plan is None else yes_no(row.on_plan),
        "plan_target": "" if row.plan_target is None else format_percent(row.plan_target),
    }


@click.command("coverage")
@click.option("--year", required=True, type=int, help="年度。")
@click.option("--csv", "as_csv", is_flag=True, help="输出 CSV，而不是表格。")
def coverage_command(year: int, as_csv: bool) -> None:
    """各县（区）、开发区总工会及市直工会：工会数、纳入年检、已提交、已评定、已公示、已确定星级，本年及累计覆盖率与本年度目标及本县（区）计划目标的对比；最后一行为合计。"""
    with db_session() as session:
        campaign = campaign_of_year(session, year)
        rows = coverage(session, campaign)
        follow = follow_ups(session, campaign)
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        # a name like "=HYPERLINK(…)" stays text in a spreadsheet
        writer.writerows(csv_rows([_csv_row(r) for r in rows]))
        return
    click.echo(
        "\n".join(
            render(
                [header for header, _field in TABLE_COLUMNS],
                ([r.code, *(shown(r)[field] for _header, field in SHOWN_COLUMNS)] for r in rows),
                limits={1: NAME_WIDTH},
                right=list(range(2, len(TABLE_COLUMNS))),
            )
        )
    )
    below = [
        f"{short_name(r.name)} {format_percent(r.cumulative_share)}"
        for r in rows
        if r.code and not r.on_target
    ]
    if below:
        click.echo(f"\n累计覆盖率未达年度目标 {format_percent(rows[0].target)}：" + "，".join(below))
    if follow:
        click.echo(f"\n回头看（{len(follow)} 个）：往年已评定、{year} 年度尚未评定的单位")
        click.echo(
            "\n".join(
                render(
                    ("编号", "名称", "上次评定年度", "星级"),
                    ((code, name, earlier, f"{stars}★") for code, name, earlier, stars in follow),
                    limits={1: NAME_WIDTH},
                )
            )
        )


@click.command("sample")
@click.option("--year", required=True, type=int, help="年度。")
@click.option("--share", required=True, type=click.FloatRange(0.001, 1), help="抽取已定星级单位的比例。")
@click.option("--seed", type=int, help="用记录下的随机种子重新抽取；默认用新的随机种子。")
@click.option(
    "--earlier",
    is_flag=True,
    help="回头看：同时抽取以往年度已评定、本年度尚未评定的工会（按其最近一次结果）。",
)
def sample_command(year: int, share: float, seed: int | None, earlier: bool) -> None:
    """为市总工会抽查抽取已定星级的单位，按比例分布到各县（区）。"""
    with db_session() as session:
        campaign = campaign_of_year(session, year)
        drawn = sampling.draw(session, campaign, share, seed, earlier=earlier)
        click.echo(
            f"{year} 年度抽查第 {drawn.sample_id} 批：随机种子 {drawn.seed}，比例 {share:g}，"
            f"从 {drawn.population} 个已评定单位中抽取 {len(drawn.codes)} 个"
        )
        for county, codes in drawn.by_county.items():
            click.echo(f"  {county}：{' '.join(codes)}")
        click.echo(texts.SAMPLE_DRAWN)

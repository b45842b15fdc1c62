"""``nianjian export``: the filled score sheet (年检考评表) and the results workbook (.xlsx), and a PDF
beside each with ``--pdf`` (LibreOffice)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from chatbot.cli.common import campaign_of_year, db_session, load_config
from chatbot.cli.reports import PDF_HELP, out_file, written
from chatbot.cli.results import cli_result_rows
from chatbot.store.models import Inspection, Organisation


@click.group("export")
def export_group() -> None:
    """导出 Excel：评分表、年检结果。"""


@export_group.command("sheet")
@click.option("--org", "org_code", required=True, help="基层工会的编号。")
@click.option("--year", required=True, type=int, help="年度。")
@out_file(".xlsx")
@click.option("--pdf", is_flag=True, help=PDF_HELP)
def export_sheet(org_code: str, year: int, out: Path, pdf: bool) -> None:
    """工会填好的年检考评表：考评标准表格连同自评得分和考评得分，供打印盖章。"""
    config = load_config()
    with db_session() as session:
        campaign = campaign_of_year(session, year)
        inspection = session.scalar(
            select(Inspection)
            .join(Organisation)
            .where(Inspection.campaign_id == campaign.id, Organisation.code == org_code)
        )
        if inspection is None:
            raise click.ClickException(f"{year} 年度没有 {org_code} 的年检。")
        from chatbot.documents import exports  # openpyxl: loaded by the exports alone

        exports.score_sheet(session, inspection, datetime.now(UTC), out, config)
    written(out, pdf)


@export_group.command("results")
@click.option("--year", required=True, type=int, help="年度。")
@click.option("--scope", help="只导出这个单位及其下级（单位编号）。")
@out_file(".xlsx")
@click.option("--pdf", is_flag=True, help=PDF_HELP)
def export_results(year: int, scope: str | None, out: Path, pdf: bool) -> None:
    """nianjian results 的全部数据，每个单位一行，带标题行，可筛选。"""
    with db_session() as session:
        rows = cli_result_rows(session, year, scope)
        scope_name = "全市"
        if scope:
            scope_name = session.scalar(select(Organisation.name).where(Organisation.code == scope)) or scope
    from chatbot.documents import exports  # openpyxl: loaded by the exports alone

    title = f"{year}年度基层工会组织年检结果（{scope_name}）"
    exports.results_book(rows, out, title)
    click.echo(f"共 {len(rows)} 个单位。")
    written(out, pdf)

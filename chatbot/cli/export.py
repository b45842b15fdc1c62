"""``nianjian export``: the official score sheet and the results workbook (.xlsx)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from chatbot.cli.common import db_session
from chatbot.cli.results import cli_result_rows
from chatbot.inspection import campaigns
from chatbot.store.models import Inspection, Organisation


@click.group("export")
def export_group() -> None:
    """Excel exports."""


@export_group.command("sheet")
@click.option("--org", "org_code", required=True)
@click.option("--year", required=True, type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_sheet(org_code: str, year: int, out: Path) -> None:
    """The union's official score sheet (年检考评表): the seed's table with both scores, to print and stamp."""
    with db_session() as session:
        try:
            campaign = campaigns.campaign_of_year(session, year)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        inspection = session.scalar(
            select(Inspection)
            .join(Organisation)
            .where(Inspection.campaign_id == campaign.id, Organisation.code == org_code)
        )
        if inspection is None:
            raise click.ClickException(f"no inspection of {org_code} in {year}")
        from chatbot.documents import exports  # openpyxl: loaded by the exports alone

        exports.score_sheet(session, inspection, datetime.now(UTC), out)
    click.echo(f"wrote {out}")


@export_group.command("results")
@click.option("--year", required=True, type=int)
@click.option("--scope", help="Only this organisation and those below it.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_results(year: int, scope: str | None, out: Path) -> None:
    """Every figure of `nianjian results`, one row per organisation, filterable, header frozen."""
    with db_session() as session:
        rows = cli_result_rows(session, year, scope)
    from chatbot.documents import exports  # openpyxl: loaded by the exports alone

    exports.results_book(rows, exports.RESULT_COLUMNS, out)
    click.echo(f"wrote {out} ({len(rows)} organisations)")

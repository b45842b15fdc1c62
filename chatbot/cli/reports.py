"""``nianjian report county|city``: the annual summaries (年检工作情况总结) as .docx with charts."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from chatbot.cli.common import db_session
from chatbot.cli.orgs import report_group
from chatbot.documents import reports
from chatbot.inspection import campaigns
from chatbot.store.models import Organisation


@report_group.command("county")
@click.option("--county", "county_code", required=True)
@click.option("--year", required=True, type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def report_county(county_code: str, year: int, out: Path) -> None:
    """A county/zone federation's annual summary, generated from the data, with charts."""
    with db_session() as session:
        county = session.scalar(select(Organisation).where(Organisation.code == county_code))
        if county is None:
            raise click.ClickException(f"no organisation {county_code}")
        try:
            reports.county_report(session, campaigns.campaign_of_year(session, year), county, out)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"wrote {out}")


@report_group.command("city")
@click.option("--year", required=True, type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def report_city(year: int, out: Path) -> None:
    """The city's annual summary: totals and charts, then one section per county."""
    with db_session() as session:
        try:
            reports.city_report(session, campaigns.campaign_of_year(session, year), out)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"wrote {out}")

"""``nianjian coverage`` and ``sample``: how far each county has come, and the city's re-check draw."""

from __future__ import annotations

import csv
import sys

import click

from chatbot.cli.common import db_session
from chatbot.inspection import campaigns, sampling
from chatbot.inspection.coverage import coverage, follow_ups
from rubrics.scoring import format_percent, whole_percent

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
)


def _campaign(session, year: int):
    try:
        return campaigns.campaign_of_year(session, year)
    except ValueError as error:
        raise click.ClickException(str(error)) from error


@click.command("coverage")
@click.option("--year", required=True, type=int)
@click.option("--csv", "as_csv", is_flag=True)
def coverage_command(year: int, as_csv: bool) -> None:
    """Per county/zone federation and the city-direct unions: unions, in scope, submitted, assessed,
    rated, published, final, and the share rated against the year's target; then the total."""
    with db_session() as session:
        campaign = _campaign(session, year)
        rows = coverage(session, campaign)
        follow = follow_ups(session, campaign)
    table = [
        {
            "code": r.code,
            "name": r.name,
            "unions": r.unions,
            "in_scope": r.in_scope,
            "submitted": r.submitted,
            "assessed": r.assessed,
            "rated": r.rated,
            "published": r.published,
            "final": r.final,
            "share": format_percent(r.share),
            "ever_rated": r.ever_rated,
            "cumulative": format_percent(r.cumulative_share),
            "target": f"{whole_percent(r.target)}%",
            "on_target": "yes" if r.on_target else "no",
            "remediation_open": r.remediation_open,
        }
        for r in rows
    ]
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    else:
        click.echo("  ".join(COLUMNS))
        for row in table:
            click.echo("  ".join(str(row[c]) or "-" for c in COLUMNS))
    if follow and not as_csv:
        click.echo(f"\n回头看 follow-up ({len(follow)}): rated in an earlier year, not yet rated in {year}")
        for code, name, earlier, stars in follow:
            click.echo(f"  {code}  {name}  {earlier}  {stars}★")


@click.command("sample")
@click.option("--year", required=True, type=int)
@click.option("--share", required=True, type=click.FloatRange(0.001, 1), help="Share of rated inspections.")
@click.option("--seed", type=int, help="Draw again with a recorded seed; default: a new random seed.")
@click.option(
    "--earlier",
    is_flag=True,
    help="回头看: also draw unions rated in an earlier year and not yet rated this year (their latest result).",
)
def sample_command(year: int, share: float, seed: int | None, earlier: bool) -> None:
    """Draw rated inspections for the city's re-check (抽查), spread across counties in proportion."""
    with db_session() as session:
        campaign = _campaign(session, year)
        drawn = sampling.draw(session, campaign, share, seed, earlier=earlier)
        click.echo(
            f"sample {drawn.sample_id} of {year}: seed {drawn.seed}, share {share:g}, "
            f"{len(drawn.codes)} of {drawn.population} rated inspections"
        )
        for county, codes in drawn.by_county.items():
            click.echo(f"  {county}: {' '.join(codes)}")
        click.echo("re-check in chat as a city evaluator: 抽查 单位编号")

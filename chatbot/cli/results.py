"""``nianjian evaluation``, ``results``, ``publish`` and ``tick``: from votes to final results."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot import admin, results
from chatbot.cli.common import db_session, load_config
from chatbot.cli.notices import api_client
from chatbot.config import Config
from chatbot.listing import result_rows, scope_ids
from chatbot.models import Organisation
from chatbot.timeutil import local_date
from chatbot.wechat_api import ApiError
from rubrics.scoring import Stars

COLUMNS = (
    "code",
    "name",
    "rubric",
    "state",
    "self_score",
    "assessed_score",
    "democratic_score",
    "turnout",
    "stars",
    "marks",
)


@click.group("evaluation")
def evaluation_group() -> None:
    """Democratic evaluations (民主测评)."""


@evaluation_group.command("open")
@click.option("--org", "org_code", required=True, help="The organisation whose union is evaluated.")
@click.option("--closes", type=click.DateTime(["%Y-%m-%d"]), help="Last day of voting (default: in 7 days).")
@click.option(
    "--open",
    "open_slots",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Places for people without a binding who arrive with the code.",
)
@click.option(
    "--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the QR PNG."
)
def evaluation_open(org_code: str, closes: datetime | None, open_slots: int, qr_path: Path | None) -> None:
    """Open the evaluation; writes a QR-code PNG for scene eval:CODE; the code alone on the last line."""
    config = load_config()
    with db_session() as session:
        evaluation = admin.open_evaluation(
            session, org_code, closes.date() if closes else None, open_slots, datetime.now(UTC)
        )
        code = evaluation.code
        closes_on = local_date(evaluation.closes_at)
        members = evaluation.inspection.organisation.member_count
    path = qr_path or config.instance_dir / "qr" / f"eval-{code}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    content = _qr_content(config, f"eval:{code}")
    segno.make(content, error="m").save(str(path), scale=8, border=4)
    click.echo(f"democratic evaluation of {org_code} open until {closes_on}; {open_slots} open place(s)")
    if members is not None and members <= 25:
        click.echo(f"{members} members (≤ 25): every member takes part (会员人数少的，全部参加)")
    click.echo(f"QR code (scene eval:{code}): {path}; members may also send “测评 {code}”")
    click.echo(code)


def _qr_content(config: Config, scene: str) -> str:
    """What the QR code holds: WeChat's URL for a scene code when the API is configured, so that a scan
    opens the official account with the scene; else the scene itself (for the simulator's /scan)."""
    if not config.api_configured:
        return scene
    client, engine = api_client(config)
    try:
        return str(client.create_qrcode(scene)["url"])
    except (ApiError, KeyError) as error:
        raise click.ClickException(f"the WeChat QR code could not be created: {error}") from error
    finally:
        engine.dispose()


def cli_result_rows(session: Session, year: int, scope: str | None) -> list[dict[str, str]]:
    """`nianjian results`' rows, with the scope given as an organisation code."""
    try:
        campaign = results.campaign_of_year(session, year)
        return result_rows(session, campaign, scope_ids(session, scope) if scope else None)
    except ValueError as error:
        raise click.ClickException(str(error)) from error


@click.group("results", invoke_without_command=True)
@click.option("--year", type=int, help="Campaign year.")
@click.option("--scope", help="Only this organisation and those below it.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of a table.")
@click.pass_context
def results_group(ctx: click.Context, year: int | None, scope: str | None, as_csv: bool) -> None:
    """List results: scores, democratic figures, stars and quota marks (capped, flagged, overridden)."""
    if ctx.invoked_subcommand is not None:
        return
    if year is None:
        raise click.UsageError("--year is required")
    config = load_config()
    with db_session() as session:
        try:
            results.confirm(session, results.campaign_of_year(session, year), config)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        rows = cli_result_rows(session, year, scope)
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return
    click.echo("  ".join(COLUMNS))
    for row in rows:
        click.echo("  ".join(row[c] or "-" for c in COLUMNS))


@results_group.command("override")
@click.option("--org", "org_code", required=True)
@click.option("--year", required=True, type=int)
@click.option("--stars", required=True, type=click.IntRange(1, 5))
@click.option("--reason", required=True, help="The written reason; audited.")
def results_override(org_code: str, year: int, stars: int, reason: str) -> None:
    """Set a result's stars against the quota, with a written reason (audited)."""
    config = load_config()
    with db_session() as session:
        try:
            inspection = results.override(
                session,
                results.campaign_of_year(session, year),
                org_code,
                Stars(stars),
                reason,
                config,
                actor="cli",
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"{org_code}: {Stars(inspection.stars or stars).label} ({reason})")


@click.command("publish")
@click.option("--year", required=True, type=int)
@click.option("--scope", help="Only this organisation and those below it.")
@click.option(
    "--days", default=results.DEFAULT_PUBLICATION_DAYS, show_default=True, type=click.IntRange(1, 60)
)
def publish(year: int, scope: str | None, days: int) -> None:
    """Publish (公示) the rated results in scope; chairs and members are notified."""
    config = load_config()
    with db_session() as session:
        try:
            campaign = results.campaign_of_year(session, year)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        root = None
        if scope:
            root = session.scalar(select(Organisation).where(Organisation.code == scope))
            if root is None:
                raise click.ClickException(f"no organisation {scope}")
        outcome = results.publish(session, campaign, config, datetime.now(UTC), days, root)
    click.echo(
        f"published {len(outcome.published)} result(s) for {days} days: {' '.join(outcome.published) or '-'}"
    )
    if outcome.flagged:
        click.echo(
            "not published, five-star tie at the quota's cut-off — decide with `nianjian results override`: "
            + " ".join(outcome.flagged)
        )

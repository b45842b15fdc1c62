"""``nianjian org``, ``invite`` and ``campaign``: set up organisations, invitations and campaigns."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import click
from sqlalchemy import func, select

from chatbot.cli.common import db_session
from chatbot.inspection import audit, campaigns, organisations
from chatbot.inspection.coverage import target_of
from chatbot.store.models import Campaign, Inspection, Member, Organisation
from rubrics.deadlines import parse_month_day, report_due
from rubrics.loader import RUBRIC_KEYS


@click.group("org")
def org_group() -> None:
    """Organisations (工会组织)."""


@org_group.command("add")
@click.option("--code", required=True, help="Unique code, e.g. XJ-001.")
@click.option("--name", required=True, help="The union's name.")
@click.option("--rubric", type=click.Choice(RUBRIC_KEYS), help="Rubric sheet; grassroots unions only.")
@click.option("--parent", help="Code of the parent union (its evaluator).")
@click.option("--members", type=click.IntRange(min=0), help="Number of members.")
def org_add(code: str, name: str, rubric: str | None, parent: str | None, members: int | None) -> None:
    """Add one organisation."""
    with db_session() as session:
        org = organisations.add_org(session, organisations.OrgRow(code, name, rubric, parent, members))
        click.echo(f"added {org.code} {org.name}")


@org_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def org_import(file: Path) -> None:
    """Import organisations from CSV or XLSX (columns: code, name, rubric, parent, members).

    Every bad row is reported with its line; a file with any bad row imports nothing.
    """
    from chatbot.documents import imports  # openpyxl: loaded by the commands that read files

    with db_session() as session:
        rows = imports.parse_orgs(file)
        with click.progressbar(length=len(rows), label="importing organisations", file=sys.stderr) as bar:
            added = imports.import_orgs(session, file, rows, progress=bar.update)
    click.echo(f"imported {added} organisations")


@click.group("member")
def member_group() -> None:
    """Union members on the roll (会员名册); phone numbers are shown masked."""


@member_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def member_import(file: Path) -> None:
    """Import members from CSV or XLSX (columns: name, phone, organisation — the organisation's code)."""
    from chatbot.documents import imports  # openpyxl: loaded by the commands that read files

    with db_session() as session:
        rows = imports.parse_members(session, file)
        with click.progressbar(length=len(rows), label="importing members", file=sys.stderr) as bar:
            added = imports.import_members(session, file, rows, progress=bar.update)
    click.echo(f"imported {added} members")


@member_group.command("list")
@click.option("--org", "org_code", required=True)
@click.option("--reveal", is_flag=True, help="Show full phone numbers (audited).")
def member_list(org_code: str, reveal: bool) -> None:
    """The members of one organisation, phones masked unless --reveal."""
    from chatbot.documents.imports import mask_phone

    with db_session() as session:
        org = session.scalar(select(Organisation).where(Organisation.code == org_code))
        if org is None:
            raise click.ClickException(f"no organisation {org_code}")
        members = session.scalars(
            select(Member).where(Member.organisation_id == org.id).order_by(Member.id)
        ).all()
        if reveal:
            audit.record(
                session, "cli", "reveal_phones", "organisation", org.id, after={"count": len(members)}
            )
        for member in members:
            click.echo(f"{member.name}  {member.phone if reveal else mask_phone(member.phone)}")
        click.echo(f"{len(members)} member(s) of {org_code}")


@click.group("invite")
def invite_group() -> None:
    """Invitation codes (邀请码)."""


@invite_group.command("create")
@click.option("--org", "org_code", required=True, help="Organisation code.")
@click.option("--role", required=True, type=click.Choice(organisations.ROLES))
@click.option("--uses", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=0), help="0: never expires.")
def invite_create(org_code: str, role: str, uses: int, days: int) -> None:
    """Create an invitation; the code alone is printed on the last line."""
    with db_session() as session:
        invitation = organisations.create_invitation(session, org_code, role, uses, days or None)
        click.echo(
            f"{role} invitation for {org_code}: {uses} use(s), "
            + (f"valid {days} days" if days else "no expiry")
            + f"; bind with “绑定 {invitation.code}” or the QR scene inv:{invitation.code}"
        )
        click.echo(invitation.code)


@click.group("campaign")
def campaign_group() -> None:
    """Campaign years (年度年检)."""


def _month_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        return parse_month_day(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


@campaign_group.command("open")
@click.argument("year", type=int)
@click.option("--self-check-due", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the self-check.")
@click.option("--review-due", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the assessments.")
@click.option("--target", type=click.FloatRange(0, 1), help="Share of unions to inspect this year, e.g. 0.7.")
@click.option(
    "--report-due",
    callback=_month_day,
    help="MM-DD of the following year for the county summaries "
    "(default 02-30, the seed's: a day past the month's end is its last day).",
)
@click.option(
    "--scope-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Inspect only the unions listed (one code per line, or a CSV/XLSX with a `code` column).",
)
@click.option(
    "--share",
    type=click.FloatRange(0.001, 1),
    help="Inspect only this share of the unions, drawn in each county (rounded up), e.g. 0.3.",
)
@click.option("--seed", type=int, help="With --share: the seed of the draw (recorded; default: random).")
def campaign_open(
    year: int,
    self_check_due: datetime | None,
    review_due: datetime | None,
    target: float | None,
    report_due: tuple[int, int] | None,
    scope_file: Path | None,
    share: float | None,
    seed: int | None,
) -> None:
    """Open campaign YEAR (or change its deadlines and target): every grassroots union gets an
    inspection, or only those of --scope-file or a --share drawn per county."""
    if scope_file is not None and share is not None:
        raise click.UsageError("--scope-file 与 --share 只能选一个。")
    if seed is not None and share is None:
        raise click.UsageError("--seed 须与 --share 一起使用。")
    deadlines = campaigns.Deadlines(
        self_check_due.date() if self_check_due else None,
        review_due.date() if review_due else None,
        report_due,
        Decimal(str(target)) if target is not None else None,
    )
    scope = None
    if scope_file is not None:
        from chatbot.documents.imports import read_codes

        scope = campaigns.CampaignScope(codes=read_codes(scope_file), note=f"名单 {scope_file.name}")
    elif share is not None:
        scope = campaigns.CampaignScope(share=Decimal(str(share)), seed=seed)
    with db_session() as session:
        campaign, added = campaigns.open_year(session, year, deadlines=deadlines, scope=scope)
        click.echo(f"campaign {campaign.year} open; {added} inspection(s) added")
        if campaign.scoped:
            count = session.scalar(
                select(func.count()).select_from(Inspection).where(Inspection.campaign_id == campaign.id)
            )
            click.echo(f"年检范围：{campaign.scope_note}，共 {count} 个基层工会")
        _show(campaign)


@campaign_group.command("show")
@click.argument("year", type=int)
def campaign_show(year: int) -> None:
    """Print a campaign's deadlines, with the effective report date of the following year."""
    with db_session() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.year == year))
        if campaign is None:
            raise click.ClickException(f"no campaign {year}")
        _show(campaign)


def _show(campaign: Campaign) -> None:
    click.echo(f"coverage target: {int(target_of(campaign) * 100)}%")
    due, clamped = report_due(campaign.year, campaign.report_due_month, campaign.report_due_day)
    click.echo(f"self-check due: {campaign.self_check_due or '-'}")
    click.echo(f"review due:     {campaign.review_due or '-'}")
    line = (
        f"report due:     {campaign.report_due_month:02d}-{campaign.report_due_day:02d} → {due.isoformat()}"
    )
    click.echo(line)
    if clamped:
        click.echo(
            f"warning: {campaign.report_due_month}月{campaign.report_due_day}日 does not exist in {due.year}; "
            f"the summaries are due on {due.isoformat()}, the month's last day"
        )


@click.group("report")
def report_group() -> None:
    """County summaries (年检工作情况总结)."""


@report_group.command("received")
@click.option("--county", "county_code", required=True)
@click.option("--year", required=True, type=int)
@click.option("--paper", is_flag=True, help="The stamped paper copy (default: the electronic copy).")
def report_received(county_code: str, year: int, paper: bool) -> None:
    """Mark a county's annual summary received; its reminders stop once both copies are in."""
    with db_session() as session:
        report = campaigns.mark_report_received(session, county_code, year, paper, datetime.now(UTC))
        copies = [
            name
            for name, at in (
                ("electronic", report.electronic_received_at),
                ("paper", report.paper_received_at),
            )
            if at
        ]
        click.echo(f"{county_code} {year}: received {', '.join(copies)}")

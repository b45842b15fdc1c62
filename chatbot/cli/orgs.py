"""``nianjian org``, ``invite`` and ``campaign``: set up organisations, invitations and campaigns."""

from __future__ import annotations

from pathlib import Path

import click

from chatbot import admin
from chatbot.cli.common import db_session
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
        org = admin.add_org(session, admin.OrgRow(code, name, rubric, parent, members))
        click.echo(f"added {org.code} {org.name}")


@org_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def org_import(file: Path) -> None:
    """Import organisations from CSV or XLSX (columns: code, name, rubric, parent, members)."""
    with db_session() as session:
        rows = admin.parse_import(file)
        added = admin.import_orgs(session, rows)
        click.echo(f"imported {len(added)} organisations")


@click.group("invite")
def invite_group() -> None:
    """Invitation codes (邀请码)."""


@invite_group.command("create")
@click.option("--org", "org_code", required=True, help="Organisation code.")
@click.option("--role", required=True, type=click.Choice(admin.ROLES))
@click.option("--uses", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=0), help="0: never expires.")
def invite_create(org_code: str, role: str, uses: int, days: int) -> None:
    """Create an invitation; the code alone is printed on the last line."""
    with db_session() as session:
        invitation = admin.create_invitation(session, org_code, role, uses, days or None)
        click.echo(
            f"{role} invitation for {org_code}: {uses} use(s), "
            + (f"valid {days} days" if days else "no expiry")
            + f"; bind with “绑定 {invitation.code}” or the QR scene inv:{invitation.code}"
        )
        click.echo(invitation.code)


@click.group("campaign")
def campaign_group() -> None:
    """Campaign years (年度年检)."""


@campaign_group.command("open")
@click.argument("year", type=int)
def campaign_open(year: int) -> None:
    """Open campaign YEAR: every grassroots union gets an inspection."""
    with db_session() as session:
        campaign, added = admin.open_year(session, year)
        click.echo(f"campaign {campaign.year} open; {added} inspection(s) added")

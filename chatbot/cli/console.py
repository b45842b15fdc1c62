"""``nianjian admin create``: accounts of the web console."""

from __future__ import annotations

import click

from chatbot.cli.common import db_session
from chatbot.console.access import create_user
from chatbot.inspection import audit


@click.group("admin")
def admin_group() -> None:
    """Web console accounts (管理台账号)."""


@admin_group.command("create")
@click.option("--org", "org_code", required=True, help="The city federation (sees everything) or a county's.")
@click.option("--username", required=True)
@click.password_option(help="At least 10 characters; prompted when not given.")
def admin_create(org_code: str, username: str, password: str) -> None:
    """Create a console user; the password is stored as a scrypt hash."""
    with db_session() as session:
        try:
            user = create_user(session, org_code, username, password)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        audit.record(
            session, "cli", "create", "console_user", user.id, after={"username": username, "org": org_code}
        )
    click.echo(f"console user {username} of {org_code} created; sign in at /console/login")

"""The ``nianjian`` command line."""

from __future__ import annotations

import click

from chatbot.cli.rubrics import rubrics_group


@click.group()
def main() -> None:
    """年检助手 — annual inspection of grassroots trade unions."""


main.add_command(rubrics_group)

"""The ``nianjian`` command line."""

from __future__ import annotations

import logging

import click

from chatbot.cli.chat import chat
from chatbot.cli.console import admin_group
from chatbot.cli.coverage import coverage_command, sample_command
from chatbot.cli.demo import demo
from chatbot.cli.export import export_group
from chatbot.cli.notices import fake_wechat, menu_group, notices_group, tick
from chatbot.cli.orgs import campaign_group, invite_group, member_group, org_group, report_group
from chatbot.cli.reports import report_city, report_county  # noqa: F401 — registers on `report`
from chatbot.cli.results import evaluation_group, publish, results_group
from chatbot.cli.rubrics import rubrics_group
from chatbot.cli.serve import scheduler_command, serve


@click.group()
def main() -> None:
    """年检助手 — annual inspection of grassroots trade unions."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for command in (
    rubrics_group,
    admin_group,
    coverage_command,
    sample_command,
    export_group,
    report_group,
    notices_group,
    menu_group,
    fake_wechat,
    org_group,
    member_group,
    invite_group,
    campaign_group,
    evaluation_group,
    results_group,
    publish,
    tick,
    serve,
    scheduler_command,
    demo,
    chat,
):
    main.add_command(command)

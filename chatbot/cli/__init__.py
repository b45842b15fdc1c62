"""The ``nianjian`` command line: one group, each command imported only when it runs (so that
``nianjian --help`` and light commands start at once, and no command pays for another's libraries)."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

import click

#: Each command: the module that defines it, its name there, and its line in `nianjian --help`.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "rubrics": ("chatbot.cli.rubrics", "rubrics_group", "The six rubric sheets (考评标准)."),
    "org": ("chatbot.cli.orgs", "org_group", "Organisations (工会组织)."),
    "member": ("chatbot.cli.orgs", "member_group", "Union members on the roll (会员名册)."),
    "invite": ("chatbot.cli.orgs", "invite_group", "Invitation codes (邀请码)."),
    "campaign": ("chatbot.cli.orgs", "campaign_group", "Campaign years (年度年检): open, scope, deadlines."),
    "report": ("chatbot.cli.reports", "report_group", "County summaries (年检工作情况总结)."),
    "evaluation": ("chatbot.cli.results", "evaluation_group", "Democratic evaluations (民主测评)."),
    "results": ("chatbot.cli.results", "results_group", "Results, the quota's confirmation, overrides."),
    "publish": ("chatbot.cli.results", "publish", "Publish (公示) the rated results in scope."),
    "coverage": ("chatbot.cli.coverage", "coverage_command", "Coverage per county against the target."),
    "grid": ("chatbot.cli.grid", "grid_group", "网格化管理: county plans, one responsible person per union."),
    "sample": ("chatbot.cli.coverage", "sample_command", "Draw inspections for the city's re-check (抽查)."),
    "export": ("chatbot.cli.export", "export_group", "Excel exports: the score sheet, the results."),
    "admin": ("chatbot.cli.console", "admin_group", "Web console accounts (管理台账号)."),
    "notices": ("chatbot.cli.notices", "notices_group", "Notices (通知) and their delivery."),
    "menu": ("chatbot.cli.notices", "menu_group", "The official account's custom menu."),
    "tick": ("chatbot.cli.notices", "tick", "Run everything due at an instant once."),
    "deliver": ("chatbot.cli.notices", "deliver", "Deliver the outbox with extra worker processes."),
    "fake-wechat": ("chatbot.cli.notices", "fake_wechat", "A fake WeChat API on loopback."),
    "serve": ("chatbot.cli.serve", "serve", "Serve the webhook, with the scheduler."),
    "scheduler": ("chatbot.cli.serve", "scheduler_command", "Run the scheduler alone."),
    "demo": ("chatbot.cli.demo", "demo", "Create the demo city and print invitation codes."),
    "chat": ("chatbot.cli.chat", "chat", "Chat with the webhook as a simulated WeChat user."),
    "backup": ("chatbot.cli.backup", "backup_command", "Back up the database to one file (备份)."),
    "restore": ("chatbot.cli.backup", "restore_command", "Restore a backup into an empty database (恢复)."),
    "purge": ("chatbot.cli.privacy", "purge", "Remove personal data past its retention period (清理)."),
    "privacy": ("chatbot.cli.privacy", "privacy_group", "Personal data protection: the key (个人信息)."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported from ``COMMANDS`` when asked for, and whose errors —
    click's own usage errors too — are shown in Chinese (``chatbot.cli.usage``)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's ``main``, with every error shown by ``usage.show`` (click's standalone handling
        would print its English wording)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            from chatbot.cli import usage

            usage.show(error)
            sys.exit(error.exit_code)
        except click.Abort:
            from chatbot.cli import usage

            click.echo(usage.ABORTED, err=True)
            sys.exit(1)
        # Without standalone mode click returns the command's value, or the code of an explicit exit.
        sys.exit(result if isinstance(result, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        spec = COMMANDS.get(name)
        if spec is None:
            return None
        module, attribute, _summary = spec
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from the table, without importing a single command."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group("nianjian", cls=LazyGroup)
def main(**_options: Any) -> None:
    """年检助手 — annual inspection of grassroots trade unions."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

"""The ``nianjian`` command line: one group, each command imported only when it runs (so that
``nianjian --help`` and light commands start at once, and no command pays for another's libraries)."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

import click

from chatbot.cli.helppages import HelpContext, adopt

#: Each command: the module that defines it, its name there, and its line in `nianjian --help`.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "rubrics": ("chatbot.cli.rubrics", "rubrics_group", "六张考评标准表及其版本。"),
    "org": ("chatbot.cli.orgs", "org_group", "工会组织：添加、导入。"),
    "member": ("chatbot.cli.orgs", "member_group", "会员名册。"),
    "invite": ("chatbot.cli.orgs", "invite_group", "邀请码。"),
    "campaign": ("chatbot.cli.orgs", "campaign_group", "年度年检：开启、范围、截止时间。"),
    "report": ("chatbot.cli.reports", "report_group", "各县（区）年检工作情况总结。"),
    "evaluation": ("chatbot.cli.results", "evaluation_group", "民主测评。"),
    "results": ("chatbot.cli.results", "results_group", "年检结果：五星级名额确认、星级调整。"),
    "publish": ("chatbot.cli.results", "publish", "公示范围内已定星级的结果。"),
    "coverage": ("chatbot.cli.coverage", "coverage_command", "各县（区）年检覆盖率与目标对比。"),
    "grid": ("chatbot.cli.grid", "grid_group", "网格化管理：县级计划，每个工会一名责任人。"),
    "sample": ("chatbot.cli.coverage", "sample_command", "为市总工会抽查抽取单位。"),
    "export": ("chatbot.cli.export", "export_group", "导出 Excel：评分表、年检结果。"),
    "admin": ("chatbot.cli.console", "admin_group", "管理台账号。"),
    "notices": ("chatbot.cli.notices", "notices_group", "通知及其发送情况。"),
    "menu": ("chatbot.cli.notices", "menu_group", "公众号自定义菜单。"),
    "tick": ("chatbot.cli.notices", "tick", "在某一时刻把到期的事项各运行一次。"),
    "deliver": ("chatbot.cli.notices", "deliver", "用额外的发送进程发送待发通知。"),
    "fake-wechat": ("chatbot.cli.notices", "fake_wechat", "在本机运行模拟微信接口。"),
    "serve": ("chatbot.cli.serve", "serve", "启动公众号接口服务（含定时任务）。"),
    "scheduler": ("chatbot.cli.serve", "scheduler_command", "单独运行定时任务。"),
    "demo": ("chatbot.cli.demo", "demo", "建立演示用的城市并打印邀请码。"),
    "chat": ("chatbot.cli.chat", "chat", "以模拟微信用户的身份与公众号对话。"),
    "backup": ("chatbot.cli.backup", "backup_command", "把数据库备份到一个文件。"),
    "restore": ("chatbot.cli.backup", "restore_command", "把备份恢复到空数据库。"),
    "purge": ("chatbot.cli.privacy", "purge", "清理超过保存期限的个人信息。"),
    "privacy": ("chatbot.cli.privacy", "privacy_group", "个人信息保护：加密密钥。"),
}


def _unreachable(error: Exception) -> click.ClickException | None:
    """The Chinese refusal when ``error`` says the configured database cannot be used now."""
    from chatbot.cli import failures
    from chatbot.config import Config

    return failures.database_unreachable(error, Config.from_env().database_url)


class LazyGroup(click.Group):
    """A group whose commands are imported from ``COMMANDS`` when asked for, and whose errors —
    click's own usage errors too — are shown in Chinese (``chatbot.cli.usage``), as are the help pages
    of the group and of every command below it (``chatbot.cli.helppages``)."""

    context_class = HelpContext

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's ``main``, with every error shown by ``usage.show`` (click's standalone handling
        would print its English wording), and a database that cannot be used said in Chinese
        (``chatbot.cli.failures``) instead of the driver's traceback."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from chatbot.cli import usage

        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            usage.show(error)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo(usage.ABORTED, err=True)
            sys.exit(1)
        except Exception as error:
            refusal = _unreachable(error)
            if refusal is None:
                raise
            usage.show(refusal)
            sys.exit(refusal.exit_code)
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
        return adopt(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from the table, without importing a single command."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group("nianjian", cls=LazyGroup)
def main(**_options: Any) -> None:
    """年检助手：基层工会年检的命令行工具。"""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

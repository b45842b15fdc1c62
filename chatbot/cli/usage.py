"""click's own errors in Chinese: a missing option, an unknown command or option, an invalid value.

click builds these messages in English (through gettext, with no catalogue shipped). The command
line's group runs click without its standalone error handling and shows every error through
:func:`show` instead, which words click's errors from their type and attributes — the offending value
taken from click's message where only the message carries it. Command names, flags and values stay
as typed. Our own errors (``click.ClickException`` raised by a command) are Chinese already and are
shown as they are.
"""

from __future__ import annotations

import difflib
import re
from typing import IO, Any

import click
from click.exceptions import (
    BadOptionUsage,
    BadParameter,
    FileError,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchCommand,
    NoSuchOption,
    UsageError,
)

ABORTED = "已取消。"

#: click's messages about a value (BadParameter's inner message): the pattern of the whole message,
#: its Chinese wording (the groups put in), and how the second group is read: a range, date formats
#: or choices.
VALUE_MESSAGES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), template, kind)
    for pattern, template, kind in (
        (r"'(.*)' is not a valid integer\.", "“{0}”不是整数。", ""),
        (r"'(.*)' is not a valid float\.", "“{0}”不是数字。", ""),
        (
            r"'(.*)' is not a valid (?:boolean|bool)\..*",
            "“{0}”不是是/否值（可用 yes/no、true/false、1/0）。",
            "",
        ),
        (r"'(.*)' is not a valid UUID\.", "“{0}”不是 UUID。", ""),
        (r"(.*) is not in the range (.*)\.", "{0} 超出允许范围（{1}）。", "range"),
        (r"'(.*)' does not match the formats? (.*)\.", "“{0}”不是有效的日期，应写作{1}。", "dates"),
        (r"(?:File|Directory|Path) '(.*)' does not exist\.", "“{0}”不存在。", ""),
        (r"(?:File|Directory|Path) '(.*)' is a directory\.", "“{0}”是目录，需要一个文件。", ""),
        (r"(?:File|Directory|Path) '(.*)' is a file\.", "“{0}”是文件，需要一个目录。", ""),
        (r"(?:File|Directory|Path) '(.*)' is not readable\.", "“{0}”无法读取（权限不足）。", ""),
        (r"(?:File|Directory|Path) '(.*)' is not writable\.", "“{0}”无法写入（权限不足）。", ""),
        (r"(?:File|Directory|Path) '(.*)' is not executable\.", "“{0}”不可执行。", ""),
        (r"'(.*)' is not (?:one of )?(.*)\.", "“{0}”不是可选的值；可选：{1}。", "choices"),
    )
)

#: click's other usage messages (raised through ``ctx.fail`` or the parser).
USAGE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), template)
    for pattern, template in (
        (r"Got unexpected extra arguments? \((.*)\)", "多余的参数：{0}。"),
        (r"Option '(.*)' requires an argument\.", "选项 {0} 后面需要一个值。"),
        (r"Option '(.*)' requires (\d+) arguments\.", "选项 {0} 后面需要 {1} 个值。"),
        (r"Option '(.*)' does not take a value\.", "选项 {0} 不带值。"),
        (r"Argument '(.*)' takes (\d+) values\.", "参数 {0} 需要 {1} 个值。"),
        (r"Missing command\.", "缺少命令。"),
    )
)

#: Date formats as people read them.
DATE_FORMATS = {"'%Y-%m-%d'": "年-月-日，如 2026-06-30", "'%Y-%m-%dT%H:%M:%S'": "年-月-日T时:分:秒"}


def usage_message(message: str) -> str | None:
    """One of click's other usage messages in Chinese; None when it is not one of them."""
    for pattern, template in USAGE_MESSAGES:
        found = pattern.fullmatch(message.strip())
        if found:
            return template.format(*found.groups())
    return None


def range_words(text: str) -> str:
    """click's range in words: "x>=1" → 至少 1, "0.001<=x<=1" → 0.001 到 1, "x<=5" → 至多 5."""
    between = re.fullmatch(r"(\S+)<=x<=(\S+)", text)
    if between:
        return f"{between[1]} 到 {between[2]}"
    for pattern, words in (
        (r"x>=(\S+)", "至少 {}"),
        (r"x<=(\S+)", "至多 {}"),
        (r"x>(\S+)", "大于 {}"),
        (r"x<(\S+)", "小于 {}"),
    ):
        bound = re.fullmatch(pattern, text)
        if bound:
            return words.format(bound[1])
    return text.replace("x", "值").replace("<=", "≤").replace(">=", "≥")


def value_message(message: str) -> str:
    """A BadParameter's inner message in Chinese (kept as it is when it is ours, or unknown)."""
    for pattern, template, kind in VALUE_MESSAGES:
        found = pattern.fullmatch(message.strip())
        if not found:
            continue
        groups = list(found.groups())
        if kind == "range":
            groups[1] = range_words(groups[1])
        elif kind == "dates":
            groups[1] = "、".join(DATE_FORMATS.get(f.strip(), f.strip()) for f in groups[1].split(","))
        elif kind == "choices":
            groups[1] = "、".join(choice.strip().strip("'") for choice in groups[1].split(","))
        return template.format(*groups)
    return message


def _param_name(error: BadParameter) -> str:
    """How the parameter is named: an option as typed (``--code``), an argument as the usage line
    shows it, in Chinese (``参数“年度”``)."""
    if error.param_hint is not None:
        hint = error.param_hint
        return " / ".join(hint) if not isinstance(hint, str) else hint.replace("'", "")
    param = error.param
    if param is None:
        return "参数"
    if isinstance(param, click.Option):
        return " / ".join(param.opts)
    from chatbot.cli.helppages import metavars  # helppages reads this module's range words

    return f"参数“{metavars(param.human_readable_name)}”"


def _spaced(name: str) -> str:
    """``name`` followed by a space unless it ends in a quotation mark (``参数“年度”的值…``)."""
    return name if name.endswith("”") else name + " "


def _suggest(names: list[str]) -> str:
    return "您是不是要用 " + "、".join(names) + "？" if names else ""


def message_of(error: click.ClickException) -> str:
    """The Chinese message of any click error."""
    if isinstance(error, MissingParameter):
        name = _param_name(error)
        if isinstance(error.param, click.Option) or error.param_type == "option":
            name = f"选项 {name}"
        elif not name.startswith("参数"):
            name = f"参数 {name}"
        text = f"缺少{name}。"
        param = error.param
        if param is not None and isinstance(param.type, click.Choice):
            text += "可选：" + "、".join(str(choice) for choice in param.type.choices) + "。"
        return text
    if isinstance(error, BadParameter):
        return f"{_spaced(_param_name(error))}的值无效：{value_message(error.message)}"
    if isinstance(error, NoSuchOption):
        return f"没有选项 {error.option_name}。" + _suggest(error.possibilities or [])
    if isinstance(error, NoSuchCommand):
        ctx = error.ctx
        names: list[str] = []
        if ctx is not None and isinstance(ctx.command, click.Group):
            names = difflib.get_close_matches(error.command_name, ctx.command.list_commands(ctx))
        return f"没有命令“{error.command_name}”。" + _suggest(names)
    if isinstance(error, FileError):
        return f"无法打开文件“{error.ui_filename}”：{error.message}"
    if isinstance(error, (BadOptionUsage, UsageError)):
        return usage_message(error.message) or error.message
    return error.message


def _usage_lines(ctx: click.Context) -> str:
    usage = ctx.get_usage()  # "用法：…", by the help pages' formatter (chatbot.cli.helppages)
    hint = ""
    if ctx.command.get_help_option(ctx) is not None:
        hint = f"\n运行 {ctx.command_path} --help 查看说明。"
    return usage + hint + "\n"


def show(error: click.ClickException, file: IO[Any] | None = None) -> None:
    """Print ``error`` as the command line shows every error: for a usage error the usage line and
    where to find help, then "错误：" and the message — all to standard error."""
    if isinstance(error, NoArgsIsHelpError):
        error.show(file)  # a group run without its command: its help page
        return
    if isinstance(error, UsageError) and error.ctx is not None:
        click.echo(_usage_lines(error.ctx), file=file, err=file is None)
    click.echo(f"错误：{message_of(error)}", file=file, err=file is None)

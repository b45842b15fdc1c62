"""Help pages in Chinese: click's own words — "Usage:", the section headings, "Show this message and
exit.", "[default: …; required]" and the metavars of its types — put into Chinese by one formatter.

The root group's context uses :class:`HelpContext`; :func:`adopt` gives every command below it the
same context class when the group loads it, so each sub-command's help page (and the usage line of
its errors, built by the same formatter) is Chinese without any command doing anything. The texts
the commands give (their docstrings and ``help=``) are written in Chinese where they are defined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import click

from chatbot.cli.table import display_width
from chatbot.cli.usage import range_words

#: Pieces text is wrapped between: click's bracketed extras and a run of ASCII letters and signs (a
#: flag, a number, a URL) stay whole, spaces are dropped at a break, any other character (CJK) may end
#: a line — with the punctuation after it, which never starts one.
_PIECES = re.compile(r"(?:\[[^\[\]\n]*\]|[!-~]+|\S)[，。；：、）」”]*|\s+", re.DOTALL)

USAGE_PREFIX = "用法："

#: click's section headings.
HEADINGS = {
    "Options": "选项",
    "Commands": "命令",
    "Arguments": "参数",
    "Positional arguments": "参数",
}

#: click's fixed help texts.
TEXTS = {
    "Show this message and exit.": "显示本说明并退出。",
    "Show the version and exit.": "显示版本并退出。",
}

#: The placeholders click writes for a command's options and sub-command, and the metavars of its
#: parameter types (uppercase words in a usage line or an option's first column).
METAVARS = {
    "[OPTIONS]": "[选项]",
    "COMMAND": "命令",
    "[ARGS]...": "[参数]...",
    "INTEGER RANGE": "整数",
    "FLOAT RANGE": "数字",
    "INTEGER": "整数",
    "FLOAT": "数字",
    "TEXT": "文本",
    "BOOLEAN": "是/否",
    "FILENAME": "文件",
    "FILE": "文件",
    "PATH": "路径",
    "DIRECTORY": "目录",
    "DATETIME": "日期时间",
    "UUID": "UUID",
    "[%Y-%m-%d]": "年-月-日",
    "KEY": "考评标准",  # `rubrics versions KEY`: a rubric's key
}

_METAVAR = re.compile("|".join(re.escape(word) for word in sorted(METAVARS, key=len, reverse=True)))
#: The bracketed extras click appends to an option's help: "[default: 7; 1<=x<=60; required]".
_EXTRAS = re.compile(r"\[((?:env var|default): .*?|required|[\d.-]*<=?x[^\]]*|x[<>]=?[^\]]*)\]$", re.DOTALL)


def metavars(text: str) -> str:
    """Click's placeholders and type names in ``text`` in Chinese (whole uppercase words only)."""
    return _METAVAR.sub(lambda found: _whole(found, text), text)


def _whole(found: re.Match[str], text: str) -> str:
    before = text[found.start() - 1] if found.start() > 0 else " "
    after = text[found.end()] if found.end() < len(text) else " "
    if before.isalnum() or before in "_-" or after.isalnum() or after in "_-":
        return found.group()  # part of a longer word: --file, FILENAME_X …
    return METAVARS[found.group()]


def extra(item: str) -> str:
    """One of click's extras in Chinese: "default: 7" → 默认：7, "required" → 必填, a range in words."""
    item = item.strip()
    if item == "required":
        return "必填"
    if item.startswith("default: "):
        value = item.removeprefix("default: ")
        if re.fullmatch(r"-?\d+\.0", value):
            value = value.removesuffix(".0")  # a float default of 5.0 reads 5
        return "默认：" + {"True": "是", "False": "否", "(dynamic)": "运行时确定"}.get(value, value)
    if item.startswith("env var: "):
        return "环境变量：" + item.removeprefix("env var: ")
    if "x" in item and ("<" in item or ">" in item):
        return range_words(item)
    return item


def help_text(text: str) -> str:
    """An option's help in Chinese where click wrote it: its fixed texts and bracketed extras."""
    text = TEXTS.get(text, text)
    found = _EXTRAS.search(text)
    if found is None:
        return text
    words = "；".join(extra(item) for item in found.group(1).split("; "))
    return text[: found.start()] + f"[{words}]"


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (a CJK character takes two), broken
    between characters of Chinese and at spaces of ASCII."""
    lines: list[str] = []
    line = ""
    for piece in _PIECES.findall(" ".join(text.split())):
        if line and display_width(line + piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = "" if piece.isspace() else piece
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines


class HelpFormatter(click.HelpFormatter):
    """click's formatter with its own words in Chinese, and laid out by display width."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, metavars(args), USAGE_PREFIX if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        paragraphs = re.split(r"\n\s*\n", text)
        self.write(
            "\n\n".join(
                "\n".join(indent + line for line in wrap(paragraph, self.width - self.current_indent))
                for paragraph in paragraphs
            )
        )
        self.write("\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        pairs = [(metavars(term), help_text(text)) for term, text in rows]
        first = min(max((display_width(term) for term, _ in pairs), default=0), col_max)
        indent = " " * self.current_indent
        hang = " " * (self.current_indent + first + col_spacing)
        room = max(self.width - len(hang), 20)
        for term, text in pairs:
            lines = wrap(text, room) or [""]
            if display_width(term) <= first:
                head = indent + term + " " * (first - display_width(term) + col_spacing)
                self.write((head + lines[0]).rstrip() + "\n")
                rest = lines[1:]
            else:
                self.write(indent + term + "\n")
                rest = lines if text else []
            for line in rest:
                self.write(hang + line + "\n")


class HelpContext(click.Context):
    """A context whose help pages and usage lines are Chinese."""

    formatter_class = HelpFormatter


def adopt(command: click.Command) -> click.Command:
    """``command`` and, for a group, every command below it, given :class:`HelpContext`."""
    command.context_class = HelpContext
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            adopt(sub)
    return command

"""Every word federation staff read at the command line is Chinese: the help page of every command and
group (click's own headings and words too), and the messages when the database or Redis cannot be used.

"English" here is an ASCII sentence: two or more English words in a row, once what is typed as it is
has been taken out — command names, flags, metavars and environment variables (uppercase words),
URLs, choices ``[a|b]``, file names and a few product names."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from chatbot import config as config_module
from chatbot.cli import main

#: What is typed or named as it is, taken out before looking for English words.
TYPED = re.compile(
    r"https?://\S+"  # URLs
    r"|--?[A-Za-z][\w-]*"  # flags (--year, -Fc)
    r"|\[[\w|-]+\]"  # choices: [chair|evaluator]
    r"|\b[A-Z][A-Z0-9_]*\b"  # metavars, environment variables, acronyms: FILE, DATABASE_URL, CSV
    r"|\b[\w.-]+\.(?:db|dump|csv|xlsx|docx|pdf|png|toml)\b"  # file names
    r"|\w+:\w+"  # scenes and specs: eval:CODE, ERRCODE:N
)
#: Product and format names that may stand beside another English word.
NAMES = (
    "pip install",
    "PostgreSQL",
    "SQLite",
    "Redis",
    "LibreOffice",
    "Excel",
    "WeChat",
    "Ctrl-C",
    "base64",
    "scrypt",
)
#: Two English words in a row.
SENTENCE = re.compile(r"\b[A-Za-z][A-Za-z']+(?:[ \t]+[A-Za-z][A-Za-z']+)+\b")


def english(text: str, commands: set[str]) -> list[str]:
    """The English sentences in ``text``."""
    text = TYPED.sub(" · ", text)
    for name in (*NAMES, *sorted(commands, key=len, reverse=True)):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " · ", text)
    return SENTENCE.findall(text)


def command_paths(group: click.Group) -> Iterator[list[str]]:
    """Every command and group below ``group``, as the words typed to reach it."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield [name]
        if isinstance(command, click.Group):
            for path in command_paths(command):
                yield [name, *path]


def all_command_names() -> set[str]:
    return {"nianjian"} | {word for path in command_paths(main) for word in path}


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("NIANJIAN_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return CliRunner()


def test_the_detector_finds_english_and_passes_what_is_typed() -> None:
    commands = {"org", "add", "serve"}
    assert english("Show this message and exit.", commands) == ["Show this message and exit"]
    assert english("Options:", commands) == []  # a single word is not a sentence …
    assert english("  --year INTEGER RANGE  Campaign year.", commands) == ["Campaign year"]
    assert english("用法：nianjian org add [选项] CODE", commands | {"nianjian"}) == []
    assert english("用 pg_dump -Fc；WECHAT_API_BASE_URL=http://HOST:PORT/cgi-bin/", commands) == []
    assert english("[chair|evaluator|member]  邀请的角色。", commands) == []


def test_every_help_page_is_chinese(runner: CliRunner) -> None:
    """The root group and every command and group below it: headings, option descriptions, extras."""
    commands = all_command_names()
    pages = [[]] + list(command_paths(main))
    assert ["results", "override"] in pages and ["notices", "list"] in pages  # sub-commands too
    for path in pages:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        page = result.output
        assert page.startswith(f"用法：nianjian {' '.join(path)}".rstrip()), (path, page)
        assert "显示本说明并退出。" in page, (path, page)
        assert english(page, commands) == [], (path, page)


def test_every_option_is_described(runner: CliRunner) -> None:
    """No option is listed without a description (`publish --days` was)."""
    for path in command_paths(main):
        page = runner.invoke(main, [*path, "--help"]).output
        lines = page.split("选项：", 1)[1].splitlines() if "选项：" in page else []
        for number, line in enumerate(lines):
            found = re.match(r"  (--[\w-]+)(?: \S+)?(\s*)(.*)$", line)
            if found is None:
                continue
            # The description beside the option, or (after a long option) on the next line.
            following = lines[number + 1] if number + 1 < len(lines) else ""
            assert found.group(3) or following.startswith(" " * 8), (path, line)


def test_help_pages_say_defaults_ranges_and_required_in_chinese(runner: CliRunner) -> None:
    page = runner.invoke(main, ["publish", "--help"]).output
    assert "--days 整数" in page and "公示期的天数。" in page and "[默认：7；1 到 60]" in page
    assert "--year 整数" in page and "[必填]" in page
    assert page.splitlines()[0] == "用法：nianjian publish [选项]"
    assert "[至少 1]" in runner.invoke(main, ["backup", "--help"]).output  # a range without a default
    assert "[默认：5；0.1 到 600]" in runner.invoke(main, ["deliver", "--help"]).output  # no stray .0
    assert "--self-check-due 年-月-日" in runner.invoke(main, ["campaign", "open", "--help"]).output
    root = runner.invoke(main, ["--help"]).output
    assert root.startswith("用法：nianjian [选项] 命令 [参数]...") and "\n命令：\n" in root
    assert "\n选项：\n" in root


def test_a_usage_error_shows_the_chinese_usage_line(runner: CliRunner) -> None:
    result = runner.invoke(main, ["org", "add", "--bogus"])
    assert result.stderr.splitlines()[0] == "用法：nianjian org add [选项]"
    assert english(result.output, all_command_names()) == []


def test_a_missing_postgresql_driver_is_said_in_chinese(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = config_module.importlib.util.find_spec
    monkeypatch.setattr(
        config_module.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "psycopg" else real(name, *args),
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    result = runner.invoke(main, ["coverage", "--year", "2026"])
    assert result.exit_code == 1
    assert "没有安装它的驱动程序 psycopg" in result.output and "pip install -e '.[postgres]'" in result.output
    assert english(result.output, all_command_names()) == [], result.output


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_database_that_cannot_be_reached_is_said_in_chinese(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nianjian:secretpw@127.0.0.1:{port}/nianjian")
    result = runner.invoke(main, ["coverage", "--year", "2026"])
    assert result.exit_code == 1
    assert f"错误：无法使用数据库 nianjian（127.0.0.1:{port}）：连接被拒绝" in result.output
    assert "请确认数据库已启动、DATABASE_URL 正确" in result.output
    assert "Traceback" not in result.output and "secretpw" not in result.output
    assert english(result.output, all_command_names()) == [], result.output


def test_redis_that_cannot_be_reached_is_said_in_chinese(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = closed_port()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/1")
    result = runner.invoke(main, ["serve", "--workers", "2", "--port", "0", "--no-scheduler"])
    assert result.exit_code == 1
    assert f"无法连接 Redis，127.0.0.1:{port}（数据库 1）：连接被拒绝，Redis 可能没有启动" in result.output
    assert "Connection refused" not in result.output and "Error 111" not in result.output
    assert english(result.output, all_command_names()) == [], result.output


def test_a_bad_setting_is_said_in_chinese(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_API_TIMEOUT", "soon")
    result = runner.invoke(main, ["coverage", "--year", "2026"])
    assert result.exit_code == 1
    assert "WECHAT_API_TIMEOUT 应写作 连接秒数,读取秒数" in result.output
    assert english(result.output, all_command_names()) == [], result.output

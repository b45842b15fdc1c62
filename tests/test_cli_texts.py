"""What federation staff read at the command line: Chinese messages and errors (click's own usage
errors too), tables aligned for CJK width, the 2月30日 warning once, console passwords, and the
server's port in `serve`, `demo` and `chat`."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.security import check_password_hash
from werkzeug.serving import make_server

from chatbot.app import create_app
from chatbot.cli import COMMANDS, main
from chatbot.cli.table import clip, display_width, render
from chatbot.config import Config
from chatbot.store.engine import make_engine, session_factory
from chatbot.store.models import AuditEntry, ConsoleUser
from tests.conftest import APP_ID, TOKEN, Backend
from tests.helpers import COVERAGE_HEADERS

#: click's English wording, which must not reach the user.
ENGLISH = ("Error:", "Usage:", "Try '", "Missing option", "No such", "Invalid value", "Aborted!")


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner on a fresh SQLite database under tmp_path."""
    monkeypatch.setenv("NIANJIAN_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return CliRunner()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- click's own errors


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["org", "add", "--name", "某工会"], "错误：缺少选项 --code。"),
        (
            ["invite", "create", "--org", "XJ"],
            "错误：缺少选项 --role。可选：chair、evaluator、member、admin。",
        ),
        (["campaign", "open"], "错误：缺少参数“年度”。"),
        (["notices", "preview"], "错误：缺少参数“通知类型”。"),
        (["nosuch"], "错误：没有命令“nosuch”。"),
        (["campain", "show", "2026"], "错误：没有命令“campain”。您是不是要用 campaign"),
        (["org", "add", "--code", "A", "--nam", "x"], "错误：没有选项 --nam。您是不是要用 --name？"),
        (["campaign", "open", "abc"], "错误：参数“年度”的值无效：“abc”不是整数。"),
        (
            ["rubrics", "versions", "unions"],
            "错误：参数“考评标准”的值无效：“unions”不是可选的值；可选：state_owned、non_public",
        ),
        (
            ["invite", "create", "--org", "XJ", "--role", "boss"],
            "错误：--role 的值无效：“boss”不是可选的值；可选：chair、evaluator、member、admin。",
        ),
        (
            ["evaluation", "open", "--org", "XJ-001", "--closes", "2026/6/30"],
            "错误：--closes 的值无效：“2026/6/30”不是有效的日期，应写作年-月-日，如 2026-06-30。",
        ),
        (
            ["invite", "create", "--org", "XJ", "--role", "member", "--uses", "0"],
            "错误：--uses 的值无效：0 超出允许范围（至少 1）。",
        ),
        (
            ["sample", "--year", "2026", "--share", "2"],
            "错误：--share 的值无效：2.0 超出允许范围（0.001 到 1）。",
        ),
        (["org", "import", "no-such-file.csv"], "错误：参数“文件”的值无效：“no-such-file.csv”不存在。"),
        (["member", "import", "no-such-file.csv"], "错误：参数“文件”的值无效：“no-such-file.csv”不存在。"),
        (["rubrics", "import", "no-such-file.xlsx"], "错误：参数“文件”的值无效：“no-such-file.xlsx”不存在。"),
        (["member", "import", "."], "错误：参数“文件”的值无效：“.”是目录，需要一个文件。"),
        (["sample", "--year", "abc"], "错误：--year 的值无效：“abc”不是整数。"),
        (["org", "add", "--code"], "错误：选项 --code 后面需要一个值。"),
        (["rubrics", "list", "extra"], "错误：多余的参数：extra。"),
        (
            ["campaign", "open", "2026", "--report-due", "2-x"],
            "错误：--report-due 的值无效：日期应写作 月-日",
        ),
    ],
)
def test_click_usage_errors_are_chinese(runner: CliRunner, args: list[str], expected: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not any(english in result.output for english in ENGLISH), result.output
    assert not re.search(r"[A-Z]{3,}(?! \d)", result.output.split("错误：")[-1]), result.output  # no metavar


def test_a_usage_error_shows_the_usage_line_and_where_help_is(runner: CliRunner) -> None:
    result = runner.invoke(main, ["org", "add", "--name", "某工会"])
    assert result.stdout == ""  # errors go to standard error
    assert result.stderr.splitlines()[:2] == [
        "用法：nianjian org add [选项]",
        "运行 nianjian org add --help 查看说明。",
    ]


def test_every_command_answers_an_unknown_option_in_chinese(runner: CliRunner) -> None:
    """Every command of the table — and every sub-command of a group — goes through the Chinese errors."""
    for name in COMMANDS:
        command = main.get_command(None, name)  # type: ignore[arg-type]
        paths = [[name]]
        if hasattr(command, "commands") and command.commands:
            paths = [[name, sub] for sub in command.commands]
        for path in paths:
            result = runner.invoke(main, [*path, "--no-such-flag"])
            assert result.exit_code == 2, (path, result.output)
            assert "错误：没有选项 --no-such-flag。" in result.output, (path, result.output)
            assert f"用法：nianjian {' '.join(path)}" in result.output, (path, result.output)
            assert not any(english in result.output for english in ENGLISH), (path, result.output)


def test_help_and_success_keep_exit_code_zero(runner: CliRunner) -> None:
    assert runner.invoke(main, ["--help"]).exit_code == 0
    listing = runner.invoke(main, ["rubrics", "list"])
    assert listing.exit_code == 0 and "state_owned" in listing.output
    group = runner.invoke(main, ["org"])  # a group without its command shows its help
    assert "add" in group.output and "Error" not in group.output


def test_an_interrupted_prompt_says_cancelled_in_chinese(runner: CliRunner) -> None:
    runner.invoke(main, ["demo"])
    result = runner.invoke(main, ["admin", "passwd", "--username", "city"], input="")
    assert result.exit_code == 1
    assert "已取消。" in result.output and "Aborted" not in result.output


# ---------------------------------------------------------------- tables


def test_display_width_counts_cjk_as_two_columns() -> None:
    assert display_width("GY-001") == 6
    assert display_width("固原市总工会") == 12
    assert display_width("ＡＢ") == 4  # full-width letters
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    assert display_width("a\u200bb") == 2  # nor a zero-width space
    assert clip("固原市第一人民医院工会", 10) == "固原市第…"  # 8 + 1 columns: a fifth character would not fit
    assert display_width(clip("固原市第一人民医院工会", 10)) <= 10
    assert clip("固原市", 6) == "固原市"
    assert clip("abcdef", 4) == "abc…"


def _columns(line: str, cells: list[str]) -> list[int]:
    """The display column where each cell starts in a rendered line."""
    starts, position = [], 0
    for cell in cells:
        index = line.index(cell, position)
        starts.append(display_width(line[:index]))
        position = index + len(cell)
    return starts


def test_render_aligns_mixed_text_and_clips_with_an_ellipsis() -> None:
    rows = [
        ("GY-001", "固原市第一人民医院工会", "87.5"),
        ("KFQ-001", "固原六盘山新材料科技有限公司工会", "100"),
        ("X", "Ａ工会", ""),
    ]
    lines = render(("编号", "名称", "得分"), rows, limits={1: 20}, right=[2])
    assert lines[0].startswith("编号") and set(lines[1].replace(" ", "")) == {"-"}
    assert "固原六盘山新材料科…" in lines[3] and "有限公司" not in lines[3]
    assert lines[4].endswith("-")  # an empty cell
    names = [
        _columns(line, [cells[0], clip(cells[1], 20)]) for line, cells in zip(lines[2:], rows, strict=True)
    ]
    assert len({start for _code, start in names}) == 1  # every name starts in the same column
    assert len({display_width(line) for line in lines[2:4]}) == 1  # right-aligned numbers end together


def test_results_and_coverage_tables_line_up(cli) -> None:
    year = _demo_year(cli("demo"))
    lines = cli("results", "--year", year).splitlines()
    header, body = lines[0], [line for line in lines[2:] if line[:1] not in ("", "共")]
    assert header.split()[:4] == ["单位编号", "单位名称", "考评标准", "状态"]
    assert len(body) == 9 and "state_owned" not in "\n".join(body)
    state_column = display_width(header[: header.index("状态")])
    for line in body:
        assert display_width(line[: line.index("未开始")]) == state_column, line
    assert any("…" in line for line in body)  # the longest names are clipped, marked with "…"
    assert "共 9 个单位。" in lines[-1]
    coverage = cli("coverage", "--year", year).splitlines()
    assert coverage[0].split() == ["编号", *COVERAGE_HEADERS]  # the console's columns, not 18
    table_end = coverage.index("")
    assert max(display_width(line) for line in coverage[:table_end]) <= 150  # was 18 columns, over 200
    assert coverage[table_end + 1].startswith("累计覆盖率未达年度目标 100%：原州区 0%，西吉县 0%")
    share_end = display_width(coverage[0][: coverage[0].index("本年覆盖率")]) + display_width("本年覆盖率")
    for line in coverage[2:table_end]:
        cells = line.split()
        share = next(cell for cell in cells if cell.endswith("%"))
        assert display_width(line[: line.index(share)]) + len(share) == share_end, line
    assert "合计" in coverage[table_end - 1]
    # The CSV has the table's headers, in its order.
    assert (
        cli("results", "--year", year, "--csv").splitlines()[0].startswith("单位编号,单位名称,考评标准,状态")
    )


def _demo_year(output: str) -> str:
    """The year the demo opened, as it says (not today's: the demo may have run before a New Year)."""
    found = re.search(r"演示数据已就绪：(\d{4}) 年度", output)
    assert found, output
    return found.group(1)


# ---------------------------------------------------------------- messages of the commands


def test_organisation_invitation_and_evaluation_errors_are_chinese(cli) -> None:
    refused = cli.refused
    assert "还没有开启的年度年检" in refused("evaluation", "open", "--org", "XJ-001")
    cli("org", "add", "--code", "GY", "--name", "固原市总工会")
    assert "已添加 XJ 西吉县总工会" in cli(
        "org", "add", "--code", "XJ", "--name", "西吉县总工会", "--parent", "GY"
    )
    assert "编号为 XJ 的组织已经存在。" in refused(
        "org", "add", "--code", "XJ", "--name", "又一个", "--parent", "GY"
    )
    orphan = refused("org", "add", "--code", "X-9", "--name", "孤儿工会", "--rubric", "agency")
    assert "须用 --parent 指定上一级工会" in orphan
    assert "上级组织 NOPE 不存在" in refused(
        "org", "add", "--code", "X-8", "--name", "某工会", "--parent", "NOPE"
    )
    assert "编号“X 1”无效" in refused("org", "add", "--code", "X 1", "--name", "某工会", "--parent", "XJ")
    assert "名称不能为空。" in refused("org", "add", "--code", "X-7", "--name", " ", "--parent", "XJ")
    cli("org", "add", "--code", "XJ-001", "--name", "宏达工会", "--rubric", "non_public", "--parent", "XJ")
    assert "主席邀请码只能发给基层工会" in refused("invite", "create", "--org", "XJ", "--role", "chair")
    assert "没有编号为 NOPE 的组织。" in refused("invite", "create", "--org", "NOPE", "--role", "member")
    invite = cli("invite", "create", "--org", "XJ-001", "--role", "member", "--uses", "5", "--days", "0")
    first, code = invite.strip().splitlines()
    assert (
        first
        == f"XJ-001 的会员邀请码：可用 5 次，长期有效；发送“绑定 {code}”或扫描场景为 inv:{code} 的二维码即可绑定。"
    )
    opened = cli("campaign", "open", "2026")
    assert "2026 年度年检已开启；新增 1 个基层工会的年检。" in opened
    assert "没有编号为 NOPE 的组织。" in refused("evaluation", "open", "--org", "NOPE")
    assert "不在 2026 年度的年检范围内" in refused("evaluation", "open", "--org", "XJ")
    assert "结束日期 2020-01-01 已经过去" in refused(
        "evaluation", "open", "--org", "XJ-001", "--closes", "2020-01-01"
    )
    evaluation = cli("evaluation", "open", "--org", "XJ-001").strip().splitlines()[-1]
    again = refused("evaluation", "open", "--org", "XJ-001")
    assert f"XJ-001 已开启民主测评（测评码 {evaluation}" in again and "不能再开一次" in again
    published = cli("publish", "--year", "2026")
    assert published.startswith("已公示 0 个结果，公示期 7 天：无")
    assert "没有编号为 NOPE 的组织。" in refused("publish", "--year", "2026", "--scope", "NOPE")
    assert "2027 年度年检尚未开启" in refused("campaign", "show", "2027")
    received = refused("report", "received", "--county", "XJ", "--year", "2027")
    assert "年度年检尚未开启" in received
    for output in (orphan, again, published, received):
        assert not any(english in output for english in ENGLISH)


def test_the_report_date_warning_is_shown_once_when_the_date_is_set(cli) -> None:
    cli("org", "add", "--code", "GY", "--name", "固原市总工会")
    opened = cli("campaign", "open", "2026", "--self-check-due", "2026-12-20")
    warning = "注意：2027 年没有 2月30日，各县（区）的年检工作情况总结按该月最后一天即 2027-02-28 截止。"
    assert warning in opened  # a new year takes the seed's 02-30
    assert "总结报送截止：2027-02-28（设定为次年 02-30）" in opened
    shown = cli("campaign", "show", "2026")
    assert "注意" not in shown
    assert shown.splitlines() == [
        "覆盖目标：    100%",
        "自评截止：    2026-12-20",
        "考评截止：    未设定",
        "总结报送截止：2027-02-28（设定为次年 02-30）",
    ]
    assert "注意" not in cli("campaign", "open", "2026", "--review-due", "2027-01-20")  # date not set now
    assert warning in cli("campaign", "open", "2026", "--report-due", "02-30")  # set again: said again
    leap = cli("campaign", "open", "2027", "--report-due", "02-29")
    assert "总结报送截止：2028-02-29" in leap and "注意" not in leap  # 2028 is a leap year
    assert "注意：2026 年没有 4月31日" in cli("campaign", "open", "2025", "--report-due", "04-31")


# ---------------------------------------------------------------- console passwords


def _user(backend: Backend, username: str) -> tuple[str, list[AuditEntry]]:
    engine = make_engine(backend.database_url)
    try:
        with session_factory(engine)() as session:
            user = session.scalars(select(ConsoleUser).where(ConsoleUser.username == username)).one()
            entries = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "console_user", AuditEntry.entity_id == user.id)
                .order_by(AuditEntry.id)
            ).all()
            session.expunge_all()
            return user.password_hash, list(entries)
    finally:
        engine.dispose()


def test_admin_passwd_resets_a_console_password_audited(cli, backend: Backend) -> None:
    cli("org", "add", "--code", "GY", "--name", "固原市总工会")
    runner = CliRunner()
    created = runner.invoke(
        main,
        ["admin", "create", "--org", "GY", "--username", "city", "--password-stdin"],
        input="first-password\n",
    )
    assert created.exit_code == 0 and "已创建 GY 的管理台账号 city" in created.output, created.output
    # Typed twice at a hidden prompt: a mismatch and a short one are asked again.
    typed = runner.invoke(
        main,
        ["admin", "passwd", "--username", "city"],
        input="second-password\nsecond-passwort\nshort\nsecond-password\nsecond-password\n",
    )
    assert typed.exit_code == 0, typed.output
    assert "两次输入的密码不一致，请重新输入。" in typed.output and "密码至少需要 10 个字符。" in typed.output
    assert "管理台账号 city 的密码已重设" in typed.output
    assert "second-password" not in typed.output  # hidden
    password_hash, entries = _user(backend, "city")
    assert check_password_hash(password_hash, "second-password")
    assert not check_password_hash(password_hash, "first-password")
    assert [entry.action for entry in entries] == ["create", "reset_password"]
    assert entries[1].actor == "cli" and "password" not in str(entries[1].after).replace("reset_password", "")
    # From standard input, for scripts.
    piped = runner.invoke(
        main, ["admin", "passwd", "--username", "city", "--password-stdin"], input="third-password\n"
    )
    assert piped.exit_code == 0 and "新密码：" not in piped.output  # no prompt
    assert check_password_hash(_user(backend, "city")[0], "third-password")
    # Refusals, nothing changed.
    assert "标准输入中的密码不可用：密码至少需要 10 个字符。" in cli.refused(
        "admin", "passwd", "--username", "city", "--password-stdin"
    )
    gave_up = runner.invoke(main, ["admin", "passwd", "--username", "city"], input="a\nb\nc\n")
    assert gave_up.exit_code == 1 and "连续 3 次未设置成功，密码未更改。" in gave_up.output
    assert "没有管理台账号 nobody。" in cli.refused("admin", "passwd", "--username", "nobody")
    password_hash, entries = _user(backend, "city")
    assert check_password_hash(password_hash, "third-password") and len(entries) == 3


def test_admin_create_refusals_are_chinese(cli) -> None:
    cli("demo")
    assert "账号 city 已经存在" in cli.refused("admin", "create", "--org", "GY", "--username", "city")
    assert "XJ-001 是基层工会" in cli.refused("admin", "create", "--org", "XJ-001", "--username", "x")
    assert "没有编号为 NOPE 的组织。" in cli.refused("admin", "create", "--org", "NOPE", "--username", "x")


# ---------------------------------------------------------------- ports: serve, fake-wechat, demo, chat


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield int(holder.getsockname()[1])


def test_serve_and_fake_wechat_on_a_taken_port_name_the_port_option(
    runner: CliRunner, taken_port: int
) -> None:
    served = runner.invoke(main, ["serve", "--port", str(taken_port), "--no-scheduler"])
    assert served.exit_code == 1
    assert (
        f"错误：端口 {taken_port} 已被占用（127.0.0.1:{taken_port}）。请用 --port 换一个端口" in served.output
    )
    assert f"nianjian serve --port {taken_port + 1}" in served.output
    fake = runner.invoke(main, ["fake-wechat", "--port", str(taken_port)])
    assert fake.exit_code == 1 and f"端口 {taken_port} 已被占用" in fake.output and "--port" in fake.output


def test_serve_with_the_fake_wechat_names_the_taken_port_before_announcing_anything(
    runner: CliRunner, taken_port: int
) -> None:
    free = free_port()
    webhook_taken = runner.invoke(
        main, ["serve", "--fake-wechat", "--port", str(taken_port), "--fake-wechat-port", str(free)]
    )
    assert webhook_taken.exit_code == 1
    assert f"端口 {taken_port} 已被占用" in webhook_taken.output
    assert f"nianjian demo --port {taken_port + 1}" in webhook_taken.output
    assert "模拟微信接口：" not in webhook_taken.output  # no address announced that never starts
    fake_taken = runner.invoke(
        main, ["serve", "--fake-wechat", "--port", str(free), "--fake-wechat-port", str(taken_port)]
    )
    assert fake_taken.exit_code == 1
    assert f"模拟微信接口无法启动：端口 {taken_port} 已被占用" in fake_taken.output
    assert f"nianjian serve --fake-wechat --fake-wechat-port {taken_port + 1}" in fake_taken.output


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[tuple[int, object]]:
    """年检助手 on a loopback port (SQLite), as `nianjian serve` would run it."""
    config = Config.from_env(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_APP_ID": APP_ID,
            "NIANJIAN_INSTANCE": str(tmp_path / "live-instance"),
            "SECRET_KEY": "test-secret",
        }
    )
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, server
    server.shutdown()
    server.server_close()
    app.extensions["nianjian.engine"].dispose()


class _NotUs(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, *_args: object) -> None:
        pass


def test_demo_says_where_the_server_is_or_how_to_pass_the_port(runner: CliRunner, live_app) -> None:
    port = free_port()
    down = runner.invoke(main, ["demo", "--port", str(port)])
    assert down.exit_code == 0, down.output
    assert f"服务尚未启动：另开一个终端运行 nianjian serve --port {port}" in down.output
    assert f"http://127.0.0.1:{port}/console/" in down.output
    assert f"nianjian chat --openid chair-1 --url http://127.0.0.1:{port}/wechat" in down.output
    default = runner.invoke(main, ["demo"]).output
    assert "（端口 8080；" in default or "端口 8080" in default
    running_port, _server = live_app
    up = runner.invoke(main, ["demo", "--port", str(running_port)])
    assert (
        f"服务已在运行，端口 {running_port}：公众号接口 http://127.0.0.1:{running_port}/wechat。" in up.output
    )
    other = HTTPServer(("127.0.0.1", 0), _NotUs)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        busy = other.server_port
        taken = runner.invoke(main, ["demo", "--port", str(busy)]).output
        assert f"端口 {busy} 已被其他程序占用：请用 nianjian serve --port {busy + 1} 启动服务" in taken
    finally:
        other.shutdown()
        other.server_close()


def test_the_demos_commands_name_its_fake_wechat_and_run_as_printed(runner: CliRunner, live_app) -> None:
    """With the fake WeChat API on a port of its own, the demo's hint starts the server with it and
    points the chat at it; the chat command, run as printed, shows the notices that fake delivered."""
    from chatbot.wechat.fake_api import FakeWeChatServer

    port, _server = live_app
    idle_port, idle_fake = free_port(), free_port()
    down = runner.invoke(main, ["demo", "--port", str(idle_port), "--fake-wechat-port", str(idle_fake)])
    assert f"nianjian serve --port {idle_port} --fake-wechat --fake-wechat-port {idle_fake}（" in down.output
    assert f"--fake-wechat-url http://127.0.0.1:{idle_fake}，" in down.output
    fake = FakeWeChatServer().start()
    try:
        fake_port = fake.base_url.removesuffix("/cgi-bin/").rsplit(":", 1)[1]
        fake.state.record(
            {
                "api": "message/custom/send",
                "errcode": 0,
                "touser": "chair-1",
                "body": {"text": {"content": "演示通知"}},
            }
        )
        up = runner.invoke(main, ["demo", "--port", str(port), "--fake-wechat-port", fake_port])
        printed = re.search(r"运行 (nianjian chat [^，]+)，", up.output)
        assert printed, up.output
        assert (
            f"--url http://127.0.0.1:{port}/wechat --fake-wechat-url http://127.0.0.1:{fake_port}"
            in printed[1]
        )
        chat = runner.invoke(main, printed[1].split()[1:], input="/quit\n")
    finally:
        fake.stop()
    assert chat.exit_code == 0, chat.output
    assert "通知: 演示通知" in chat.output
    assert (
        "--fake-wechat" not in runner.invoke(main, ["demo", "--port", str(port)]).output
    )  # its default port


def test_chat_shows_the_notices_the_fake_wechat_delivered_to_its_user(runner: CliRunner, live_app) -> None:
    """Walk item 3: with `serve --fake-wechat`, what the service sends the simulated user (a template
    notice, a customer-service text) appears in `nianjian chat`; others' notices do not."""
    from chatbot.wechat.fake_api import FakeWeChatServer

    port, _server = live_app
    fake = FakeWeChatServer().start()
    try:
        fake.state.record(
            {
                "api": "message/template/send",
                "errcode": 0,
                "touser": "member-1",
                "body": {"data": {"first": {"value": "民主测评开始"}, "remark": {"value": "发送“测评”参加"}}},
            }
        )
        fake.state.record(
            {
                "api": "message/custom/send",
                "errcode": 0,
                "touser": "chair-1",
                "body": {"text": {"content": "别人的"}},
            }
        )
        fake.state.record(
            {
                "api": "message/custom/send",
                "errcode": 45015,
                "touser": "member-1",
                "body": {"text": {"content": "未送达"}},
            }
        )
        shown = runner.invoke(
            main,
            [
                "chat",
                "--openid",
                "member-1",
                "--url",
                f"http://127.0.0.1:{port}/wechat",
                "--fake-wechat-url",
                fake.base_url.removesuffix("/cgi-bin/"),
            ],
            input="/quit\n",
        )
    finally:
        fake.stop()
    assert shown.exit_code == 0, shown.output
    assert "通知: 民主测评开始\n      发送“测评”参加" in shown.output
    assert "别人的" not in shown.output and "未送达" not in shown.output
    nothing = runner.invoke(
        main,
        [
            "chat",
            "--openid",
            "member-1",
            "--url",
            f"http://127.0.0.1:{port}/wechat",
            "--fake-wechat-url",
            f"http://127.0.0.1:{free_port()}",
        ],
        input="/quit\n",
    )
    assert (
        nothing.exit_code == 0 and "民主测评开始" not in nothing.output and "（通知：" not in nothing.output
    )


def test_chat_sends_voice_with_and_without_recognition(
    runner: CliRunner, live_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/voice 文字` is a voice message WeChat recognised as 文字; `/voice` alone one it did not."""
    port, _server = live_app
    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.delenv("WECHAT_ENCODING_AES_KEY", raising=False)
    result = runner.invoke(
        main,
        ["chat", "--openid", "voice-1", "--url", f"http://127.0.0.1:{port}/wechat"],
        input="/voice 帮助。\n/voice\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "听到：帮助" in result.output and "您还没有绑定身份" in result.output
    assert "这条语音没有识别出文字" in result.output
    assert "/voice [文字]" in result.output  # the chat's own help names it


def test_chat_with_the_server_down_says_how_to_start_it(runner: CliRunner) -> None:
    port = free_port()
    result = runner.invoke(main, ["chat", "--openid", "chair-1", "--url", f"http://127.0.0.1:{port}/wechat"])
    assert result.exit_code == 1
    assert (
        f"错误：服务未启动：http://127.0.0.1:{port} 无人应答。请另开一个终端运行 nianjian serve --port {port}"
        in (result.output)
    )
    assert "Traceback" not in result.output and "urllib3" not in result.output


def _reader(stream) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for raw in iter(stream.readline, b""):
            lines.put(raw.decode("utf-8", "replace"))

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _until(lines: queue.Queue[str], text: str, seconds: float = 60) -> str:
    seen = ""
    deadline = time.monotonic() + seconds
    while text not in seen:
        seen += lines.get(timeout=max(deadline - time.monotonic(), 0.1))
    return seen


def test_chat_says_the_server_stopped_mid_session_not_a_traceback(live_app, tmp_path: Path) -> None:
    port, server = live_app
    env = {
        **os.environ,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "NIANJIAN_INSTANCE": str(tmp_path / "chat-instance"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("WECHAT_ENCODING_AES_KEY", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from chatbot.cli import main; main()",
            "chat",
            "--openid",
            "chair-1",
            "--url",
            f"http://127.0.0.1:{port}/wechat",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    lines = _reader(process.stdout)
    try:
        process.stdin.write("帮助\n".encode())
        process.stdin.flush()
        assert "公众号" in _until(lines, "公众号")
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]
        process.stdin.write("帮助\n/quit\n".encode())
        process.stdin.flush()
        process.stdin.close()
        rest = _until(lines, "服务未启动")
        process.wait(timeout=60)
        while not lines.empty():
            rest += lines.get()
    finally:
        if process.poll() is None:
            process.kill()
    assert f"服务未启动：http://127.0.0.1:{port} 无人应答" in rest
    assert "Traceback" not in rest and "urllib3" not in rest and "HTTPConnectionPool" not in rest
    assert process.returncode == 0

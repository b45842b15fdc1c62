"""``nianjian admin create``, ``passwd``, ``disable`` and ``enable``: accounts of the web console."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.cli.common import db_session
from chatbot.console.access import create_user, end_all_sessions, hash_password
from chatbot.inspection import audit
from chatbot.store.models import ConsoleUser, Organisation

#: The shortest password the console accepts (as ``console.access.create_user`` requires).
MIN_PASSWORD_LENGTH = 10
#: Tries at the prompt before the command gives up.
PROMPT_TRIES = 3

PASSWORD_STDIN_HELP = "从标准输入的第一行读取密码（供脚本使用）。"


@click.group("admin")
def admin_group() -> None:
    """管理台账号。"""


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a console password, in Chinese; None when it can."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。"
    if password != password.strip():
        return "密码的开头和结尾不能是空格。"
    return None


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or typed twice at a hidden prompt (up to
    three tries); ClickException when none is usable."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        problem = password_problem(password)
        if problem:
            raise click.ClickException(f"标准输入中的密码不可用：{problem}")
        return password
    for _try in range(PROMPT_TRIES):
        password = click.prompt("新密码", hide_input=True, prompt_suffix="：", show_default=False)
        problem = password_problem(password)
        if problem:
            click.echo(problem, err=True)
            continue
        again = click.prompt("再输入一次", hide_input=True, prompt_suffix="：", show_default=False)
        if again != password:
            click.echo("两次输入的密码不一致，请重新输入。", err=True)
            continue
        return password
    raise click.ClickException(f"连续 {PROMPT_TRIES} 次未设置成功，密码未更改。")


def _organisation(session: Session, org_code: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.ClickException(f"没有编号为 {org_code} 的组织。")
    if org.is_grassroots:
        raise click.ClickException(
            f"{org_code} 是基层工会：管理台账号只属于市总工会或县（区）、开发区总工会。"
        )
    return org


@admin_group.command("create")
@click.option(
    "--org", "org_code", required=True, help="所属工会：市总工会（可看全部）或某县（区）总工会的编号。"
)
@click.option("--username", required=True, help="新账号的用户名。")
@click.option("--password-stdin", "from_stdin", is_flag=True, help=PASSWORD_STDIN_HELP)
def admin_create(org_code: str, username: str, from_stdin: bool) -> None:
    """新建管理台账号；密码（隐藏输入两次）以 scrypt 散列保存。"""
    with db_session() as session:
        _organisation(session, org_code)
        if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
            raise click.ClickException(
                f"账号 {username} 已经存在；要重设它的密码，请用 nianjian admin passwd。"
            )
        password = read_password(from_stdin)
        try:
            user = create_user(session, org_code, username, password)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        audit.record(
            session, "cli", "create", "console_user", user.id, after={"username": username, "org": org_code}
        )
    click.echo(f"已创建 {org_code} 的管理台账号 {username}；请在 /console/login 登录。")


def _account(session: Session, username: str) -> ConsoleUser:
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    if user is None:
        raise click.ClickException(f"没有管理台账号 {username}。")
    return user


@admin_group.command("passwd")
@click.option("--username", required=True, help="要重设密码的管理台账号（用户名）。")
@click.option("--password-stdin", "from_stdin", is_flag=True, help=PASSWORD_STDIN_HELP)
def admin_passwd(username: str, from_stdin: bool) -> None:
    """重设管理台账号的密码（隐藏输入两次，或用 --password-stdin）；该账号已登录的会话全部结束；记入审计。"""
    with db_session() as session:
        user = _account(session, username)
        password = read_password(from_stdin)
        user.password_hash = hash_password(password)
        end_all_sessions(user)
        audit.record(session, "cli", "reset_password", "console_user", user.id, after={"username": username})
    click.echo(f"管理台账号 {username} 的密码已重设，已登录的会话全部结束，请用新密码登录。")


@admin_group.command("disable")
@click.option("--username", required=True, help="要停用的管理台账号（用户名）。")
def admin_disable(username: str) -> None:
    """停用管理台账号：已登录的会话全部结束，之后不能再登录；记入审计。"""
    with db_session() as session:
        user = _account(session, username)
        if user.disabled_at is not None:
            click.echo(f"管理台账号 {username} 已经停用，未作更改。")
            return
        user.disabled_at = datetime.now(UTC)
        end_all_sessions(user)
        audit.record(session, "cli", "disable", "console_user", user.id, after={"username": username})
    click.echo(
        f"管理台账号 {username} 已停用：已登录的会话全部结束，不能再登录。"
        f"恢复请用 nianjian admin enable --username {username}。"
    )


@admin_group.command("enable")
@click.option("--username", required=True, help="要重新启用的管理台账号（用户名）。")
def admin_enable(username: str) -> None:
    """重新启用已停用的管理台账号（密码不变）；记入审计。"""
    with db_session() as session:
        user = _account(session, username)
        if user.disabled_at is None:
            click.echo(f"管理台账号 {username} 没有停用，未作更改。")
            return
        user.disabled_at = None
        audit.record(session, "cli", "enable", "console_user", user.id, after={"username": username})
    click.echo(f"管理台账号 {username} 已恢复，可以用原密码登录。")

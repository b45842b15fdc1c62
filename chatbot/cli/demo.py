"""``nianjian demo``: a demo city so a newcomer can chat within a minute."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.cli import texts
from chatbot.cli.common import db_session, port_option
from chatbot.cli.ports import DEFAULT_PORT, FAKE_WECHAT_PORT, Found, service_at
from chatbot.cli.table import pad
from chatbot.console.access import create_user, new_password
from chatbot.documents.labels import rubric_name
from chatbot.inspection import campaigns, order, organisations
from chatbot.store.models import ConsoleUser, Organisation

CITY = organisations.OrgRow("GY", "固原市总工会")
FEDERATIONS = [
    organisations.OrgRow("YZ", "原州区总工会", parent="GY"),
    organisations.OrgRow("XJ", "西吉县总工会", parent="GY"),
    organisations.OrgRow("LD", "隆德县总工会", parent="GY"),
    organisations.OrgRow("JY", "泾源县总工会", parent="GY"),
    organisations.OrgRow("PY", "彭阳县总工会", parent="GY"),
    organisations.OrgRow("KFQ", "固原经济技术开发区总工会", parent="GY"),
]
UNIONS = [
    organisations.OrgRow("GY-001", "固原市第一人民医院工会", "state_owned", "GY", 860),
    organisations.OrgRow("XJ-001", "西吉县宏达商贸有限公司工会", "non_public", "XJ", 46),
    organisations.OrgRow("KFQ-001", "固原六盘山新材料科技有限公司工会", "non_public", "KFQ", 18),
    organisations.OrgRow("LD-001", "隆德县人民政府机关工会", "agency", "LD", 120),
    organisations.OrgRow("JY-001", "泾源县餐饮行业工会联合会", "joint", "JY", 310),
    organisations.OrgRow("PY-001", "彭阳县白阳镇工会", "township", "PY", 540),
    # Village unions under the township union: it is inspected by the county and assesses them.
    organisations.OrgRow("PY-001-01", "彭阳县白阳镇陡坡村工会", "village", "PY-001", 28),
    organisations.OrgRow("PY-001-02", "彭阳县白阳镇崾岘村工会", "village", "PY-001", 19),
    organisations.OrgRow("YZ-001", "原州区南关街道东城社区工会", "village", "YZ", 35),
]


#: The demo's console accounts: the city's admin (sees everything) and a county's (sees its county).
CONSOLE_USERS = (("GY", "city"), ("YZ", "yuanzhou"))


def _console_user(session: Session, org_code: str, username: str) -> str:
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
        return (
            f"  {username}：已存在（密码见第一次运行的输出；忘记了可用 "
            f"nianjian admin passwd --username {username} 重设）"
        )
    password = new_password()
    create_user(session, org_code, username, password)
    return f"  {username} / {password}    （{'全市' if org_code == 'GY' else org_code + ' 县区'}）"


@click.command("demo")
@port_option("--port", DEFAULT_PORT, "nianjian serve 所用的端口（它的 --port），用于打印的地址。")
@port_option(
    "--fake-wechat-port",
    FAKE_WECHAT_PORT,
    "模拟微信接口的端口（nianjian serve --fake-wechat-port），用于打印的 nianjian chat 命令。",
)
def demo(port: int, fake_wechat_port: int) -> None:
    """建立演示用的城市（固原市五个县区、开发区，以及每种考评标准的工会），开启本年度年检并打印邀请码。"""
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    lines: list[str] = []
    with db_session() as session:
        known = set(session.scalars(select(Organisation.code)))
        for row in [CITY, *FEDERATIONS, *UNIONS]:
            if row.code not in known:
                organisations.add_org(session, row, actor="demo")
        if all(org.sort_order is None for org in order.federations(session)):
            order.set_order(session, [row.code for row in FEDERATIONS], actor="demo")
        campaigns.open_year(session, year, actor="demo")
        parents = {row.parent for row in [*FEDERATIONS, *UNIONS] if row.parent}
        for row in UNIONS:
            chair = organisations.create_invitation(session, row.code, "chair", uses=10, actor="demo")
            member = organisations.create_invitation(session, row.code, "member", uses=100, actor="demo")
            line = f"  {pad(row.code, 9)} {row.name}（{rubric_name(row.rubric or '')}）  主席 {chair.code}  会员 {member.code}"
            if row.code in parents:
                evaluator = organisations.create_invitation(
                    session, row.code, "evaluator", uses=10, actor="demo"
                )
                line += f"  考评员 {evaluator.code}（考评下属村工会）"
            lines.append(line)
        for row in [CITY, *FEDERATIONS]:
            manager = organisations.create_invitation(session, row.code, "admin", uses=10, actor="demo")
            evaluator = organisations.create_invitation(session, row.code, "evaluator", uses=10, actor="demo")
            note = "（考评市直基层工会，并负责抽查）" if row is CITY else ""
            lines.append(
                f"  {pad(row.code, 9)} {row.name}  管理员 {manager.code}  考评员 {evaluator.code}{note}"
            )
        consoles = [_console_user(session, org, username) for org, username in CONSOLE_USERS]
    base = f"http://127.0.0.1:{port}"
    # Printed only once committed, so that a closed pipe cannot lose the codes it shows.
    click.echo(texts.demo_ready(year))
    click.echo("\n".join(lines))
    click.echo(f"管理台账号（{base}/console/，密码只显示这一次）：")
    click.echo("\n".join(consoles))
    click.echo("")
    click.echo("\n".join(next_steps(port, fake_wechat_port)))


def next_steps(port: int, fake_port: int = FAKE_WECHAT_PORT) -> list[str]:
    """Whether the server runs on ``port`` (or how to start it there), then how to start chatting:
    commands that work as printed, with the ports given (the fake WeChat API's, ``fake_port``, when it
    is not the default, for the server to start it there and for the chat to show its notices)."""
    found = service_at(f"http://127.0.0.1:{port}")
    if found is Found.OTHER:
        serve_port = port + 1
        where = (
            f"端口 {port} 已被其他程序占用：请用 nianjian serve --port {serve_port} 启动服务，"
            f"并运行 nianjian demo --port {serve_port} 查看对应的地址。"
        )
    elif found is Found.OURS:
        serve_port = port
        where = f"服务已在运行，端口 {port}：公众号接口 http://127.0.0.1:{port}/wechat。"
    else:
        serve_port = port
        serve = "nianjian serve" + (f" --port {port}" if port != DEFAULT_PORT else "")
        if fake_port != FAKE_WECHAT_PORT:
            serve += f" --fake-wechat --fake-wechat-port {fake_port}"
        where = (
            f"服务尚未启动：另开一个终端运行 {serve}（端口 {port}；改用其他端口时给 serve 加 --port，"
            "并给 nianjian demo 相同的 --port、给 nianjian chat 相应的 --url）。"
        )
    url = "" if serve_port == DEFAULT_PORT else f" --url http://127.0.0.1:{serve_port}/wechat"
    if fake_port != FAKE_WECHAT_PORT:
        url += f" --fake-wechat-url http://127.0.0.1:{fake_port}"
    return [where, texts.demo_start_chatting(url)]

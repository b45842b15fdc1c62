"""``nianjian org order``: show or set the official order of the county/zone federations."""

from __future__ import annotations

import click

from chatbot.cli.common import db_session
from chatbot.inspection import order
from chatbot.store.models import Organisation


def _lines(federations: list[Organisation]) -> list[str]:
    return [f"  {place}. {org.name}（{org.code}）" for place, org in enumerate(federations, start=1)]


@click.command("order")
@click.argument("counties", nargs=-1, metavar="[县区…]")
def org_order(counties: tuple[str, ...]) -> None:
    """查看或设置县（区）总工会的排列顺序（官方顺序）。

    不带参数时显示当前顺序；带参数时按所列顺序排列，可写简称、全称或编号，如
    “nianjian org order 原州区 西吉县 隆德县 泾源县 彭阳县 KFQ”。未列出的县（区）按原有顺序排在后面。
    管理台首页、覆盖率、年度工作页、工作总结、抽查和五星级名额范围都按这一顺序列出县（区）。
    """
    with db_session() as session:
        if counties:
            found = order.set_order(session, counties, actor="cli")
            click.echo("已设置县（区）顺序：")
        else:
            found = order.federations(session)
            if not found:
                click.echo("还没有县（区）总工会。")
                return
            click.echo("当前县（区）顺序：")
        click.echo("\n".join(_lines(found)))

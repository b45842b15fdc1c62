"""``nianjian member remove``, ``purge`` and ``privacy keygen``: personal data removed on request, after
its retention period, and the key it is encrypted with (个人信息保护法)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import click

from chatbot.cli.common import load_config
from chatbot.config import Config
from chatbot.inspection import privacy
from chatbot.inspection.errors import AdminError
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.personal import mask_phone, personal_data_key
from chatbot.store.state import StorageKey, make_state


def _forget_dialogs(config: Config, openids: list[str]) -> None:
    """The people's dialog state (a ballot in progress …) where every process keeps it (Redis)."""
    if not openids or not config.redis_url:
        return  # in-process state dies with its process
    store, _lock, _counter = make_state(config.redis_url)
    for openid in openids:
        store.delete(StorageKey(openid, config.wechat_app_id))


@click.command("remove")
@click.option("--phone", help="本人的手机号：删除其在所有名册（或 --org 名册）中的记录。")
@click.option("--openid", help="本人的微信 openid：删除其账号、绑定和通知。")
@click.option("--name", help="与 --org 同用：该单位名册中这个姓名的记录。")
@click.option("--org", "org_code", help="只限这个单位的名册。")
@click.option("--reason", required=True, help="理由（记入审计），如 本人申请。")
@click.option("--yes", is_flag=True, help="不再询问确认。")
def member_remove(
    phone: str | None, openid: str | None, name: str | None, org_code: str | None, reason: str, yes: bool
) -> None:
    """应本人要求删除其个人信息：名册记录（姓名、手机号）和/或微信账号的 openid、绑定、通知和未完成的测评票。已投的票保留（它们从来不属于个人），审计记录和其给出的评分也保留，改挂匿名账号编号。"""
    config = load_config()
    who = " ".join(
        part
        for part in (
            f"手机号 {mask_phone(phone)}" if phone else "",
            f"姓名 {name}" if name else "",
            f"微信账号 {openid[:6]}…" if openid else "",
            f"（仅 {org_code}）" if org_code else "",
        )
        if part
    )
    if not yes:
        click.confirm(f"将删除 {who} 的个人信息，且无法恢复。继续吗？", abort=True)
    engine = make_engine(config.database_url)
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            removal = privacy.remove_person(
                session,
                personal_data_key(config.personal_data_key),
                config.secret_key,
                openid=openid,
                phone=phone,
                name=name,
                org_code=org_code,
                reason=reason,
            )
    except AdminError as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()
    if openid and removal.account_id:
        _forget_dialogs(config, [openid])
    if not removal.anything:
        click.echo(f"没有找到 {who} 的个人信息，未做任何更改。")
        return
    if phone or name:
        where = "、".join(sorted(set(removal.organisations))) or "-"
        click.echo(f"已从会员名册删除 {removal.roll_entries} 条记录（{where}）。")
    if removal.account_id:
        click.echo(
            f"已删除微信账号的个人信息：解除绑定 {removal.bindings} 个，删除通知 {removal.notices} 条、"
            f"消息记录 {removal.messages} 条、未完成的测评答卷 {removal.drafts} 份；"
            f"账号以匿名编号 {removal.account_id} 保留，审计记录与已投的匿名测评票不受影响。"
        )
        if removal.objections_kept:
            click.echo(f"其提出的 {removal.objections_kept} 条异议作为年检流程记录保留（已不再关联到本人）。")


@click.command("purge")
@click.option("--before", "before", required=True, type=int, help="清理 YEAR 之前已结束的年度。")
@click.option(
    "--retention-years",
    default=privacy.RETENTION_YEARS,
    show_default=True,
    type=click.IntRange(1, 30),
    help="年度结束后个人信息保存的年数。",
)
@click.option("--dry-run", is_flag=True, help="只统计将删除的数量，不做任何改动。")
def purge(before: int, retention_years: int, dry_run: bool) -> None:
    """清理 YEAR 之前已结束、已过保存期限的年度的个人信息：每次民主测评邀请了谁（参评人数以数字保留）、异议的内容；以及全服务中自 YEAR 年 1 月 1 日起无活动的账号、此后没有导入过的名册记录和较早的通知。得分、星级、匿名测评票和审计记录保留。"""
    config = load_config()
    engine = make_engine(config.database_url)
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            try:
                report = privacy.purge(session, before, datetime.now(UTC), config.secret_key, retention_years)
            except AdminError as error:
                raise click.ClickException(str(error)) from error
            if dry_run:
                session.rollback()
            else:
                session.commit()
    finally:
        engine.dispose()
    if not dry_run:
        _forget_dialogs(config, report.anonymised_openids)
    click.echo(("试运行，未做任何更改。" if dry_run else "") + f"清理 {before} 年以前的个人信息：")
    click.echo(f"  年度：{'、'.join(map(str, report.campaigns)) or '无'}")
    if report.still_open:
        click.echo(f"  未结束、未清理的年度：{'、'.join(map(str, report.still_open))}")
    click.echo(
        f"  封存测评 {report.sealed} 次，删除参加人员名单 {report.participants} 条、异议内容 {report.objections} 条"
    )
    click.echo(
        f"  匿名化长期未使用的微信账号 {report.accounts} 个，删除会员名册记录 {report.roll_entries} 条、"
        f"通知 {report.notices} 条"
    )


@click.group("privacy")
def privacy_group() -> None:
    """个人信息保护：加密密钥。"""


@privacy_group.command("keygen")
def keygen() -> None:
    """打印一个新的 PERSONAL_DATA_KEY（32 个随机字节，URL 安全的 base64）。请把它保存在数据库和备份之外：没有它就无法读取手机号。"""
    click.echo(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"))

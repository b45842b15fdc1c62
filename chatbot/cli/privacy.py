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
@click.option("--phone", help="The person's phone number: their entries on every roll (or --org's).")
@click.option("--openid", help="The person's WeChat openid: their account, bindings and notices.")
@click.option("--name", help="With --org: the roll entries of this name in that organisation.")
@click.option("--org", "org_code", help="Only this organisation's roll.")
@click.option("--reason", required=True, help="Why (audited), e.g. 本人申请.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def member_remove(
    phone: str | None, openid: str | None, name: str | None, org_code: str | None, reason: str, yes: bool
) -> None:
    """Delete a person's personal data on request: roll entries (name, phone) and/or the WeChat
    account's openid, bindings, notices and unfinished ballots. Cast ballots stay (they were never
    theirs), as do the audit trail and the scores they gave, under an anonymous account id."""
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
@click.option("--before", "before", required=True, type=int, help="Purge closed campaigns before YEAR.")
@click.option(
    "--retention-years",
    default=privacy.RETENTION_YEARS,
    show_default=True,
    type=click.IntRange(1, 30),
    help="Years a campaign's personal data is kept after its year.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be removed, change nothing.")
def purge(before: int, retention_years: int, dry_run: bool) -> None:
    """Remove the personal data of closed campaigns before YEAR that are past the retention period:
    who was invited to each evaluation (the turnout kept as a number), objections' texts; and, across
    the service, accounts silent since 1 January YEAR, roll entries no import listed since then, and
    older notices. Scores, stars, anonymous ballots and the audit trail stay."""
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
    """Personal data protection (个人信息保护): the encryption key."""


@privacy_group.command("keygen")
def keygen() -> None:
    """Print a new PERSONAL_DATA_KEY (32 random bytes, URL-safe base64). Keep it outside the database
    and its backups: without it the phone numbers cannot be read."""
    click.echo(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"))

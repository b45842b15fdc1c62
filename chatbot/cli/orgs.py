"""``nianjian org``, ``invite`` and ``campaign``: set up organisations, invitations and campaigns."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import click
from sqlalchemy import func, select

from chatbot.cli import texts
from chatbot.cli.common import db_session, load_config
from chatbot.cli.county_order import org_order
from chatbot.cli.privacy import member_remove
from chatbot.cli.table import display_width, pad, render
from chatbot.documents.labels import rubric_name
from chatbot.inspection import audit, campaigns, organisations
from chatbot.inspection.coverage import target_of
from chatbot.inspection.members import roll
from chatbot.store.models import Campaign, Inspection, Organisation
from chatbot.store.personal import PersonalDataError, mask_phone, personal_data_key
from rubrics import get_rubric
from rubrics.deadlines import parse_month_day, report_due
from rubrics.loader import RUBRIC_KEYS
from rubrics.scoring import format_percent


@click.group("org")
def org_group() -> None:
    """工会组织：添加、导入。"""


@org_group.command("add")
@click.option("--code", required=True, help="唯一的单位编号，如 XJ-001。")
@click.option("--name", required=True, help="工会名称。")
@click.option("--rubric", type=click.Choice(RUBRIC_KEYS), help="考评标准表；只用于基层工会。")
@click.option("--parent", help="上一级工会（考评单位）的编号。")
@click.option("--members", type=click.IntRange(min=0), help="会员人数。")
def org_add(code: str, name: str, rubric: str | None, parent: str | None, members: int | None) -> None:
    """添加一个单位。"""
    with db_session() as session:
        org = organisations.add_org(session, organisations.OrgRow(code, name, rubric, parent, members))
        click.echo(f"已添加 {org.code} {org.name}")


@org_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def org_import(file: Path) -> None:
    """从 CSV 或 XLSX 文件导入单位（列：code 编号、name 名称、rubric 考评标准、parent 上级编号、members 会员人数）。

    有问题的行逐一报告行号；文件中只要有一行有问题，就一行也不导入。"""
    from chatbot.documents import imports  # openpyxl: loaded by the commands that read files

    with db_session() as session:
        rows = imports.parse_orgs(file)
        with click.progressbar(length=len(rows), label="正在导入组织", file=sys.stderr) as bar:
            added = imports.import_orgs(session, file, rows, progress=bar.update)
    click.echo(f"已导入 {added} 个组织")


@click.group("member")
def member_group() -> None:
    """会员名册；手机号只显示部分。"""


@member_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def member_import(file: Path) -> None:
    """从 CSV 或 XLSX 文件导入会员（列：name 姓名、phone 手机号、organisation 单位编号）。"""
    from chatbot.documents import imports  # openpyxl: loaded by the commands that read files

    key = personal_data_key(load_config().personal_data_key)
    total = imports.count_rows(file)
    with (
        db_session() as session,
        click.progressbar(length=total, label="正在导入会员", file=sys.stderr) as bar,
    ):
        change = imports.import_members(session, file, key, progress=bar.update)
    refreshed = f"；{change.refreshed} 名已在名册中，信息已更新" if change.refreshed else ""
    click.echo(f"已导入 {change.added} 名会员{refreshed}")


@member_group.command("list")
@click.option("--org", "org_code", required=True, help="单位编号。")
@click.option("--reveal", is_flag=True, help="显示完整手机号（记入审计）。")
def member_list(org_code: str, reveal: bool) -> None:
    """某个单位的会员，手机号只显示部分（除非用 --reveal）。"""
    key = personal_data_key(load_config().personal_data_key)
    with db_session() as session:
        org = session.scalar(select(Organisation).where(Organisation.code == org_code))
        if org is None:
            raise click.ClickException(f"没有编号为 {org_code} 的组织。")
        try:
            members = roll(session, key, org.id)
        except PersonalDataError as error:
            raise click.ClickException(str(error)) from error
        if reveal:
            audit.record(
                session, "cli", "reveal_phones", "organisation", org.id, after={"count": len(members)}
            )
        lines = render(
            ("姓名", "手机号"),
            ((name, phone if reveal else mask_phone(phone)) for name, phone in members),
            limits={0: NAME_WIDTH},
        )
        click.echo("\n".join(lines))
        click.echo(
            f"{org_code} {org.name}：共 {len(members)} 名会员"
            + ("（已显示完整手机号，已记录）" if reveal else "")
        )


member_group.add_command(member_remove)  # chatbot.cli.privacy: personal data removed on request
org_group.add_command(org_order)  # chatbot.cli.county_order: the official order of the counties


#: The roles of an invitation, as people call them.
ROLE_LABELS = {"chair": "工会主席", "evaluator": "考评员", "member": "会员", "admin": "管理员"}
#: Widest name in `member list` (columns; a Chinese character takes two).
NAME_WIDTH = 20


@click.group("invite")
def invite_group() -> None:
    """邀请码。"""


@invite_group.command("create")
@click.option("--org", "org_code", required=True, help="单位编号。")
@click.option("--role", required=True, type=click.Choice(organisations.ROLES), help="邀请的角色。")
@click.option(
    "--uses", default=1, show_default=True, type=click.IntRange(min=1), help="邀请码可以使用的次数。"
)
@click.option(
    "--days", default=30, show_default=True, type=click.IntRange(min=0), help="有效天数；0 表示永不过期。"
)
def invite_create(org_code: str, role: str, uses: int, days: int) -> None:
    """生成邀请码；最后一行单独打印邀请码。"""
    with db_session() as session:
        invitation = organisations.create_invitation(session, org_code, role, uses, days or None)
        click.echo(
            f"{org_code} 的{ROLE_LABELS[role]}邀请码：可用 {uses} 次，"
            + (f"{days} 天内有效" if days else "长期有效")
            + f"；{texts.how_to_bind(invitation.code)}"
        )
        click.echo(invitation.code)


@click.group("campaign")
def campaign_group() -> None:
    """年度年检：开启、范围、截止时间。"""


def _month_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        return parse_month_day(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


@campaign_group.command("open")
@click.argument("year", type=int, metavar="年度")
@click.option("--self-check-due", type=click.DateTime(["%Y-%m-%d"]), help="自查自评的最后一天。")
@click.option("--review-due", type=click.DateTime(["%Y-%m-%d"]), help="组织评定的最后一天。")
@click.option("--target", type=click.FloatRange(0, 1), help="本年度应年检的工会比例，如 0.7。")
@click.option(
    "--report-due",
    callback=_month_day,
    help="次年报送总结的日期，写作 月-日（默认 02-30，按实施方案：超过月末的日期即该月最后一天）。",
)
@click.option(
    "--scope-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="只检查所列的工会（每行一个编号，或含 code 列的 CSV/XLSX 文件）。",
)
@click.option(
    "--share",
    type=click.FloatRange(0.001, 1),
    help="只检查这一比例的工会，在各县（区）内抽取（向上取整），以往年度未评定过的优先，如 0.3。",
)
@click.option("--seed", type=int, help="与 --share 同用：抽取所用的随机种子（会记录；默认随机）。")
def campaign_open(
    year: int,
    self_check_due: datetime | None,
    review_due: datetime | None,
    target: float | None,
    report_due: tuple[int, int] | None,
    scope_file: Path | None,
    share: float | None,
    seed: int | None,
) -> None:
    """开启 YEAR 年度的年检（或修改其截止时间和目标）：每个基层工会建立一项年检，或只限 --scope-file 所列的单位，或按 --share 在各县（区）抽取。"""
    if scope_file is not None and share is not None:
        raise click.UsageError("--scope-file 与 --share 只能选一个。")
    if seed is not None and share is None:
        raise click.UsageError("--seed 须与 --share 一起使用。")
    deadlines = campaigns.Deadlines(
        self_check_due.date() if self_check_due else None,
        review_due.date() if review_due else None,
        report_due,
        Decimal(str(target)) if target is not None else None,
    )
    scope = None
    if scope_file is not None:
        from chatbot.documents.imports import read_codes

        scope = campaigns.CampaignScope(codes=read_codes(scope_file), note=f"名单 {scope_file.name}")
    elif share is not None:
        scope = campaigns.CampaignScope(share=Decimal(str(share)), seed=seed)
    with db_session() as session:
        is_new = session.scalar(select(Campaign.id).where(Campaign.year == year)) is None
        campaign, added = campaigns.open_year(session, year, deadlines=deadlines, scope=scope)
        click.echo(f"{campaign.year} 年度年检已开启；新增 {added} 个基层工会的年检。")
        if campaign.scoped:
            count = session.scalar(
                select(func.count()).select_from(Inspection).where(Inspection.campaign_id == campaign.id)
            )
            click.echo(f"年检范围：{campaign.scope_note}，共 {count} 个基层工会")
        _show(campaign)
        _show_versions(campaign)
        # The report date was set now (a new year takes the seed's 02-30): say once what it means.
        if is_new or report_due is not None:
            warning = _clamp_warning(campaign)
            if warning:
                click.echo(warning)


@campaign_group.command("show")
@click.argument("year", type=int, metavar="年度")
def campaign_show(year: int) -> None:
    """显示某年度年检的截止时间，以及次年报送总结的实际日期。"""
    with db_session() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.year == year))
        if campaign is None:
            raise click.ClickException(f"{year} 年度年检尚未开启，请先运行 nianjian campaign open {year}。")
        _show(campaign)
        _show_versions(campaign)


def _show_versions(campaign: Campaign) -> None:
    """The sheets the year uses in a version other than the shipped one (imported by a federation)."""
    imported = [
        f"{rubric_name(key)} {version}"
        for key, version in (campaign.rubric_versions or {}).items()
        if version != get_rubric(key).version
    ]
    if imported:
        click.echo(f"考评标准：{'、'.join(imported)}；其余为随程序发布的版本。")


def _show(campaign: Campaign) -> None:
    """The campaign's target and deadlines, one per line, labels aligned."""
    due, _clamped = report_due(campaign.year, campaign.report_due_month, campaign.report_due_day)
    lines = (
        ("覆盖目标", f"{format_percent(target_of(campaign))}"),
        ("自评截止", str(campaign.self_check_due or "未设定")),
        ("考评截止", str(campaign.review_due or "未设定")),
        (
            "总结报送截止",
            f"{due.isoformat()}（设定为次年 {campaign.report_due_month:02d}-{campaign.report_due_day:02d}）",
        ),
    )
    width = max(display_width(label) for label, _value in lines) + display_width("：")
    for label, value in lines:
        click.echo(f"{pad(label + '：', width)}{value}")


def _clamp_warning(campaign: Campaign) -> str | None:
    """The warning for a report date past its month's end (the seed's 2月30日), or None."""
    due, clamped = report_due(campaign.year, campaign.report_due_month, campaign.report_due_day)
    if not clamped:
        return None
    return (
        f"注意：{due.year} 年没有 {campaign.report_due_month}月{campaign.report_due_day}日，"
        f"各县（区）的年检工作情况总结按该月最后一天即 {due.isoformat()} 截止。"
    )


@click.group("report")
def report_group() -> None:
    """各县（区）年检工作情况总结。"""


@report_group.command("received")
@click.option("--county", "county_code", required=True, help="县（区）、开发区总工会的编号。")
@click.option("--year", required=True, type=int, help="年度。")
@click.option("--paper", is_flag=True, help="收到的是盖章纸质版（默认：电子版）。")
def report_received(county_code: str, year: int, paper: bool) -> None:
    """登记已收到某县（区）的年度总结；电子版和盖章纸质版都收到后，不再提醒。"""
    with db_session() as session:
        report = campaigns.mark_report_received(session, county_code, year, paper, datetime.now(UTC))
        copies = [
            name
            for name, at in (
                ("电子版", report.electronic_received_at),
                ("盖章纸质版", report.paper_received_at),
            )
            if at
        ]
        click.echo(f"{county_code} {year} 年度年检工作情况总结：已收到{'、'.join(copies)}。")

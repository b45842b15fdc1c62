"""``nianjian evaluation``, ``results``, ``publish`` and ``tick``: from votes to final results."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.cli import texts
from chatbot.cli.common import campaign_of_year, db_session, load_config
from chatbot.cli.notices import api_client
from chatbot.cli.table import render
from chatbot.config import Config
from chatbot.documents.cells import csv_field
from chatbot.documents.columns import RESULT_COLUMNS, headers, shown_row
from chatbot.inspection import campaigns, evaluations, objections, results
from chatbot.inspection.listing import result_rows, scope_ids
from chatbot.store.models import Inspection, Organisation
from chatbot.timeutil import local_date
from chatbot.wechat.api import ApiError
from rubrics.lifecycle import InspectionState
from rubrics.scoring import Stars


@click.group("evaluation")
def evaluation_group() -> None:
    """民主测评。"""


@evaluation_group.command("open")
@click.option("--org", "org_code", required=True, help="被测评工会的单位编号。")
@click.option(
    "--closes",
    type=click.DateTime(["%Y-%m-%d"]),
    help=f"投票的最后一天（默认 {evaluations.DEFAULT_EVALUATION_DAYS} 天后）。",
)
@click.option(
    "--open",
    "open_slots",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="留给未绑定、凭测评码参加的人员的名额。",
)
@click.option(
    "--paper",
    type=click.IntRange(min=0),
    help="发给未在微信中受邀人员的纸质表数量（全体会员参加时：未绑定的会员）。",
)
@click.option(
    "--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path), help="二维码图片（PNG）的保存位置。"
)
def evaluation_open(
    org_code: str, closes: datetime | None, open_slots: int, paper: int | None, qr_path: Path | None
) -> None:
    """开启民主测评并确定参评人员；生成场景 eval:CODE 的二维码图片；最后一行单独打印测评码。"""
    config = load_config()
    with db_session() as session:
        evaluation = evaluations.open_evaluation(
            session,
            org_code,
            closes.date() if closes else None,
            open_slots,
            datetime.now(UTC),
            all_members_max=config.evaluation_all_members_max,
            paper=paper,
            min_shown=config.evaluation_min_ballots_shown,
        )
        code = evaluation.code
        closes_on = local_date(evaluation.closes_at)
        members = evaluation.inspection.organisation.member_count
        invited = evaluations.participants(session, evaluation)
        everyone = evaluation.all_members
        places = evaluations.paper_part(evaluation)
        denominator = evaluations.invited_count(session, evaluation)
    path = qr_path or config.instance_dir / "qr" / f"eval-{code}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    content = _qr_content(config, f"eval:{code}")
    import segno  # the QR code's library, for this command alone

    segno.make(content, error="m").save(str(path), scale=8, border=4)
    sources = list(invited.values())
    click.echo(f"{org_code} 民主测评已开启，{closes_on} 结束；开放名额 {open_slots} 个。")
    click.echo(
        f"微信受邀：本单位会员 {sources.count(evaluations.MEMBER)} 人，"
        f"上级工会委员、代表 {sources.count(evaluations.COMMITTEE)} 人"
        "（已绑定，已发送通知；本单位工会主席和考评员不参加）。"
    )
    if everyone is not None:
        click.echo(
            f"会员 {members} 人（不超过 {config.evaluation_all_members_max} 人）：会员全部参加，"
            f"未在微信受邀的 {places} 名会员填写纸质测评表。"
        )
    click.echo(f"纸质测评表 {places} 份：只发给未在微信受邀的人员，微信受邀的人不再填写纸质表。")
    click.echo(
        f"应参加 {denominator} 人（微信受邀、纸质测评表、开放名额三部分，每人只在其中一部分），开启后不再增加。"
        + (
            "之后绑定的会员填写纸质测评表。"
            if everyone is not None
            else "之后绑定的会员占用空余的开放名额加入。"
        )
    )
    click.echo(texts.how_to_join_evaluation(code, path))
    click.echo(code)


def _qr_content(config: Config, scene: str) -> str:
    """What the QR code holds: WeChat's URL for a scene code when the API is configured, so that a scan
    opens the official account with the scene; else the scene itself (for the simulator's /scan)."""
    if not config.api_configured:
        return scene
    client, engine = api_client(config)
    try:
        return str(client.create_qrcode(scene)["url"])
    except (ApiError, KeyError) as error:
        raise click.ClickException(f"微信二维码未能生成：{error}") from error
    finally:
        engine.dispose()


def result_table(rows: list[dict[str, str]]) -> list[str]:
    """`nianjian results` as a table: the results' columns, long text clipped with "…"."""
    return render(
        headers(),
        (shown_row(row) for row in rows),
        limits={i: column.clip for i, column in enumerate(RESULT_COLUMNS)},
        right=[i for i, column in enumerate(RESULT_COLUMNS) if column.numeric],
    )


def cli_result_rows(session: Session, year: int, scope: str | None) -> list[dict[str, str]]:
    """`nianjian results`' rows, with the scope given as an organisation code."""
    try:
        campaign = campaigns.campaign_of_year(session, year)
        return result_rows(session, campaign, load_config(), scope_ids(session, scope) if scope else None)
    except ValueError as error:
        raise click.ClickException(str(error)) from error


@click.group("results", invoke_without_command=True)
@click.option("--year", type=int, help="年度。")
@click.option("--scope", help="只限这个单位及其下级（单位编号）。")
@click.option("--csv", "as_csv", is_flag=True, help="输出 CSV，而不是表格。")
@click.pass_context
def results_group(ctx: click.Context, year: int | None, scope: str | None, as_csv: bool) -> None:
    """列出年检结果：得分、民主测评数据、星级和标记（预评、超出五星级名额、同分待裁定、星级经调整等）。"""
    if ctx.invoked_subcommand is not None:
        return
    if year is None:
        raise click.UsageError("缺少选项 --year（年度）。", ctx)
    with db_session() as session:
        rows = cli_result_rows(session, year, scope)
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(headers())
        # a name like "=HYPERLINK(…)" stays text in a spreadsheet
        writer.writerows([csv_field(value) for value in shown_row(row)] for row in rows)
        return
    click.echo("\n".join(result_table(rows)))
    click.echo(f"共 {len(rows)} 个单位。")


@results_group.command("override")
@click.option("--org", "org_code", required=True, help="单位编号。")
@click.option("--year", required=True, type=int, help="年度。")
@click.option("--stars", type=click.IntRange(1, 5), help="星级：低于得分所在档次，或用 5 决定并列。")
@click.option("--clear", is_flag=True, help="撤销对该结果的调整：星级重新按名额确定。")
@click.option("--reason", required=True, help="书面理由；记入审计。")
def results_override(org_code: str, year: int, stars: int | None, clear: bool, reason: str) -> None:
    """在得分所在档次内降低星级，或在五星级分界处决定并列，须写明理由（记入审计）；已公示的结果星级改变后重新公示。"""
    if (stars is None) == (not clear):
        raise click.UsageError("请给出 --stars（调整后的星级）或 --clear（撤销调整）之一。")
    config = load_config()
    with db_session() as session:
        try:
            campaign = campaigns.campaign_of_year(session, year)
            inspection = results.override(
                session,
                campaign,
                org_code,
                Stars(stars) if stars is not None else None,
                reason,
                config,
                actor="cli",
                now=datetime.now(UTC),
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        now_stars = Stars(inspection.stars or 1).label
        what = "已撤销星级调整" if clear else "星级调整已记录"
        click.echo(f"{org_code}：{what}（理由：{reason}），现为{now_stars}。")
        if InspectionState(inspection.state).is_published:
            click.echo("星级有变化的已公示结果已重新公示，主席和会员将收到通知。")


@results_group.command("confirm")
@click.option("--year", required=True, type=int, help="年度。")
@click.option(
    "--scope",
    help="名额范围：县（区）、开发区总工会的编号，或市总工会的编号（全市；FIVE_STAR_QUOTA_SCOPE=county 时为市直工会）；默认：所有有已定星级结果的范围。",
)
@click.option("--reason", default="", help="部分工会尚未评定、仍确认完毕的理由。")
def results_confirm(year: int, scope: str | None, reason: str) -> None:
    """确认某名额范围本年度已评定完毕：此后按其已定星级的结果计算五星级名额，结果可以公示。"""
    config = load_config()
    with db_session() as session:
        try:
            campaign = campaigns.campaign_of_year(session, year)
            statuses = results.scope_statuses(session, campaign, config)
            pending = [s for s in statuses if not s.confirmed and (scope is None or s.code == scope)]
            if any(s.rated < s.inspections for s in pending) and not reason.strip():
                raise ValueError(
                    "本范围还有未评定的单位：请用 --reason 写明确认理由，如：其余单位考评延期，先按已评定单位确定名额。"
                )
            before = _stars_by_code(session, campaign.id)
            statuses = results.confirm_scope(
                session, campaign, config, scope, "cli", reason or "全部已评定", datetime.now(UTC)
            )
            changes = star_changes(before, _stars_by_code(session, campaign.id))
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    for status in statuses:
        if scope is not None and status.code != scope:
            continue
        click.echo(
            f"{status.code} {status.name}：{status.label}，评定 {status.rated}/{status.inspections} 个，"
            f"五星级名额 {status.places} 个，五星级 {status.five_star} 个"
            + (f"，同分待裁定 {status.flagged} 个" if status.flagged else "")
        )
    if changes:
        click.echo(f"星级有变化的单位：{'；'.join(changes)}。")


def _stars_by_code(session: Session, campaign_id: int) -> dict[str, int]:
    """Each rated union's current stars in the campaign, by the union's code."""
    rows = session.execute(
        select(Organisation.code, Inspection.stars)
        .join(Inspection, Inspection.organisation_id == Organisation.id)
        .where(Inspection.campaign_id == campaign_id, Inspection.stars.is_not(None))
    ).all()
    return {code: stars for code, stars in rows if stars is not None}


def star_changes(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """``YZ-001 五星级→四星级`` for each union whose stars differ, in code order."""
    return [
        f"{code} {Stars(before[code]).label}→{Stars(stars).label}"
        for code, stars in sorted(after.items())
        if code in before and before[code] != stars
    ]


@click.command("publish")
@click.option("--year", required=True, type=int, help="年度。")
@click.option("--scope", help="只限这个单位及其下级（单位编号）。")
@click.option(
    "--days",
    default=results.DEFAULT_PUBLICATION_DAYS,
    show_default=True,
    type=click.IntRange(1, results.MAX_PUBLICATION_DAYS),
    help="公示期的天数。",
)
def publish(year: int, scope: str | None, days: int) -> None:
    """公示范围内已定星级的结果；通知工会主席和会员。"""
    config = load_config()
    with db_session() as session:
        campaign = campaign_of_year(session, year)
        root = None
        if scope:
            root = session.scalar(select(Organisation).where(Organisation.code == scope))
            if root is None:
                raise click.ClickException(f"没有编号为 {scope} 的组织。")
        outcome = results.publish(session, campaign, config, datetime.now(UTC), days, root)
    click.echo(
        f"已公示 {len(outcome.published)} 个结果，公示期 {days} 天：{' '.join(outcome.published) or '无'}"
    )
    if outcome.published:
        click.echo(objections.HOW_THE_PUBLIC_OBJECTS)
    if outcome.provisional:
        click.echo(
            f"未公示 {len(outcome.provisional)} 个预评结果：所在五星级名额范围尚未确认（其中单位全部评定后自动确认，"
            "或用 nianjian results confirm 确认）：" + " ".join(outcome.provisional)
        )
    if outcome.flagged:
        click.echo(
            f"未公示 {len(outcome.flagged)} 个五星级名额线上同分的结果，请用 nianjian results override 裁定："
            + " ".join(outcome.flagged)
        )

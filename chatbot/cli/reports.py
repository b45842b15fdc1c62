"""``nianjian report county|city``: the annual summaries (年检工作情况总结) as formal .docx, and a PDF
beside each with ``--pdf`` (LibreOffice)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import click
from sqlalchemy import select

from chatbot.cli.common import campaign_of_year, db_session, load_config
from chatbot.cli.orgs import report_group
from chatbot.store.models import Organisation

PDF_HELP = "同时生成 PDF（需要 LibreOffice）。"
DATE_HELP = "落款日期 YYYY-MM-DD，默认今天。"


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"“{value}”不是日期，请写作 YYYY-MM-DD，如 2027-02-20。") from None


def out_file(suffix: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--out``: the file to write, which must end in ``suffix`` (a PDF comes beside it with --pdf)."""

    def check(_ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
        if value.suffix.lower() != suffix:
            raise click.BadParameter(
                f"“{value.name}”应以 {suffix} 结尾，如 {value.stem}{suffix}；要 PDF 请另加 --pdf，"
                f"会在它旁边生成同名的 .pdf。"
            )
        return value

    return click.option(
        "--out",
        "out",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        callback=check,
        help=f"输出的 {suffix} 文件。",
    )


def written(out: Path, pdf: bool) -> None:
    """Say the document is written, then (asked for) make its PDF — after the database session has
    closed, as LibreOffice takes seconds; a PDF that cannot be made is an error, the document stays."""
    click.echo(f"已生成 {out}")
    if not pdf:
        return
    from chatbot.documents.pdf import PdfUnavailable, to_pdf  # only when a PDF is asked for

    try:
        click.echo(f"已生成 {to_pdf(out)}")
    except PdfUnavailable as error:
        raise click.ClickException(f"{error}（{out.name} 已生成）") from error


@report_group.command("county")
@click.option("--county", "county_code", required=True, help="县（区）或开发区总工会的编号。")
@click.option("--year", required=True, type=int, help="年度。")
@out_file(".docx")
@click.option("--pdf", is_flag=True, help=PDF_HELP)
@click.option("--date", "day", callback=_day, help=DATE_HELP)
def report_county(county_code: str, year: int, out: Path, pdf: bool, day: date | None) -> None:
    """县（区）、开发区总工会报送市总工会的年检工作情况总结。"""
    from chatbot.documents import reports  # python-docx and matplotlib: loaded by the reports alone

    config = load_config()
    with db_session() as session:
        county = session.scalar(select(Organisation).where(Organisation.code == county_code))
        if county is None:
            raise click.ClickException(f"没有编号为 {county_code} 的单位。")
        try:
            reports.county_report(session, campaign_of_year(session, year), county, out, config, day)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    written(out, pdf)


@report_group.command("city")
@click.option("--year", required=True, type=int, help="年度。")
@out_file(".docx")
@click.option("--pdf", is_flag=True, help=PDF_HELP)
@click.option("--date", "day", callback=_day, help=DATE_HELP)
def report_city(year: int, out: Path, pdf: bool, day: date | None) -> None:
    """全市年度总结：全市情况，各县（区）按官方顺序排列。"""
    from chatbot.documents import reports

    config = load_config()
    with db_session() as session:
        try:
            reports.city_report(session, campaign_of_year(session, year), out, config, day)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    written(out, pdf)

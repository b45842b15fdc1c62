"""``nianjian rubrics``: list and export the rubric sheets; import a federation's new version of one
from its spreadsheet, and list a sheet's versions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from chatbot.cli.common import db_session
from chatbot.cli.table import render
from chatbot.inspection import rubric_versions
from chatbot.inspection.errors import AdminError
from chatbot.timeutil import SHANGHAI, local_minute
from rubrics import RubricError, all_rubrics
from rubrics.loader import RUBRIC_KEYS
from rubrics.model import Rubric
from rubrics.versions import SheetRejected

KEY = click.Choice(RUBRIC_KEYS)


def _load() -> tuple[Rubric, ...]:
    try:
        return all_rubrics()
    except RubricError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("rubrics")
def rubrics_group() -> None:
    """六张考评标准表及其版本。"""


@rubrics_group.command("list")
def list_rubrics() -> None:
    """每张表的代号、标题、项目数和满分；满分不是 100 时给出提示。"""
    rows = [
        (
            rubric.key,
            rubric.name,
            f"{rubric.item_count} 项",
            f"{rubric.max_total} 分",
            "" if rubric.max_total == 100 else "总分不是 100，按百分制折算",
        )
        for rubric in _load()
    ]
    click.echo("\n".join(render(("标准", "名称", "子项", "满分", "说明"), rows, right=(2, 3))))


@rubrics_group.command("export")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 打印六张表（随程序发布的版本）。")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), help="写成 Excel 表。")
@click.option("--key", type=KEY, help="与 --xlsx 同用：哪一张表。")
@click.option("--version", "version", default="", help="与 --xlsx 同用：哪个版本（默认最新）。")
def export_rubrics(as_json: bool, xlsx: Path | None, key: str | None, version: str) -> None:
    """--json：打印每张表的 key、title、version、max_total、dimensions、items；
    --xlsx 文件 --key 代号：按实施方案的版式（内容、子项、基本要求、分值）写出一张表，可在 Excel 中修改后导入。"""
    if as_json == (xlsx is not None):
        raise click.UsageError("请给出 --json 或 --xlsx 文件（二选一）。")
    if xlsx is None:
        click.echo(json.dumps([r.to_dict() for r in _load()], ensure_ascii=False, indent=2))
        return
    if key is None:
        raise click.UsageError("--xlsx 需要 --key 指明哪一张表。")
    from chatbot.documents import rubric_book

    with db_session() as session:
        known = {info.rubric.version: info.rubric for info in rubric_versions.versions(session, key)}
        if version and version not in known:
            raise click.ClickException(f"考评标准 {key} 没有版本 {version}（现有：{'、'.join(known)}）。")
        rubric = known[version] if version else rubric_versions.latest(session, key)
    rubric_book.write(rubric, xlsx)
    click.echo(
        f"已写出 {rubric.name}（版本 {rubric.version}，{rubric.item_count} 项，满分 {rubric.max_total} 分）：{xlsx}"
    )


@rubrics_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="文件")
@click.option("--key", type=KEY, required=True, help="哪一张表。")
@click.option("--version", "version", default="", help="新版本号（默认 年度.序号，如 2027.1）。")
@click.option("--yes", is_flag=True, help="不再询问，直接保存（供脚本使用）。")
def import_rubric(path: Path, key: str, version: str, yes: bool) -> None:
    """读入按实施方案版式填写的 Excel 表（内容、子项、基本要求、分值），逐行检查，列出与当前版本的
    差异，确认后保存为新版本；有任何错误时一项也不保存。新版本从下一个开启的年度起使用。"""
    from chatbot.documents import rubric_book

    try:
        read = rubric_book.read(path)
    except rubric_book.BookError as exc:
        raise click.ClickException(str(exc)) from exc
    with db_session() as session:
        year = datetime.now(SHANGHAI).year
        try:
            proposal = rubric_versions.propose(session, key, read.rows, read.title, version, year)
        except AdminError as exc:
            raise click.ClickException(str(exc)) from exc
        except SheetRejected as rejected:
            lines = [f"  {problem}" for problem in rejected.problems]
            raise click.ClickException(
                f"{path.name} 有 {len(lines)} 处错误，未保存：\n" + "\n".join(lines)
            ) from rejected
        current, new, label = proposal.current, proposal.new, proposal.new.version
        if proposal.unchanged:
            click.echo(f"与当前版本 {current.version} 相同，未保存。")
            return
        click.echo(
            f"{new.title}：当前版本 {current.version} → 新版本 {label}，共 {len(proposal.changes)} 处变化："
        )
        for line in proposal.lines:
            click.echo(f"  {line}")
        if proposal.note:
            click.echo(f"  {proposal.note}")
        if not yes and not click.confirm("保存为新版本？", default=False):
            click.echo("未保存。")
            return
        rubric_versions.store(session, new, "cli", origin=path.name)
    click.echo(f"已保存 {key} 版本 {label}；此后开启的年度使用该版本，已开启的年度不变。")


@rubrics_group.command("versions")
@click.argument("key", type=KEY)
def list_versions(key: str) -> None:
    """一张表的所有版本：版本号、项目数、满分、导入时间和来源，以及各有多少个单位的年检在用。"""
    with db_session() as session:
        found = rubric_versions.versions(session, key)
        used = rubric_versions.used_by(session, key)
    rows = [
        (
            info.rubric.version,
            f"{info.rubric.item_count} 项",
            f"{info.rubric.max_total} 分",
            "随程序发布" if info.created_at is None else local_minute(info.created_at),
            info.origin,
            f"{used.get(info.rubric.version, 0)} 个",
        )
        for info in found
    ]
    click.echo(
        "\n".join(render(("版本", "子项", "满分", "导入时间", "来源", "年检在用"), rows, right=(1, 2, 5)))
    )

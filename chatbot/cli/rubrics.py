"""``nianjian rubrics``: list and export the rubric sheets."""

from __future__ import annotations

import json

import click

from chatbot.cli.table import render
from rubrics import RubricError, all_rubrics
from rubrics.model import Rubric


def _load() -> tuple[Rubric, ...]:
    try:
        return all_rubrics()
    except RubricError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("rubrics")
def rubrics_group() -> None:
    """六张考评标准表。"""


@rubrics_group.command("list")
def list_rubrics() -> None:
    """每张表的代号、标题、项目数和满分；满分不是 100 时给出提示。"""
    rows = [
        (
            rubric.key,
            rubric.title,
            f"{rubric.item_count} 项",
            f"{rubric.max_total} 分",
            "" if rubric.max_total == 100 else "总分不是 100，按百分制折算",
        )
        for rubric in _load()
    ]
    click.echo("\n".join(render(("标准", "名称", "子项", "满分", "说明"), rows, right=(2, 3))))


@rubrics_group.command("export")
@click.option("--json", "as_json", is_flag=True, required=True, help="打印 JSON 数组（唯一的格式）。")
def export_rubrics(as_json: bool) -> None:
    """以 JSON 打印每张考评标准表：key、title、version、max_total、dimensions、items。"""
    click.echo(json.dumps([r.to_dict() for r in _load()], ensure_ascii=False, indent=2))

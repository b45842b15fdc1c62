"""``nianjian rubrics``: list and export the rubric sheets."""

from __future__ import annotations

import json

import click

from rubrics import RubricError, all_rubrics


def _load() -> tuple:
    try:
        return all_rubrics()
    except RubricError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("rubrics")
def rubrics_group() -> None:
    """The six rubric sheets (考评标准)."""


@rubrics_group.command("list")
def list_rubrics() -> None:
    """Key, title, item count and max total of each sheet; warns where the total is not 100."""
    for rubric in _load():
        line = f"{rubric.key:<12} {rubric.title}  {rubric.item_count} 项  满分 {rubric.max_total}"
        if rubric.max_total != 100:
            line += f"  ⚠ 总分不是 100（{rubric.max_total}），按百分制折算"
        click.echo(line)


@rubrics_group.command("export")
@click.option("--json", "as_json", is_flag=True, required=True, help="Print a JSON array (the only format).")
def export_rubrics(as_json: bool) -> None:
    """Print every sheet as JSON: key, title, version, max_total, dimensions, items."""
    click.echo(json.dumps([r.to_dict() for r in _load()], ensure_ascii=False, indent=2))

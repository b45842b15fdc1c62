"""Next year's standards without a developer: a sheet changed in a spreadsheet is imported (checked,
its differences shown, stored on confirmation), a new year pins it, and a chair's self-check and the
exports use it while last year's inspections keep the old version."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.cli import main
from chatbot.console.access import create_user
from chatbot.documents import rubric_book
from chatbot.store.models import AuditEntry, Campaign, Inspection, RubricVersion
from rubrics import get_rubric
from rubrics.scoring import format_score, percent_score
from rubrics.versions import SheetRow, SheetRejected, changes, sheet_from_rows
from tests.conftest import City
from tests.rubric_tables import read_rows, rows_of, write_table
from tests.test_console import Console

SHIPPED = get_rubric("non_public")  # 43 items, 102 points: the city fixture's union
NEW_FIRST = SHIPPED.item(1).text.replace("批准", "批准后", 1) + "会员信息录入实名制管理系统。"
NEW_LAST = "开展职工数字技能培训，年内培训职工不少于一次。"


def sheet_texts(path: Path) -> str:
    return "\n".join(str(v) for row in load_workbook(path).active.iter_rows(values_only=True) for v in row if v)


def revised(tmp_path: Path) -> tuple[Path, int]:
    """The export, changed as a federation would in Excel: item 1 reworded, item 2 worth one point
    more, item 43 removed and a new item 43 in the last 内容; the 合计 row typed anew."""
    rows = rows_of(SHIPPED)
    dimension, _no, _text, points = rows[0]
    rows[0] = (dimension, 1, NEW_FIRST, points)
    dimension, _no, text, points = rows[1]
    rows[1] = (dimension, 2, text, int(str(points)) + 1)
    last_dimension = rows[-1][0]
    rows = rows[:-1] + [(last_dimension, 43, NEW_LAST, 2)]
    total = sum(int(str(row[3])) for row in rows)
    path = tmp_path / "非公2027.xlsx"
    write_table(path, rows, "merged", total=total, title=f"{SHIPPED.title}年检考评标准")
    return path, total


def test_a_sheet_changed_in_a_spreadsheet_is_next_years_standard(
    app: Flask, user, db: Session, city: City, cli, tmp_path: Path
) -> None:
    # Last year's chair starts on the shipped version.
    old_chair = user("chair-2026")
    old_chair.say(f"绑定 {city.chair_code}")
    assert "共 43 项，满分 102 分" in old_chair.say("自评")
    assert "【2/43】" in old_chair.say("满分")

    # The export in the plan's layout, read back unchanged: no new version.
    exported = tmp_path / "非公.xlsx"
    assert "2023.1" in cli("rubrics", "export", "--key", "non_public", "--xlsx", str(exported))
    assert read_rows(exported) == rows_of(SHIPPED)
    assert "与当前版本 2023.1 相同，未保存" in cli("rubrics", "import", str(exported), "--key", "non_public")

    # The changed sheet: its differences, then no (nothing stored), then yes.
    path, total = revised(tmp_path)
    answer = CliRunner().invoke(main, ["rubrics", "import", str(path), "--key", "non_public", "--version", "2027.1"], input="n\n")
    assert answer.exit_code == 0, answer.output
    assert "共 5 处变化" in answer.output and "未保存" in answer.output
    assert db.scalar(select(RubricVersion)) is None
    shown = cli("rubrics", "import", str(path), "--key", "non_public", "--version", "2027.1", "--yes")
    assert f"改写 第 1 项：{SHIPPED.item(1).text} → {NEW_FIRST}" in shown
    item2 = SHIPPED.item(2).points
    assert f"分值 第 2 项：{item2} 分 → {item2 + 1} 分" in shown
    assert f"删除 原第 43 项（{SHIPPED.item(43).dimension}，{SHIPPED.item(43).points} 分）" in shown
    assert f"新增 第 43 项（{SHIPPED.item(43).dimension}，2 分）：{NEW_LAST}" in shown
    assert f"满分 102 分 → {total} 分" in shown and "已保存 non_public 版本 2027.1" in shown
    assert db.scalar(select(AuditEntry).where(AuditEntry.entity == "rubric_version")) is not None
    listed = cli("rubrics", "versions", "non_public")
    assert "2023.1" in listed and "2027.1" in listed and "非公2027.xlsx" in listed

    # A new year pins the new version; last year's inspection keeps the old one.
    assert "非公有制经济组织、社会组织工会 2027.1" in cli("campaign", "open", "2027")
    db.expire_all()
    by_year = {i.campaign.year: i.rubric_version for i in db.scalars(select(Inspection))}
    assert by_year == {2026: "2023.1", 2027: "2027.1"}
    assert db.scalar(select(Campaign.rubric_versions).where(Campaign.year == 2027))["non_public"] == "2027.1"
    db.rollback()

    # The chair's self-check of 2027 through the webhook walks the new version, normalised to 百分制.
    chair = user("chair-2027")
    chair.say(f"绑定 {city.chair_code}")
    opening = chair.say("自评")
    assert f"共 43 项，满分 {total} 分" in opening and NEW_FIRST in opening
    replies = [chair.say("0")] + [chair.say("满分") for _ in range(42)]
    assert "【43/43】" in replies[-2] and NEW_LAST in replies[-2]
    submitted = chair.say("提交")
    first = SHIPPED.item(1).points
    score = format_score(percent_score(Decimal(total - first), total))
    assert f"原始得分：{total - first} / {total} 分" in submitted and f"百分制得分：{score} 分" in submitted

    # The exports: 2027 on the new version, 2026 still on the old one.
    new_sheet, old_sheet = tmp_path / "2027.xlsx", tmp_path / "2026.xlsx"
    cli("export", "sheet", "--org", "XJ-001", "--year", "2027", "--out", str(new_sheet))
    cli("export", "sheet", "--org", "XJ-001", "--year", "2026", "--out", str(old_sheet))
    assert NEW_FIRST in sheet_texts(new_sheet) and NEW_LAST in sheet_texts(new_sheet)
    assert SHIPPED.item(1).text not in sheet_texts(new_sheet)
    assert SHIPPED.item(1).text in sheet_texts(old_sheet) and NEW_LAST not in sheet_texts(old_sheet)

    # The console: last year's inspection page shows the old text; the versions page the differences.
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
    ids = {i.campaign.year: i.id for i in db.scalars(select(Inspection))}
    db.rollback()
    browser = Console(app.test_client())
    browser.login("city", "city-password-1")
    old_page = browser.get(f"/console/inspections/{ids[2026]}")
    assert SHIPPED.item(1).text in old_page and NEW_FIRST not in old_page
    assert NEW_FIRST in browser.get(f"/console/inspections/{ids[2027]}")
    overview = browser.get("/console/rubrics")
    assert "2027.1" in overview and "版本与差异" in overview
    versions = browser.get("/console/rubrics/non_public")
    assert "版本 2023.1 → 2027.1，共 5 处变化" in versions and NEW_LAST in versions
    assert "2026" in versions and "2027" in versions  # the years that pinned each version
    assert "请选择两个不同的版本" in browser.get("/console/rubrics/non_public?from=2027.1&to=2027.1")
    browser.get("/console/rubrics/non_public?from=9999.9", status=404)
    browser.get("/console/rubrics/nothing", status=404)

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
from chatbot.documents.labels import RUBRIC_NAMES
from chatbot.documents.layout import row_height
from chatbot.store.models import AuditEntry, Campaign, Inspection, RubricVersion
from rubrics import all_rubrics, get_rubric
from rubrics.model import Item, Rubric
from rubrics.scoring import format_score, percent_score
from rubrics.versions import SheetRejected, SheetRow, changes, sheet_from_rows
from tests.conftest import City
from tests.rubric_tables import read_rows, rows_of, write_table
from tests.test_console import Console

SHIPPED = get_rubric("non_public")  # 43 items, 102 points: the city fixture's union
NEW_FIRST = SHIPPED.item(1).text.replace("批准", "批准后", 1) + "会员信息录入实名制管理系统。"
NEW_LAST = "开展职工数字技能培训，年内培训职工不少于一次。"


def sheet_texts(path: Path) -> str:
    return "\n".join(
        str(v) for row in load_workbook(path).active.iter_rows(values_only=True) for v in row if v
    )


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
    answer = CliRunner().invoke(
        main, ["rubrics", "import", str(path), "--key", "non_public", "--version", "2027.1"], input="n\n"
    )
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
    assert "命令行导入" in versions and "cli" not in versions  # who imported it, in Chinese
    assert "请选择两个不同的版本" in browser.get("/console/rubrics/non_public?from=2027.1&to=2027.1")
    browser.get("/console/rubrics/non_public?from=9999.9", status=404)
    browser.get("/console/rubrics/nothing", status=404)


# ---------------------------------------------------------------- round trips and the table's forms


@pytest.mark.parametrize("key", ["state_owned", "non_public", "agency", "joint", "township", "village"])
def test_an_exported_sheet_reads_back_as_the_same_sheet(key: str, tmp_path: Path) -> None:
    shipped = get_rubric(key)
    path = tmp_path / f"{key}.xlsx"
    rubric_book.write(shipped, path)
    read = rubric_book.read(path)
    again = sheet_from_rows(read.rows, shipped, shipped.version, read.title)
    assert again == shipped and changes(shipped, again) == []
    sheet = load_workbook(path).active
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert any(r.startswith("A3:A") for r in merged)  # the first 内容 merged over its items
    # Each item's row as tall as its wrapped 基本要求 (no clipped line), printed one page wide.
    longest = max(shipped.items, key=lambda item: len(item.text))
    row = next(r for r in range(3, sheet.max_row + 1) if sheet.cell(r, 3).value == longest.text)
    assert sheet.row_dimensions[row].height >= row_height(longest.text, rubric_book.WIDTHS[2]) > 30
    assert sheet.page_setup.fitToWidth == 1 and sheet.print_title_rows == "$1:$2"


@pytest.mark.parametrize("style", ["merged", "repeated", "blank"])
def test_the_dimension_cells_may_be_merged_repeated_or_left_blank(style: str, tmp_path: Path) -> None:
    shipped = get_rubric("village")
    path = tmp_path / f"{style}.xlsx"
    write_table(path, rows_of(shipped), style, total=shipped.max_total)
    read = rubric_book.read(path)
    assert sheet_from_rows(read.rows, shipped, "2027.1").items == shipped.items


def test_numbers_typed_as_text_or_decimals_are_read(tmp_path: Path) -> None:
    shipped = get_rubric("village")
    rows = [(d, f"{no}", t, f"{p}.0" if no % 2 else f"{p}分") for d, no, t, p in rows_of(shipped)]
    path = tmp_path / "typed.xlsx"
    write_table(path, rows, "repeated")  # no 合计 row: the total is computed
    assert sheet_from_rows(rubric_book.read(path).rows, shipped, "2027.1").items == shipped.items


# ---------------------------------------------------------------- every refusal, with its row


def _rows(*rows: tuple[str, str, str, str]) -> list[SheetRow]:
    return [SheetRow(number, *row) for number, row in enumerate(rows, start=3)]


GOOD = ("工会组织健全", "1", "依法建立工会组织。", "5")


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (_rows(("", "1", "依法建立工会组织。", "5")), "第 3 行：“内容”为空，上方也没有可沿用的内容"),
        (_rows(GOOD, ("", "", "按期换届。", "5")), "第 4 行：“子项”序号为空"),
        (_rows(GOOD, ("", "二", "按期换届。", "5")), "第 4 行：“子项”序号应为正整数，实为“二”"),
        (
            _rows(GOOD, ("", "3", "按期换届。", "5")),
            "第 4 行：“子项”序号应为 2，实为 3（序号从 1 起连续编排）",
        ),
        (_rows(GOOD, ("", "2", " ", "5")), "第 4 行：“基本要求”为空"),
        (_rows(GOOD, ("", "2", "按期换届。", "")), "第 4 行：“分值”为空"),
        (_rows(GOOD, ("", "2", "按期换届。", "2.5")), "第 4 行：“分值”应为正整数，实为“2.5”"),
        (_rows(GOOD, ("", "2", "按期换届。", "0")), "第 4 行：“分值”应为正整数，实为“0”"),
        (_rows(GOOD, ("", "2", "按期换届。", "五")), "第 4 行：“分值”应为正整数，实为“五”"),
        (
            _rows(GOOD, ("干部配备到位", "2", "配备主席。", "3"), ("工会组织健全", "3", "设立分会。", "2")),
            "第 5 行：内容“工会组织健全”在前面已经出现过，同一内容的子项应排在一起",
        ),
        (_rows(GOOD, ("合计", "", "", "6")), "第 4 行：合计 6 分，与各子项分值之和 5 分不符"),
        (_rows(GOOD, ("合计", "", "", "很多")), "第 4 行：合计应为正整数，实为“很多”"),
        (_rows(), "表中没有任何子项（表头应为：内容、子项、基本要求、分值）"),
    ],
)
def test_each_problem_is_refused_with_its_row_and_reason(rows: list[SheetRow], problem: str) -> None:
    with pytest.raises(SheetRejected) as refused:
        sheet_from_rows(rows, get_rubric("village"), "2027.1")
    assert [str(p) for p in refused.value.problems] == [problem]


def test_every_problem_of_a_sheet_is_listed_at_once() -> None:
    rows = _rows(("", "1", "", "5"), ("组织", "3", "按期换届。", "x"))
    with pytest.raises(SheetRejected) as refused:
        sheet_from_rows(rows, get_rubric("village"), "2027.1")
    assert [p.row for p in refused.value.problems] == [3, 3, 4, 4]


def test_a_wrong_file_stores_nothing_and_says_why(app: Flask, cli, db: Session, tmp_path: Path) -> None:
    shipped = get_rubric("village")
    rows = rows_of(shipped)
    rows[4] = (rows[4][0], 5, "", rows[4][3])
    rows[9] = (rows[9][0], 10, rows[9][2], "两分")
    path = tmp_path / "村2027.xlsx"
    write_table(path, rows, "merged", total=shipped.max_total)
    refused = cli.refused("rubrics", "import", str(path), "--key", "village", "--yes")
    assert "村2027.xlsx 有 2 处错误，未保存" in refused
    assert "第 7 行：“基本要求”为空" in refused and "第 12 行：“分值”应为正整数，实为“两分”" in refused
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    assert "不是 Excel 工作簿" in cli.refused("rubrics", "import", str(text), "--key", "village")
    empty = tmp_path / "empty.xlsx"
    write_table(empty, [], "merged")
    load = load_workbook(empty)
    load.active.delete_rows(2)
    load.save(empty)
    assert "找不到表头" in cli.refused("rubrics", "import", str(empty), "--key", "village")
    assert db.scalar(select(RubricVersion)) is None


def test_a_version_label_is_used_once_and_a_year_keeps_its_pin(
    app: Flask, cli, db: Session, city: City, tmp_path: Path
) -> None:
    shipped = get_rubric("village")
    rows = rows_of(shipped)
    rows[0] = (rows[0][0], 1, rows[0][2], int(str(rows[0][3])) + 1)
    path = tmp_path / "村.xlsx"
    write_table(path, rows, "blank")
    assert "已保存 village 版本 2026.9" in cli(
        "rubrics", "import", str(path), "--key", "village", "--version", "2026.9", "--yes"
    )
    assert "与当前版本 2026.9 相同" in cli("rubrics", "import", str(path), "--key", "village")
    rows[1] = (rows[1][0], 2, rows[1][2], int(str(rows[1][3])) + 1)
    write_table(path, rows, "blank")
    taken = cli.refused("rubrics", "import", str(path), "--key", "village", "--version", "2026.9", "--yes")
    assert "已有版本 2026.9" in taken
    assert "2023.1" in cli.refused(
        "rubrics", "import", str(path), "--key", "village", "--version", "2023.1", "--yes"
    )
    # A union added to the open 2026 campaign after the import still uses the version 2026 pinned.
    cli("org", "add", "--code", "XJ-002", "--name", "西吉一社区工会", "--rubric", "village", "--parent", "XJ")
    db.expire_all()
    added = db.scalar(select(Inspection).where(Inspection.rubric_key == "village"))
    assert added is not None and added.rubric_version == shipped.version
    db.rollback()
    # Without --version the label is the year and a running number, above every label given before
    # (2026.9 was given by hand: the next is 2026.10, not 2026.1, which would read as older).
    rows[2] = (rows[2][0], 3, rows[2][2] + "（修订）", rows[2][3])
    write_table(path, rows, "blank")
    assert "改写 第 3 项" in cli("rubrics", "import", str(path), "--key", "village", "--yes")
    newest = select(RubricVersion.version).order_by(RubricVersion.id.desc()).limit(1)
    assert db.scalar(newest) == "2026.10"
    db.rollback()
    rows[3] = (rows[3][0], 4, rows[3][2] + "（修订）", rows[3][3])
    write_table(path, rows, "blank")
    cli("rubrics", "import", str(path), "--key", "village", "--version", "2027.1", "--yes")
    rows[4] = (rows[4][0], 5, rows[4][2] + "（修订）", rows[4][3])
    write_table(path, rows, "blank")
    assert "已保存 village 版本 2027.2" in cli("rubrics", "import", str(path), "--key", "village", "--yes")
    db.rollback()
    back = tmp_path / "back.xlsx"
    assert "2026.9" in cli(
        "rubrics", "export", "--key", "village", "--xlsx", str(back), "--version", "2026.9"
    )
    assert "没有版本 1999.1" in cli.refused(
        "rubrics", "export", "--key", "village", "--xlsx", str(back), "--version", "1999.1"
    )
    assert "二选一" in cli.refused("rubrics", "export")


def test_changes_name_items_added_removed_reworded_repointed_and_moved() -> None:
    old = Rubric("k", "表", "1", "", ("甲", "乙"), (
        Item(1, "甲", 5, "依法建立工会组织。"),
        Item(2, "甲", 3, "工会按期换届，选举结果报上一级工会批准。"),
        Item(3, "乙", 2, "建立职工之家。"),
        Item(4, "乙", 2, "开展劳动竞赛。"),
    ))  # fmt: skip
    new = Rubric("k", "表", "2", "", ("甲", "乙"), (
        Item(1, "甲", 4, "依法建立工会组织。"),  # re-pointed
        Item(2, "甲", 3, "工会依法按期换届，选举结果报上一级工会批准。"),  # reworded
        Item(3, "甲", 2, "建立职工之家。"),  # moved to 甲
        Item(4, "乙", 3, "建立职工书屋，每年更新图书。"),  # 4 removed, this added
    ))  # fmt: skip
    assert [(c.kind, c.line) for c in changes(old, new)] == [
        ("repointed", "分值 第 1 项：5 分 → 4 分"),
        (
            "reworded",
            "改写 第 2 项：工会按期换届，选举结果报上一级工会批准。 → 工会依法按期换届，选举结果报上一级工会批准。",
        ),
        ("moved", "内容 第 3 项：乙 → 甲"),
        ("added", "新增 第 4 项（乙，3 分）：建立职工书屋，每年更新图书。"),
        ("removed", "删除 原第 4 项（乙，2 分）：开展劳动竞赛。"),
    ]
    swapped = Rubric("k", "表", "3", "", ("甲", "乙"), (old.items[1], old.items[0], *old.items[2:]))
    lines = [c.line for c in changes(old, Rubric("k", "表", "3", "", ("甲", "乙"), tuple(
        Item(no, i.dimension, i.points, i.text) for no, i in enumerate(swapped.items, 1)
    )))]  # fmt: skip
    assert lines == ["另有 2 项仅序号改变"]  # items matched by their text: a new order only renumbers


def test_every_printout_names_a_sheet_in_one_form_without_its_number(
    app: Flask, db: Session, city: City, cli, tmp_path: Path
) -> None:
    """The seed numbers four sheets （一）…（四） and not the other two: the rubric book, the score sheet,
    the console and the documents all name a sheet by its title without that number; the data keep it
    verbatim, and a sheet printed so reads back with its title unchanged."""
    for rubric in all_rubrics():
        assert rubric.name == RUBRIC_NAMES[rubric.key] and not rubric.name.startswith(("（", "("))
        assert rubric.title.endswith(rubric.name)  # the data verbatim, as the seed
        path = tmp_path / f"{rubric.key}.xlsx"
        assert f"已写出 {rubric.name}（" in cli("rubrics", "export", "--key", rubric.key, "--xlsx", str(path))
        assert load_workbook(path).active["A1"].value == f"{rubric.name}年检考评标准"
        read = rubric_book.read(path)
        assert sheet_from_rows(read.rows, rubric, "2099.1", read.title).title == rubric.title
        renumbered = sheet_from_rows(read.rows, rubric, "2099.1", f"一、{rubric.name}")
        assert renumbered.title == rubric.title  # numbered another way: the same sheet's name
    shipped = rubric_book.read(tmp_path / "non_public.xlsx").rows
    renamed = sheet_from_rows(shipped, SHIPPED, "2099.1", "（二）非公有制企业工会")
    assert renamed.title == "（二）非公有制企业工会"  # a new name is a change
    listed = cli("rubrics", "list")
    assert "非公有制经济组织、社会组织工会" in listed and "（二）" not in listed
    sheet = tmp_path / "sheet.xlsx"
    cli("export", "sheet", "--org", "XJ-001", "--year", "2026", "--out", str(sheet))
    assert load_workbook(sheet).active["A2"].value == "非公有制经济组织、社会组织工会年检考评标准"
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
    inspection = db.scalar(select(Inspection))
    assert inspection is not None
    browser = Console(app.test_client())
    browser.login("city", "city-password-1")
    page = browser.get(f"/console/inspections/{inspection.id}")
    assert "考评标准：非公有制经济组织、社会组织工会（满分 102）" in page
    standards = browser.get("/console/rubrics")
    assert all(f"<h2>{rubric.name}</h2>" in standards for rubric in all_rubrics())

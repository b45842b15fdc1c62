"""The six rubric sheets: counts, totals, verbatim text against the seed, and the validator."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from chatbot.cli import main
from rubrics import RubricError, all_rubrics, get_rubric, load_sheet
from rubrics.model import unnumbered

ROOT = Path(__file__).resolve().parent.parent
SEED_NAME = "000_21c4aca824a9170d.txt"
#: The source document, kept with the code (docs/source/) so that a clone anywhere can check the sheets.
VENDORED_SEED = ROOT / "docs" / "source" / SEED_NAME


def shared_seed() -> Path | None:
    """The seed where the project's shared folder keeps it: ``shared/seeds/`` beside the checkout, or
    beside any folder above it (a clone in a temporary directory of the workspace)."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "seeds" / SEED_NAME
        if candidate.exists():
            return candidate
    return None


EXPECTED = {
    "state_owned": (42, 100, "（一）国有、集体企业和事业单位工会"),
    "non_public": (43, 102, "（二）非公有制经济组织、社会组织工会"),
    "agency": (30, 102, "（三）机关工会"),
    "joint": (31, 99, "（四）区域性、行业性基层工会联合会"),
    "township": (38, 99, "乡镇（街道）、开发区、工业园区工会"),
    "village": (30, 100, "村（社区）工会"),
}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_sheet_counts_and_totals(key: str) -> None:
    rubric = get_rubric(key)
    count, total, title = EXPECTED[key]
    assert (rubric.item_count, rubric.max_total, rubric.title) == (count, total, title)
    assert [item.no for item in rubric.items] == list(range(1, count + 1))
    assert rubric.version


@pytest.mark.parametrize(
    ("key", "no", "dimension", "points", "start", "end"),
    [
        (
            "state_owned",
            1,
            "工会组织健全",
            5,
            "经上一级工会批准依法规范建立工会。",
            "选举结果报上一级工会批准。",
        ),
        (
            "state_owned",
            15,
            "制度机制完善",
            3,
            "实施“工会组织亮牌子、工会主席亮身份”",
            "手机号码等联系方式。",
        ),
        # The seed's row 27 is shifted one column; its meaning is kept.
        (
            "state_owned",
            27,
            "经费管理规范",
            4,
            "具备社团法人资格的工会依法设立独立银行帐户",
            "管理和使用工会经费。",
        ),
        # Item 30 is truncated in the seed and kept verbatim.
        ("state_owned", 30, "经费管理规范", 1, "建立工会经费预算", "并定期向会员大会或者会员代表大会报"),
        ("state_owned", 42, "作用发挥明显", 1, "做好困难职工帮扶救助工作", "实际困难。"),
        (
            "non_public",
            29,
            "经费管理规范",
            2,
            "依法按每月全部职工工资总额的2%拨缴工会经费",
            "足额上解工会经费。",
        ),
        ("non_public", 43, "作用发挥明显", 1, "做好农民工入会和服务工作", "合法权益。"),
        ("agency", 21, "经费管理规范", 4, "工会会员按规定标准按月缴纳会费。", "缴纳会费。"),
        ("agency", 30, "作用发挥明显", 3, "加强工会组织建设", "开展建设职工之家活动。"),
        ("joint", 17, "活动载体丰富", 5, "工会联合会及所属基层工会有职工活动阵地", "职工文体活动。"),
        ("joint", 31, "作用发挥明显", 3, "代行所属基层工会难以履行的维权职责。", "维权职责。"),
        (
            "township",
            1,
            "党委政府重视支持",
            5,
            "乡镇（街道）、开发区、工业园区党委高度重视工会工作",
            "重大问题。",
        ),
        # The seed's row 15 lacks its leading cell; it belongs to the dimension above it.
        ("township", 15, "组织网络健全", 3, "推进企业较多的村（社区）规范建立工会组织", "建立工会工作站。"),
        ("township", 28, "服务职工群众", 2, "依托“宁工惠”职工服务平台", "网上网下服务活动。。"),
        ("township", 38, "围绕中心开展工作", 1, "做好劳动模范、五一劳动奖章", "劳模创新工作室。"),
        (
            "village",
            1,
            "工会组织健全",
            5,
            "经上一级工会批准依法规范建立工会组织,具备条件的",
            "工会社团法人资格。",
        ),
        ("village", 26, "作用发挥明显", 3, "组织开展职工技能竞赛活和职工素质提升活动", "技术水平。"),
    ],
)
def test_spot_check_items_against_the_seed(
    key: str, no: int, dimension: str, points: int, start: str, end: str
) -> None:
    item = get_rubric(key).item(no)
    assert (item.dimension, item.points) == (dimension, points)
    assert item.text.startswith(start) and item.text.endswith(end)


def _seed_sheets(text: str) -> list[list[tuple[int, str, int, str]]]:
    """An independent reading of the seed's attachment: rows of (no, dimension, points, text) per sheet."""
    body = text[text.index("附件：\n\n年检星级等次分类评选基本内容及考评标准") :]
    sheets: list[list[tuple[int, str, int, str]]] = []
    dimension = ""
    for line in body.splitlines():
        if line.strip().endswith("年检考评标准"):
            sheets.append([])
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        if not sheets or len(cells) < 3 or cells[0] == "内容":
            continue
        at = next(i for i, cell in enumerate(cells) if cell.isdigit())
        dimension = next((cell for cell in cells[:at] if cell), dimension)
        text_cell, points_cell = [cell for cell in cells[at + 1 :] if cell][:2]
        sheets[-1].append((int(cells[at]), dimension, int(points_cell), text_cell))
    return sheets


def test_the_kept_seed_is_the_shared_one() -> None:
    """docs/source/ holds the seed word for word; where the shared folder is beside the checkout, they
    are the same file. Under CI the shared seed must be found."""
    assert VENDORED_SEED.exists(), VENDORED_SEED
    shared = shared_seed()
    if shared is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared/seeds/{SEED_NAME} is not beside this checkout or above it (CI=true)")
        pytest.skip("the shared folder is not beside this checkout; docs/source/ is checked alone")
    assert shared.read_bytes() == VENDORED_SEED.read_bytes()


def test_json_export_matches_the_seed_item_by_item() -> None:
    result = CliRunner().invoke(main, ["rubrics", "export", "--json"])
    assert result.exit_code == 0, result.output
    exported = json.loads(result.output)
    seed = _seed_sheets((shared_seed() or VENDORED_SEED).read_text(encoding="utf-8"))
    assert [sheet["key"] for sheet in exported] == list(EXPECTED)
    assert len(seed) == 6
    for sheet, rows in zip(exported, seed, strict=True):
        assert [(i["no"], i["dimension"], i["points"], i["text"]) for i in sheet["items"]] == rows
        assert sheet["max_total"] == sum(row[2] for row in rows)
        assert set(sheet) == {"key", "title", "version", "max_total", "dimensions", "items"}


def test_rubrics_list_warns_where_the_total_is_not_100() -> None:
    result = CliRunner().invoke(main, ["rubrics", "list"])
    assert result.exit_code == 0
    header, _rule, *rows = result.output.splitlines()  # a table: header, rule, one line per sheet
    assert header.split() == ["标准", "名称", "子项", "满分", "说明"]
    lines = {line.split()[0]: line for line in rows}
    assert set(lines) == set(EXPECTED)
    for key, (count, total, title) in EXPECTED.items():
        named = unnumbered(title)  # printed without the seed's (一)…(四), as every printout names it
        assert f" {named} " in lines[key] and f"{count} 项" in lines[key] and f"{total} 分" in lines[key]
        assert ("总分不是 100，按百分制折算" in lines[key]) is (total != 100)


GOOD_SHEET = """
key = "sample"
title = "样例"
version = "1"
dimensions = ["甲", "乙"]

[[items]]
no = 1
dimension = "甲"
points = 5
text = "第一项"

[[items]]
no = 2
dimension = "乙"
points = 3
text = "第二项"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sample.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_sheet_loads_with_a_computed_total(tmp_path: Path) -> None:
    rubric = load_sheet(_write(tmp_path, GOOD_SHEET))
    assert rubric.max_total == 8 and rubric.dimension_max("乙") == 3


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("no = 2", "no = 3", "sample.toml: item 3 (entry 2): expected item number 2"),
        (
            "points = 3",
            "points = 0",
            "sample.toml: item 2 (entry 2): points must be a positive integer, got 0",
        ),
        (
            'dimension = "乙"\npoints',
            'dimension = "丙"\npoints',
            "sample.toml: item 2 (entry 2): unknown dimension '丙'",
        ),
        ('text = "第二项"', 'text = "  "', "sample.toml: item 2 (entry 2): empty requirement text"),
        ('version = "1"', "", "sample.toml: missing or empty 'version'"),
        ('["甲", "乙"]', '["甲", "乙", "丁"]', "sample.toml: dimension '丁' has no item"),
    ],
)
def test_a_malformed_sheet_is_refused_naming_file_and_item(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD_SHEET
    with pytest.raises(RubricError) as error:
        load_sheet(_write(tmp_path, GOOD_SHEET.replace(old, new, 1)))
    assert str(error.value).startswith(message)


def test_every_shipped_sheet_validates() -> None:
    assert len(all_rubrics()) == 6

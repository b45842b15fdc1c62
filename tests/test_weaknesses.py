"""Where the points are lost (失分分析), on a small city whose figures are worked out by hand: the figures,
the console page for the city and for a county (and a county cannot see another's), the workbook, and
the drafted 三、存在问题 in the console's form and in the generated summaries.

The city: 原州区 (YZ) with four rated village unions and one still self-checking, 西吉县 (XJ) with two
rated, and a county named like a formula with none. Every assessed score is the item's full points
except (item: assessed, self):

    2026  U01: 2 → 3 (self 3), 5 → 2      U02: 2 → 4      U03: 2 → 3, 1 → 4      U04: none
          X01: 5 → 0                       X02: 30 → 0.5   U05 (self-checking): 2 → 0, not counted
    2025  U01: 2 → 4      U02: none        (the 2025 sheet: version "2025.1", without item 30 and
                                            with item 2 worded differently)

Hand-computed, 原州区 2026: item 2 — 3 of 4 lost points (75%), 2 + 1 + 2 = 5 lost, 1.25 each (1.3, half
up); item 5 — 1 of 4 (25%), 0.5 each; item 1 — 1 of 4, 0.25 each (0.3). 2025: item 2 1 of 2 (50%),
so +25 points; items 5 and 1 0 of 2, so +25. Dimension 工会组织健全 (items 1–4, 16 points): U01 −2,
U02 −1, U03 −3: 3 of 4, 6 lost, 1.5 each, 6 / 64 = 9.375% of its points (9.4%). Self against
assessed: item 2 — U02 +1 and U03 +2 over 4 unions, mean 0.75 (0.8), 2 over-rating; item 5 — U01 +2,
mean 0.5; item 1 — U03 +1, mean 0.25 (0.3).
The city: item 5 — 2 of 6 (33.3%), 6 lost, 1 each; item 2 — 3 of 6 (50%), 5 lost, 0.8333 (0.8);
item 30 — 1 of 6 (16.7%), 1.5 lost, 0.25 (0.3), new in 2026; item 1 — 1 of 6, 1 lost.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.documents import sentences, weakness_table
from chatbot.documents.labels import printed
from chatbot.inspection import campaigns, organisations, rubric_versions, weaknesses
from chatbot.inspection.hierarchy import load_tree
from chatbot.store.models import Campaign, Inspection, ItemScore, Organisation
from rubrics import Rubric, all_rubrics, get_rubric
from tests.test_console import Console

VILLAGE = get_rubric("village")
FORMULA_NAME = "=HYPERLINK(1)总工会"
#: (assessed, self) where they differ from the item's full points, by union and year.
SCORES_2026: dict[str, dict[int, tuple[str, str | None]]] = {
    "U01": {2: ("3", "3"), 5: ("2", None)},
    "U02": {2: ("4", None)},
    "U03": {2: ("3", None), 1: ("4", None)},
    "U04": {},
    "X01": {5: ("0", None)},
    "X02": {30: ("0.5", None)},
}
SCORES_2025: dict[str, dict[int, tuple[str, str | None]]] = {"U01": {2: ("4", None)}, "U02": {}}
ITEM_2_IN_2025 = "工会按时换届。"


def sheet_of(key: str, version: str) -> Rubric:
    """The shipped sheets, and a 2025 version of the village sheet without item 30, item 2 reworded
    (stored as a version of the sheet by the fixture, as `nianjian rubrics import` stores one)."""
    rubric = get_rubric(key)
    if version != "2025.1":
        return rubric
    items = tuple(
        dataclasses.replace(item, text=ITEM_2_IN_2025) if item.no == 2 else item for item in rubric.items[:-1]
    )
    return dataclasses.replace(rubric, version=version, items=items)


@pytest.fixture
def known(db: Session) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(db, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("FX", FORMULA_NAME, parent="GY"))
        for code, county in (("U01", "YZ"), ("U02", "YZ"), ("U03", "YZ"), ("U04", "YZ"), ("U05", "YZ")):
            organisations.add_org(db, organisations.OrgRow(code, f"{code}社区工会", "village", county, 30))
        for code in ("X01", "X02"):
            organisations.add_org(db, organisations.OrgRow(code, f"{code}社区工会", "village", "XJ", 30))
        campaigns.open_year(db, 2025)
        campaigns.open_year(db, 2026)
        # An older wording stored as a version (after the years pinned the shipped sheet), scored in 2025.
        rubric_versions.store(db, sheet_of("village", "2025.1"), "test")
        _score(db, 2025, SCORES_2025, version="2025.1")
        _score(db, 2026, SCORES_2026)
        _score(db, 2026, {"U05": {2: ("0", None)}}, state="self_checking")
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "YZ", "yz", "yz-password-12")
        create_user(db, "XJ", "xj", "xj-password-12")


def _score(
    db: Session,
    year: int,
    scores: dict[str, dict[int, tuple[str, str | None]]],
    state: str = "rated",
    version: str | None = None,
) -> None:
    """Give the unions' inspections of ``year`` every item's score (full points but the exceptions)."""
    campaign = db.scalar(select(Campaign).where(Campaign.year == year))
    assert campaign is not None
    for code, exceptions in scores.items():
        inspection = db.scalar(
            select(Inspection)
            .join(Organisation, Inspection.organisation_id == Organisation.id)
            .where(Inspection.campaign_id == campaign.id, Organisation.code == code)
        )
        assert inspection is not None
        inspection.state = state
        inspection.rubric_version = version or inspection.rubric_version
        for item in sheet_of("village", inspection.rubric_version).items:
            assessed, own = exceptions.get(item.no, (str(item.points), None))
            db.add(
                ItemScore(
                    inspection_id=inspection.id,
                    item_no=item.no,
                    self_score=Decimal(own or str(item.points)),
                    assessed_score=Decimal(assessed),
                )
            )


def _figures(db: Session, code: str | None) -> weaknesses.Weaknesses:
    campaign = db.scalar(select(Campaign).where(Campaign.year == 2026))
    assert campaign is not None
    tree = load_tree(db)
    if code is None:
        return weaknesses.of_city(db, campaign, tree)
    return weaknesses.of_group(db, campaign, next(g for g in tree.groups() if g.code == code))


def test_a_countys_figures_are_the_hand_computed_ones(known: None, db: Session) -> None:
    found = _figures(db, "YZ")
    assert (found.name, found.year, found.previous_year, found.rated) == ("原州区总工会", 2026, 2025, 4)
    rows = [weakness_table.item_row(rank, item) for rank, item in enumerate(found.top(), start=1)]
    assert [row[:3] + row[5:] for row in rows] == [
        (1, "村（社区）工会", 2, 5, 4, 3, 75, 1.3, "上升25个百分点（表述有调整）"),
        (2, "村（社区）工会", 5, 4, 4, 1, 25, 0.5, "上升25个百分点"),
        (3, "村（社区）工会", 1, 5, 4, 1, 25, 0.3, "上升25个百分点"),
    ]
    assert all(not isinstance(cell, float) or cell != int(cell) for row in rows for cell in row)  # no 75.0
    dimensions = {row[1]: row for row in map(weakness_table.dimension_row, found.dimensions)}
    assert dimensions["工会组织健全"] == (
        "村（社区）工会",
        "工会组织健全",
        16,
        4,
        3,
        75,
        1.5,
        9.4,
        "上升25个百分点",
    )
    assert dimensions["干部配备到位"][3:8] == (4, 1, 25, 0.5, 2.2)  # 2 / (4 × 23) = 2.17%
    assert dimensions["经费管理规范"][3:8] == (4, 0, 0, 0, 0)
    over = [weakness_table.self_row(item) for item in found.over_rated()]
    assert [row[:2] + row[3:] for row in over] == [
        ("村（社区）工会", 2, 5, 4, 2, 50, 0.8),
        ("村（社区）工会", 5, 4, 4, 1, 25, 0.5),
        ("村（社区）工会", 1, 5, 4, 1, 25, 0.3),
    ]


def test_the_citys_figures_span_the_counties_and_name_a_new_item(known: None, db: Session) -> None:
    found = _figures(db, None)
    assert (found.name, found.rated) == ("全市", 6)
    rows = [weakness_table.item_row(rank, item) for rank, item in enumerate(found.top(), start=1)]
    assert [(row[2], *row[6:]) for row in rows] == [
        (5, 6, 2, 33.3, 1, "上升33.3个百分点"),
        (2, 6, 3, 50, 0.8, "持平（表述有调整）"),
        (30, 6, 1, 16.7, 0.3, "上年无此项"),
        (1, 6, 1, 16.7, 0.2, "上升16.7个百分点"),
    ]
    # item 1: 1 point over 6 unions is 0.1666…, 0.2 half up; its share 16.666…% is 16.7
    assert len(weakness_table.ranked(found)) == VILLAGE.item_count  # the workbook lists every item
    counties = [
        weakness_table.county_row(c) for c in weaknesses.survey(db, found_campaign(db), load_tree(db))[1]
    ]
    assert counties == [
        ("原州区", 4, "村（社区）工会第2项：工会依法依章程按时换届", 3, 75, 1.3),
        ("西吉县", 2, "村（社区）工会第5项：工会主席按同级党政副职级干部配备", 1, 50, 2),
        (FORMULA_NAME.removesuffix("总工会"), 0, "—", 0, 0, 0),
    ]


def found_campaign(db: Session) -> Campaign:
    campaign = db.scalar(select(Campaign).where(Campaign.year == 2026))
    assert campaign is not None
    return campaign


def test_the_drafted_paragraph_states_the_figures() -> None:
    items = [
        sentences.LosingItem("甲", 3, Decimal("0.75"), Decimal("1.25"), Decimal("0.25")),
        sentences.LosingItem("乙", 1, Decimal("0.25"), Decimal("0.5"), Decimal("-0.125")),
        sentences.LosingItem("丙", 1, Decimal("0.25"), Decimal("0.25"), None, new=True),
        sentences.LosingItem("丁", 1, Decimal("0.1"), Decimal("0.1")),  # only three are named
    ]
    text = sentences.weakness_paragraph("全县", items, sentences.OverRating("甲", 2, Decimal("0.75")), 2025)
    assert text == (
        "数据显示，全县3个单位在“甲”一项失分，占75%，平均失分1.3分；1个单位在“乙”一项失分，占25%，平均失分0.5分；"
        "1个单位在“丙”一项失分，占25%，平均失分0.3分。与2025年相比，“甲”一项失分单位占比较上年上升25个百分点，"
        "“乙”一项失分单位占比较上年下降12.5个百分点，“丙”为今年新增考评内容。"
        "对照自评，“甲”一项有2个单位自评高于考评，平均高出0.8分，自评把关有待加强。"
    )
    assert sentences.weakness_paragraph("全县", [], None, 2025) == ""
    assert ".0" not in text


YZ_DRAFT = (
    "数据显示，全区3个单位在“工会依法依章程按时换届”一项失分，占75%，平均失分1.3分；"
    "1个单位在“工会主席按同级党政副职级干部配备”一项失分，占25%，平均失分0.5分；"
    "1个单位在“经上一级工会批准依法规范建立工会组织”一项失分，占25%，平均失分0.3分。"
    "与2025年相比，“工会依法依章程按时换届”一项失分单位占比较上年上升25个百分点，"
    "“工会主席按同级党政副职级干部配备”一项失分单位占比较上年上升25个百分点，"
    "“经上一级工会批准依法规范建立工会组织”一项失分单位占比较上年上升25个百分点。"
    "对照自评，“工会依法依章程按时换届”一项有2个单位自评高于考评，平均高出0.8分，自评把关有待加强。"
)


def _problems(path: Path) -> list[str]:
    """The paragraphs of 三、存在问题 in a generated summary."""
    text = [p.text for p in Document(str(path)).paragraphs]
    return text[text.index("三、存在问题") + 1 : text.index("四、下一步打算")]


def test_the_county_edits_the_drafted_paragraph_before_it_prints(
    known: None, client: FlaskClient, cli: Callable[..., str], tmp_path: Path
) -> None:
    console = Console(client)
    console.login("yz", "yz-password-12")
    form = console.get("/console/narratives?year=2026")
    assert "按年检数据起草的建议稿" in form and f">{YZ_DRAFT}</textarea>" in form
    before = tmp_path / "before.docx"
    cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(before), "--date", "2026-12-08")
    assert _problems(before) == [YZ_DRAFT]  # not yet saved: the draft
    edited = YZ_DRAFT.replace("自评把关有待加强。", "下一步将重点指导换届工作。")
    console.post(
        "/console/narratives/2026", {"addressee": "", "practices": "", "problems": edited, "plans": ""}
    )
    form = console.get("/console/narratives?year=2026")
    assert "按年检数据起草的建议稿" not in form and f">{edited}</textarea>" in form
    after = tmp_path / "after.docx"
    cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(after), "--date", "2026-12-08")
    assert _problems(after) == [edited]  # saved: the county's own text


def test_the_city_summary_drafts_across_counties(
    known: None, cli: Callable[..., str], tmp_path: Path
) -> None:
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(out), "--date", "2026-12-08")
    (paragraph,) = _problems(out)
    assert paragraph.startswith(
        "数据显示，全市2个单位在“工会主席按同级党政副职级干部配备”一项失分，占33.3%，平均失分1分；"
        "3个单位在“工会依法依章程按时换届”一项失分，占50%，平均失分0.8分；"
        "1个单位在“掌握外出务工农民工的务工地、技能特长等基本情况”一项失分，占16.7%，平均失分0.3分。"
    )
    assert "“掌握外出务工农民工的务工地、技能特长等基本情况”为今年新增考评内容" in paragraph
    assert paragraph.endswith(
        "分县（区）看，原州区失分最多的是“工会依法依章程按时换届”一项（3个单位，占75%）；"
        "西吉县失分最多的是“工会主席按同级党政副职级干部配备”一项（1个单位，占50%）。"
    )


def test_the_console_page_shows_the_countys_own_figures_only(known: None, client: FlaskClient) -> None:
    console = Console(client)
    console.login("yz", "yz-password-12")
    page = console.get("/console/weaknesses?year=2026")
    assert "原州区总工会" in page and "已评定 4 个单位" in page and "与 2025 年" in page
    assert "上升25个百分点（表述有调整）" in page
    assert len(re.findall(r'<img class="chart"[^>]*data-text-px="(\d+\.\d)"', page)) == 2
    assert all(float(px) >= 20 for px in re.findall(r'data-text-px="([\d.]+)"', page))  # 10 pt at 150 dpi
    assert "西吉县" not in page and 'name="county"' not in page
    console.get("/console/weaknesses?year=2026&county=XJ", status=404)
    console.get("/console/weaknesses/2026.xlsx?county=XJ", status=404)


def test_the_city_sees_the_whole_city_and_picks_a_county(known: None, client: FlaskClient) -> None:
    console = Console(client)
    console.login("city", "city-password-1")
    page = console.get("/console/weaknesses?year=2026")
    assert "全市" in page and "已评定 6 个单位" in page and "各县（区）失分最多的子项" in page
    assert "上年无此项" in page and "33.3" in page
    county = console.get("/console/weaknesses?year=2026&county=XJ")
    assert (
        "西吉县总工会" in county and "已评定 2 个单位" in county and "各县（区）失分最多的子项" not in county
    )
    console.get("/console/weaknesses?year=2026&county=NOPE", status=404)


def test_the_workbook_holds_the_figures_and_keeps_texts_text(known: None, client: FlaskClient) -> None:
    console = Console(client)
    console.login("city", "city-password-1")
    response = client.get("/console/weaknesses/2026.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["子项失分", "内容失分", "自评与考评", "各县（区）"]
    items = book["子项失分"]
    assert items["A1"].value == "全市2026年度年检失分分析（与2025年比较）"
    assert [c.value for c in items[2]] == list(weakness_table.ITEM_HEADERS)
    first = [c.value for c in items[3]]
    assert first[:3] == [1, "村（社区）工会", 5] and first[6:] == [6, 2, 33.3, 1, "上升33.3个百分点"]
    assert items.max_row == 2 + VILLAGE.item_count
    assert isinstance(items["J4"].value, float) and items["J4"].value == 0.8
    assert items["I3"].data_type == "n" and isinstance(items["I4"].value, int)  # 50, not 50.0
    counties = book["各县（区）"]
    formula = counties["A5"]
    assert formula.value == FORMULA_NAME.removesuffix("总工会") and formula.data_type == "s"
    assert formula.quotePrefix
    yz = Console(client.application.test_client())
    yz.login("yz", "yz-password-12")
    own = load_workbook(io.BytesIO(yz.client.get("/console/weaknesses/2026.xlsx").data))
    assert own.sheetnames == ["子项失分", "内容失分", "自评与考评"]
    assert own["子项失分"]["A1"].value == "原州区总工会2026年度年检失分分析（与2025年比较）"


def _cells_of(page: str, kind: str) -> list[list[tuple[str, str]]]:
    """The rows of the page's ``figures`` table of ``kind``: each cell's class and text."""
    table = re.search(rf'<table class="figures {kind}">(.*?)</table>', page, re.S)
    assert table is not None, kind
    return [
        [(m.group(2) or "", re.sub(r"<[^>]+>", "", m.group(3)).strip()) for m in re.finditer(
            r'<t([hd])(?: class="([^"]*)")?[^>]*>(.*?)</t[hd]>', row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]  # fmt: skip


def test_on_a_phone_the_items_table_shows_the_item_and_its_figures(known: None, client: FlaskClient) -> None:
    """At 390 px (console.css, table.figures) the cells marked ``more`` are hidden and ``below`` ones go
    on a line under the row: what stays in the row is the item and the figures that say it loses."""
    console = Console(client)
    console.login("yz", "yz-password-12")
    page = console.get("/console/weaknesses?year=2026")
    header, first, *_ = _cells_of(page, "item")
    in_row = [text for (kind, text) in header if "more" not in kind and "below" not in kind]
    assert in_row == ["子项", "基本要求", "失分单位数", "失分单位占比（%）", "平均失分"]
    shown = [text for (kind, text) in first if "more" not in kind]
    item_2 = printed(next(i.text for i in VILLAGE.items if i.no == 2))
    assert shown == ["2", item_2, "3", "75", "1.3", "上升25个百分点（表述有调整）"]
    assert 'class="below" data-label="较上年（失分单位占比）"' in page
    header, *_ = _cells_of(page, "dimension")
    assert [text for (kind, text) in header if not kind] == [
        "内容", "失分单位数", "失分单位占比（%）", "平均失分", "失分占该项分值（%）",
    ]  # fmt: skip
    css = client.get("/console/static/console.css").get_data(as_text=True)
    for rule in ("table.figures .more", "table.figures.item tr", "table.figures.dimension tr"):
        assert rule in css


def test_the_charts_name_their_axes_and_units(known: None, client: FlaskClient) -> None:
    from chatbot.documents import charts

    console = Console(client)
    console.login("city", "city-password-1")
    page = console.get("/console/weaknesses?year=2026")
    alts = re.findall(r'<img class="chart"[^>]*alt="([^"]+)"', page)
    assert alts == [
        "失分最多的子项：横轴为失分单位占比（%），纵轴为子项",
        "各项内容失分情况：横轴为失分占该项分值（%），纵轴为内容",
    ]
    for axes in (weakness_table.ITEM_AXES, weakness_table.DIMENSION_AXES):
        figure = charts.loss_bars(["甲", "乙"], [50.0, 12.5], "", axes.value, axes.category)
        drawn = figure.axes[0]
        assert (drawn.get_xlabel(), drawn.get_ylabel()) == (axes.value, charts.upright(axes.category))
        assert drawn.yaxis.label.get_rotation() == 0  # set upright, a character a line
        assert not charts.missing_glyphs(axes.value + axes.category)
    summary = charts.dimension_figure(["工会组织健全"], [80.0], "各维度平均得分率").axes[0]
    assert (summary.get_xlabel(), summary.get_ylabel()) == ("平均得分率（%）", "内\n容")


def test_the_workbook_prints_one_page_wide_with_its_header_on_every_page(
    known: None, client: FlaskClient
) -> None:
    from chatbot.documents.exports import LANDSCAPE_UNITS, NARROW_MAX, PAGE_FOOTER

    console = Console(client)
    console.login("city", "city-password-1")
    book = load_workbook(io.BytesIO(client.get("/console/weaknesses/2026.xlsx").data))
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert (int(setup.paperSize), setup.orientation) == (int(sheet.PAPERSIZE_A4), "landscape")
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)  # one page wide, as many tall as needed
        assert sheet.print_title_rows == "$1:$2" and sheet.oddFooter.center.text == PAGE_FOOTER
        widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[2]]
        # the columns fill about a page at full size: fitting them to the width hardly shrinks them
        assert LANDSCAPE_UNITS * 0.6 < sum(widths) + 5 * len(widths) / 7 <= LANDSCAPE_UNITS + 1, sheet.title
        for column, width in zip(sheet.iter_cols(min_row=3), widths, strict=True):
            if width <= NARROW_MAX:  # a short column: each of its cells on two lines at most
                longest = max((len(str(c.value or "")) * 2 for c in column), default=0)
                assert longest <= 2 * width, (sheet.title, column[0].column_letter)
    items = book["子项失分"]
    assert items.column_dimensions["B"].width >= 9  # 村（社区）工会 on two lines, not four


def test_a_charts_label_names_its_sheet_in_whole_words() -> None:
    """Where the scope has several sheets, a dimension's bar names its sheet on a line of its own: in a
    few whole words, never cut mid-bracket (the walk saw "村（社区·工会组织健全"), each sheet its own."""
    losses = tuple(
        weaknesses.DimensionLoss(
            rubric.key,
            rubric.dimensions[0],
            8,
            weaknesses.Loss(2, 1, Decimal(2)),
            None,
            weaknesses.LastYear.NEW,
        )
        for rubric in all_rubrics()
    )
    bars = weakness_table.dimension_bars(losses, several_sheets=True)
    sheets = [bar.label.split("\n")[0] for bar in bars]
    assert all(sheet.count("（") == sheet.count("）") and len(sheet) <= 6 for sheet in sheets), sheets
    assert len(set(sheets)) == len(sheets) and sheets[-1] == "村（社区）"
    assert {bar.percent for bar in bars} == {12.5}  # 2 of 2 × 8 points lost

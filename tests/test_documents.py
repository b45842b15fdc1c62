"""Documents a clerk files: the formal annual summaries (county, city) with the narrative the county
writes in the console, the filled score sheet, the results workbook, their PDFs, and the charts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document
from docx.enum.text import WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chatbot.cli import main
from chatbot.console.access import create_user
from chatbot.documents import charts, gongwen, sentences
from chatbot.documents.labels import printed
from chatbot.documents.narratives import NOT_WRITTEN
from chatbot.documents.reports import one_decimal
from chatbot.inspection import organisations
from chatbot.store.models import AuditEntry, Campaign, Inspection, Organisation, ReportNarrative
from chatbot.wechat.simulator import Simulator
from tests.helpers import VILLAGE, rate, self_check, setup_county
from tests.test_console import Console
from tests.test_public_objections import _published

User = Callable[..., Simulator]
OFFICIAL = ["原州区总工会", "西吉县总工会", "固原经济技术开发区总工会", "市直基层工会"]
#: The same as the city summary's tables name them: without the 总工会 every row would repeat.
SHORT = ["原州区", "西吉县", "固原经济技术开发区", "市直基层工会"]


def _world(db: Session, user: User, sort_orders: bool = True) -> dict[str, str]:
    """A city whose counties were added out of their official order (开发区 before 西吉县) and whose
    codes sort in yet another (KFQ, XJ, YZ); four results: 100, 87, 55 (below standard) in 原州区, 91
    in 西吉县; one union in 原州区 never started."""
    codes = setup_county(db, 4)  # GY, YZ (U01…U04)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("KFQ", "固原经济技术开发区总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("K01", "开发区一号企业工会", "village", "KFQ"))
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("X01", "西吉一社区工会", "village", "XJ"))
        organisations.add_org(db, organisations.OrgRow("C01", "市直机关工会", "agency", "GY"))
        codes["xj_evaluator"] = organisations.create_invitation(db, "XJ", "evaluator").code
        codes["x1"] = organisations.create_invitation(db, "X01", "chair").code
        if sort_orders:
            for code, order in (("YZ", 1), ("XJ", 2), ("KFQ", 6)):
                db.execute(update(Organisation).where(Organisation.code == code).values(sort_order=order))
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "YZ", "yz", "yz-password-12")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n, score in ((1, 100), (2, 87), (3, 55)):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        rate(evaluator, f"U0{n}", score)
    xj = user("xj")
    xj.say(f"绑定 {codes['xj_evaluator']}")
    self_check(user("x1"), codes["x1"])
    rate(xj, "X01", 91)
    return codes


def _paragraphs(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def _headings(path: Path, level: int) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.style.name == f"Heading {level}"]


def test_the_county_summary_is_a_formal_report_with_the_countys_own_sections(
    user: User, db: Session, cli, client, tmp_path: Path
) -> None:
    _world(db, user)
    console = Console(client)
    console.login("yz", "yz-password-12")
    form = console.get("/console/narratives")
    assert "待办：尚未填写 二、主要做法、三、存在问题、四、下一步打算" in form
    console.post(
        "/console/narratives/2026",
        {
            "addressee": "",
            "practices": "一是加强组织领导，成立年检工作专班。\r\n\r\n二是逐单位上门指导自评。",
            "problems": "部分村（社区）工会台账不全。",
            "plans": "",
        },
    )
    assert "已保存。尚未填写：四、下一步打算。" in console.flashes("/console/narratives")
    out = tmp_path / "yz.docx"
    cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(out), "--date", "2026-12-08")
    text = _paragraphs(out)
    assert text[0] == "原州区总工会\n2026年度基层工会组织年检工作情况总结"
    assert text[2] == "固原市总工会组织部："  # 主送: the city's organisation department
    assert _headings(out, 1) == ["一、基本情况", "二、主要做法", "三、存在问题", "四、下一步打算"]
    assert _headings(out, 2) == [
        "（一）年检覆盖情况",
        "（二）星级评定情况",
        "（三）未达标单位及补课情况",
        "（四）异议与复查情况",
        "（五）市总工会抽查情况",
    ]
    practices = text.index("二、主要做法")
    assert text[practices + 1 : practices + 3] == [
        "一是加强组织领导，成立年检工作专班。",
        "二是逐单位上门指导自评。",
    ]
    assert text[text.index("四、下一步打算") + 1] == NOT_WRITTEN  # a neutral line a clerk can replace
    paragraphs = Document(str(out)).paragraphs
    assert paragraphs[
        text.index("四、下一步打算") - 1
    ].paragraph_format.keep_with_next  # 三's end keeps with 四
    # 落款: two empty lines for the stamp, the federation, the date in Chinese.
    assert text[-4:] == ["", "", "原州区总工会", "2026年12月8日"]
    whole = "\n".join(text)
    assert (
        "原州区总工会所属基层工会4个，均纳入2026年度年检，其中已完成组织评定、尚未公示3个，尚未提交自评1个。"
        "年检覆盖率75%，未达到年度目标100%。"
    ) in whole
    assert "已评定3个单位，平均得分80.7分" in whole  # (100 + 87 + 55) / 3 = 80.666…, half up
    assert "五星级名额由市总工会在全市范围内统一核定" in whole and "名额0个" not in whole
    assert "平均得分80.7分。评定结果为五星级1个、四星级1个、一星级1个。" in whole and "三星级" not in whole
    assert "以上星级均为预评结果" in whole
    assert "共有1个单位低于建设标准，按规定须补课" in whole and "该单位待结果确定后开始补课" in whole
    assert "本年度尚未公示年检结果。" in whole
    assert "请通过电话" not in whole and "通知" not in whole  # the internal to-do is the console's
    tables = Document(str(out)).tables
    rubric = [[c.text for c in row.cells] for row in tables[0].rows]
    assert rubric == [
        ["考评标准", "单位数", "平均得分", "最高分", "最低分"],
        ["村（社区）工会", "3", "80.7", "100", "55"],
    ]
    below = [[c.text for c in row.cells] for row in tables[1].rows]
    assert below[1][:2] == ["第3社区工会", "55"]


def test_the_summary_has_gongwen_styles_not_words_blue_headings(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    out = tmp_path / "yz.docx"
    cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(out))
    document = Document(str(out))
    styles = document.styles
    for name, font, size in (
        ("Normal", "Noto Serif CJK SC", 16),
        ("Heading 1", "Noto Sans CJK SC", 16),
        ("Heading 2", "Noto Serif CJK SC", 16),
        ("公文标题", "Noto Serif CJK SC", 22),
    ):
        style = styles[name]
        fonts = style.element.rPr.rFonts
        assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == font, (
            name
        )
        assert not [k for k in fonts.attrib if k.endswith("Theme")], name  # no theme font overrides it
        assert style.font.size == Pt(size) and style.font.color.rgb == RGBColor(0, 0, 0), name
    body = styles["Normal"].paragraph_format
    assert body.line_spacing_rule == WD_LINE_SPACING.EXACTLY and body.line_spacing == Pt(28)
    footer = document.sections[0].footer.paragraphs[0]._p.xml
    assert 'w:instr="PAGE"' in footer  # — 1 — page numbers


def test_the_city_summary_lists_counties_in_official_order(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(out), "--date", "2027-02-20")
    document = Document(str(out))
    text = [p.text for p in document.paragraphs]
    assert text[0] == "固原市总工会\n2026年度基层工会组织年检工作情况总结"
    assert (
        text[2] == "宁夏回族自治区总工会组织部："
    )  # 主送: the region's federation, unless it writes another
    coverage = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert [row[0] for row in coverage[1:]] == [*SHORT, "合计"]
    stars = [[c.text for c in row.cells] for row in document.tables[1].rows]
    assert [row[0] for row in stars[1:]] == SHORT
    assert stars[1] == ["原州区", "3", "1", "1", "0", "0", "1", "80.7"]
    whole = "\n".join(text)
    # 4 rated: floor(20 % × 4) = 0 places, two scores of five stars waiting for the confirmation
    assert "全市评定4个，按比例尚无五星级名额，按得分达到五星级的2个单位待名额确认后确定星级。" in whole
    assert len(document.inline_shapes) == 3  # coverage and stars per county, dimensions
    assert text[-2:] == ["固原市总工会", "2027年2月20日"]


def test_without_a_sort_order_counties_follow_the_order_they_were_added(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user, sort_orders=False)
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(out))
    coverage = [row.cells[0].text for row in Document(str(out)).tables[0].rows]
    assert coverage[1:] == ["原州区", "固原经济技术开发区", "西吉县", "市直基层工会", "合计"]


def test_a_county_quota_scope_states_each_countys_places(
    user: User, db: Session, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(db, user)
    monkeypatch.setenv("FIVE_STAR_QUOTA_SCOPE", "county")
    out = tmp_path / "yz.docx"
    cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(out))
    whole = "\n".join(_paragraphs(out))
    assert "本级评定3个，按比例尚无五星级名额，按得分达到五星级的1个单位待名额确认后确定星级" in whole
    city = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(city))
    header = [c.text for c in Document(str(city)).tables[1].rows[0].cells]
    assert header[-1].replace("\n", "") == "五星级名额"


def test_a_grassroots_union_has_no_summary(user: User, db: Session, cli, tmp_path: Path) -> None:
    _world(db, user)
    refused = cli.refused(
        "report", "county", "--county", "U01", "--year", "2026", "--out", str(tmp_path / "x.docx")
    )
    assert "不是县（区）或开发区总工会" in refused
    assert "没有编号为 NOPE 的单位" in cli.refused(
        "report", "county", "--county", "NOPE", "--year", "2026", "--out", str(tmp_path / "x.docx")
    )


def test_the_city_sees_which_counties_have_not_written_and_a_refused_save_keeps_the_text(
    user: User, db: Session, client
) -> None:
    _world(db, user)
    county = Console(client)
    county.login("yz", "yz-password-12")
    county.get("/console/narratives")
    long = "很" * 2_001
    page = county.post("/console/narratives/2026", {"practices": long, "problems": "台账不全"}, status=400)
    assert "最多 2000 个字" in page and "台账不全" in page  # nothing typed is lost
    county.post("/console/narratives/2026", {"practices": "做法", "problems": "问题", "plans": "打算"})
    county.client.post("/console/logout", data={"csrf_token": county.token})
    city = Console(client)
    city.login("city", "city-password-1")
    page = city.get("/console/narratives")
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td>(.*?)</td>", page, re.S)
    status = {name: re.sub(r"<[^>]+>", "", cell) for name, cell in rows}
    assert status["原州区总工会"] == "已填写"
    assert status["西吉县总工会"] == "二、主要做法、三、存在问题、四、下一步打算"
    assert list(status) == ["原州区总工会", "西吉县总工会", "固原经济技术开发区总工会"]
    db.expire_all()
    saved = db.scalar(select(ReportNarrative))
    assert saved is not None and saved.practices == "做法" and saved.updated_by == "console:yz"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "report_narrative_saved"))
    assert entry is not None and entry.actor == "console:yz"


def test_the_score_sheet_is_titled_and_shows_dashes_and_the_assessed_score(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    out = tmp_path / "u02.xlsx"
    cli("export", "sheet", "--org", "U02", "--year", "2026", "--out", str(out))
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "年检考评表" and sheet["A2"].value == "村（社区）工会年检考评标准"
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "百分制得分：自评 100 分；考评 87 分" in texts
    assert not [t for t in texts if t.startswith("综合得分")]  # DEMOCRATIC_WEIGHT is 0
    untouched = tmp_path / "u04.xlsx"
    cli("export", "sheet", "--org", "U04", "--year", "2026", "--out", str(untouched))
    sheet = load_workbook(untouched).active
    items = list(sheet.iter_rows(min_row=5, max_row=4 + VILLAGE.item_count, values_only=True))
    assert {(r[4], r[5]) for r in items} == {("—", "—")}  # not answered: a dash, never 0
    total = [c.value for c in sheet[5 + VILLAGE.item_count]]
    assert total[0] == "合计" and total[4:] == ["—", "—"]
    assert any("自评 —；考评 —" in str(c.value) for row in sheet.iter_rows() for c in row)


def test_a_blended_score_has_its_own_line(
    user: User, db: Session, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(db, user)
    with db.begin():  # arrange: U02 (assessed 87) blended with a democratic score of 70 at weight 0.2
        db.execute(
            update(Inspection)
            .where(
                Inspection.organisation_id
                == select(Organisation.id).where(Organisation.code == "U02").scalar_subquery()
            )
            .values(score=Decimal("83.6"), democratic_score=Decimal("70"))
        )
    monkeypatch.setenv("DEMOCRATIC_WEIGHT", "0.2")
    out = tmp_path / "u02.xlsx"
    cli("export", "sheet", "--org", "U02", "--year", "2026", "--out", str(out))
    texts = [
        str(c.value) for row in load_workbook(out).active.iter_rows() for c in row if c.value is not None
    ]
    assert any(t.startswith("百分制得分：自评 100 分；考评 87 分") for t in texts)
    assert "综合得分：83.6 分（考评得分占 80%、民主测评得分 70 分占 20%；星级按综合得分确定）" in texts


def test_the_results_workbook_has_a_title_numbers_and_chinese_labels(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    out = tmp_path / "results.xlsx"
    assert "共 4 个单位" in cli("export", "results", "--year", "2026", "--scope", "YZ", "--out", str(out))
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "2026年度基层工会组织年检结果（原州区总工会）"
    header = [c.value for c in sheet[2]]
    assert header[:4] == ["单位编号", "单位名称", "考评标准", "状态"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert list(rows) == ["U01", "U02", "U03", "U04"]
    assert rows["U02"]["考评得分"] == 87 and isinstance(rows["U02"]["自评得分"], int)  # numbers, not text
    assert rows["U01"]["考评标准"] == "村（社区）工会"
    assert rows["U01"]["标记"].startswith("预评") and "provisional" not in str(rows.values())
    assert rows["U03"]["标记"] == "预评、未达标须补课"  # the words of the CLI and the console
    assert rows["U04"]["考评得分"] is None
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref == "A2:L6"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$1:$2"
    # the three disqualifications in one column, filled where the result is below the standard
    assert [h for h in header if "取消" in h] == ["取消的指标"]
    assert rows["U03"]["取消的指标"] == "经费支持、职工帮扶、评先选优" and rows["U02"]["取消的指标"] is None


def test_the_results_workbook_lists_the_unions_in_the_official_county_order(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)  # codes sort KFQ, XJ, YZ; the official order is 原州区 (YZ), 西吉县 (XJ), 开发区
    with db.begin():
        chair = organisations.create_invitation(db, "C01", "chair").code
        kfq = organisations.create_invitation(db, "K01", "chair").code
    for name, code in (("c1", chair), ("k1", kfq)):  # a city-direct union, one of the zone's
        user(name).say(f"绑定 {code}")
        user(name).say("自评")
    out = tmp_path / "results.xlsx"
    assert "共 7 个单位" in cli("export", "results", "--year", "2026", "--out", str(out))
    listed = [row[0] for row in load_workbook(out).active.iter_rows(min_row=3, values_only=True)]
    assert listed == ["U01", "U02", "U03", "U04", "X01", "K01", "C01"]


def _printed_size(sheet: Worksheet, paper_width_mm: float) -> float:
    """The smallest font (pt) a sheet prints at: its cells' size times the fit-to-width scale."""
    columns = [sheet.column_dimensions[get_column_letter(c)].width for c in range(1, sheet.max_column + 1)]
    table_mm = sum(w * 7 + 5 for w in columns) * 25.4 / 96  # a width unit is 7 px, a cell adds 5
    margins = sheet.page_margins.left + sheet.page_margins.right
    scale = min(1.0, (paper_width_mm - margins * 25.4) / table_mm)
    sizes = [c.font.sz for row in sheet.iter_rows(min_row=4) for c in row if c.value is not None]
    return min(sizes) * scale


def test_the_results_and_the_score_sheet_print_at_nine_points_or_more(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    results, sheet = tmp_path / "results.xlsx", tmp_path / "u02.xlsx"
    cli("export", "results", "--year", "2026", "--out", str(results))
    cli("export", "sheet", "--org", "U02", "--year", "2026", "--out", str(sheet))
    book = load_workbook(results).active
    assert int(book.page_setup.paperSize) == 9 and book.page_setup.orientation == "landscape"
    assert _printed_size(book, 297) >= 9
    form = load_workbook(sheet).active
    assert int(form.page_setup.paperSize) == 9 and form.page_setup.orientation == "portrait"
    assert _printed_size(form, 210) >= 9


def test_printed_items_have_full_width_punctuation_and_the_sheets_stay_verbatim(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    out = tmp_path / "u02.xlsx"
    cli("export", "sheet", "--org", "U02", "--year", "2026", "--out", str(out))
    sheet = load_workbook(out).active
    items = [r[2] for r in sheet.iter_rows(min_row=5, max_row=4 + VILLAGE.item_count, values_only=True)]
    assert items == [printed(item.shown_text) for item in VILLAGE.items]
    assert not [t for t in items if re.search(r"[,()]", t)]
    assert "村（社区）工会主席" in items[2] and "村(社区)工会主席" in VILLAGE.items[2].text  # verbatim
    assert printed("届,按规定(试行);见:附件") == "届，按规定（试行）；见：附件"
    assert printed("1,000 人 http://x.cn") == "1,000 人 http://x.cn"  # no Chinese beside: unchanged


def test_the_score_sheet_gives_the_rescale_only_when_the_full_mark_is_not_100(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    hundred, agency = tmp_path / "u02.xlsx", tmp_path / "c01.xlsx"
    cli("export", "sheet", "--org", "U02", "--year", "2026", "--out", str(hundred))
    cli("export", "sheet", "--org", "C01", "--year", "2026", "--out", str(agency))
    texts = [str(c.value) for row in load_workbook(hundred).active.iter_rows() for c in row if c.value]
    assert "百分制得分：自评 100 分；考评 87 分" in texts and not [t for t in texts if "÷" in t]
    texts = [str(c.value) for row in load_workbook(agency).active.iter_rows() for c in row if c.value]
    assert "百分制得分：自评 —；考评 —（原始得分 ÷ 102 × 100，保留一位小数）" in texts  # 机关工会: 102 points


def test_the_city_summary_sets_names_on_one_line_in_tables_of_nine_points_or_more(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(out))
    document = Document(str(out))
    assert document.styles["公文表格文字"].font.size >= Pt(9)
    longest = max(SHORT, key=len)
    for table in document.tables[:2]:
        names = [row.cells[0].text for row in table.rows]
        assert longest in names
        width_cm = table.columns[0].width / 360_000  # EMU
        assert width_cm >= len(longest) * 10.5 * 2.54 / 72 + 0.3, width_cm  # the name and the cell margins
        assert sum(c.width for c in table.columns) / 360_000 <= 15.6 + 0.01  # within the type area


def test_numbers_are_rounded_half_up_to_one_decimal() -> None:
    assert one_decimal(Decimal(242) / 3) == "80.7"
    assert one_decimal(Decimal("83.8333333333333333333333333")) == "83.8"
    assert one_decimal(Decimal("83.85")) == "83.9" and one_decimal(Decimal("90.0")) == "90"


@pytest.mark.parametrize(
    "names",
    [
        OFFICIAL[:2] + ["隆德县总工会", "泾源县总工会", "彭阳县总工会"] + OFFICIAL[2:],
        [f"第{n}县（区）总工会" for n in range(40)],
    ],
)
def test_chart_labels_never_overlap(names: list[str]) -> None:
    stars = charts.star_figure(names, [[1, 2, 3, 4, 5]] * len(names), "各县（区）星级分布")
    assert charts.overlapping_labels(stars) == []
    cover = charts.coverage_figure(names, [0.5] * len(names), 0.7, "各县（区）年检覆盖率")
    assert charts.overlapping_labels(cover) == []
    label = stars.axes[0].get_xticklabels()[0].get_text()
    assert "总工会" not in label  # each bar's name without the suffix every bar would repeat
    for figure in (stars, cover):  # a label is drawn whole, never broken mid-word (固原经济/技术开发/区)
        shown = [t.get_text() for t in figure.axes[0].get_xticklabels()]
        assert shown == [n.removesuffix("总工会") for n in names]


def test_the_city_tables_break_headers_between_words_only(
    user: User, db: Session, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIVE_STAR_QUOTA_SCOPE", "county")  # the widest table: a column more
    _world(db, user)
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(out))
    table = Document(str(out)).tables[1]
    header = [c.text for c in table.rows[0].cells]
    assert header == [
        "单位",
        "已评定",
        "五星级",
        "四星级",
        "三星级",
        "二星级",
        "一星级",
        "平均\n得分",
        "五星级\n名额",
    ]
    for text, column in zip(header, table.columns, strict=True):
        line_cm = max(len(line) for line in text.split("\n")) * 10.5 * 2.54 / 72
        assert column.width / 360_000 >= line_cm + 0.38, text  # each line whole, within the cell margins


def _soffice_or_skip() -> None:
    if shutil.which("soffice") or shutil.which("libreoffice"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("LibreOffice (soffice) must be installed under CI=true")
    pytest.skip("LibreOffice (soffice) not installed")


def test_a_pdf_beside_the_docx_and_the_xlsx(user: User, db: Session, cli, tmp_path: Path) -> None:
    _soffice_or_skip()
    _world(db, user)
    report = tmp_path / "原州区总结.docx"
    out = cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(report), "--pdf")
    assert f"已生成 {tmp_path / '原州区总结.pdf'}" in out
    sheet = tmp_path / "u01.xlsx"
    cli("export", "sheet", "--org", "U01", "--year", "2026", "--out", str(sheet), "--pdf")
    results = tmp_path / "results.xlsx"
    cli("export", "results", "--year", "2026", "--out", str(results), "--pdf")
    for pdf in (tmp_path / "原州区总结.pdf", tmp_path / "u01.pdf", tmp_path / "results.pdf"):
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 10_000
    # Readable on paper: the results' twelve columns on A4 landscape, not fitted down below 9 pt.
    assert _smallest_printed_points(tmp_path / "results.pdf") >= 9
    assert b"/Count 1" not in (tmp_path / "原州区总结.pdf").read_bytes()  # the summary runs to several pages


def _pdf_pages(pdf: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext), spaces removed (it spaces digits from Chinese)."""
    _pdftotext_or_skip()
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return [page.replace(" ", "") for page in out.stdout.split("\f") if page.strip()]


def _pdftotext_or_skip() -> None:
    if shutil.which("pdftotext"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("poppler-utils (pdftotext) must be installed under CI=true")
    pytest.skip("poppler-utils (pdftotext) not installed")


#: The height pdftotext gives a line of the Noto CJK fonts (LibreOffice's stand-in for 宋体/仿宋) per
#: point of font size: measured on the county summary's PDF, 20.7 for its 16 pt body, 13.6 for 10.5 pt.
NOTO_LINE_PER_POINT = 1.295
WORD_BOX = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">')


def _smallest_printed_points(pdf: Path) -> float:
    """The smallest font size (pt) a PDF prints its words at, read back from the rendered page."""
    _pdftotext_or_skip()
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True)
    heights = [float(bottom) - float(top) for top, bottom in WORD_BOX.findall(out.stdout)]
    assert heights, "no text in the PDF"
    return min(heights) / NOTO_LINE_PER_POINT


def test_the_city_summarys_last_page_holds_more_than_section_four_and_the_signature(
    db: Session, cli, tmp_path: Path
) -> None:
    """The demo city's summary (nothing rated yet, nothing written) once ended on a page holding 四 and
    the signature alone."""
    _soffice_or_skip()
    cli("demo")
    year = db.scalar(select(Campaign.year))
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", str(year), "--out", str(out), "--date", "2027-02-20", "--pdf")
    pages = _pdf_pages(out.with_suffix(".pdf"))
    assert "宁夏回族自治区总工会组织部：" in pages[0]  # 主送
    assert "固原经济技术开发区" in pages[0]  # the coverage table's name on one line
    assert "四、下一步打算" in pages[-1] and "2027年2月20日" in pages[-1]
    assert "三、存在问题" in pages[-1], pages[-1]  # not 四 and the signature alone


def test_a_county_with_one_result_keeps_its_chart_on_page_one_and_ends_on_page_two(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    """The walk's county summary once left page 1 half empty (the chart moved on) and ended on a page
    holding only 三, 四 and the signature."""
    _soffice_or_skip()
    _published(user, db, cli, {1: 98})
    out = tmp_path / "yz.docx"
    cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(out), "--pdf")
    pages = _pdf_pages(out.with_suffix(".pdf"))
    assert len(pages) == 2, pages
    assert (
        "（三）未达标单位及补课情况" in pages[1]
        and "二、主要做法" in pages[1]
        and "四、下一步打算" in pages[1]
    )


def test_the_score_sheet_keeps_its_last_rows_with_the_signatures_and_shows_the_re_review(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _soffice_or_skip()
    evaluator = _published(user, db, cli, {1: 98})
    user("member1").say("异议 日常工作制度未成文")
    evaluator.say("复查 U01")
    for no in range(1, VILLAGE.item_count + 1):
        evaluator.say("0 经核实日常工作制度未成文" if no == 12 else "同")
    assert "复查评定已提交" in evaluator.say("提交")
    out = tmp_path / "u01.xlsx"
    cli("export", "sheet", "--org", "U01", "--year", "2026", "--out", str(out), "--pdf")
    texts = [str(c.value) for row in load_workbook(out).active.iter_rows() for c in row if c.value]
    changes = [t for t in texts if t.startswith("第1次复查改分")]
    assert len(changes) == 1 and re.fullmatch(
        r"第1次复查改分：第\d+项 \d+ 分 → 0 分，原因：经核实日常工作制度未成文", changes[0]
    )
    pages = _pdf_pages(out.with_suffix(".pdf"))
    assert _smallest_printed_points(out.with_suffix(".pdf")) >= 9  # as printed, not as the xlsx says
    assert len(pages) == 2 and "合计" not in pages[0]
    last_item = printed(VILLAGE.items[-1].shown_text)[:10]
    assert (
        last_item in pages[1] and "合计" in pages[1] and "考评人（签字）" in pages[1]
    )  # rows, scores, stamps
    assert "第1次复查改分" in pages[1]


def test_without_libreoffice_the_xlsx_is_written_and_the_pdf_refused_in_chinese(
    user: User, db: Session, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(db, user)
    monkeypatch.setenv("SOFFICE", str(tmp_path / "no-such-soffice"))
    out = tmp_path / "results.xlsx"
    result = CliRunner().invoke(main, ["export", "results", "--year", "2026", "--out", str(out), "--pdf"])
    assert result.exit_code != 0
    assert "未找到 LibreOffice，未生成 PDF" in result.output and "results.xlsx 已生成" in result.output
    assert out.exists() and not out.with_suffix(".pdf").exists()


# ---------------------------------------------------------------- 一、基本情况 over every state

ZERO = re.compile(r"(?<![\d.])0(?:个|件)")


def _well_formed(text: str) -> None:
    assert text.endswith("。") and not ZERO.search(text), text
    assert not re.search(r"[，；。]{2}|^[，。]|其中。|均。", text), text


def _stated(text: str, label: str, whole: int) -> int:
    """The count ``text`` gives ``label``: its number, the whole for "均label" (or a bare label)."""
    found = re.findall(re.escape(label) + r"(\d+)个", text)
    if found:
        return int(found[0])
    return whole if label in text else 0


@pytest.mark.parametrize("unions_extra", [0, 1])
def test_the_coverage_paragraph_is_true_for_every_combination_of_stages(unions_extra: int) -> None:
    for counts in product(range(3), repeat=len(sentences.STAGES)):
        stages = dict(zip((key for key, _label in sentences.STAGES), counts, strict=True))
        in_scope = sum(counts)
        progress = sentences.Progress(unions=in_scope + unions_extra, **stages)
        text = sentences.coverage_paragraph("原州区总工会所属", 2026, progress, Decimal("0.5"), Decimal("0.5"),
                                            Decimal("0.3"))  # fmt: skip
        _well_formed(text)
        if not progress.unions:
            assert "无年检对象" in text
            continue
        assert f"所属基层工会{progress.unions}个" in text
        if not in_scope:
            assert "尚未纳入年检" in text
            continue
        assert (f"纳入2026年度年检{in_scope}个" in text) == bool(unions_extra)
        for key, label in sentences.STAGES:
            assert _stated(text, label, in_scope) == stages[key], (text, key)
        assert ("均" in text) == (progress.unions > 1 and (not unions_extra or max(counts) == in_scope > 1))
    assert "年检覆盖率50%，达到年度目标30%" in text


def test_the_coverage_paragraph_tells_this_years_share_from_the_cumulative_one() -> None:
    progress = sentences.Progress(10, 0, 0, 0, 0, 0, 3)
    same = sentences.coverage_paragraph(
        "全市共有", 2025, progress, Decimal("0.3"), Decimal("0.3"), Decimal("1")
    )
    assert (
        same
        == "全市共有基层工会10个，纳入2025年度年检3个，均已公示期满、确定星级。年检覆盖率30%，未达到年度目标100%。"
    )
    more = sentences.coverage_paragraph(
        "全市共有", 2025, progress, Decimal("0.3"), Decimal("0.8"), Decimal("0.7")
    )
    assert "本年度已评定单位占30%" in more and "累计年检覆盖率80%，达到年度目标70%" in more


def test_the_objections_sentence_never_says_republished_for_a_waiting_objection() -> None:
    for published, objections, units, waiting in product(range(3), range(4), range(3), range(3)):
        if (objections == 0) != (units == 0) or units > objections or waiting > units or units > published:
            continue  # not a state: every objection is against one published result
        text = sentences.objections_sentence(published, objections, units, waiting)
        _well_formed(text)
        if not objections:
            assert text == ("公示期间未收到异议。" if published else "本年度尚未公示年检结果。")
            continue
        assert f"收到异议{objections}件，涉及{units}个单位" in text
        assert _stated(text, "复查尚未完成", units) == waiting
        assert _stated(text, "已复查评定并再次公示", units) == units - waiting
    assert sentences.objections_sentence(1, 1, 1, 1) == "公示期间收到异议1件，涉及1个单位，复查尚未完成。"


def test_the_below_standard_sentence_says_where_each_remediation_stands() -> None:
    fields = ("passed", "reported", "open", "overdue", "waiting")
    labels = ("已补课并验收通过", "已报告补课完成、待验收", "正在补课", "补课已逾期", "待结果确定后开始补课")
    for counts in product(range(3), repeat=len(fields)):
        remedies = sentences.Remedies(**dict(zip(fields, counts, strict=True)))
        text = sentences.below_sentence(remedies)
        _well_formed(text)
        if not remedies.total:
            assert text == "本年度无低于建设标准的单位。"
            continue
        assert text.startswith(f"共有{remedies.total}个单位低于建设标准，按规定须补课")
        assert [_stated(text, label, remedies.total) for label in labels] == list(counts)


def test_the_rated_and_quota_sentences_leave_out_empty_levels_and_never_name_zero_places() -> None:
    levels = ["五星级", "四星级", "三星级", "二星级", "一星级"]
    for counts in product(range(3), repeat=5):
        rated = sum(counts)
        if not rated:
            continue
        text = sentences.rated_sentence("全市", rated, "80.7", list(zip(levels, counts, strict=True)))
        _well_formed(text)
        for label, n in zip(levels, counts, strict=True):
            assert _stated(text, label, rated) == n, text
        # The score's clause names no star level: the stars follow as what the unions were rated.
        scored, stars = re.split(r"分[，。]", text, maxsplit=1)
        assert scored == f"全市已评定{rated}个单位，" + ("得分80.7" if rated == 1 else "平均得分80.7")
        assert not any(level in scored for level in levels)
        assert stars.startswith(
            "评为" if rated == 1 else ("均评为" if max(counts) == rated else "评定结果为")
        )
    for rated, places, five, confirmed in product(range(6), range(2), range(3), (False, True)):
        if not rated or places > rated or (confirmed and five > places) or five > rated:
            continue
        text = sentences.quota_sentence(sentences.Quota("全市", 20, rated, places, five, confirmed))
        _well_formed(text)
        assert ("名额已确认" in text) == confirmed and (f"名额{places}个" in text) == bool(places)
        stated = f"评为五星级{five}个" if confirmed else f"按得分达到五星级的{five}个单位"
        assert (stated in text) == bool(five), text


def test_the_county_summary_follows_an_objection_from_waiting_to_republished(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    evaluator = _published(user, db, cli, {1: 92, 2: 85})
    assert "异议已收到" in user("member1").say("异议 第1项换届情况与实际不符")
    out = tmp_path / "yz.docx"

    def summary() -> str:
        cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(out))
        return "\n".join(_paragraphs(out))

    waiting = summary()
    assert "均纳入2026年度年检，其中正在公示1个，公示期间有异议、正在复查1个。" in waiting
    assert "公示期间收到异议1件，涉及1个单位，复查尚未完成。" in waiting and "再次公示" not in waiting
    evaluator.say("复查 U01")
    for _ in range(VILLAGE.item_count):
        evaluator.say("同")
    assert "复查评定已提交" in evaluator.say("提交")
    republished = summary()
    assert "均纳入2026年度年检，均正在公示。" in republished
    assert "公示期间收到异议1件，涉及1个单位，已复查评定并再次公示。" in republished
    cli("tick", "--now", (datetime.now(UTC) + timedelta(days=30)).isoformat())
    assert "均纳入2026年度年检，均已公示期满、确定星级。" in summary()


def test_the_score_sheets_rows_are_as_tall_as_the_lines_they_print(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    out = tmp_path / "u02.xlsx"
    cli("export", "sheet", "--org", "U02", "--year", "2026", "--out", str(out))
    sheet = load_workbook(out).active
    rows = range(5, 5 + VILLAGE.item_count)
    heights = {n: sheet.row_dimensions[n].height for n in rows}
    one_line = min(heights.values())
    assert set(heights.values()) <= {one_line + 15.5 * extra for extra in range(3)}  # whole lines
    for n in rows:
        text = sheet.cell(row=n, column=3).value
        if len(text) <= 28:  # 28 Chinese characters print on one line of the 基本要求 column
            assert heights[n] == one_line, text


def test_every_row_of_a_long_below_standard_table_keeps_the_first_rows_style_widths_and_text(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    """The rows after the first are copies of its XML (a city's thousands of rows in a second): each keeps
    the table style, the widths, the unsplittable row and its own text; only the header repeats."""
    codes = setup_county(db, 4)
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n, score in ((1, 40), (2, 100), (3, 55), (4, 59)):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        rate(evaluator, f"U0{n}", score)
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(out))
    table = next(t for t in Document(str(out)).tables if t.rows[0].cells[0].text == "所属单位")
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["所属单位", "单位名称", "得分", "补课情况"],
        ["原州区总工会", "第1社区工会", "40", "待补课"],
        ["原州区总工会", "第3社区工会", "55", "待补课"],
        ["原州区总工会", "第4社区工会", "59", "待补课"],
    ]
    widths = [column.width for column in table.columns]
    for index, row in enumerate(table.rows):
        properties = row._tr.trPr
        assert properties is not None and properties.find(qn("w:cantSplit")) is not None, index
        assert (properties.find(qn("w:tblHeader")) is not None) == (index == 0), index  # the header repeats
        assert [cell.width for cell in row.cells] == widths, index
        for cell in row.cells:
            (paragraph,) = cell.paragraphs
            assert paragraph.style is not None and paragraph.style.name == "公文表格文字", index
            assert [run.bold for run in paragraph.runs] == [True if index == 0 else None], index


def _row_keeps(row: Any) -> tuple[bool, bool, bool]:
    """A docx table row's (repeated as a header, never split, every paragraph kept with the next)."""
    properties = row._tr.trPr
    header = properties is not None and properties.find(qn("w:tblHeader")) is not None
    whole = properties is not None and properties.find(qn("w:cantSplit")) is not None
    kept = all(p.paragraph_format.keep_with_next for cell in row.cells for p in cell.paragraphs)
    return header, whole, kept


def test_the_summarys_tables_keep_a_countys_rows_on_one_page_and_repeat_their_header(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    _world(db, user)
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(out))
    document = Document(str(out))
    captions = [p for p in document.paragraphs if p.style.name == gongwen.CAPTION_STYLE]
    assert captions and all(p.paragraph_format.keep_with_next for p in captions)
    for table in document.tables:
        keeps = [_row_keeps(row) for row in table.rows]
        assert keeps[0][0] and all(whole for _, whole, _ in keeps), table.rows[0].cells[0].text
        assert not any(header for header, _, _ in keeps[1:])
    below = next(
        t for t in document.tables if [c.text for c in t.rows[0].cells][:2] == ["所属单位", "单位名称"]
    )
    assert below.rows[1].cells[0].text == "原州区总工会"  # 55 points: the one result below the standard
    assert [kept for _, _, kept in map(_row_keeps, below.rows)] == [True, False]


def test_a_group_of_rows_keeps_together_unless_longer_than_a_page() -> None:
    document = gongwen.new_document()
    rows = [(f"县{g}", f"单位{n}") for g, size in enumerate((2, 3, 25)) for n in range(size)]
    table = gongwen.table(document, ("所属单位", "单位名称"), rows, groups=[2, 3, 25])
    kept = [all(p.paragraph_format.keep_with_next for c in r.cells for p in c.paragraphs) for r in table.rows]
    assert kept[:6] == [True, True, False, True, True, False]  # the header with the first row
    assert not any(kept[6:])  # 25 rows could not be kept on a page: they flow on

"""Administration: coverage, sampling and the city's re-check, exports, imports at scale."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.cli import main
from chatbot.documents.imports import mask_phone
from chatbot.documents.labels import printed
from chatbot.inspection import campaigns, organisations
from chatbot.store.models import AuditEntry, Inspection, Member, Organisation, SampledInspection
from chatbot.wechat.simulator import Simulator
from tests.conftest import Backend
from tests.helpers import VILLAGE, assess, self_check, setup_county

User = Callable[..., Simulator]


def _county_campaign(db: Session, user: User) -> dict[str, str]:
    """Two counties: YZ with four unions at different stages, XJ with two; a city evaluator."""
    codes = setup_county(db, 4)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("X01", "西吉一社区工会", "village", "XJ"))
        organisations.add_org(db, organisations.OrgRow("X02", "西吉二社区工会", "village", "XJ"))
        organisations.add_org(db, organisations.OrgRow("C01", "市直机关工会", "agency", "GY"))
        codes["xj_evaluator"] = organisations.create_invitation(db, "XJ", "evaluator").code
        codes["city_evaluator"] = organisations.create_invitation(db, "GY", "evaluator").code
        codes["x1"] = organisations.create_invitation(db, "X01", "chair").code
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n in (1, 2, 3):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
    for n in (1, 2):
        assess(evaluator, f"U0{n}", {5: "3"} if n == 2 else {})
    xj = user("xj-evaluator")
    xj.say(f"绑定 {codes['xj_evaluator']}")
    self_check(user("x1"), codes["x1"])
    assess(xj, "X01", {1: "0"})
    return codes


def test_coverage_per_county_with_a_total(user: User, db: Session, cli) -> None:
    _county_campaign(db, user)
    cli("campaign", "open", "2026", "--target", "0.5")
    out = cli("coverage", "--year", "2026", "--csv").splitlines()
    rows = {line.split(",")[0] or "total": line.split(",") for line in out[1:]}
    assert out[0] == (
        "code,name,unions,in_scope,submitted,assessed,rated,published,final,share,ever_rated,cumulative,"
        "target,on_target,remediation_open,remediation_overdue,plan_target,on_plan"
    )
    assert rows["YZ"][2:-2] == ["4", "4", "3", "2", "2", "0", "0", "50%", "2", "50%", "50%", "是", "0", "0"]
    assert rows["XJ"][2:-2] == ["2", "2", "1", "1", "1", "0", "0", "50%", "1", "50%", "50%", "是", "0", "0"]
    assert rows["YZ"][-2:] == ["", ""]  # no plan of its own recorded
    assert rows["GY"][1] == "市直基层工会" and rows["GY"][2:8] == ["1", "1", "0", "0", "0", "0"]
    assert rows["total"][1:9] == ["合计", "7", "7", "4", "3", "3", "0", "0"]
    evaluator_progress = user("evaluator").say("进度")
    assert (
        "原州区总工会 本年度已评定 2/4（50%）；历年累计评定过的单位占 50%，年度目标 50%（按历年累计计算）"
        in evaluator_progress
    )
    assert (
        "下级单位 4 个" in evaluator_progress
        and "· U02 第2社区工会：已评定（自评合计 100 分，考评合计 99 分）" in evaluator_progress
    )
    assert "· U04 第4社区工会：未开始" in evaluator_progress and "未开始（" not in evaluator_progress


def test_the_same_seed_draws_the_same_sample(user: User, db: Session, cli) -> None:
    _county_campaign(db, user)
    first = cli("sample", "--year", "2026", "--share", "0.67", "--seed", "11")
    again = cli("sample", "--year", "2026", "--share", "0.67", "--seed", "11")
    assert "随机种子 11" in first and "从 3 个已评定单位中抽取 2 个" in first
    assert first.splitlines()[1:] == again.splitlines()[1:]
    draws = {
        tuple(cli("sample", "--year", "2026", "--share", "0.34", "--seed", str(seed)).splitlines()[1:])
        for seed in range(12)
    }
    assert len(draws) > 1  # other seeds draw other unions
    spread = first.splitlines()[1:3]
    assert any(line.strip().startswith("YZ：") for line in spread) and any(
        line.strip().startswith("XJ：") for line in spread
    )


def test_a_city_evaluator_re_checks_a_sampled_inspection(user: User, db: Session, cli) -> None:
    codes = _county_campaign(db, user)
    cli("sample", "--year", "2026", "--share", "1", "--seed", "3")
    assert "抽查由市总工会考评员办理" in user("evaluator").say("抽查 U01")
    city = user("city")
    city.say(f"绑定 {codes['city_evaluator']}")
    first = city.say("抽查 U01")
    assert (
        "抽查评定" in first and "【1/30】" in first and "县级考评 5 分" in first
    )  # the county's score as reference
    for no in range(1, VILLAGE.item_count + 1):
        city.say({1: "0", 2: "0", 5: "0", 6: "0", 10: "0", 11: "0"}.get(no, "同"))
    done = city.say("提交")
    # U01's 100 is five stars by score, provisional (the city's scope is not complete); the city finds 76.
    assert "县级考评 100 分（五星级），市级抽查 76 分（三星级），相差 -24 分" in done and "已记录审计" in done
    db.expire_all()
    entry = db.scalar(
        select(SampledInspection).join(Inspection).join(Organisation).where(Organisation.code == "U01")
    )
    assert entry is not None and entry.city_stars == 3 and entry.checked_at is not None
    change = db.scalar(select(AuditEntry).where(AuditEntry.action == "sample_stars_changed"))
    assert change is not None and "市总工会抽查" in (change.reason or "")
    assert "已抽查完毕" in city.say("抽查 U01")


def test_the_score_sheet_reopens_with_the_seeds_table(user: User, db: Session, cli, tmp_path: Path) -> None:
    _county_campaign(db, user)
    out = tmp_path / "sheet.xlsx"
    cli("export", "sheet", "--org", "U02", "--year", "2026", "--out", str(out))
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "年检考评表" and sheet["A2"].value == "村（社区）工会年检考评标准"
    assert "第2社区工会" in sheet["A3"].value
    assert [c.value for c in sheet[4]] == ["内容", "子项", "基本要求", "分值", "自评得分", "考评得分"]
    items = [row for row in sheet.iter_rows(min_row=5, max_row=4 + VILLAGE.item_count, values_only=True)]
    assert [(r[1], r[3]) for r in items] == [(i.no, i.points) for i in VILLAGE.items]
    assert [r[2] for r in items] == [printed(i.text) for i in VILLAGE.items]  # full-width punctuation
    merged = {str(r) for r in sheet.merged_cells.ranges}
    row = 5
    for dimension in VILLAGE.dimensions:
        count = len(VILLAGE.items_of(dimension))
        assert f"A{row}:A{row + count - 1}" in merged and sheet[f"A{row}"].value == dimension
        row += count
    total = [c.value for c in sheet[row]]
    assert total[0] == "合计" and total[3:] == [100, 100, 99]  # item 5 assessed 3 of 4
    db.expire_all()
    u02 = db.scalar(select(Inspection).join(Organisation).where(Organisation.code == "U02"))
    assert u02 is not None and float(u02.raw_total or 0) == total[5]
    assert sheet.print_title_rows == "$4:$4" and int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    texts = " ".join(str(c.value) for r in sheet.iter_rows(min_row=row + 1) for c in r if c.value)
    assert "百分制得分" in texts and "星级" in texts and "民主测评" in texts and "（盖章）" in texts


def test_the_results_workbook(user: User, db: Session, cli, tmp_path: Path) -> None:
    _county_campaign(db, user)
    out = tmp_path / "results.xlsx"
    cli("export", "results", "--year", "2026", "--scope", "YZ", "--out", str(out))
    sheet = load_workbook(out).active
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref  # a title row, then the header
    header = [c.value for c in sheet[2]]
    assert header[:2] == ["单位编号", "单位名称"] and "考评得分" in header
    assert [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)] == ["U01", "U02", "U03", "U04"]


def _org_file(path: Path, count: int, bad_line: int | None = None) -> Path:
    lines = ["code,name,rubric,parent,members", "CITY,市总工会,,,", "CTY,某县总工会,,CITY,"]
    for n in range(count):
        lines.append(f"G{n:05d},第{n}基层工会,{'village' if n % 2 else 'non_public'},CTY,{n % 90}")
    if bad_line is not None:
        lines[bad_line - 1] = "G99999,坏行,no_such_rubric,CTY,3"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ten_thousand_organisations_import_and_a_bad_row_imports_nothing(
    backend: Backend, db: Session, cli, tmp_path: Path
) -> None:
    with db.begin():
        campaigns.open_year(db, 2026)
    runner = CliRunner()
    bad = _org_file(tmp_path / "bad.csv", 10_000, bad_line=5000)
    result = runner.invoke(main, ["org", "import", str(bad)])
    assert result.exit_code != 0 and "第 5000 行：没有考评标准“no_such_rubric”" in result.output
    assert "有 1 行有误，未导入任何内容" in result.output
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Organisation)) == 0
    started = time.perf_counter()
    out = cli("org", "import", str(_org_file(tmp_path / "good.csv", 10_000)))
    elapsed = time.perf_counter() - started
    assert "已导入 10002 个组织" in out
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Organisation)) == 10_002
    assert db.scalar(select(func.count()).select_from(Inspection)) == 10_000  # the open campaign took them in
    assert elapsed > 0


def test_members_import_with_masked_phones(db: Session, cli, tmp_path: Path) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "市总工会"))
        organisations.add_org(db, organisations.OrgRow("U1", "一号工会", "village", "GY"))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,phone,organisation\n张三,13812345678,U1\n李四,12345,U1\n王五,13912345678,NOPE\n", "utf-8"
    )
    result = CliRunner().invoke(main, ["member", "import", str(bad)])
    assert result.exit_code != 0 and "有 2 行有误，未导入任何内容" in result.output
    assert "第 3 行：电话 **** 不是有效的手机或固定电话号码" in result.output  # masked in reports too
    assert "第 4 行：组织 NOPE 不存在" in result.output
    good = tmp_path / "good.csv"
    good.write_text("name,phone,organisation\n张三,13812345678,U1\n李四,0954-7283956,U1\n", "utf-8")
    assert "已导入 2 名会员" in cli("member", "import", str(good))
    listing = cli("member", "list", "--org", "U1")
    assert "138****5678" in listing and "13812345678" not in listing
    assert db.scalar(select(func.count()).select_from(Member)) == 2
    assert mask_phone("09547283956") == "095****3956"


def test_large_member_file_is_refused_whole(db: Session, cli, tmp_path: Path) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "市总工会"))
        organisations.add_org(db, organisations.OrgRow("U1", "一号工会", "village", "GY"))
    rows = ["name,phone,organisation"] + [f"会员{n},13{n % 10}{n:08d},U1" for n in range(20_000)]
    rows[12_345] = "会员X,not-a-phone,U1"
    path = tmp_path / "members.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["member", "import", str(path)])
    assert result.exit_code != 0 and "第 12346 行：" in result.output
    assert db.scalar(select(func.count()).select_from(Member)) == 0


@pytest.mark.parametrize("phone", ["13812345678", "0954-7283956", "09547283956"])
def test_phones_accepted(phone: str, db: Session, cli, tmp_path: Path) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "市总工会"))
    path = tmp_path / "m.csv"
    path.write_text(f"name,phone,organisation\n张三,{phone},GY\n", "utf-8")
    assert "已导入 1 名会员" in cli("member", "import", str(path))


def test_county_and_city_summaries_hold_tables_and_charts(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    from docx import Document

    _county_campaign(db, user)
    county = tmp_path / "yz.docx"
    cli("report", "county", "--county", "YZ", "--year", "2026", "--out", str(county))
    document = Document(str(county))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "原州区总工会\n2026年度基层工会组织年检工作情况总结" in text
    assert "均纳入2026年度年检" in text and "已评定2个单位" in text
    assert len(document.tables) >= 1 and len(document.inline_shapes) >= 1  # scores by rubric, dimensions
    header = [c.text for c in document.tables[0].rows[0].cells]
    assert (
        header[:3] == ["考评标准", "单位数", "平均得分"] and document.tables[0].rows[1].cells[1].text == "2"
    )
    city = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(city))
    whole = Document(str(city))
    counties = [row.cells[0].text for row in whole.tables[0].rows[1:]]
    assert counties == ["原州区", "西吉县", "市直基层工会", "合计"]  # in the order added, city-direct last
    assert len(whole.inline_shapes) == 2 + 1  # coverage and stars per county, then the dimensions


def test_every_chart_label_has_its_glyphs_in_the_font() -> None:
    import warnings

    from chatbot.cli.demo import CITY, FEDERATIONS, UNIONS
    from chatbot.documents import charts
    from rubrics import all_rubrics

    labels = [
        *charts.STAR_NAMES,
        "各县（区）星级分布",
        "各县（区）年检覆盖率",
        "年检覆盖率",
        "星级分布",
        "单位数",
        "已评定占比（%）",
        "年度目标 70%",
        "平均得分率（%）",
        "市直基层工会",
        "各维度平均得分率",
    ]
    labels += [row.name for row in (CITY, *FEDERATIONS, *UNIONS)]
    labels += [d for rubric in all_rubrics() for d in rubric.dimensions]
    assert {label: charts.missing_glyphs(label) for label in labels if charts.missing_glyphs(label)} == {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.star_distribution(
            [r.name for r in FEDERATIONS], [[1, 2, 3, 4, 5]] * len(FEDERATIONS), "各县（区）星级分布"
        )
        charts.dimension_scores(list(all_rubrics()[4].dimensions), [80.0] * 6, "各维度平均得分率")
    assert png.startswith(b"\x89PNG")
    assert not [w for w in caught if "missing from" in str(w.message)]


def test_from_2025_coverage_lists_the_follow_ups(db: Session, cli) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "市总工会"))
        organisations.add_org(db, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
        for n in (1, 2, 3):
            organisations.add_org(db, organisations.OrgRow(f"U{n}", f"第{n}工会", "village", "YZ"))
        campaigns.open_year(db, 2024)
    with db.begin():  # arrange 2024's results: U1 and U2 final
        for inspection in db.scalars(
            select(Inspection).join(Organisation).where(Organisation.code.in_(["U1", "U2"]))
        ):
            inspection.state, inspection.stars = "final", 4
    cli("campaign", "open", "2025")
    out = cli("coverage", "--year", "2025")
    assert (
        "回头看（2 个）" in out
        and ["U1", "第1工会", "2024", "4★"] in [line.split() for line in out.splitlines()]
        and "U3" not in out.split("回头看")[1]
    )
    assert "回头看" not in cli("coverage", "--year", "2024")

"""Issue 21, point 3: one county order everywhere — the official order, set by an admin with
``nianjian org order`` or the console's form, followed by the dashboard, ``coverage``, the campaign and
narratives pages and the city summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docx import Document
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.inspection import campaigns, organisations
from chatbot.store.models import AuditEntry
from tests.helpers import rate, self_check, setup_county
from tests.test_console import Console

#: Added in this order; their codes sort in another (JY, LD, XJ, YZ).
COUNTIES = (
    ("YZ", "原州区总工会"),
    ("XJ", "西吉县总工会"),
    ("LD", "隆德县总工会"),
    ("JY", "泾源县总工会"),
)


def _city(db: Session) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        for code, name in COUNTIES:
            organisations.add_org(db, organisations.OrgRow(code, name, parent="GY"))
            organisations.add_org(
                db, organisations.OrgRow(f"{code}-01", f"{name[:2]}一社区工会", "village", code)
            )
        campaigns.open_year(db, 2026)
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "YZ", "yz", "yz-password-12")


def _in_order(text: str, names: list[str]) -> list[str]:
    """The names in the order they first appear in the text."""
    return sorted(names, key=lambda name: text.index(name))


def _coverage_names(output: str, names: tuple[str, ...] = tuple(n for _c, n in COUNTIES)) -> list[str]:
    """The names in the order of the lines they are on."""
    return [name for line in output.splitlines() for name in names if name in line]


def test_an_admin_sets_the_order_at_the_command_line_and_every_listing_follows(
    app: Flask, db: Session, cli, tmp_path: Path
) -> None:
    _city(db)
    shown = cli("org", "order")
    assert re.findall(r"\d\. (\S+)（", shown) == [name for _code, name in COUNTIES]  # as added, not by code
    assert _coverage_names(cli("coverage", "--year", "2026")) == [name for _code, name in COUNTIES]

    cli("org", "order", "西吉县", "JY", "原州区总工会")
    expected = ["西吉县总工会", "泾源县总工会", "原州区总工会", "隆德县总工会"]  # the rest keep their order
    assert re.findall(r"\d\. (\S+)（", cli("org", "order")) == expected
    assert _coverage_names(cli("coverage", "--year", "2026")) == expected
    out = tmp_path / "city.docx"
    cli("report", "city", "--year", "2026", "--out", str(out))
    rows = [row.cells[0].text for row in Document(str(out)).tables[0].rows]
    assert rows[1:] == [*(name.removesuffix("总工会") for name in expected), "合计"]  # short names
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "set_county_order")) is not None

    refused = cli.refused("org", "order", "西吉县", "固原县")
    assert "没有这个县（区）总工会：固原县" in refused and "隆德县（LD）" in refused
    assert "重复" in cli.refused("org", "order", "西吉县", "XJ")
    assert re.findall(r"\d\. (\S+)（", cli("org", "order")) == expected  # a refusal changes nothing


def test_the_city_sets_the_order_in_the_console_and_every_page_follows(app: Flask, db: Session) -> None:
    _city(db)
    browser = Console(app.test_client())
    browser.login("city", "city-password-1")
    names = [name for _code, name in COUNTIES]
    assert _in_order(browser.get("/console/"), names) == names

    places = {"place-YZ": "3", "place-XJ": "2", "place-LD": "4", "place-JY": "1"}
    browser.get("/console/campaigns")
    browser.post("/console/counties/order", places)
    expected = ["泾源县总工会", "西吉县总工会", "原州区总工会", "隆德县总工会"]
    assert "县（区）顺序已保存：泾源县、西吉县、原州区、隆德县。" in browser.flashes("/console/campaigns")
    dashboard = browser.get("/console/")
    assert _in_order(dashboard, names) == expected
    campaign_page = browser.get("/console/campaigns")
    form = campaign_page[campaign_page.index("县（区）顺序") :]
    assert _in_order(form, names) == expected
    assert re.search(r'name="place-JY" type="number" min="1" max="4" value="1"', form)
    assert _in_order(browser.get("/console/narratives?year=2026"), names) == expected

    browser.post("/console/counties/order", {**places, "place-LD": "9"})
    assert "未能保存顺序：隆德县总工会的位次应为 1 到 4 之间的数字。" in browser.flashes("/console/campaigns")
    assert _in_order(browser.get("/console/"), names) == expected

    county = Console(app.test_client())
    county.login("yz", "yz-password-12")
    county.post("/console/counties/order", places, status=403)
    assert "县（区）顺序" not in county.get("/console/campaigns")


def test_the_demo_sets_the_official_order_once_and_keeps_an_admins(cli) -> None:
    demo = cli("demo", "--port", "1")  # port 1: nothing answers there, the demo only says how to start
    year = re.search(r"演示数据已就绪：(\d{4}) 年度", demo)
    assert year, demo
    official = (
        "原州区总工会",
        "西吉县总工会",
        "隆德县总工会",
        "泾源县总工会",
        "彭阳县总工会",
        "固原经济技术开发区总工会",
    )
    assert re.findall(r"\d\. (\S+)（", cli("org", "order")) == list(official)
    assert _coverage_names(cli("coverage", "--year", year.group(1)), official) == list(official)

    cli("org", "order", "彭阳县")
    cli("demo", "--port", "1")
    assert re.findall(r"\d\. (\S+)（", cli("org", "order"))[:2] == ["彭阳县总工会", "原州区总工会"]


def test_the_sample_and_the_quota_scopes_list_counties_in_the_set_order(
    app: Flask, db: Session, user, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The city's sample (抽查) lists each county's draw, and `results confirm` each county's quota
    scope, in the official order, whatever the codes'."""
    monkeypatch.setenv("FIVE_STAR_QUOTA_SCOPE", "county")
    codes = setup_county(db, 1)  # GY, YZ (U01)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("X01", "西吉一社区工会", "village", "XJ"))
        codes["xj"] = organisations.create_invitation(db, "XJ", "evaluator").code
        codes["x1"] = organisations.create_invitation(db, "X01", "chair").code
    for evaluator_id, evaluator_code, chair_id, chair_code, union in (
        ("yz", codes["evaluator"], "chair1", codes["chair1"], "U01"),
        ("xj", codes["xj"], "x1", codes["x1"], "X01"),
    ):
        evaluator = user(evaluator_id)
        evaluator.say(f"绑定 {evaluator_code}")
        self_check(user(chair_id), chair_code)
        rate(evaluator, union, 90)
    for first, second in (("XJ", "YZ"), ("YZ", "XJ")):  # the second is not the codes' order
        cli("org", "order", first, second)
        drawn = cli("sample", "--year", "2026", "--share", "1", "--seed", "7")
        lines = [line.strip().split("：")[0] for line in drawn.splitlines() if line.startswith("  ")]
        assert lines == [first, second]
        scopes = cli("results", "confirm", "--year", "2026").splitlines()
        assert [line.split(" ")[0] for line in scopes] == [first, second]


def test_the_city_admins_progress_in_chat_lists_the_unions_in_the_official_order(
    app: Flask, db: Session, user
) -> None:
    """Walk item 17: the counties in their official order (not by code), the city-direct unions last."""
    _city(db)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY-01", "市直一社区工会", "village", "GY"))
        campaigns.open_year(db, 2026)
        admin = organisations.create_invitation(db, "GY", "admin").code
    city = user("city-admin")
    assert "绑定成功" in city.say(f"绑定 {admin}")
    listed = re.findall(r"^· (\S+) ", city.say("进度"), re.M)
    assert listed == ["YZ-01", "XJ-01", "LD-01", "JY-01", "GY-01"], listed

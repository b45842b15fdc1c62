"""The web console through the Flask test client: sign-in, scope per route, CSRF, every page and action."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.inspection import organisations
from chatbot.store.models import AuditEntry, CountyReport, Inspection, Organisation, SampledInspection
from chatbot.wechat.simulator import Simulator
from tests.helpers import COVERAGE_HEADERS, assess, self_check, setup_county

User = Callable[..., Simulator]


class Console:
    """A browser session on the console: keeps the cookie, sends the CSRF token with every form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, url: str, status: int = 200) -> str:
        response = self.client.get(url)
        assert response.status_code == status, (url, response.status_code)
        text = response.get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', text)
        if found:
            self.token = found.group(1)
        return text

    def post(
        self, url: str, data: dict[str, str] | None = None, status: int = 302, token: bool = True
    ) -> str:
        form = dict(data or {})
        if token:
            form["csrf_token"] = self.token
        response = self.client.post(url, data=form)
        assert response.status_code == status, (
            url,
            response.status_code,
            response.get_data(as_text=True)[:300],
        )
        return response.get_data(as_text=True)

    def login(self, username: str, password: str, status: int = 302) -> str:
        self.get("/console/login")
        text = self.post("/console/login", {"username": username, "password": password}, status=status)
        if status == 302:
            self.get("/console/")  # a signed-in page carries the new session's token
        return text

    def flashes(self, url: str) -> str:
        return " ".join(re.findall(r'<div class="flash \w+">([^<]*)</div>', self.get(url)))


@pytest.fixture
def world(user: User, db: Session) -> dict[str, int]:
    """Two counties (YZ with rated, submitted and untouched unions; XJ with one), console users."""
    codes = setup_county(db, 3)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("X01", "西吉一社区工会", "village", "XJ"))
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "YZ", "yz", "yz-password-12")
        create_user(db, "XJ", "xj", "xj-password-12")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    self_check(user("chair1"), codes["chair1"])
    assess(evaluator, "U01", {5: "3"})
    self_check(user("chair2"), codes["chair2"])
    ids = {org.code: i.id for i, org in db.execute(select(Inspection, Organisation).join(Organisation)).all()}
    db.rollback()
    return ids


@pytest.fixture
def browser(app: Flask) -> Console:
    return Console(app.test_client())


def test_pages_need_a_sign_in(browser: Console) -> None:
    response = browser.client.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    assert browser.client.get("/console/inspections/1").status_code == 302


def test_wrong_passwords_are_refused_and_rate_limited(browser: Console, world: dict[str, int]) -> None:
    for _ in range(5):
        assert "用户名或密码不正确" in browser.login("city", "wrong-password", status=401)
    assert "15 分钟后再试" in browser.login("city", "city-password-1", status=429)
    other = Console(browser.client.application.test_client())
    other.login("yz", "yz-password-12")  # another user is not locked out
    assert "年度年检总览" in other.get("/console/")


def test_a_form_without_a_csrf_token_is_refused(browser: Console, world: dict[str, int]) -> None:
    browser.login("city", "city-password-1")
    browser.post(f"/console/inspections/{world['U01']}/publish", {"days": "7"}, status=400, token=False)
    assert (
        browser.client.post("/console/login", data={"username": "city", "password": "x"}).status_code == 400
    )


def test_every_page_renders_for_the_city(browser: Console, world: dict[str, int]) -> None:
    browser.login("city", "city-password-1")
    dashboard = browser.get("/console/")
    assert "2026 年度年检总览" in dashboard and "原州区总工会" in dashboard and "西吉县总工会" in dashboard
    assert 'src="data:image/png;base64,' in dashboard
    assert not re.search(r'(src|href)="(https?:)?//', dashboard)  # nothing from outside: works on an intranet
    listing = browser.get("/console/inspections")
    assert "U01" in listing and "X01" in listing
    # The 标记 column in the words the CLI uses, not the data's keys.
    assert '<td class="muted marks">预评</td>' in listing and "provisional" not in listing
    page = browser.get(f"/console/inspections/{world['U01']}")
    assert "考评表（自评与考评对照" in page and 'class="differs"' in page  # item 5: 4 vs 3
    # The quota's scope (the city) is not yet complete: the stars are provisional, nothing is published.
    assert "预评" in page and "公示结果" not in page and "调整星级" in page and "列入抽查" in page
    assert "确认范围" in dashboard and "可确认" in dashboard
    browser.post("/console/campaigns/2026/confirm", {"scope": "GY", "reason": "其余单位本年度不参加年检"})
    page = browser.get(f"/console/inspections/{world['U01']}")
    assert "预评" not in page and "公示结果" in page
    assert "已确认" in browser.get("/console/")
    assert "退回主席修改" in browser.get(f"/console/inspections/{world['U02']}")
    assert "2026 年度" in browser.get("/console/campaigns")
    for url, kind in [
        (f"/console/inspections/{world['U01']}/sheet.xlsx", "spreadsheetml"),
        ("/console/campaigns/2026/results.xlsx", "spreadsheetml"),
        ("/console/campaigns/2026/coverage.csv", "text/csv"),
        ("/console/campaigns/2026/report.docx", "wordprocessingml"),
        ("/console/campaigns/2026/report.docx?county=YZ", "wordprocessingml"),
    ]:
        response = browser.client.get(url)
        assert response.status_code == 200 and kind in response.content_type and response.data, url
        assert "filename*=UTF-8''" in response.headers["Content-Disposition"], url  # Chinese names, encoded


def test_a_county_admin_sees_only_its_county(browser: Console, world: dict[str, int]) -> None:
    browser.login("xj", "xj-password-12")
    assert "原州区总工会" not in browser.get("/console/")
    listing = browser.get("/console/inspections")
    assert "X01" in listing and "U01" not in listing
    browser.get(f"/console/inspections/{world['U01']}", status=404)
    assert browser.client.get(f"/console/inspections/{world['U01']}/sheet.xlsx").status_code == 404
    assert browser.client.get("/console/campaigns/2026/report.docx?county=YZ").status_code == 404
    assert browser.client.get("/console/campaigns/2026/report.docx").status_code == 403  # the city's
    coverage = browser.client.get("/console/campaigns/2026/coverage.csv").get_data(as_text=True)
    assert "西吉县总工会" in coverage and "原州区总工会" not in coverage
    results = browser.client.get("/console/campaigns/2026/results.xlsx")
    assert results.status_code == 200 and b"U01" not in results.data
    browser.post(f"/console/inspections/{world['U01']}/publish", {"days": "7"}, status=404)
    browser.post("/console/campaigns", {"year": "2027"}, status=403)
    browser.post("/console/campaigns/2026/sample", {"percent": "50"}, status=403)


def test_actions_are_applied_and_audited(browser: Console, world: dict[str, int], db: Session) -> None:
    browser.login("city", "city-password-1")
    u01, u02 = world["U01"], world["U02"]
    browser.post(f"/console/inspections/{u01}/override", {"stars": "5", "reason": "市总工会认定"})
    assert "只有在名额线上同分并列" in browser.flashes(f"/console/inspections/{u01}")
    browser.post(f"/console/inspections/{u01}/override", {"stars": "4", "reason": "实地察看台账不全"})
    assert "星级调整已记录，现为四星级" in browser.flashes(f"/console/inspections/{u01}")
    browser.post(f"/console/inspections/{u01}/sample")
    browser.post(f"/console/inspections/{u01}/publish", {"days": "5"})
    assert "尚未确认" in browser.flashes(f"/console/inspections/{u01}")
    browser.post("/console/campaigns/2026/confirm", {"scope": "GY", "reason": ""})
    assert "确认范围须写明理由" in browser.flashes("/console/campaigns")
    browser.post("/console/campaigns/2026/confirm", {"scope": "GY", "reason": "其余单位本年度不参加年检"})
    browser.post(f"/console/inspections/{u01}/publish", {"days": "5"})
    assert "已公示 5 天" in browser.flashes(f"/console/inspections/{u01}")
    browser.post(f"/console/inspections/{u02}/return", {"reason": "第3项缺少佐证"})
    browser.post(f"/console/inspections/{u02}/return", {"reason": "再次退回"})
    assert "不能变为" in browser.flashes(f"/console/inspections/{u02}")
    browser.post(
        "/console/campaigns",
        {
            "year": "2026",
            "self_check_due": "2026-12-20",
            "review_due": "2027-01-20",
            "report_due": "02-30",
            "target": "70",
        },
    )
    browser.post("/console/campaigns/2026/received", {"county": "YZ", "copy": "paper"})
    browser.post("/console/campaigns/2026/publish", {"scope": "YZ", "days": "7"})
    browser.post("/console/campaigns/2026/sample", {"percent": "100", "seed": "5"})
    assert "已按 100% 抽取 1 个（抽取编号 5）：U01" in browser.flashes("/console/campaigns")
    db.expire_all()
    states = {i.organisation.code: i.state for i in db.scalars(select(Inspection))}
    assert states["U01"] == "published" and states["U02"] == "returned"
    assert db.scalar(select(CountyReport.paper_received_at)) is not None
    assert db.scalar(select(SampledInspection.id)) is not None
    actions = [a for (a,) in db.execute(select(AuditEntry.action).where(AuditEntry.actor == "console:city"))]
    for action in (
        "login",
        "override",
        "mark_for_sampling",
        "publish",
        "transition",
        "deadlines",
        "report_received",
        "draw",
    ):
        assert action in actions, action


def test_bad_form_input_is_explained_in_chinese(browser: Console, world: dict[str, int], db: Session) -> None:
    browser.login("city", "city-password-1")
    for form, message in [
        ({"year": "2026", "self_check_due": "2026-13-40"}, "日期应写作 年-月-日"),
        (
            {"year": "2026", "self_check_due": "2027-01-20", "review_due": "2026-12-20"},
            "考评截止日期早于自评截止日期",
        ),
        ({"year": "2026", "target": "150"}, "覆盖率目标（%）应为 0 到 100 之间的数字"),
        ({"year": "2026", "report_due": "2-xx"}, "日期应写作 月-日"),
        ({"year": ""}, "请填写年度"),
    ]:
        browser.post("/console/campaigns", form)
        assert message in browser.flashes("/console/campaigns"), form
    browser.post("/console/campaigns/2026/sample", {"percent": "200"})
    assert "抽查比例（%）应为 0.1 到 100 之间的数字" in browser.flashes("/console/campaigns")
    browser.post("/console/campaigns/2026/confirm", {"scope": "XX", "reason": "理由"})
    assert "“XX”不是本年度的五星级名额范围" in browser.flashes("/console/campaigns")
    browser.post("/console/campaigns/2026/confirm", {"scope": "GY", "reason": "其余单位本年度不参加年检"})
    browser.post(f"/console/inspections/{world['U01']}/publish", {"days": "7"})
    browser.post(f"/console/inspections/{world['U01']}/override", {"stars": "5", "reason": "迟到的调整"})
    assert "只有在名额线上同分并列" in browser.flashes(f"/console/inspections/{world['U01']}")
    browser.post(f"/console/inspections/{world['U01']}/override", {"stars": "1", "reason": "迟到的调整"})
    assert "请选择星级" in browser.flashes(f"/console/inspections/{world['U01']}")
    db.expire_all()
    assert db.scalar(select(Inspection.state).where(Inspection.id == world["U01"])) == "published"


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def test_a_county_sees_the_city_wide_scope_its_unions_count_in(
    browser: Console, world: dict[str, int]
) -> None:
    browser.login("yz", "yz-password-12")
    scopes = _section(browser.get("/console/"), "<h2>五星级名额范围</h2>", "<h2>通知发送</h2>")
    # the quota is counted over the whole city (the default): U01 is rated there, and yz sees it so
    assert "暂无年检单位" not in scopes
    assert re.search(
        r'<td class="name across">全市</td><td class="num" data-label="年检单位">4</td>'
        r'<td class="num" data-label="已评定">1</td>',
        scopes,
    )
    assert "确认范围" not in scopes  # a county cannot confirm: no empty action column either
    assert not re.search(r"<th>\s*</th>", scopes)
    browser.login("city", "city-password-1")
    scopes = _section(browser.get("/console/"), "<h2>五星级名额范围</h2>", "<h2>通知发送</h2>")
    assert "<th>确认范围</th>" in scopes and 'id="confirm-GY"' in scopes


def test_empty_to_do_lists_share_one_line(browser: Console, world: dict[str, int]) -> None:
    browser.login("city", "city-password-1")
    dashboard = browser.get("/console/")
    actions = _section(dashboard, "<h2>待办事项</h2>", "</main>")
    assert "未落实网格负责人的单位（4）" in actions  # the only list with something in it
    assert actions.count('<div class="card">') == 1 and '<p class="muted">无</p>' not in actions
    empty = re.search(r'id="no-actions">以下事项暂无：([^<]*)。</p>', actions)
    assert empty is not None and empty.group(1).split("、") == [
        "待复查的异议",
        "逾期未提交的自评",
        "逾期未完成的考评",
        "五星级名额同分待裁定",
        "补课（未通过验收）",
        "未送达的通知",
    ]
    assert "）（" not in dashboard  # no doubled brackets in a heading


def test_coverage_reads_the_same_in_the_dashboard_and_its_download(
    browser: Console, world: dict[str, int]
) -> None:
    browser.login("city", "city-password-1")
    table = _section(browser.get("/console/"), 'id="coverage"', "</table>")
    assert re.findall(r"<th[^>]*>([^<]+)</th>", table) == COVERAGE_HEADERS
    download = browser.client.get("/console/campaigns/2026/coverage.csv").get_data(as_text=True)
    lines = download.lstrip("\ufeff").splitlines()
    assert lines[0].split(",") == COVERAGE_HEADERS
    # 原州区: 3 unions, U01 rated: 33.3%; none final (已确定星级); the target in the same format
    assert lines[1].split(",")[:10] == [
        "原州区总工会",
        "3",
        "3",
        "2",
        "1",
        "0",
        "0",
        "33.3%",
        "33.3%",
        "100%",
    ]
    assert ">33.3%</td>" in table


def test_the_star_list_starts_at_the_current_level(
    browser: Console, world: dict[str, int], db: Session
) -> None:
    browser.login("city", "city-password-1")
    page = browser.get(f"/console/inspections/{world['U01']}")
    stars = db.scalar(select(Inspection.stars).where(Inspection.id == world["U01"]))
    db.rollback()
    chosen = re.findall(r'<option value="(\d)" selected>', page)
    assert stars is not None and chosen == [str(stars)]
    assert 'class="text"' in page  # the item's text: wrapped on a phone (test_console_browser)


def test_the_campaign_form_starts_at_the_current_year_in_percent(
    browser: Console, world: dict[str, int]
) -> None:
    browser.login("city", "city-password-1")
    page = browser.get("/console/campaigns")
    assert re.search(r'<input name="year" type="number"[^>]* value="2026"', page)
    assert "抽查比例（%）" in page and 'name="percent"' in page and 'value="10"' in page
    assert "随机种子" not in page and "抽取编号" in page
    assert "覆盖率目标 100%" in page
    links = re.findall(r'<li><a href="[^"]+" download>([^<]+)</a></li>', page)
    assert links[:3] == ["结果表（Excel）", "覆盖率（CSV）", "全市工作总结（Word）"]
    assert "原州区总工会工作总结（Word）" in links and "西吉县总工会工作总结（Word）" in links

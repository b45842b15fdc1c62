"""End to end in headless Chromium (Debian's chromium + chromedriver, driven by Selenium).

Every page of the console — sign-in, dashboard, inspections, an inspection with its photos and audit
log, campaigns, the 404 and 403 pages — at 1280 px and at 390 px (a phone): no page-wide horizontal
scroll, no text sticking out of its box (tables may scroll, inside their card, on a phone only: at
1280 px every column shows and names stay on one line), every image loaded, every chart's text
readable (at least 11 px as drawn).
Then the work itself: confirm the quota scope, publish, download the score sheet. Screenshots are
saved (to $CONSOLE_SCREENSHOTS when set: that is how the pictures in docs/console.md are made)."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from chatbot.console.access import create_user
from chatbot.inspection import campaigns, grid, organisations
from chatbot.inspection.hierarchy import load_tree
from chatbot.store.models import Inspection, Organisation
from tests.conftest import Backend
from tests.console_helpers import WeChatConsole, wechat_console_for
from tests.helpers import VILLAGE, assess, setup_county
from tests.rubric_tables import rows_of, write_table

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: (name, CSS width, height, a phone?)
WIDTHS = (("desktop", 1280, 1000, False), ("phone", 390, 844, True))

#: What sticks out, on the page as the browser laid it out: the page wider than the window, or an
#: element (outside a .scroll wrapper, where sideways scrolling is meant) wider than its box or
#: reaching past the window's edge. Also: images that did not load, date fields in the browser's locale.
LAYOUT_PROBLEMS = """
const problems = [];
const doc = document.documentElement;
const width = doc.clientWidth;
const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\\s+/g, '.') : '') +
    ' “' + (el.textContent || '').trim().slice(0, 30) + '”';
if (doc.scrollWidth > width + 1) problems.push('page scrolls sideways: ' + doc.scrollWidth + ' > ' + width);
for (const el of document.querySelectorAll('body *')) {
  if (el.closest('.scroll') && !el.classList.contains('scroll')) continue;
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden') continue;
  const rect = el.getBoundingClientRect();
  if (rect.width === 0 && rect.height === 0) continue;
  if (rect.right > width + 1 || rect.left < -1) problems.push('past the window: ' + name(el));
  const scrolls = style.overflowX === 'auto' || style.overflowX === 'scroll';
  if (style.display !== 'inline' && !scrolls && el.scrollWidth > el.clientWidth + 1 &&
      !['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON', 'IMG'].includes(el.tagName))
    problems.push('text wider than its box: ' + name(el) + ' ' + el.scrollWidth + ' > ' + el.clientWidth);
}
for (const img of document.images)
  if (!img.complete || img.naturalWidth === 0) problems.push('image not shown: ' + img.getAttribute('src').slice(0, 60));
for (const input of document.querySelectorAll('input[type=date]')) problems.push('locale date field: ' + input.name);
if (doc.lang !== 'zh-CN') problems.push('lang is ' + doc.lang);
return problems;
"""


#: The smallest text a reader is expected to read, in CSS pixels.
READABLE_PX = 11
#: What cannot be read, as the browser laid the page out: at a desktop width (arguments[0]) a table
#: wider than its scrolling card (columns hidden behind the scrollbar), a name cell wrapped onto a
#: second line, or a cell holding a code (PY-001-01) or a short status (≤ 4 characters: 未开始) broken
#: across lines; at any width, a chart's text below READABLE_PX — HTML text by its computed size, SVG
#: text by its size times the scale it is drawn at, a chart picture by the size of its smallest text in
#: its own pixels (its data-text-px) times the scale it is shown at (a picture that does not say is a
#: problem: nothing could tell).
READING_PROBLEMS = """
const desktop = arguments[0], readable = arguments[1];
const problems = [];
const shown = (el) => { const s = getComputedStyle(el);
  return s.display !== 'none' && s.visibility !== 'hidden' && el.getClientRects().length > 0; };
const text = (el) => (el.textContent || el.getAttribute('alt') || '').trim().slice(0, 30);
const CODE = /^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$/;
const lineCount = (el) => {
  const tops = new Set();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
  }
  return tops.size;
};
if (desktop) {
  for (const box of document.querySelectorAll('.scroll')) {
    if (!shown(box)) continue;
    for (const table of box.querySelectorAll('table'))
      if (table.getBoundingClientRect().width > box.clientWidth + 1)
        problems.push('columns hidden behind a scrollbar: ' + text(table.querySelector('tr') || table) + ' ' +
                      Math.round(table.getBoundingClientRect().width) + ' > ' + box.clientWidth);
  }
  for (const cell of document.querySelectorAll('td.name')) {
    if (!shown(cell)) continue;
    if (lineCount(cell) > 1) problems.push('name wrapped: ' + text(cell));
  }
  for (const cell of document.querySelectorAll('td')) {
    const words = (cell.textContent || '').trim();
    if (!shown(cell) || !(CODE.test(words) || (words && [...words].length <= 4))) continue;
    if (lineCount(cell) > 1) problems.push('code or short status broken: ' + words);
  }
}
for (const chart of document.querySelectorAll('.chart')) {
  if (!shown(chart)) continue;
  if (chart.tagName === 'IMG') {
    const px = parseFloat(chart.dataset.textPx);
    if (!(px > 0)) { problems.push('chart picture without data-text-px: ' + text(chart)); continue; }
    const scaled = px * chart.getBoundingClientRect().width / chart.naturalWidth;
    if (scaled < readable) problems.push('chart text ' + scaled.toFixed(1) + ' px: ' + text(chart));
    continue;
  }
  for (const el of [chart, ...chart.querySelectorAll('*')]) {
    if (!shown(el) || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    let px = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGGraphicsElement) { const m = el.getScreenCTM(); px *= Math.hypot(m.a, m.b); }
    if (px < readable) problems.push('chart text ' + px.toFixed(1) + ' px: ' + text(el));
  }
}
return problems;
"""

#: Tables that never scroll sideways wider than their card, at any width: 失分分析's (table.figures: on
#: a phone each row is the item and its key figures) and the dashboard's 覆盖率 and 五星级名额范围 and
#: the inspection's 异议 (table.stack: on a phone each row a box of labelled cells); and a stacked
#: table's cell whose text sticks out of it.
FIGURES_SCROLL = """
const title = (el) => (el.textContent || '').trim().slice(0, 20);
return [...document.querySelectorAll('.scroll')]
  .filter((box) => box.querySelector('table.figures, table.stack') && box.scrollWidth > box.clientWidth + 1)
  .map((box) => 'scrolls: ' + title(box.querySelector('tr')) + ' ' + box.scrollWidth + ' > ' + box.clientWidth)
  .concat([...document.querySelectorAll('table.stack td')]
    .filter((cell) => cell.getClientRects().length > 0 && cell.scrollWidth > cell.clientWidth + 1)
    .map((cell) => 'sticks out: ' + title(cell) + ' ' + cell.scrollWidth + ' > ' + cell.clientWidth));
"""


def _require_browser() -> None:
    if Path(CHROMIUM).exists() and Path(DRIVER).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("chromium and chromium-driver must be installed under CI=true (.ci/run installs them)")
    pytest.skip("chromium / chromedriver not installed")


@pytest.fixture
def wechat_console(backend: Backend, tmp_path: Path) -> Iterator[WeChatConsole]:
    with wechat_console_for(backend, tmp_path) as console:
        yield console


@pytest.fixture
def served(wechat_console: WeChatConsole) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, wechat_console.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--lang=zh-CN",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(tmp_path / "downloads"), "download.prompt_for_download": False},
    )
    browser = webdriver.Chrome(service=Service(DRIVER), options=options)
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


def _wait_for(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def _viewport(driver: Any, width: int, height: int, phone: bool) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone},
    )


def _sign_in(driver: Any, served: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{served}/console/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    _wait_for(lambda: "/console/login" not in driver.current_url)


def _open(driver: Any, url: str, expect: str) -> None:
    driver.get(url)
    _wait_for(lambda: expect in driver.page_source)
    _wait_for(lambda: driver.execute_script("return document.readyState") == "complete")
    # lazy images below the fold load when scrolled to; the check wants them all
    driver.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    _wait_for(lambda: driver.execute_script("return [...document.images].every(i => i.complete)"))


@pytest.fixture
def world(wechat_console: WeChatConsole, user, db: Session) -> dict[str, int]:
    """Two counties; U01 rated with differences, photos (one kept, one WeChat no longer has) and an
    audit log; an evaluator who left the account (a notice that failed); console users."""
    w = wechat_console
    codes = setup_county(db, 2)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(
            db, organisations.OrgRow("X01", "西吉县将台堡镇明荣村社区工会", "village", "XJ")
        )
        # a long code and a long name in the dashboard's narrow 未落实 card (the walk saw 未/开/始)
        organisations.add_org(
            db,
            organisations.OrgRow(
                "XJ-001-01", "西吉县将台堡镇明荣村股份经济合作社联合工会委员会", "village", "XJ"
            ),
        )
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "XJ", "xj", "xj-password-12")
    evaluator = user("o-evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    w.media("GONE-1", errcode=40007)
    chair = user("o-chair-1")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    chair.photo("PHOTO-1")
    chair.photo("PHOTO-2")
    for no in range(1, VILLAGE.item_count + 1):
        chair.say("2" if no == 3 else "满分")
        if no == 1:
            chair.photo("GONE-1")  # evidence of item 2
    w.fake.state.fail_openid["o-evaluator"] = 43004  # the submission's notice cannot reach them
    assert "已提交" in chair.say("提交")
    w.tick()
    w.fake.state.fail_openid.clear()
    assess(evaluator, "U01", {5: "3"})
    w.tick()
    ids = {org.code: i.id for i, org in db.execute(select(Inspection, Organisation).join(Organisation)).all()}
    db.rollback()
    return ids


def test_every_page_fits_at_1280_and_390_px(
    served: str, driver: Any, world: dict[str, int], tmp_path: Path, db: Session
) -> None:
    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with db.begin():  # U01's responsible person, so that the grid page shows a person's progress
        tree = load_tree(db)
        u01 = tree.by_code("U01")
        assert u01 is not None
        person = grid.person_of_openid(db, tree, u01.id, "o-evaluator")
        campaign = campaigns.campaign_of_year(db, 2026)
        grid.assign(db, campaign, tree, "U01", person, "test", datetime.now(UTC))
        # past deadlines: a third list on the dashboard (overdue self-checks), so the cards are narrow
        campaign.self_check_due, campaign.review_due = date(2026, 1, 10), date(2026, 2, 10)
    pages = [
        ("dashboard", "/console/", "年度年检总览"),
        ("inspections", "/console/inspections", "年度年检单位"),
        ("inspection", f"/console/inspections/{world['U01']}", "办理记录"),
        ("campaigns", "/console/campaigns", "开启或修改年度年检"),
        ("grid", "/console/grid", "各县（区）计划与落实情况"),
        ("grid-county", "/console/grid?county=YZ", "负责人进度"),
        ("weaknesses", "/console/weaknesses?year=2026", "失分最多的子项"),
        ("not-found", "/console/inspections/999999", "页面不存在"),
    ]
    for label, width, height, phone in WIDTHS:
        _viewport(driver, width, height, phone)
        driver.delete_all_cookies()
        _open(driver, f"{served}/console/login", "登录")
        assert driver.execute_script(LAYOUT_PROBLEMS) == [], ("login", label)
        _sign_in(driver, served, "city", "city-password-1")
        for name, path, expect in pages:
            _open(driver, served + path, expect)
            assert driver.execute_script(LAYOUT_PROBLEMS) == [], (name, label)
            assert driver.execute_script(READING_PROBLEMS, not phone, READABLE_PX) == [], (name, label)
            # their tables show their key columns (on a phone: stacked) without sideways scrolling
            if name in ("weaknesses", "dashboard"):
                assert driver.execute_script(FIGURES_SCROLL) == [], (name, label)
            if name in ("dashboard", "inspection"):
                if phone and name == "inspection":  # on a phone: the score sheet, scrolling in its card
                    driver.execute_script("document.querySelector('table.wide').scrollIntoView()")
                    driver.execute_script("window.scrollBy(0, -60)")
                suffix = "" if label == "desktop" else "-390"
                driver.save_screenshot(str(shots / f"console-{name}{suffix}.png"))
        _sign_in(driver, served, "xj", "xj-password-12")  # a county admin at the city's summary: 403
        _open(driver, f"{served}/console/campaigns/2026/report.docx", "无权访问")
        assert driver.execute_script(LAYOUT_PROBLEMS) == [], ("forbidden", label)
        _open(driver, f"{served}/console/inspections/{world['X01']}", "西吉县将台堡镇明荣村社区工会")
        assert driver.execute_script(LAYOUT_PROBLEMS) == [], ("county inspection", label)
    assert (shots / "console-inspection-390.png").stat().st_size > 10_000


def test_the_rubric_pages_and_an_uploads_differences_fit_at_1280_and_390_px(
    served: str, driver: Any, world: dict[str, int], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    rows = rows_of(VILLAGE)
    rows[0] = (rows[0][0], 1, str(rows[0][2]) + "（修订：每年向会员代表大会报告一次）", rows[0][3])
    sheet = tmp_path / "村（社区）工会年检考评标准2027年修订稿.xlsx"
    write_table(sheet, rows, "merged", total=VILLAGE.max_total)
    for label, width, height, phone in WIDTHS:
        _viewport(driver, width, height, phone)
        _sign_in(driver, served, "city", "city-password-1")
        for name, path, expect in (
            ("rubrics", "/console/rubrics", "上传新版本"),
            ("rubric-versions", "/console/rubrics/village", "版本差异"),
        ):
            _open(driver, served + path, expect)
            assert driver.execute_script(LAYOUT_PROBLEMS) == [], (name, label)
            assert driver.execute_script(READING_PROBLEMS, not phone, READABLE_PX) == [], (name, label)
        _open(driver, served + "/console/rubrics", "上传新版本")
        Select(driver.find_element(By.NAME, "key")).select_by_value("village")
        driver.find_element(By.NAME, "file").send_keys(str(sheet))
        driver.find_element(By.CSS_SELECTOR, "form.upload button").click()
        # The sheets' page names 与当前版本的差异 too: wait for what only the upload's answer shows.
        _wait_for(lambda: "改写 第 1 项" in driver.page_source)
        assert "与当前版本的差异" in driver.page_source
        assert driver.execute_script(LAYOUT_PROBLEMS) == [], ("upload", label)
        assert driver.execute_script(READING_PROBLEMS, not phone, READABLE_PX) == [], ("upload", label)


def test_the_objection_table_shows_its_outcome_on_a_phone_without_scrolling(
    served: str, driver: Any, world: dict[str, int], wechat_console: WeChatConsole, user, tmp_path: Path
) -> None:
    """异议 at 390 px: each objection a box — round, time, source, then the objection and its 复查结果
    across — nothing cut at the card's edge; at 1280 px the five columns side by side."""
    from selenium.webdriver.common.by import By

    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    _sign_in(driver, served, "city", "city-password-1")
    _wait_for(lambda: "年度年检总览" in driver.page_source)
    driver.find_element(By.CSS_SELECTOR, "form input[name=reason]").send_keys("其余单位本年度不参加年检")
    driver.find_element(By.ID, "confirm-GY").click()
    _wait_for(lambda: "已确认五星级名额范围" in driver.page_source)
    _open(driver, f"{served}/console/inspections/{world['U01']}", "办理记录")
    driver.find_element(By.ID, "publish").click()
    _wait_for(lambda: "已公示 7 天" in driver.page_source)
    stranger = user("o-passer-by")
    assert "异议已收到" in stranger.say("异议 U01 第3项职工之家并未挂牌，会员活动室长期挪作他用，请复查")
    evaluator = user("o-evaluator")
    evaluator.say("复查 U01")
    evaluator.say("同")
    assert "复查评定已提交" in evaluator.say("提交")
    wechat_console.tick()
    for label, width, height, phone in WIDTHS:
        _viewport(driver, width, height, phone)
        _open(driver, f"{served}/console/inspections/{world['U01']}", "复查结果")
        assert driver.execute_script(LAYOUT_PROBLEMS) == [], label
        assert driver.execute_script(READING_PROBLEMS, not phone, READABLE_PX) == [], label
        assert driver.execute_script(FIGURES_SCROLL) == [], label
        outcome = driver.find_element(By.CSS_SELECTOR, "table.stack td.outcome")
        assert outcome.text.startswith("已复查 · 维持")
        card = driver.find_element(By.XPATH, "//table[contains(@class, 'stack')]/ancestor::div[1]")
        right = driver.execute_script("return arguments[0].getBoundingClientRect().right", card)
        assert driver.execute_script("return arguments[0].getBoundingClientRect().right", outcome) <= right
        if phone:  # docs/console.md's picture
            driver.execute_script("arguments[0].scrollIntoView()", card)
            driver.execute_script("window.scrollBy(0, -60)")
            driver.save_screenshot(str(shots / "console-objections-390.png"))


def test_the_inspection_page_shows_photos_words_and_the_reason_a_photo_is_missing(
    served: str, driver: Any, world: dict[str, int]
) -> None:
    from selenium.webdriver.common.by import By

    _sign_in(driver, served, "city", "city-password-1")
    _open(driver, f"{served}/console/inspections/{world['U01']}", "办理记录")
    photos = driver.find_elements(By.CSS_SELECTOR, "img.photo")
    assert len(photos) == 2 and all(p.get_property("naturalWidth") == 160 for p in photos)
    missing = driver.find_element(By.CSS_SELECTOR, ".photo-missing").text
    assert missing == "照片未能取回：微信已不再保存这张照片（上传后只保存 3 天），未能取回。"
    log = driver.find_element(By.CSS_SELECTOR, "table.timeline").text
    assert "第1社区工会\n工会主席" in log and "状态 自评已提交 → 考评中" in log and "wechat:" not in log
    _open(driver, f"{served}/console/", "未送达的通知")
    cards = [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".card") if "未送达的通知" in c.text]
    assert "原州区总工会 考评员" in cards[0] and "发送失败" in cards[0]


def test_sign_in_confirm_publish_and_download(
    served: str, driver: Any, world: dict[str, int], db: Session, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    _sign_in(driver, served, "city", "city-password-1")
    _wait_for(lambda: "年度年检总览" in driver.page_source)
    # U02 and X01 are not rated: the city's quota scope is confirmed by hand before anything is published.
    driver.find_element(By.CSS_SELECTOR, "form input[name=reason]").send_keys("其余单位本年度不参加年检")
    driver.find_element(By.ID, "confirm-GY").click()
    _wait_for(lambda: "已确认五星级名额范围" in driver.page_source)

    driver.find_element(By.LINK_TEXT, "年检单位").click()
    driver.find_element(By.LINK_TEXT, "U01").click()
    _wait_for(lambda: "考评表（自评与考评对照" in driver.page_source)
    assert driver.find_elements(By.CSS_SELECTOR, "tr.differs")  # items 3 and 5 differ
    driver.find_element(By.ID, "publish").click()
    _wait_for(lambda: "已公示 7 天" in driver.page_source)
    db.expire_all()
    assert db.scalar(select(Inspection.state).where(Inspection.id == world["U01"])) == "published"
    db.rollback()  # end the read: SQLite transactions here take the write lock

    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path / "downloads")}
    )
    driver.find_element(By.PARTIAL_LINK_TEXT, "下载年检考评表").click()
    _wait_for(lambda: any(p.suffix == ".xlsx" for p in (tmp_path / "downloads").glob("*")), 20)
    sheet = next(p for p in (tmp_path / "downloads").glob("*.xlsx"))
    assert load_workbook(sheet).active.max_row > 30  # the filled form (its layout: the documents' tests)


def test_the_star_chart_keeps_its_text_readable_on_a_phone_with_every_county() -> None:
    """The dashboard's chart for the whole city (longest name: 开发区's) shown across a 390 px phone's
    card (about 350 px): its smallest text stays at least READABLE_PX — the same rule the browser
    applies to the demo's two counties above."""
    from PIL import Image

    from chatbot.documents import charts

    names = ["原州区总工会", "西吉县总工会", "隆德县总工会", "泾源县总工会", "彭阳县总工会"]
    names += ["固原经济技术开发区总工会", "市直基层工会"]
    counts = [[1, 2, 30, 41, 9], [0, 0, 3, 1, 0], *[[0, 1, 2, 3, 1]] * 5]
    drawn = charts.screen_chart(charts.star_bars(names, counts, ""))
    width = Image.open(io.BytesIO(drawn.png)).width
    assert drawn.text_px * min(350, width) / width >= READABLE_PX

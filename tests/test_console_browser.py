"""End to end in headless Chromium (Debian's chromium + chromedriver, driven by Selenium): sign in,
open the dashboard, open an inspection, publish it, download its score sheet; screenshots are saved."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from chatbot.console.access import create_user
from chatbot.store.models import Inspection, Organisation
from chatbot.wechat.simulator import Simulator
from tests.helpers import assess, self_check, setup_county

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _require_browser() -> None:
    if Path(CHROMIUM).exists() and Path(DRIVER).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("chromium and chromium-driver must be installed under CI=true (.ci/run installs them)")
    pytest.skip("chromium / chromedriver not installed")


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def driver(tmp_path: Path):
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


def test_sign_in_dashboard_inspection_publish_and_download(
    served: str, driver, user, db: Session, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    codes = setup_county(db, 2)
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
    evaluator: Simulator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    self_check(user("chair1"), codes["chair1"], {3: "2"})
    assess(evaluator, "U01", {5: "3"})
    inspection_id = db.scalar(select(Inspection.id).join(Organisation).where(Organisation.code == "U01"))
    db.rollback()
    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)

    driver.get(f"{served}/console/login")
    driver.find_element(By.NAME, "username").send_keys("city")
    driver.find_element(By.NAME, "password").send_keys("city-password-1")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    _wait_for(lambda: "年度年检总览" in driver.page_source)
    driver.save_screenshot(str(shots / "console-dashboard.png"))
    # U02 is not rated: the city's quota scope is confirmed by hand before anything is published.
    driver.find_element(By.CSS_SELECTOR, "form input[name=reason]").send_keys("U02 本年度不参加年检")
    driver.find_element(By.ID, "confirm-GY").click()
    _wait_for(lambda: "已确认五星级名额范围" in driver.page_source)

    driver.find_element(By.LINK_TEXT, "年检单位").click()
    driver.find_element(By.LINK_TEXT, "U01").click()
    _wait_for(lambda: "考评表（自评与考评对照" in driver.page_source)
    assert driver.find_elements(By.CSS_SELECTOR, "tr.differs")  # items 3 and 5 differ
    driver.save_screenshot(str(shots / "console-inspection.png"))

    driver.find_element(By.ID, "publish").click()
    _wait_for(lambda: "已公示 7 天" in driver.page_source)
    db.expire_all()
    assert db.scalar(select(Inspection.state).where(Inspection.id == inspection_id)) == "published"
    db.rollback()  # end the read: SQLite transactions here take the write lock

    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path / "downloads")}
    )
    driver.find_element(By.PARTIAL_LINK_TEXT, "下载年检考评表").click()
    _wait_for(lambda: any(p.suffix == ".xlsx" for p in (tmp_path / "downloads").glob("*")), 20)
    sheet = next(p for p in (tmp_path / "downloads").glob("*.xlsx"))
    assert load_workbook(sheet).active["A1"].value == "村（社区）工会年检考评标准"
    assert (shots / "console-dashboard.png").stat().st_size > 10_000

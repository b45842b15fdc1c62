"""Next year's standards without a developer, in the console: the city's account uploads a sheet's
workbook on 考评标准, sees every problem with its row (nothing stored) or the differences from the
current version, and confirms to store it — once, and only while the version it was compared with is
still the current one. A county sees and downloads the versions but uploads nothing. The file is not
trusted: a formula is a value, a huge, damaged or foreign file is refused in Chinese, never a 500."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.store.models import AuditEntry, RubricVersion
from rubrics import get_rubric
from tests.conftest import City
from tests.rubric_tables import rows_of, write_table
from tests.test_console import Console

KEY = "village"
SHIPPED = get_rubric(KEY)
NEW_TEXT = "开展职工数字技能培训，年内培训职工不少于一次。"


@pytest.fixture
def staff(app: Flask, db: Session, city: City) -> dict[str, Console]:
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "XJ", "xj", "xj-password-12")
    browsers = {}
    for name, password in (("city", "city-password-1"), ("xj", "xj-password-12")):
        browsers[name] = Console(app.test_client())
        browsers[name].login(name, password)
    return browsers


def upload(
    browser: Console, content: bytes, name: str = "村2027.xlsx", key: str = KEY, version: str = "", status=200
) -> str:
    form = {
        "csrf_token": browser.token,
        "key": key,
        "version": version,
        "file": (io.BytesIO(content), name),
    }
    response = browser.client.post("/console/rubrics/upload", data=form, content_type="multipart/form-data")
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    return response.get_data(as_text=True)


def confirm(browser: Console, page: str) -> str:
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None, page
    response = browser.client.post(
        "/console/rubrics/confirm", data={"csrf_token": browser.token, "token": token.group(1)}
    )
    assert response.status_code == 302, response.status_code
    return browser.flashes(response.headers["Location"])


def versions(db: Session) -> list[str]:
    db.expire_all()
    found = list(db.scalars(select(RubricVersion.version).order_by(RubricVersion.id)))
    db.rollback()
    return found


def download(browser: Console, version: str, key: str = KEY) -> bytes:
    response = browser.client.get(f"/console/rubrics/{key}/{version}.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    return response.get_data()


def changed(tmp_path: Path, text: str = NEW_TEXT, points: int = 1) -> bytes:
    """The shipped sheet with its last item reworded to ``text`` and item 1 worth ``points`` more."""
    rows = rows_of(SHIPPED)
    rows[0] = (rows[0][0], 1, rows[0][2], int(str(rows[0][3])) + points)
    rows[-1] = (rows[-1][0], rows[-1][1], text, rows[-1][3])
    path = tmp_path / "changed.xlsx"
    write_table(path, rows, "merged", total=SHIPPED.max_total + points)
    return path.read_bytes()


def test_the_city_uploads_a_revised_export_sees_the_differences_and_confirms(
    staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    city = staff["city"]
    page = city.get("/console/rubrics")
    assert "上传新版本" in page and 'enctype="multipart/form-data"' in page
    # The shipped version's download, read back unchanged, stores nothing.
    exported = download(city, SHIPPED.version)
    assert load_workbook(io.BytesIO(exported)).active["C2"].value == "基本要求"
    same = upload(city, exported, "村.xlsx")
    assert f"与当前版本 {SHIPPED.version} 相同，无需保存" in same and 'name="token"' not in same
    # The export, changed in Excel: the differences, then the confirmation stores it, audited.
    book = load_workbook(io.BytesIO(exported))
    last = book.active.cell(row=2 + SHIPPED.item_count, column=3)
    reworded = SHIPPED.item(SHIPPED.item_count).text + "每年至少走访一次。"
    last.value = reworded
    changed_file = io.BytesIO()
    book.save(changed_file)
    shown = upload(city, changed_file.getvalue(), "村2027.xlsx", version="2027.1")
    assert f"当前版本 {SHIPPED.version} → 新版本 2027.1" in shown and "共 1 处变化" in shown
    assert f"改写 第 {SHIPPED.item_count} 项" in shown and reworded in shown
    assert versions(db) == []  # shown, not stored
    assert "已保存村（社区）工会版本 2027.1" in confirm(city, shown)
    assert versions(db) == ["2027.1"]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.entity == "rubric_version"))
    assert entry is not None and entry.actor == "console:city" and entry.action == "import"
    db.rollback()
    listed = city.get(f"/console/rubrics/{KEY}")
    assert "管理台账号 city" in listed and "村2027.xlsx" in listed and "console:" not in listed
    # The new version downloads in the export's layout, with the new text.
    stored = load_workbook(io.BytesIO(download(city, "2027.1"))).active
    assert reworded in [cell.value for cell in stored["C"]]


def test_a_second_confirmation_stores_nothing_more(
    staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    city = staff["city"]
    city.get("/console/rubrics")
    shown = upload(city, changed(tmp_path))
    assert "已保存" in confirm(city, shown)
    assert "已经保存，无需再次确认" in confirm(city, shown)
    assert len(versions(db)) == 1


def test_a_confirmation_after_another_version_was_stored_stores_nothing(
    staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    city = staff["city"]
    city.get("/console/rubrics")
    first = upload(city, changed(tmp_path, "第一份修订。"), version="2027.1")
    second = upload(city, changed(tmp_path, "第二份修订。", points=2), version="2027.2")
    assert "已保存" in confirm(city, second)
    stale = confirm(city, first)
    assert "未保存" in stale and "已有人保存了版本 2027.2" in stale
    assert versions(db) == ["2027.2"]


def test_two_confirmations_at_once_store_one_version(
    app: Flask, staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    """Two people (two sessions of the city) confirm two sheets compared with the same version."""
    browsers = [staff["city"], Console(app.test_client())]
    browsers[1].login("city", "city-password-1")
    browsers[0].get("/console/rubrics")
    pages = [
        upload(browser, changed(tmp_path, f"第{n}份修订。"), version=f"2027.{n}")
        for n, browser in enumerate(browsers, start=1)
    ]
    said: list[str] = []

    def confirm_one(browser: Console, page: str) -> None:
        said.append(confirm(browser, page))

    threads = [threading.Thread(target=confirm_one, args=pair) for pair in zip(browsers, pages, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(versions(db)) == 1 and len(said) == 2
    assert sum("已有人保存了版本" in text for text in said) == 1


def test_every_problem_is_listed_with_its_row_and_nothing_is_stored(
    staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    city = staff["city"]
    city.get("/console/rubrics")
    rows = rows_of(SHIPPED)
    rows[4] = (rows[4][0], 5, "", rows[4][3])
    rows[9] = (rows[9][0], 10, rows[9][2], "两分")
    path = tmp_path / "broken.xlsx"
    write_table(path, rows, "merged", total=SHIPPED.max_total)
    page = upload(city, path.read_bytes(), "村有错.xlsx", status=400)
    assert "村有错.xlsx 有 2 处错误，一项也没有保存" in page
    assert "第 7 行：“基本要求”为空" in page and "第 12 行：“分值”应为正整数，实为“两分”" in page
    assert 'name="token"' not in page and versions(db) == []


def test_formulas_are_read_as_values_and_stored_text_stays_text(
    staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    city = staff["city"]
    city.get("/console/rubrics")
    rows = rows_of(SHIPPED)
    path = tmp_path / "formula.xlsx"
    write_table(path, rows, "merged", total=SHIPPED.max_total)
    book = load_workbook(path)
    book.active["C3"] = '=HYPERLINK("http://evil.example/","点我")'  # a formula: no value saved with it
    book.save(path)
    page = upload(city, path.read_bytes(), status=400)
    assert "第 3 行：“基本要求”为空" in page and versions(db) == []
    # A text that looks like a formula is a text: stored, shown escaped, downloaded as text.
    book = load_workbook(path)
    book.active["C3"] = "=1+1 开展活动"
    book.active["C3"].data_type = "s"
    book.save(path)
    shown = upload(city, path.read_bytes())
    assert "=1+1 开展活动" in shown
    confirm(city, shown)
    label = versions(db)[0]
    cell = load_workbook(io.BytesIO(download(city, label))).active["C3"]
    assert cell.value == "=1+1 开展活动" and cell.data_type == "s"


def test_foreign_damaged_and_huge_files_are_refused_in_chinese(
    staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    city = staff["city"]
    city.get("/console/rubrics")
    assert "只能上传 Excel 工作簿（.xlsx）" in upload(city, b"a,b,c\n", "标准.csv", status=400)
    assert "不是 Excel 工作簿" in upload(city, b"not a workbook at all", "标准.xlsx", status=400)
    long_name = "村（社区）工会年检考评标准" * 20 + ".xlsx"  # 785 bytes: longer than a file name may be
    assert "与当前版本的差异" in upload(city, changed(tmp_path), long_name)
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types><broken")
        archive.writestr("xl/workbook.xml", "<<<")
    assert "无法读取" in upload(city, damaged.getvalue(), "坏.xlsx", status=400)
    # Small on disk, huge unpacked: refused before it is read.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (30 * 1024 * 1024))
    assert len(bomb.getvalue()) < 100_000
    assert "解压后超过 20 MB" in upload(city, bomb.getvalue(), "大.xlsx", status=400)
    # A sheet spanning a million rows (one far cell) is refused, not walked.
    far = Workbook()
    far.active["A1"] = "内容"
    far.active["A1000000"] = "x"
    far_file = io.BytesIO()
    far.save(far_file)
    assert "第一张工作表过大" in upload(city, far_file.getvalue(), "远.xlsx", status=400)
    # Over the upload limit: the file is too large, said in Chinese.
    page = upload(city, b"PK" + b"\0" * (3 * 1024 * 1024), "巨大.xlsx", status=413)
    assert "文件过大" in page and "2 MB" in page
    assert "请选择要更新的考评标准表" in upload(city, changed(tmp_path), key="nothing", status=400)
    assert versions(db) == []


def test_a_county_sees_and_downloads_versions_but_cannot_upload(
    staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    county, city = staff["xj"], staff["city"]
    page = county.get("/console/rubrics")
    assert "/console/rubrics/upload" not in page and "新版本由市总工会账号上传" in page
    assert download(county, SHIPPED.version)
    upload(county, changed(tmp_path), status=403)
    # Nor can it confirm a city's upload it got hold of.
    city.get("/console/rubrics")
    shown = upload(city, changed(tmp_path))
    token = re.search(r'name="token" value="([^"]+)"', shown)
    assert token is not None
    response = county.client.post(
        "/console/rubrics/confirm", data={"csrf_token": county.token, "token": token.group(1)}
    )
    assert response.status_code == 403
    assert versions(db) == []
    county.get(f"/console/rubrics/{KEY}/1999.1.xlsx", status=404)


def test_an_upload_without_its_csrf_token_is_refused(
    staff: dict[str, Console], db: Session, tmp_path: Path
) -> None:
    city = staff["city"]
    response = city.client.post(
        "/console/rubrics/upload",
        data={"key": KEY, "file": (io.BytesIO(changed(tmp_path)), "村.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert versions(db) == []
    assert db.scalar(select(func.count()).select_from(RubricVersion)) == 0

"""The console's evidence photos (downloaded by the scheduler's tick from the fake WeChat API on
loopback, kept in the evidence directory, served from there), the audit log in words, the Chinese
error pages, the undelivered-notices card and the date fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.inspection import organisations
from chatbot.notify.evidence import FetchReport
from chatbot.store.evidence_files import EvidenceFileError, EvidenceFiles
from chatbot.store.models import Campaign, Evidence, Inspection, Organisation
from tests.conftest import Backend
from tests.console_helpers import JPEG, WeChatConsole, wechat_console_for
from tests.helpers import assess, self_check, setup_county
from tests.test_console import Console

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def wechat_console(backend: Backend, tmp_path: Path) -> Iterator[WeChatConsole]:
    with wechat_console_for(backend, tmp_path) as console:
        yield console


def _two_counties(db: Session, unions: int = 1) -> dict[str, str]:
    codes = setup_county(db, unions)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("X01", "西吉一社区工会", "village", "XJ"))
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "YZ", "yz", "yz-password-12")
        create_user(db, "XJ", "xj", "xj-password-12")
    return codes


def _inspection_id(db: Session, code: str = "U01") -> int:
    found = db.scalar(select(Inspection.id).join(Organisation).where(Organisation.code == code))
    db.rollback()
    assert found is not None
    return found


def _evidence_ids(db: Session) -> list[int]:
    ids = list(db.scalars(select(Evidence.id).order_by(Evidence.id)))
    db.rollback()
    return ids


def _signed_in(w: WeChatConsole, username: str, password: str) -> Console:
    console = Console(w.app.test_client())
    console.login(username, password)
    return console


def test_photos_are_downloaded_by_the_tick_kept_and_served_from_the_evidence_directory(
    wechat_console: WeChatConsole, user, db: Session
) -> None:
    w = wechat_console
    codes = _two_counties(db)
    w.media("MEDIA-JPEG", JPEG)  # MEDIA-PNG is unknown to the fake: it draws a PNG for it
    chair = user("chair")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    chair.photo("MEDIA-JPEG")  # evidence of item 1
    chair.say("满分")
    chair.photo("MEDIA-PNG")  # evidence of item 2
    jpeg_id, png_id = _evidence_ids(db)
    inspection_id = _inspection_id(db)
    assert w.media_calls("MEDIA-JPEG") == 0  # nothing is downloaded on the webhook's path

    county = _signed_in(w, "yz", "yz-password-12")
    page = county.get(f"/console/inspections/{inspection_id}")
    assert page.count("照片正在从微信取回") == 2 and "/console/media/" not in page  # no broken image
    missing = county.client.get(f"/console/media/{jpeg_id}")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)

    assert w.tick().evidence == FetchReport(stored=2)
    page = county.get(f"/console/inspections/{inspection_id}")
    assert f'src="/console/media/{jpeg_id}"' in page and f'src="/console/media/{png_id}"' in page
    assert "正在从微信取回" not in page and 'alt="第 1 项佐证照片"' in page
    photo = county.client.get(f"/console/media/{jpeg_id}")
    assert photo.status_code == 200 and photo.content_type == "image/jpeg" and photo.data == JPEG
    drawn = county.client.get(f"/console/media/{png_id}")
    assert drawn.status_code == 200 and drawn.content_type == "image/png" and drawn.data.startswith(PNG)
    kept = sorted(p for p in Path(w.config.evidence_path).rglob("*") if p.is_file())
    assert sorted(p.suffix for p in kept) == [".jpg", ".png"] and JPEG in [p.read_bytes() for p in kept]

    # Served from the directory: the console never asks WeChat; a later tick downloads nothing again.
    assert w.media_calls("MEDIA-JPEG") == 1
    assert w.tick().evidence == FetchReport()
    county.client.get(f"/console/media/{jpeg_id}")
    assert w.media_calls("MEDIA-JPEG") == 1

    other = _signed_in(w, "xj", "xj-password-12")  # another county: neither the page nor the photo
    assert other.client.get(f"/console/media/{jpeg_id}").status_code == 404
    assert other.client.get(f"/console/inspections/{inspection_id}").status_code == 404
    city = _signed_in(w, "city", "city-password-1")
    assert city.client.get(f"/console/media/{png_id}").status_code == 200


def test_a_photo_that_cannot_be_kept_says_why_and_a_transient_failure_is_retried(
    wechat_console: WeChatConsole, user, db: Session
) -> None:
    w = wechat_console
    codes = _two_counties(db)
    w.media("GONE", errcode=40007)  # WeChat no longer keeps it
    w.media("PAGE", b"<html>error</html>", kind="image/jpeg")  # says image, is not one
    w.media("HUGE", JPEG[:12] + bytes(1024 * 1024))  # over EVIDENCE_MAX_MB=1
    w.media("BUSY", errcode=-1)  # WeChat busy: tried again later
    w.media("LATE", errcode=-1)  # busy for three days
    chair = user("chair")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    for media_id in ("GONE", "PAGE", "HUGE", "BUSY", "LATE"):
        chair.photo(media_id)
    gone, page_id, huge, busy, late = _evidence_ids(db)
    inspection_id = _inspection_id(db)
    now = datetime.now(UTC)

    assert w.tick(now).evidence == FetchReport(stored=0, retried=2, failed=3)
    county = _signed_in(w, "yz", "yz-password-12")
    page = county.get(f"/console/inspections/{inspection_id}")
    assert "照片未能取回：微信已不再保存这张照片（上传后只保存 3 天），未能取回。" in page
    assert "照片未能取回：下载的文件不是图片（JPEG、PNG、GIF、WebP 或 BMP），未保存。" in page
    assert "照片未能取回：照片超过 1 MB，未保存。" in page
    assert page.count("照片暂未取回（微信返回错误 -1），系统将自动重试。") == 2
    assert "/console/media/" not in page
    assert not list(Path(w.config.evidence_path).rglob("*.jpg"))

    w.media("BUSY", JPEG)
    assert w.tick(now + timedelta(seconds=30)).evidence == FetchReport()  # not due yet: backoff
    assert w.tick(now + timedelta(minutes=2)).evidence == FetchReport(stored=1, retried=1)
    assert w.tick(now + timedelta(days=3)).evidence == FetchReport(failed=1)
    page = county.get(f"/console/inspections/{inspection_id}")
    assert f'src="/console/media/{busy}"' in page
    assert "照片未能取回：在微信保存的 3 天内未能下载这张照片（微信返回错误 -1），未能取回。" in page
    for failed in (gone, page_id, huge, late):
        assert county.client.get(f"/console/media/{failed}").status_code == 404
    assert w.media_calls("GONE") == 0  # errors are recorded as failed calls, never retried
    assert sum(1 for c in w.fake.state.calls if c.get("body", {}).get("media_id") == "GONE") == 1


def test_a_photo_sent_before_the_api_was_configured_and_never_fetched_says_it_expired(
    wechat_console: WeChatConsole, user, db: Session
) -> None:
    w = wechat_console
    codes = _two_counties(db)
    chair = user("chair")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    chair.photo("OLD")
    with db.begin():
        db.execute(
            Evidence.__table__.update().values(created_at=datetime.now(UTC) - timedelta(days=4))  # type: ignore[attr-defined]
        )
    county = _signed_in(w, "yz", "yz-password-12")
    assert "照片未能取回：超过微信保存期限（3 天）仍未下载。" in county.get(
        f"/console/inspections/{_inspection_id(db)}"
    )


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (JPEG, "image/jpeg"),
        (PNG + bytes(20), "image/png"),
        (b"GIF89a" + bytes(20), "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(20), "image/webp"),
        (b"BM" + bytes(40), "image/bmp"),
    ],
)
def test_the_evidence_directory_keeps_photos_by_content_and_only_photos(
    tmp_path: Path, data: bytes, kind: str
) -> None:
    files = EvidenceFiles(tmp_path / "evidence", 1024 * 1024)
    stored = files.save(data)
    assert stored.content_type == kind and files.save(data) == stored  # the same photo is kept once
    assert files.locate(stored.path) is not None and files.locate(stored.path).read_bytes() == data  # type: ignore[union-attr]
    assert files.locate("../../etc/passwd") is None and files.locate("/etc/passwd") is None
    with pytest.raises(EvidenceFileError, match="不是图片"):
        files.save(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert len([p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]) == 1  # no part files left


def test_the_audit_log_reads_as_words(wechat_console: WeChatConsole, user, db: Session) -> None:
    w = wechat_console
    codes = _two_counties(db)
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    chair = user("chair1")
    self_check(chair, codes["chair1"], {3: "2"})
    inspection_id = _inspection_id(db)
    city = _signed_in(w, "city", "city-password-1")
    city.post(f"/console/inspections/{inspection_id}/return", {"reason": "第3项缺少佐证"})
    chair.say("自评")
    chair.say("修改 3")
    chair.say("1")
    chair.say("提交")
    assess(evaluator, "U01", {5: "3"})
    city.post(f"/console/inspections/{inspection_id}/override", {"stars": "4", "reason": "市总工会认定"})

    page = city.get(f"/console/inspections/{inspection_id}")
    log = page[page.index("办理记录") :]
    rows = re.findall(r"<tr><td class=\"when\">(.*?)</tr>", log, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert all(re.match(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} ", line) for line in text), text
    joined = "\n".join(text)
    for expected in (
        "第1社区工会 工会主席 状态变更 状态 未开始 → 自评中",
        "第1社区工会 工会主席 状态变更 状态 自评中 → 自评已提交",
        "固原市总工会 管理员 city 状态变更 状态 自评已提交 → 已退回修改 第3项缺少佐证",
        "第1社区工会 工会主席 修改自评得分 第 3 项 自评 2 → 1 分",
        "原州区总工会 考评员 状态变更 状态 考评中 → 已评定",
        "固原市总工会 管理员 city 调整星级 星级",
    ):
        assert expected in joined, (expected, joined)
    assert "wechat:" not in log and "console:" not in log and "{" not in log and "&#34;" not in log


def test_error_pages_are_in_chinese(wechat_console: WeChatConsole, db: Session) -> None:
    w = wechat_console

    @w.app.get("/console/_broken")
    def broken() -> str:  # a page that fails: the 500 page, not a traceback
        raise RuntimeError("boom")

    _two_counties(db)
    anonymous = w.app.test_client()
    missing = anonymous.get("/console/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    assert missing.content_type.startswith("text/html")
    county = _signed_in(w, "xj", "xj-password-12")
    other = county.client.get(f"/console/inspections/{_inspection_id(db)}")  # YZ's union
    assert other.status_code == 404 and "不在您的管辖范围内" in other.get_data(as_text=True)
    refused = county.post("/console/campaigns", {"year": "2027"}, status=403)
    assert "无权访问" in refused and "仅限市总工会账号" in refused
    wrong = county.client.get("/console/logout")
    assert wrong.status_code == 405 and "操作方式不正确" in wrong.get_data(as_text=True)
    assert "POST" in wrong.headers["Allow"]
    failed = county.client.get("/console/_broken")
    assert failed.status_code == 500 and "系统出错" in failed.get_data(as_text=True)
    assert "Traceback" not in failed.get_data(as_text=True) and "boom" not in failed.get_data(as_text=True)
    webhook = anonymous.put("/wechat")
    assert webhook.status_code == 405 and webhook.content_type.startswith("text/plain")


def test_the_undelivered_notices_card_names_the_person_and_organisation(
    wechat_console: WeChatConsole, user, db: Session
) -> None:
    w = wechat_console
    codes = _two_counties(db)
    evaluator = user("o-evaluator-unsubscribed")
    evaluator.say(f"绑定 {codes['evaluator']}")
    w.fake.state.fail_openid["o-evaluator-unsubscribed"] = 43004  # the evaluator left the account
    self_check(user("chair1"), codes["chair1"])  # tells the evaluator: a notice that fails
    w.tick()
    city = _signed_in(w, "city", "city-password-1")
    dashboard = city.get("/console/")
    card = dashboard[dashboard.index("未送达的通知") :]
    assert "原州区总工会 考评员" in card and "发送失败" in card and "用户未关注公众号" in card
    assert "subscribed" not in card and "o-evaluator" not in card  # no openid, whole or clipped


def test_date_fields_are_typed_as_year_month_day(wechat_console: WeChatConsole, db: Session) -> None:
    w = wechat_console
    _two_counties(db)
    city = _signed_in(w, "city", "city-password-1")
    form = city.get("/console/campaigns")
    assert 'type="date"' not in form and 'placeholder="如 2026-12-20"' in form and "按 年-月-日 填写" in form
    city.post(
        "/console/campaigns", {"year": "2026", "self_check_due": "2026/12/20", "review_due": "2027年1月5日"}
    )
    assert "年度年检已开启" in city.flashes("/console/campaigns")
    campaign = db.scalar(select(Campaign).where(Campaign.year == 2026))
    assert campaign is not None and (str(campaign.self_check_due), str(campaign.review_due)) == (
        "2026-12-20",
        "2027-01-05",
    )
    db.rollback()
    city.post("/console/campaigns", {"year": "2026", "self_check_due": "12/20/2026"})
    assert "日期应写作 年-月-日，如 2026-12-20，而不是“12/20/2026”" in city.flashes("/console/campaigns")

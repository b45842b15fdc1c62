"""Evidence photos as the console shows them: the picture when it is kept, else why not, in Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.notify import texts
from chatbot.notify.evidence import FAILED, MEDIA_KEPT, STORED
from chatbot.store.evidence_files import EvidenceFiles
from chatbot.store.models import Evidence
from chatbot.timeutil import as_utc


@dataclass(frozen=True)
class Photo:
    id: int
    item_no: int
    shown: bool  # the picture can be shown (its file is kept)
    note: str  # otherwise: why not, for the reader


def files() -> EvidenceFiles:
    config = current_app.extensions["nianjian.config"]
    return EvidenceFiles(config.evidence_path, config.evidence_max_bytes)


def stored_file(evidence: Evidence, store: EvidenceFiles) -> Path | None:
    """The photo's file when it was downloaded and is still there."""
    if evidence.file_status != STORED or not evidence.file_path:
        return None
    return store.locate(evidence.file_path)


#: A photo waiting while nothing can fetch it: no WeChat API is configured.
NO_API = (
    "照片无法从微信取回：未配置微信接口（WECHAT_APP_ID 和 WECHAT_APP_SECRET），系统不会下载照片。"
    "配置后由定时任务自动下载；试用演示时可运行 nianjian serve --fake-wechat，由模拟微信接口提供照片。"
)


def of_inspection(session: Session, inspection_id: int, now: datetime) -> list[Photo]:
    """The inspection's photos, in the order they were sent."""
    store = files()
    api_configured = current_app.extensions["nianjian.config"].api_configured
    return [
        _photo(row, store, now, api_configured)
        for row in session.scalars(
            select(Evidence).where(Evidence.inspection_id == inspection_id).order_by(Evidence.id)
        )
    ]


def _photo(row: Evidence, store: EvidenceFiles, now: datetime, api_configured: bool) -> Photo:
    if row.file_status == STORED:
        if stored_file(row, store) is not None:
            return Photo(row.id, row.item_no, True, "")
        return Photo(row.id, row.item_no, False, "照片文件已不在佐证目录中，请联系系统管理员恢复备份。")
    if row.file_status == FAILED:
        return Photo(row.id, row.item_no, False, f"照片未能取回：{row.fetch_error or '原因未知'}")
    if as_utc(row.created_at) + MEDIA_KEPT <= now:
        return Photo(row.id, row.item_no, False, texts.PHOTO_EXPIRED)
    if not api_configured:
        return Photo(row.id, row.item_no, False, NO_API)
    if row.fetch_error:
        return Photo(row.id, row.item_no, False, f"照片暂未取回（{row.fetch_error}），系统将自动重试。")
    return Photo(row.id, row.item_no, False, "照片正在从微信取回，请稍后刷新查看。")

"""Evidence photos (佐证照片) downloaded from WeChat while it still keeps them, by the scheduler's tick.

WeChat keeps an uploaded image's media for 3 days, and the webhook must answer within 5 seconds, so a
photo is only recorded when it arrives (an ``evidence`` row, ``pending``, in the turn's transaction)
and downloaded here, off the webhook's path: every minute the leader's tick (and `nianjian tick`)
claims the pending rows, fetches each through the API client's ``get_media``, checks it (size cap,
image by its magic bytes) and keeps it in the evidence directory (chatbot.store.evidence_files).

A row ends ``stored``, or ``failed`` with the reason in Chinese (the console shows it): WeChat no
longer has the media (40007), the file is too large or not an image, or every attempt failed until the
3 days ran out. Transient errors (network, 5xx, -1, a used-up daily quota) are retried with backoff.
Several processes may run this at once: each claims its batch (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) and marks it ``fetching`` under a lease; a process that dies leaves rows whose lease runs
out and which the next tick takes again — a download is idempotent (files are named by their content).
"""

from __future__ import annotations

import logging
import time as monotonic_time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from chatbot.config import Config
from chatbot.notify import delivery, texts
from chatbot.notify.delivery import next_midnight
from chatbot.store.evidence_files import EvidenceFileError, EvidenceFiles, StoredFile, megabytes
from chatbot.store.models import Evidence
from chatbot.timeutil import as_utc
from chatbot.wechat.api import DAILY_QUOTA, MEDIA_KEPT_DAYS, ApiClient, ApiError, MediaTooLarge

log = logging.getLogger(__name__)

#: How long WeChat keeps a temporary media file after its upload.
MEDIA_KEPT = timedelta(days=MEDIA_KEPT_DAYS)
#: A download is retried as a notice's delivery is, then once more half a day later.
BACKOFF = (*delivery.BACKOFF, timedelta(hours=12))
#: As long as a notice's claim (``delivery.CLAIM_LEASE``).
CLAIM_LEASE = delivery.CLAIM_LEASE
BATCH = 20
#: media/get errors that say the media is not there to fetch (invalid media_id, missing id, bad type).
MEDIA_GONE = frozenset({40007, 41006, 40004})

PENDING, FETCHING, STORED, FAILED = "pending", "fetching", "stored", "failed"


@dataclass
class FetchReport:
    stored: int = 0
    retried: int = 0
    failed: int = 0

    def summary(self) -> str:
        return f"佐证照片：保存 {self.stored} 张，稍后重试 {self.retried} 张，未能取回 {self.failed} 张"


@dataclass(frozen=True)
class Claimed:
    id: int
    media_id: str
    created_at: datetime
    attempts: int


def fetch_due(
    sessions: sessionmaker[Session],
    client: ApiClient,
    config: Config,
    now: datetime,
    budget: float = 10.0,
) -> FetchReport:
    """Download the photos due at ``now``, batch after batch for up to ``budget`` seconds."""
    files = EvidenceFiles(config.evidence_path, config.evidence_max_bytes)
    report = FetchReport()
    stop = monotonic_time.monotonic() + budget
    while monotonic_time.monotonic() < stop:
        batch = _claim(sessions, now)
        if not batch:
            break
        for row in batch:
            _fetch(sessions, client, files, row, now, report)
    return report


def _claim(sessions: sessionmaker[Session], now: datetime) -> list[Claimed]:
    """Pending rows due at ``now`` (and rows whose claim ran out), marked ``fetching`` for this process."""
    with sessions.begin() as session:
        rows = session.execute(
            select(Evidence.id, Evidence.media_id, Evidence.created_at, Evidence.fetch_attempts)
            .where(
                or_(
                    and_(
                        Evidence.file_status == PENDING,
                        or_(Evidence.next_fetch_at.is_(None), Evidence.next_fetch_at <= now),
                    ),
                    and_(Evidence.file_status == FETCHING, Evidence.claimed_until < now),
                )
            )
            .order_by(Evidence.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if rows:
            session.execute(
                update(Evidence)
                .where(Evidence.id.in_([row.id for row in rows]))
                .values(file_status=FETCHING, claimed_until=now + CLAIM_LEASE)
                .execution_options(synchronize_session=False)
            )
    return [Claimed(row.id, row.media_id, as_utc(row.created_at), row.fetch_attempts) for row in rows]


def _fetch(
    sessions: sessionmaker[Session],
    client: ApiClient,
    files: EvidenceFiles,
    row: Claimed,
    now: datetime,
    report: FetchReport,
) -> None:
    """One download, and its outcome recorded in a transaction of its own."""
    try:
        data, _declared = client.get_media(row.media_id, files.max_bytes)
        stored = files.save(data)  # the declared type is not trusted: the bytes decide
    except MediaTooLarge:
        _finish(sessions, row, FAILED, now, f"照片超过 {megabytes(files.max_bytes)}，未保存。")
        report.failed += 1
    except EvidenceFileError as error:
        _finish(sessions, row, FAILED, now, str(error))
        report.failed += 1
    except ApiError as error:
        if error.errcode in MEDIA_GONE:
            _finish(sessions, row, FAILED, now, texts.PHOTO_GONE)
            report.failed += 1
        elif _retry(sessions, row, now, error):
            report.retried += 1
        else:
            report.failed += 1
    except OSError as error:  # the evidence directory cannot be written: an operator's problem, retried
        log.error("evidence %s: cannot write %s: %s", row.id, files.root, error)
        if _retry(sessions, row, now, ApiError(None, f"保存失败：{error.strerror or error}")):
            report.retried += 1
        else:
            report.failed += 1
    else:
        _finish(sessions, row, STORED, now, None, stored)
        report.stored += 1


def _retry(sessions: sessionmaker[Session], row: Claimed, now: datetime, error: ApiError) -> bool:
    """Try again later while WeChat still keeps the media; False when that time has run out."""
    attempts = row.attempts + 1
    if error.errcode == DAILY_QUOTA:
        later = next_midnight(now)
    else:
        later = now + BACKOFF[min(attempts, len(BACKOFF)) - 1]
    log.warning("evidence %s: media/get failed (%s), attempt %s", row.id, error, attempts)
    if later >= row.created_at + MEDIA_KEPT:
        _finish(sessions, row, FAILED, now, texts.photo_not_fetched(_describe(error)))
        return False
    with sessions.begin() as session:
        session.execute(
            update(Evidence)
            .where(Evidence.id == row.id)
            .values(
                file_status=PENDING,
                fetch_attempts=attempts,
                next_fetch_at=later,
                claimed_until=None,
                fetch_error=_describe(error),
            )
        )
    return True


def _describe(error: ApiError) -> str:
    if error.errcode is None:
        return "网络或微信服务器无响应"
    if error.errcode == DAILY_QUOTA:
        return "微信接口今日调用次数已用完"
    return f"微信返回错误 {error.errcode}"


def _finish(
    sessions: sessionmaker[Session],
    row: Claimed,
    status: str,
    now: datetime,
    error: str | None,
    stored: StoredFile | None = None,
) -> None:
    values: dict[str, object] = {
        "file_status": status,
        "fetch_attempts": row.attempts + 1,
        "claimed_until": None,
        "next_fetch_at": None,
        "fetch_error": error,
    }
    if stored is not None:
        values |= {
            "file_path": stored.path,
            "content_type": stored.content_type,
            "file_size": stored.size,
            "sha256": stored.sha256,
            "stored_at": now,
        }
    with sessions.begin() as session:
        session.execute(update(Evidence).where(Evidence.id == row.id).values(**values))

"""The APScheduler jobs: every minute, the leader runs what is due (chatbot.tick.run_due)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from chatbot.config import Config
from chatbot.notify.tick import TickReport, run_due
from chatbot.store.engine import make_engine, session_factory
from chatbot.wechat.api import make_client
from scheduler.leader import Leadership, make_leadership

log = logging.getLogger(__name__)

TICK_SECONDS = 60
TIMEZONE = "Asia/Shanghai"


def tick_line(report: TickReport) -> str:
    """One run's work as staff read it in the serve terminal."""
    delivery = report.delivery
    parts = [f"新增通知 {report.queued} 条"]
    if report.finalised:
        parts.append(f"结果确定 {len(report.finalised)} 个（{'、'.join(report.finalised)}）")
    if delivery is not None:
        parts.append(f"发出通知 {delivery.sent} 条")
        if delivery.retried or delivery.failed or delivery.undeliverable:
            parts.append(
                f"待重试 {delivery.retried} 条，失败 {delivery.failed} 条，无法送达 {delivery.undeliverable} 条"
            )
    return "定时任务：" + "，".join(parts) + "。"


class Runner:
    """Runs what is due, but only while this process leads."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.engine = make_engine(config.database_url)
        self.sessions = session_factory(self.engine)
        self.client = make_client(config, self.sessions) if config.api_configured else None
        self.leadership: Leadership = make_leadership(config, self.engine)

    def tick(self) -> None:
        if not self.leadership.acquire():
            return
        report = run_due(self.sessions, self.config, datetime.now(UTC), self.client)
        if report.queued or report.finalised or (report.delivery and report.delivery.sent):
            log.info(tick_line(report))

    def schedule(self, scheduler: BaseScheduler) -> BaseScheduler:
        scheduler.add_job(
            self._safe_tick,
            "interval",
            seconds=TICK_SECONDS,
            id="tick",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        return scheduler

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:
            log.exception("定时任务本次运行失败，一分钟后重试")


def run_forever(config: Config) -> None:
    """`nianjian scheduler`: the scheduler alone, in the foreground."""
    runner = Runner(config)
    runner.schedule(BlockingScheduler(timezone=TIMEZONE)).start()

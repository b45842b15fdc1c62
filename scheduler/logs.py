"""How the scheduler's log lines read in the terminal of `nianjian serve`: in Chinese for the staff who
watch it, each stamped with the time in Asia/Shanghai; APScheduler's own per-minute lines left out."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEVELS = {"DEBUG": "调试", "INFO": "信息", "WARNING": "警告", "ERROR": "错误", "CRITICAL": "严重错误"}


class StaffFormatter(logging.Formatter):
    """``2026-12-06 06:01:00 信息 定时任务：…``: Shanghai time, the level in Chinese."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        line = f"{when} {LEVELS.get(record.levelname, record.levelname)} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure() -> None:
    """The root logger to standard error with ``StaffFormatter``; APScheduler's routine INFO lines
    ("Running job …", "executed successfully") are not shown, its warnings are."""
    handler = logging.StreamHandler()
    handler.setFormatter(StaffFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

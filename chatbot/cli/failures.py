"""What the command line says when the database or Redis cannot be used: in Chinese, what is wrong
and what to do. The drivers' exceptions are English; they go to the log at INFO (below the command line's
WARNING, so a clerk does not see them; with their traceback for the database), never into the message."""

from __future__ import annotations

import logging

import click
import redis
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from chatbot.store.engine import is_unavailable
from chatbot.store.state import RedisProblem

log = logging.getLogger(__name__)

#: A fragment of a driver's (lower-cased) message, and what it means in Chinese — the first that
#: matches is said.
DATABASE_REASONS: tuple[tuple[str, str], ...] = (
    ("connection refused", "连接被拒绝，数据库服务可能没有启动，或地址、端口不对"),
    ("password authentication failed", "用户名或密码不对"),
    ("no password supplied", "需要密码，但 DATABASE_URL 中没有给出"),
    ("does not exist", "数据库或用户不存在，请先建立数据库"),
    ("timeout", "连接超时，数据库服务器没有响应"),
    ("timed out", "连接超时，数据库服务器没有响应"),
    ("could not translate host name", "找不到这个主机名"),
    ("name or service not known", "找不到这个主机名"),
    ("database is locked", "数据库文件正被其他进程锁定"),
    ("unable to open database file", "无法打开数据库文件，请检查路径和权限"),
    ("disk i/o error", "读写数据库文件出错"),
    ("database is full", "磁盘已满"),
    ("server closed the connection", "数据库服务器断开了连接"),
)

#: Redis's errors by class, most specific first.
REDIS_REASONS: tuple[tuple[type[redis.RedisError], str], ...] = (
    (redis.AuthenticationError, "密码不对，请检查 REDIS_URL 中的密码"),
    (redis.TimeoutError, "连接超时，Redis 没有响应"),
    (redis.ConnectionError, "连接被拒绝，Redis 可能没有启动，或地址、端口不对"),
    (redis.ResponseError, "Redis 拒绝了请求"),
)


def redis_unreachable(problem: RedisProblem) -> str:
    """Where Redis was looked for and why it cannot be used, in Chinese; the error is logged."""
    log.info("Redis at %s (db %s) unusable: %r", problem.place, problem.db, problem.error)
    reason = next(
        (words for kind, words in REDIS_REASONS if isinstance(problem.error, kind)), "无法使用 Redis"
    )
    return f"{problem.place}（数据库 {problem.db}）：{reason}"


def database_place(url: str) -> str:
    """The database in words without its password: "数据库 nianjian（127.0.0.1:5432）", or the file."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "所配置的数据库"
    if parsed.get_backend_name() == "sqlite":
        return f"数据库文件 {parsed.database or '（内存）'}"
    return f"数据库 {parsed.database or ''}（{parsed.host or 'localhost'}:{parsed.port or 5432}）"


def database_reason(error: BaseException) -> str:
    """Why the database cannot be used, in Chinese, from the driver's message."""
    text = str(getattr(error, "orig", None) or error).lower()
    return next((words for fragment, words in DATABASE_REASONS if fragment in text), "无法连接")


def database_unreachable(error: BaseException, url: str) -> click.ClickException | None:
    """The CLI's error for a database that cannot be reached or used now (None for any other error,
    which is a fault of the program and keeps its traceback); the driver's error is logged."""
    if not is_unavailable(error):
        return None
    log.info("database unusable: %s", error, exc_info=error)
    return click.ClickException(
        f"无法使用{database_place(url)}：{database_reason(error)}。"
        "请确认数据库已启动、DATABASE_URL 正确，然后再试。"
    )

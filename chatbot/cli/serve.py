"""``nianjian serve``: the main job — the webhook under gunicorn, with the scheduler as a process of
its own beside it; ``nianjian scheduler``: the scheduler alone. The scheduler package depends on
chatbot, never the reverse: it is started as ``python -m scheduler``, not imported."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from chatbot.cli.common import load_config, port_option
from chatbot.cli.failures import redis_unreachable
from chatbot.cli.ports import FAKE_WECHAT_PORT, bind_problem
from chatbot.store.engine import make_engine, migrate
from chatbot.store.state import redis_problem


@dataclass(frozen=True)
class Companion:
    """A process to run beside the webhook for as long as it runs; one that serves on a loopback port
    is waited for before the next companion starts (the scheduler calls the fake WeChat API at once)."""

    command: Sequence[str]
    listens_on: int | None = None


#: Seconds a companion has to start listening on its port.
COMPANION_START_SECONDS = 15.0
#: The scheduler process (scheduler/__main__.py): reminders, publication periods and deliveries.
SCHEDULER_PROCESS = Companion((sys.executable, "-m", "scheduler"))
#: The AppID and AppSecret the service uses with the fake when none is configured.
FAKE_APP_ID, FAKE_APP_SECRET = "wxfakedemo0000000", "fake-app-secret"


def fake_wechat_companion(port: int) -> Companion:
    """The fake WeChat API (`nianjian fake-wechat`) as a companion on loopback, and the environment
    the webhook and the scheduler inherit pointed at it: photos sent in `nianjian chat` are then
    downloaded by the scheduler and shown in the console, and notices are delivered to the fake.
    A configured AppID and AppSecret are kept (the fake accepts any)."""
    taken = bind_problem("127.0.0.1", port)
    if taken:
        raise click.ClickException(
            f"模拟微信接口无法启动：{taken}请用 --fake-wechat-port 换一个端口，"
            f"如 nianjian serve --fake-wechat --fake-wechat-port {port + 1}。"
        )
    os.environ["WECHAT_API_BASE_URL"] = f"http://127.0.0.1:{port}/cgi-bin/"
    os.environ.setdefault("WECHAT_APP_ID", FAKE_APP_ID)
    os.environ["WECHAT_APP_SECRET"] = os.environ.get("WECHAT_APP_SECRET") or FAKE_APP_SECRET
    return Companion((sys.executable, "-m", "chatbot.cli", "fake-wechat", "--port", str(port)), port)


def _wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    """Until something listens on the loopback port, the process ends or the start time runs out."""
    stop = time.monotonic() + COMPANION_START_SECONDS
    while process.poll() is None and time.monotonic() < stop:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from chatbot.app import create_app

        return create_app(run_migrations=False)


def check_port(host: str, port: int) -> None:
    """Stop with the advice for another port when the webhook's port is taken: said before gunicorn
    retries the bind and prints its own English lines, and before any companion is announced."""
    taken = bind_problem(host, port)
    if taken:
        other = port + 1
        raise click.ClickException(
            f"{taken}请用 --port 换一个端口，如 nianjian serve --port {other}；"
            f"演示和模拟器相应地用 nianjian demo --port {other} 和 "
            f"nianjian chat --url http://127.0.0.1:{other}/wechat。"
        )


def run_server(
    host: str, port: int, workers: int | None, threads: int | None, companions: Sequence[Companion] = ()
) -> None:
    """Migrate, then serve the webhook under gunicorn until stopped, with its companion processes."""
    config = load_config()
    check_port(host, port)
    engine = make_engine(config.database_url)
    migrate(engine)
    where = engine.url.render_as_string(hide_password=True)
    engine.dispose()
    if workers is None:
        workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))) if config.redis_url else 1
    if threads is None:
        threads = 1 if config.redis_url else 8
    if workers > 1 and not config.redis_url:
        raise click.ClickException(
            "多个工作进程需要设置 REDIS_URL（对话状态和用户锁保存在 Redis 中，供各进程共享）。"
        )
    problem = redis_problem(config.redis_url) if config.redis_url else None
    unreachable = redis_unreachable(problem) if problem else None
    if unreachable and workers > 1:
        raise click.ClickException(
            f"无法连接 Redis，{unreachable}。多个工作进程靠 Redis 共享对话状态和用户锁，"
            "请先启动 Redis（或改正 REDIS_URL），或用 --workers 1 运行。"
        )
    if unreachable:
        click.echo(
            f"警告：暂时无法连接 Redis，{unreachable}。Redis 恢复之前，每条消息都会回复致歉。", err=True
        )
    click.echo(
        f"年检助手已启动，端口 {port}：公众号接口 http://{host}:{port}/wechat，管理台 http://{host}:{port}/console/\n"
        f"数据库 {where}；对话状态 {'Redis' if config.redis_url else '进程内'}；工作进程 {workers} 个，每个 {threads} 个线程。按 Ctrl-C 停止。"
    )
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # One thread: gunicorn's sync worker, the fastest measured with Redis (docs/performance.md);
        # several: gthread, which one process without Redis needs to serve requests side by side.
        "worker_class": "sync" if threads == 1 else "gthread",
        "timeout": 30,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",  # gunicorn's English start-up lines left out; our Chinese line says it
    }
    running: list[subprocess.Popen[bytes]] = []

    def start_companions(_server: object) -> None:
        for companion in companions:
            running.append(subprocess.Popen(list(companion.command)))
            if companion.listens_on is not None:
                _wait_listening(running[-1], companion.listens_on)

    def stop_companions(_server: object) -> None:
        for process in running:
            process.terminate()
        for process in running:
            process.wait(timeout=10)

    options["when_ready"] = start_companions
    options["on_exit"] = stop_companions
    _Gunicorn(options).run()


SERVE_OPTIONS = (
    click.option("--host", default="127.0.0.1", show_default=True, help="监听的地址。"),
    click.option("--port", default=8080, show_default=True, type=int, help="监听的端口。"),
    click.option(
        "--workers",
        type=int,
        help="工作进程数；没有 Redis 时默认 1，否则为 WEB_CONCURRENCY 或 CPU 核数的 2 倍。",
    ),
    click.option(
        "--threads",
        type=click.IntRange(1, 64),
        help="每个进程的线程数；有 Redis 时默认 1（sync 工作进程），没有时默认 8（一个 gthread 工作进程）。",
    ),
)


def serve_options(function: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(SERVE_OPTIONS):
        function = option(function)
    return function


@click.command("serve")
@serve_options
@click.option("--no-scheduler", is_flag=True, help="不在接口服务旁运行提醒和通知发送。")
@click.option(
    "--fake-wechat",
    is_flag=True,
    help="同时运行模拟微信接口（演示用）：照片由它提供、由定时任务下载后在管理台显示，通知也发给它。",
)
@port_option("--fake-wechat-port", FAKE_WECHAT_PORT, "模拟微信接口的端口（与 --fake-wechat 一起使用）。")
def serve(
    host: str,
    port: int,
    workers: int | None,
    threads: int | None,
    no_scheduler: bool,
    fake_wechat: bool,
    fake_wechat_port: int,
) -> None:
    """在 /wechat 提供公众号接口服务，并运行定时任务（先建立或迁移数据库）。"""
    if fake_wechat and no_scheduler:
        raise click.UsageError("--fake-wechat 需要定时任务下载照片，不能与 --no-scheduler 一起使用。")
    check_port(host, port)  # the webhook's port first: the fake's is announced only when both are free
    companions = [fake_wechat_companion(fake_wechat_port)] if fake_wechat else []
    if not no_scheduler:
        companions.append(SCHEDULER_PROCESS)
    if fake_wechat:
        click.echo(
            f"模拟微信接口：http://127.0.0.1:{fake_wechat_port}/cgi-bin/（演示用：nianjian chat 里 /photo 发送的照片"
            "约一分钟内由定时任务取回，在管理台的年检详情页显示；通知也发给模拟接口，约一分钟内在 nianjian chat 中显示）。"
        )
    run_server(host, port, workers, threads, companions)


@click.command("scheduler")
def scheduler_command() -> None:
    """单独运行定时任务：每分钟由主进程发送提醒、发送通知。"""
    config = load_config()  # a bad configuration stops here, with its reason
    problem = redis_problem(config.redis_url) if config.redis_url else None
    if problem:
        click.echo(
            f"警告：暂时无法连接 Redis，{redis_unreachable(problem)}。Redis 恢复之前定时任务无法运行"
            "（主进程由 Redis 选出），每分钟的失败记入日志。",
            err=True,
        )
    click.echo("定时任务已启动（提醒、公示期、通知发送）；按 Ctrl-C 停止。")
    os.execv(sys.executable, list(SCHEDULER_PROCESS.command))

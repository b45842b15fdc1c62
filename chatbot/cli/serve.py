"""``nianjian serve``: the main job — the webhook under gunicorn."""

from __future__ import annotations

import os

import click
from gunicorn.app.base import BaseApplication

from chatbot.cli.common import load_config
from chatbot.db import make_engine, migrate


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, object]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from chatbot.app import create_app

        return create_app(run_migrations=False)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--workers", type=int, help="Processes; default 1 without Redis, else WEB_CONCURRENCY or 2×cores."
)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the WeChat webhook at /wechat (creates or migrates the database first)."""
    config = load_config()
    engine = make_engine(config.database_url)
    migrate(engine)
    engine.dispose()
    if workers is None:
        workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))) if config.redis_url else 1
    if workers > 1 and not config.redis_url:
        raise click.ClickException("several workers need REDIS_URL (dialog state and locks are shared there)")
    click.echo(
        f"年检助手 webhook: http://{host}:{port}/wechat  database: "
        f"{make_engine(config.database_url).url.render_as_string(hide_password=True)}  "
        f"state: {'redis' if config.redis_url else 'in-process'}  workers: {workers}"
    )
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 30,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
        }
    ).run()

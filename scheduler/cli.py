"""The `nianjian` command line: chatbot's commands, with `serve` running the scheduler beside the
webhook and `scheduler` running it alone. The scheduler package depends on chatbot, never the reverse."""

from __future__ import annotations

import sys

import click

from chatbot.cli import main
from chatbot.cli.common import load_config
from chatbot.cli.serve import run_server, serve_options
from scheduler.runner import run_forever

#: `serve` runs the scheduler as its own process beside gunicorn (nothing shared across a fork).
SCHEDULER_PROCESS = (sys.executable, "-m", "scheduler")


@click.command("serve")
@serve_options
@click.option("--no-scheduler", is_flag=True, help="Do not run reminders and deliveries in this process.")
def serve(host: str, port: int, workers: int | None, threads: int, no_scheduler: bool) -> None:
    """Serve the WeChat webhook at /wechat, with the scheduler (creates or migrates the database first)."""
    run_server(host, port, workers, threads, () if no_scheduler else (SCHEDULER_PROCESS,))


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler alone: every minute the leader sends reminders and delivers notices."""
    click.echo("scheduler running; Ctrl-C to stop")
    run_forever(load_config())


main.add_command(serve)
main.add_command(scheduler_command)

__all__ = ["main"]

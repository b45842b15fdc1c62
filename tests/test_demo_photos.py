"""Issue 21, point 1: evidence photos in the demo. `nianjian serve --fake-wechat` runs the fake WeChat
API beside the webhook and points the service at it, so a photo sent in chat is downloaded by the
scheduler and shown in the console; without any API the console says why a photo cannot be fetched
instead of asking to refresh later."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.config import Config
from chatbot.console.access import create_user
from chatbot.console.photos import NO_API
from chatbot.notify.evidence import STORED
from chatbot.store.models import Evidence, Inspection, Organisation
from chatbot.wechat.simulator import Simulator
from tests.conftest import APP_ID, TOKEN, transport_for
from tests.helpers import setup_county
from tests.test_console import Console

#: How long the served demo may take to start and download the photo (its first tick runs at once).
START_SECONDS = 90.0


def _photo_sent(db: Session, chair: Simulator, code: str) -> int:
    """The chair binds, starts the self-check and sends a photo for item 1; the inspection's id."""
    chair.say(f"绑定 {code}")
    chair.say("自评")
    assert "已收到第 1 项的佐证照片" in chair.photo("MEDIA-DEMO")[1]
    found = db.scalar(select(Inspection.id).join(Organisation).where(Organisation.code == "U01"))
    db.rollback()
    assert found is not None
    return found


def _inspection_page(app: Flask, inspection_id: int) -> str:
    console = Console(app.test_client())
    console.login("yz", "yz-password-12")
    return console.get(f"/console/inspections/{inspection_id}")


def test_without_a_wechat_api_the_console_says_why_the_photo_is_not_fetched(
    app: Flask, db: Session, user
) -> None:
    codes = setup_county(db, 1)
    with db.begin():
        create_user(db, "YZ", "yz", "yz-password-12")
    inspection_id = _photo_sent(db, user("chair1"), codes["chair1"])
    page = _inspection_page(app, inspection_id)
    assert NO_API in page and "未配置微信接口" in page and "nianjian serve --fake-wechat" in page
    assert "稍后刷新" not in page and "/console/media/" not in page


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def demo_app(tmp_path: Path) -> Iterator[tuple[Flask, dict[str, str]]]:
    """年检助手 on SQLite without any WeChat API configured, and the environment to serve it with."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "NIANJIAN_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
    }
    app = create_app(Config.from_env(env))
    yield app, env
    app.extensions["nianjian.engine"].dispose()


def test_serve_with_the_fake_wechat_api_downloads_the_photo_and_the_console_shows_it(
    demo_app: tuple[Flask, dict[str, str]],
) -> None:
    app, env = demo_app
    db: Session = app.extensions["nianjian.sessions"]()
    codes = setup_county(db, 1)
    with db.begin():
        create_user(db, "YZ", "yz", "yz-password-12")
    chair = Simulator(transport_for(app.test_client()), "chair1", TOKEN, APP_ID)
    inspection_id = _photo_sent(db, chair, codes["chair1"])
    assert NO_API in _inspection_page(app, inspection_id)

    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_"))}
    port, fake_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port), "--fake-wechat"]
    server = subprocess.Popen(
        [*command, "--fake-wechat-port", str(fake_port)],
        env=inherited | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        status = None
        stop = time.monotonic() + START_SECONDS
        while status != STORED and server.poll() is None and time.monotonic() < stop:
            time.sleep(0.5)
            status = db.scalar(select(Evidence.file_status))
            db.rollback()
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0].decode()
    assert status == STORED, output
    assert f"模拟微信接口：http://127.0.0.1:{fake_port}/cgi-bin/" in output
    assert "/cgi-bin/media/get" in output  # fetched from the fake, which logs each call

    page = _inspection_page(app, inspection_id)
    evidence_id = db.scalar(select(Evidence.id))
    db.close()
    assert f'src="/console/media/{evidence_id}"' in page and NO_API not in page
    console = Console(app.test_client())
    console.login("yz", "yz-password-12")
    photo = console.client.get(f"/console/media/{evidence_id}")
    assert photo.status_code == 200 and photo.content_type == "image/png"


def test_fake_wechat_needs_the_scheduler(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from chatbot.cli import main

    result = CliRunner().invoke(main, ["serve", "--fake-wechat", "--no-scheduler"])
    assert result.exit_code != 0
    assert "--fake-wechat 需要定时任务下载照片，不能与 --no-scheduler 一起使用。" in result.output

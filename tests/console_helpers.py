"""A console wired to the fake WeChat API on loopback, with the scheduler's tick at hand: for the
evidence-photo tests and the browser test."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from flask import Flask

from chatbot.app import create_app
from chatbot.config import Config
from chatbot.notify.tick import TickReport, run_due
from chatbot.wechat.fake_api import FakeWeChatServer
from tests.conftest import Backend, fake_wechat_env

#: The first bytes of a JPEG file (SOI + APP0 "JFIF"), then filler: enough for the type check.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"


@dataclass
class WeChatConsole:
    app: Flask
    fake: FakeWeChatServer
    config: Config
    tick: Callable[..., TickReport]

    def media(self, media_id: str, content: bytes | None = None, *, errcode: int = 0, kind: str = "") -> None:
        """What the fake's media/get answers for ``media_id``: these bytes, or WeChat's error."""
        body: dict[str, object] = {"media_id": media_id}
        if errcode:
            body["errcode"] = errcode
        else:
            body |= {
                "base64": base64.b64encode(content or b"").decode(),
                "content_type": kind or "image/jpeg",
            }
        requests.post(self.fake.base_url.replace("/cgi-bin/", "/_fake/media"), json=body, timeout=5)

    def fail_next(self, errcode: int, count: int = 1) -> None:
        self.fake.state.fail_next.extend([errcode] * count)

    def media_calls(self, media_id: str) -> int:
        return sum(
            1 for c in self.fake.state.calls if c["api"] == "media/get" and c.get("media_id") == media_id
        )


@contextmanager
def wechat_console_for(backend: Backend, tmp_path: Path) -> Iterator[WeChatConsole]:
    """The console app with the API client pointed at a fake WeChat on loopback (stopped after)."""
    fake = FakeWeChatServer().start()
    env = fake_wechat_env(
        backend, fake, tmp_path, EVIDENCE_DIR=str(tmp_path / "evidence"), EVIDENCE_MAX_MB="1"
    )
    config = Config.from_env(env)
    app = create_app(config, **backend.parts())
    sessions, client = app.extensions["nianjian.sessions"], app.extensions["nianjian.api"]

    def tick(now: datetime | None = None) -> TickReport:
        return run_due(sessions, config, now or datetime.now(UTC), client)

    try:
        yield WeChatConsole(app, fake, config, tick)
    finally:
        app.extensions["nianjian.engine"].dispose()
        fake.stop()

"""A fake WeChat API on loopback: answers the calls the service makes and records each as a JSON line.

Errors can be injected — an errcode for the next N calls, or for every call to one openid — and
sends can be slowed, so delivery, retries and token refresh are tested against a real HTTP server.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

#: A 1×1 PNG for media/get.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mP8/x8AAwMCAO+ip1sAAAAASUVORK5CYII="
)
SEND_APIS = ("message/custom/send", "message/template/send")


@dataclass
class FakeState:
    """What the fake remembers: tokens issued, calls made, errors to inject."""

    log_path: Path | None = None
    tokens: set[str] = field(default_factory=set)
    token_fetches: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    fail_openid: dict[str, int] = field(default_factory=dict)
    send_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, entry: dict[str, Any]) -> None:
        entry = {"at": datetime.now(UTC).isoformat(), **entry}
        with self.lock:
            self.calls.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def injected(self, openid: str | None) -> int:
        with self.lock:
            if openid and openid in self.fail_openid:
                return self.fail_openid[openid]
            if self.fail_next:
                return self.fail_next.pop(0)
        return 0


def _fail(state: FakeState, data: dict[str, Any]) -> None:
    if "openid" in data:
        state.fail_openid[str(data["openid"])] = int(data["errcode"])
    else:
        state.fail_next.extend([int(data["errcode"])] * int(data.get("count", 1)))


def _delay(state: FakeState, data: dict[str, Any]) -> None:
    state.send_delay = float(data.get("seconds", 0))


def _expire_tokens(state: FakeState, data: dict[str, Any]) -> None:
    state.tokens.clear()


def _reset(state: FakeState, data: dict[str, Any]) -> None:
    state.fail_next.clear()
    state.fail_openid.clear()
    state.send_delay = 0.0


#: POST /_fake/<action>: how a test or `nianjian fake-wechat` changes the fake's behaviour.
CONTROLS: dict[str, Callable[[FakeState, dict[str, Any]], None]] = {
    "fail": _fail,
    "delay": _delay,
    "expire-tokens": _expire_tokens,
    "reset": _reset,
}


def _answer(state: FakeState, api: str, openid: str | None, body: Any) -> dict[str, Any]:
    """A call that succeeds: recorded, answered as WeChat answers it (after the injected delay)."""
    if api in SEND_APIS and state.send_delay:
        time.sleep(state.send_delay)
    state.record({"api": api, "errcode": 0, "touser": openid, "body": body})
    if api == "qrcode/create":
        ticket = secrets.token_urlsafe(16)
        return {"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket}"}
    return {"errcode": 0, "errmsg": "ok", "msgid": len(state.calls)}


def create_fake(state: FakeState) -> Flask:
    app = Flask("fake_wechat")

    def error(code: int, api: str, body: Any) -> Response:
        state.record({"api": api, "errcode": code, "body": body})
        return jsonify({"errcode": code, "errmsg": f"injected error {code}"})

    def authorised(api: str, body: Any) -> Response | None:
        if request.args.get("access_token") not in state.tokens:
            return error(40001, api, body)
        return None

    @app.get("/cgi-bin/token")
    def token() -> Response:
        if not request.args.get("appid") or not request.args.get("secret"):
            return jsonify({"errcode": 41002, "errmsg": "appid missing"})
        value = "FAKE_" + secrets.token_hex(12)
        with state.lock:
            state.tokens.add(value)
            state.token_fetches += 1
        state.record({"api": "token", "errcode": 0})
        return jsonify({"access_token": value, "expires_in": 7200})

    @app.post("/cgi-bin/<path:api>")
    def post(api: str) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        refused = authorised(api, body)
        if refused is not None:
            return refused
        openid = body.get("touser") if isinstance(body, dict) else None
        code = state.injected(openid)
        if code:
            return error(code, api, body)
        return jsonify(_answer(state, api, openid, body))

    @app.get("/cgi-bin/media/get")
    def media() -> Response:
        refused = authorised("media/get", {"media_id": request.args.get("media_id")})
        if refused is not None:
            return refused
        state.record({"api": "media/get", "errcode": 0, "media_id": request.args.get("media_id")})
        return Response(PIXEL, mimetype="image/png")

    @app.post("/_fake/<action>")
    def control(action: str) -> Response:
        change = CONTROLS.get(action)
        if change is None:
            return jsonify({"error": f"unknown action {action}"}), 404  # type: ignore[return-value]
        with state.lock:
            change(state, request.get_json(force=True, silent=True) or {})
        return jsonify({"ok": True})

    @app.get("/_fake/calls")
    def calls() -> Response:
        with state.lock:
            return jsonify(state.calls)

    return app


class FakeWeChatServer:
    """The fake on a loopback port, in a thread: for tests, and behind `nianjian fake-wechat`."""

    def __init__(self, state: FakeState | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state or FakeState()
        self._server: BaseWSGIServer = make_server(host, port, create_fake(self.state), threaded=True)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}/cgi-bin/"

    def start(self) -> FakeWeChatServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def sends(self) -> list[dict[str, Any]]:
        """The successful message sends, in order."""
        return [c for c in self.state.calls if c["api"] in SEND_APIS and c["errcode"] == 0]

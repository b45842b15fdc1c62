"""A fake WeChat API on loopback: answers the calls the service makes and records each as a JSON line.

Template sends are checked as WeChat checks them (``check_template``): a template id the account has,
the keys of that template, each value of its type's form within its limit and on one line; a send that
breaks a rule is answered with WeChat's error code (40037, 47003) and logged with what was wrong, a
send that passes with what the member reads (``seen``: each field's name and value, and the link).

Errors can be injected — an errcode for the next N calls, or for every call to one openid, an HTTP
error page from the gateway (5xx), a call held past the client's read timeout — and sends can be
slowed, so delivery, retries and token refresh are tested against a real HTTP server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from chatbot.notify.compose import LIMITS, FieldType, fits
from chatbot.notify.templates import Template

#: A 1×1 PNG for media/get.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mP8/x8AAwMCAO+ip1sAAAAASUVORK5CYII="
)
SEND_APIS = ("message/custom/send", "message/template/send")
#: WeChat's answer for a media_id it does not keep (any older than 3 days).
INVALID_MEDIA = 40007
#: WeChat's answers to a template send it refuses: a template the account does not have, a field
#: that is not the template's or whose value is not of its type's form.
INVALID_TEMPLATE = 40037
ARGUMENT_INVALID = 47003


def picture(media_id: str, width: int = 160, height: int = 120) -> bytes:
    """A small PNG, its colours drawn from ``media_id``: what media/get returns for an unknown upload."""
    seed = hashlib.sha256(media_id.encode()).digest()
    light, dark = bytes(128 + b // 2 for b in seed[:3]), bytes(b // 3 for b in seed[3:6])
    rows = b"".join(
        b"\x00" + b"".join(dark if ((x + y) // 12) % 4 == 0 else light for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass
class Fault:
    """A transport fault for the next ``count`` calls to ``api`` ("" for any): ``status`` answers an
    HTTP error page, ``hang`` holds the call that many seconds first."""

    api: str
    count: int
    status: int = 0
    hang: float = 0.0


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
    #: Sends being answered right now, and the most there were at once (calls overlapped by a client).
    sends_in_flight: int = 0
    most_sends_in_flight: int = 0
    #: media/get: the bytes and content type of a media_id, or the errcode WeChat answers for it.
    media: dict[str, tuple[bytes, str] | int] = field(default_factory=dict)
    #: Transport faults for the next calls (of one API, or any): an HTTP status page, or a hang.
    faults: list[Fault] = field(default_factory=list)
    #: The account's templates by id: a send to another id is refused (40037). None: any id, each
    #: field held to the rules every field has since May 2023 (one line, 20 characters).
    templates: dict[str, Template] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, entry: dict[str, Any]) -> None:
        entry = {"at": datetime.now(UTC).isoformat(), **entry}
        with self.lock:
            self.calls.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def fault(self, api: str) -> Fault | None:
        """The next transport fault for a call to ``api``, used up as it is taken."""
        with self.lock:
            for n, fault in enumerate(self.faults):
                if fault.api in ("", api):
                    fault.count -= 1
                    if fault.count <= 0:
                        del self.faults[n]
                    return fault
        return None

    def injected(self, openid: str | None) -> int:
        with self.lock:
            if openid and openid in self.fail_openid:
                return self.fail_openid[openid]
            if self.fail_next:
                return self.fail_next.pop(0)
        return 0


def _fail(state: FakeState, data: dict[str, Any]) -> None:
    """{"errcode", "count"}: the next calls answer that errcode; {"openid", "errcode"}: every send to
    that user does; {"status": 502, "count", "api"}: the gateway answers an HTTP error page instead;
    {"hang": 12, "count", "api"}: the call is held that many seconds, then done (as when WeChat
    delivers a message but its answer comes too late for the client). ``api`` (e.g. "token",
    "message/custom/send"; default any) limits a fault to one API."""
    if "status" in data or "hang" in data:
        state.faults.append(
            Fault(
                str(data.get("api", "")),
                int(data.get("count", 1)),
                int(data.get("status", 0)),
                float(data.get("hang", 0)),
            )
        )
    elif "openid" in data:
        state.fail_openid[str(data["openid"])] = int(data["errcode"])
    else:
        state.fail_next.extend([int(data["errcode"])] * int(data.get("count", 1)))


def _delay(state: FakeState, data: dict[str, Any]) -> None:
    state.send_delay = float(data.get("seconds", 0))


def _expire_tokens(state: FakeState, data: dict[str, Any]) -> None:
    state.tokens.clear()


def _media(state: FakeState, data: dict[str, Any]) -> None:
    """{"media_id", "base64", "content_type"} serves those bytes; {"media_id", "errcode"} that error."""
    if "errcode" in data:
        state.media[str(data["media_id"])] = int(data["errcode"])
    else:
        content = base64.b64decode(str(data.get("base64", "")))
        state.media[str(data["media_id"])] = (content, str(data.get("content_type", "image/jpeg")))


def _reset(state: FakeState, data: dict[str, Any]) -> None:
    state.faults.clear()
    state.fail_next.clear()
    state.fail_openid.clear()
    state.send_delay = 0.0


#: POST /_fake/<action>: how a test or `nianjian fake-wechat` changes the fake's behaviour.
CONTROLS: dict[str, Callable[[FakeState, dict[str, Any]], None]] = {
    "fail": _fail,
    "delay": _delay,
    "expire-tokens": _expire_tokens,
    "media": _media,
    "reset": _reset,
}


def message_text(body: dict[str, Any]) -> str:
    """What the user reads of a sent message: a text's content, a template's field values in order."""
    if isinstance(body.get("text"), dict):
        return str(body["text"].get("content", ""))
    data = body.get("data")
    fields: dict[str, Any] = data if isinstance(data, dict) else {}
    lines = [str(field.get("value", "")) for field in fields.values() if isinstance(field, dict)]
    if body.get("url"):
        lines.append(f"详情：{body['url']}")
    return "\n".join(lines).strip()


def check_template(templates: dict[str, Template] | None, body: dict[str, Any]) -> tuple[int, str] | None:
    """WeChat's refusal of a template send (errcode, errmsg), or None when it would show it whole."""
    data = body.get("data")
    fields: dict[str, Any] = data if isinstance(data, dict) else {}
    template = None
    if templates is not None:
        template = templates.get(str(body.get("template_id", "")))
        if template is None:
            return INVALID_TEMPLATE, "invalid template_id"
    types = {f.key: f.type for f in template.fields} if template else {}
    for key, value in fields.items():
        text = str(value.get("value", "")) if isinstance(value, dict) else ""
        kind = types.get(key) if template else FieldType.KEYWORD
        if kind is None:
            return ARGUMENT_INVALID, f"argument invalid! data.{key} is not a field of the template"
        if not fits(kind, text):
            return ARGUMENT_INVALID, (
                f"argument invalid! data.{key}.value invalid ({kind.value}, at most {LIMITS[kind]}, one line)"
            )
    url = body.get("url")
    if url is not None and not str(url).startswith(("http://", "https://")):
        return ARGUMENT_INVALID, "argument invalid! url invalid"
    return None


def seen(templates: dict[str, Template] | None, body: dict[str, Any]) -> list[str]:
    """What the member reads of a template message: each field as "名称：值", then the link."""
    data = body.get("data")
    fields: dict[str, Any] = data if isinstance(data, dict) else {}
    template = (templates or {}).get(str(body.get("template_id", "")))
    labels = {f.key: f.label for f in template.fields} if template else {}
    lines = [
        f"{labels.get(key) or key}：{value.get('value', '')}"
        for key, value in fields.items()
        if isinstance(value, dict)
    ]
    if body.get("url"):
        lines.append(f"详情：{body['url']}")
    return lines


def _messages(state: FakeState) -> Response:
    """GET /_fake/messages?touser=&after=: the messages delivered to ``touser`` after call number
    ``after``, as their reader sees them (what `nianjian chat` shows as notices), and the number of
    the last call."""
    touser, after = request.args.get("touser", ""), request.args.get("after", "0")
    start = int(after) if after.isdigit() else 0
    with state.lock:
        found = [
            {"n": n, "text": message_text(call.get("body") or {})}
            for n, call in enumerate(state.calls[start:], start=start + 1)
            if call["api"] in SEND_APIS and call["errcode"] == 0 and call.get("touser") == touser
        ]
        return jsonify({"messages": found, "last": len(state.calls)})


def _answer(state: FakeState, api: str, openid: str | None, body: Any) -> dict[str, Any]:
    """A call that succeeds: recorded, answered as WeChat answers it (after the injected delay)."""
    delayed = api in SEND_APIS and state.send_delay > 0
    if delayed:
        with state.lock:
            state.sends_in_flight += 1
            state.most_sends_in_flight = max(state.most_sends_in_flight, state.sends_in_flight)
        time.sleep(state.send_delay)
    entry = {"api": api, "errcode": 0, "touser": openid, "body": body}
    if api == "message/template/send":
        entry["seen"] = seen(state.templates, body)
    state.record(entry)
    if delayed:
        with state.lock:  # in flight until recorded: a caller that waits for none in flight sees it
            state.sends_in_flight -= 1
    if api == "qrcode/create":
        ticket = secrets.token_urlsafe(16)
        return {"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket}"}
    return {"errcode": 0, "errmsg": "ok", "msgid": len(state.calls)}


def _transport_fault(state: FakeState, api: str, body: Any) -> Response | None:
    """An injected gateway error page (recorded with its status), or a hang before going on."""
    fault = state.fault(api)
    if fault is None:
        return None
    if fault.hang:
        time.sleep(fault.hang)  # then answered as usual: the client may have given up by now
    if not fault.status:
        return None
    state.record({"api": api, "errcode": None, "status": fault.status, "body": body})
    page = f"<html><body><h1>{fault.status}</h1>injected</body></html>"
    return Response(page, status=fault.status, mimetype="text/html")


def _issue_token(state: FakeState) -> Response:
    """GET /cgi-bin/token: a new token (the old ones stay valid, as during WeChat's 5-minute overlap)."""
    if not request.args.get("appid") or not request.args.get("secret"):
        return jsonify({"errcode": 41002, "errmsg": "appid missing"})
    broken = _transport_fault(state, "token", {})
    if broken is not None:
        return broken
    value = "FAKE_" + secrets.token_hex(12)
    with state.lock:
        state.tokens.add(value)
        state.token_fetches += 1
    state.record({"api": "token", "errcode": 0})
    return jsonify({"access_token": value, "expires_in": 7200})


def _refusal(state: FakeState, api: str, openid: str | None, body: Any) -> tuple[int, str]:
    """An injected errcode, or WeChat's refusal of a template send it would not show whole; (0, "")."""
    code = state.injected(openid)
    if code:
        return code, ""
    if api == "message/template/send" and isinstance(body, dict):
        return check_template(state.templates, body) or (0, "")
    return 0, ""


def create_fake(state: FakeState) -> Flask:
    app = Flask("fake_wechat")

    def error(code: int, api: str, body: Any, message: str = "") -> Response:
        state.record({"api": api, "errcode": code, "body": body, **({"errmsg": message} if message else {})})
        return jsonify({"errcode": code, "errmsg": message or f"injected error {code}"})

    def authorised(api: str, body: Any) -> Response | None:
        if request.args.get("access_token") not in state.tokens:
            return error(40001, api, body)
        return None

    @app.get("/cgi-bin/token")
    def token() -> Response:
        return _issue_token(state)

    @app.post("/cgi-bin/<path:api>")
    def post(api: str) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        refused = _transport_fault(state, api, body)
        if refused is None:
            refused = authorised(api, body)
        if refused is not None:
            return refused
        openid = body.get("touser") if isinstance(body, dict) else None
        code, message = _refusal(state, api, openid, body)
        if code:
            return error(code, api, body, message)
        return jsonify(_answer(state, api, openid, body))

    @app.get("/cgi-bin/media/get")
    def media() -> Response:
        media_id = request.args.get("media_id", "")
        refused = authorised("media/get", {"media_id": media_id})
        if refused is not None:
            return refused
        with state.lock:
            known = state.media.get(media_id)
        code = state.injected(None) or (known if isinstance(known, int) else 0)
        if code:
            return error(code, "media/get", {"media_id": media_id})
        state.record({"api": "media/get", "errcode": 0, "media_id": media_id})
        content, kind = known if isinstance(known, tuple) else (picture(media_id), "image/png")
        return Response(content, mimetype=kind)

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

    app.add_url_rule("/_fake/messages", "messages", lambda: _messages(state))

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

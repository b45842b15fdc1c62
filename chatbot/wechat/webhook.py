"""The WeChat webhook blueprint: GET /wechat verifies the URL, POST /wechat answers messages."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from chatbot.service.turn import ChatService, Inbound
from chatbot.wechat import protocol
from chatbot.wechat.protocol import Crypto, ProtocolError

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

APOLOGY = "抱歉，系统暂时出了点问题，您的这条消息没有处理成功，请稍后再发一次。"


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _body() -> bytes:
    """The request body, never read past the limit: a declared length over it is refused unread, a
    chunked body is read one byte past it at most (and refused), whatever the app's MAX_CONTENT_LENGTH."""
    limit = protocol.MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise ProtocolError(413, "body too large")
    request.max_content_length = limit + 1
    body = request.get_data(cache=False)
    if len(body) > limit:
        raise ProtocolError(413, "body too large")
    return body


@bp.get("/wechat")
def verify_url() -> Response:
    """WeChat's URL check: echo echostr when the signature is right."""
    args = request.args
    try:
        protocol.verify_signature(
            args.get("signature", ""),
            current_app.config["WECHAT_TOKEN"],
            args.get("timestamp", ""),
            args.get("nonce", ""),
        )
    except ProtocolError as error:
        return _text(error.reason, error.status)
    return _text(args.get("echostr", ""))


@bp.post("/wechat")
def receive() -> Response:
    args = request.args
    token = current_app.config["WECHAT_TOKEN"]
    crypto: Crypto | None = current_app.extensions["nianjian.crypto"]
    service: ChatService = current_app.extensions["nianjian.service"]
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    try:
        protocol.verify_signature(args.get("signature", ""), token, timestamp, nonce)
        protocol.verify_fresh(timestamp, time.time())
        body = _body()
        protocol.ensure_safe_xml(body)
        encrypted = args.get("encrypt_type", "raw") == "aes"
        if encrypted:
            if crypto is None:
                raise ProtocolError(400, "safe mode is not configured")
            xml = crypto.decrypt(body, args.get("msg_signature", ""), timestamp, nonce)
        else:
            xml = body.decode("utf-8", errors="strict")
        message = protocol.parse(xml)
        if not protocol.starts_a_turn(message):
            return _text("success")
        inbound = Inbound(message.source, protocol.dedup_key(message), protocol.to_user_input(message))
    except UnicodeDecodeError:
        return _text("bad encoding", 400)
    except RequestEntityTooLarge:
        return _text("body too large", 413)
    except ProtocolError as error:
        log.info("refused a webhook request: %s", error.reason)
        return _text(error.reason, error.status)

    try:
        text = protocol.render_text(service.handle(inbound))
    except Exception:
        log.exception("failed to handle a message from %s", message.source)
        text = APOLOGY
    if not text:
        return _text("success")
    xml_reply = protocol.reply_xml(message, text)
    if encrypted and crypto is not None:
        xml_reply = crypto.encrypt(xml_reply, nonce, timestamp)
    return Response(xml_reply, mimetype="application/xml")

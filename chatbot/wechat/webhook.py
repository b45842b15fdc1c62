"""The WeChat webhook blueprint: GET /wechat verifies the URL, POST /wechat answers messages.

A refused request gets a status and one of ``protocol.REASONS``, never an exception's text. A signed
query string is good for one message: the first message it comes with (its sender and its dedup key) is
remembered (``one_body``) for as long as its timestamp is fresh, so WeChat's retry of that message goes
on (the dedup answers it) while another message under the same query — a sender the signature never
covered, in plaintext mode — is refused. What is remembered is a digest of the sender and the message id,
never of the body: a ballot's answer leaves no trace in Redis.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request
from wechatpy.messages import BaseMessage
from werkzeug.exceptions import RequestEntityTooLarge

from chatbot.config import Config
from chatbot.service.turn import LOCK_WAIT_SECONDS, STATE, UNAVAILABLE, ChatService, Inbound
from chatbot.store.counters import Kept, KeptOther, RateCounter, keep
from chatbot.store.state import STATE_ERRORS
from chatbot.wechat import admission, protocol
from chatbot.wechat.admission import Shedding
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


REUSED = ProtocolError(403, "signature reused", "a signed query string came again with another body")


def first_body(args: dict[str, str], sent: int, identity: str) -> Kept:
    """What remembers the message this signed query first came with (``identity``: its sender and
    dedup key, nothing of what it says), for as long as its timestamp is fresh."""
    key = protocol.signed_query_key(
        args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
    )
    return Kept(key, protocol.body_digest(identity.encode()), protocol.kept_for(sent, time.time()))


def one_body(counter: RateCounter, kept: Kept) -> bool:
    """Remember ``kept`` (``first_body``); ProtocolError when the query came with another message. True
    the first time, False when the same message comes again under it (WeChat's retry). One Redis round
    trip (SET NX + GET in MULTI) with Redis, none without it; a turn's message is remembered in the
    turn's first round trip instead (``Inbound.kept``)."""
    try:
        return keep(counter, kept)
    except KeptOther:
        raise REUSED from None


def _waited(config: Config, counter: RateCounter, sent: int, kept: Kept) -> float:
    """Seconds the push waited before this worker took it (``admission.waited``). A push whose signed
    query came before with the same message is WeChat's retry under the first push's query: its
    timestamp says when the first one was sent, not how long this one waited, so it counts as fresh.
    Only a push that looks old asks: its query (``kept``) is remembered here — a round trip on that
    path only; a fresh push's query is remembered in its turn's first round trip, or in pure safe mode
    not at all."""
    if config.request_start_header:
        proxy = admission.request_start(request.headers.get("X-Request-Start"))
        if proxy is not None:
            return admission.waited(sent, proxy, time.time())
    age = admission.waited(sent, None, time.time())
    if age <= config.busy_after:
        return age
    return age if one_body(counter, kept) else 0.0


def _guarded(config: Config, encrypted: bool) -> bool:
    """Whether the request's signed query is remembered: always when the body is read as plaintext
    (its signature does not cover it), and in safe mode too when plaintext is also accepted (else the
    query of an encrypted push could carry a plaintext body once). Pure safe mode needs no guard:
    msg_signature covers the encrypted body, and a replay of it is WeChat's retry for the dedup."""
    return not encrypted or config.accepts_plaintext


@bp.get("/wechat")
def verify_url() -> Response:
    """WeChat's URL check: echo echostr when the signature is right. A fresh query is remembered as
    used, so that it cannot carry a message afterwards."""
    args = request.args
    config: Config = current_app.extensions["nianjian.config"]
    try:
        protocol.verify_signature(
            args.get("signature", ""), config.wechat_token, args.get("timestamp", ""), args.get("nonce", "")
        )
    except ProtocolError as error:
        return _text(error.reason, error.status)
    echo = args.get("echostr", "")
    try:
        sent = protocol.verify_fresh(args.get("timestamp", ""), time.time())
        one_body(current_app.extensions["nianjian.counter"], first_body(dict(args), sent, "GET " + echo))
    except ProtocolError:
        pass  # an old or repeated URL check is still answered: it changes nothing
    except STATE_ERRORS as error:
        log.warning("could not remember a URL check's query (%s)", type(error).__name__)
    return _text(echo)


@bp.post("/wechat")
def receive() -> Response:
    args = request.args
    config: Config = current_app.extensions["nianjian.config"]
    crypto: Crypto | None = current_app.extensions["nianjian.crypto"]
    service: ChatService = current_app.extensions["nianjian.service"]
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    try:
        protocol.verify_signature(args.get("signature", ""), config.wechat_token, timestamp, nonce)
        sent = protocol.verify_fresh(timestamp, time.time())
        protocol.verify_nonce(nonce)
        body = _body()
        protocol.ensure_safe_xml(body)
        encrypted = args.get("encrypt_type", "raw") == "aes"
        if encrypted:
            if crypto is None:
                raise ProtocolError(400, "safe mode is not configured")
            xml = crypto.decrypt(body, args.get("msg_signature", ""), timestamp, nonce)
        elif not config.accepts_plaintext:
            raise ProtocolError(403, "plaintext not accepted", "safe mode is configured")
        else:
            xml = body.decode("utf-8", errors="strict")
        message = protocol.parse(xml)
        counter: RateCounter = current_app.extensions["nianjian.counter"]
        kept = (
            first_body(dict(args), sent, protocol.identity(message)) if _guarded(config, encrypted) else None
        )
        if not protocol.starts_a_turn(message):
            if kept is not None:
                one_body(counter, kept)
            return _text("success")
        user_input = protocol.to_user_input(message)
        inbound = Inbound(message.source, protocol.dedup_key(message), user_input, kept)
        age = _waited(config, counter, sent, kept or first_body(dict(args), sent, protocol.identity(message)))
    except UnicodeDecodeError:
        return _text("bad encoding", 400)
    except RequestEntityTooLarge:
        return _text("body too large", 413)
    except ProtocolError as error:
        _refused(error)
        return _text(error.reason, error.status)
    except STATE_ERRORS as error:  # Redis, asked whether the query was used before: nothing is applied
        service.outages.failed(STATE, error)
        return _reply(message, protocol.render_text(UNAVAILABLE), encrypted, crypto, nonce, timestamp)
    except Exception:  # a request nobody foresaw: a 400, never a 500 (the log has its traceback)
        log.exception("could not read a webhook request")
        return _text("bad request", 400)

    shedding: Shedding = current_app.extensions["nianjian.shedding"]
    if age > config.busy_after:  # nothing applied, nothing recorded: the next push of it is applied
        shedding.shed(age)
        return _reply(message, admission.BUSY, encrypted, crypto, nonce, timestamp)
    shedding.admitted()
    try:
        text = protocol.render_text(service.handle(inbound, admission.lock_wait(age, LOCK_WAIT_SECONDS)))
    except KeptOther:
        _refused(REUSED)
        return _text(REUSED.reason, REUSED.status)
    except Exception:
        log.exception("failed to handle a message from %s", message.source)
        text = APOLOGY
    if not text:
        return _text("success")
    return _reply(message, text, encrypted, crypto, nonce, timestamp)


def _reply(
    message: BaseMessage, text: str, encrypted: bool, crypto: Crypto | None, nonce: str, timestamp: str
) -> Response:
    """The passive reply XML, encrypted in safe mode."""
    xml_reply = protocol.reply_xml(message, text)
    if encrypted and crypto is not None:
        xml_reply = crypto.encrypt(xml_reply, nonce, timestamp)
    return Response(xml_reply, mimetype="application/xml")


def _refused(error: ProtocolError) -> None:
    """One log line per refused request; a reused signature, which only an attacker sends, louder."""
    level = logging.WARNING if error.reason == "signature reused" else logging.INFO
    log.log(
        level,
        "refused a webhook request: %s%s",
        error.reason,
        f" ({error.detail[:200]})" if error.detail else "",
    )

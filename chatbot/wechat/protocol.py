"""The WeChat protocol edge: signatures, replay window, safe XML, safe-mode crypto, rendering replies.

Uses wechatpy's objects (parse_message, TextReply, WeChatCrypto) and closes its known traps:
signatures are compared in constant time, malformed bodies raise our own errors, CDATA is escaped,
and the previous EncodingAESKey is tried when the current one fails.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from dialogs import markup, voice
from dialogs.engine import MAX_REPLY_BYTES, Reply, UserInput

MAX_BODY_BYTES = 64 * 1024
REPLAY_WINDOW_SECONDS = 300
#: An openid or an account's original id (gh_…): WeChat's are 28 letters, digits, '-' and '_'; the
#: simulator's are typed by people. Anything else is not a WeChat user, and could break the reply XML.
_USER_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
#: MsgId is WeChat's unsigned 64-bit message id; CreateTime a signed 64-bit Unix time.
_MAX_MSG_ID = 2**64
_MAX_CREATE_TIME = 2**63
#: The column that holds a dedup key (InboundMessage.dedup_key).
MAX_DEDUP_KEY = 128
_CDATA_OPEN = b"<![CDATA["
#: What XML 1.0 allows nowhere, not even in CDATA: a control character a person pasted (or speech
#: recognition wrote) is dropped before parsing, so the message is read instead of refused.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINK = re.compile(
    r'<a href="weixin://bizmsgmenu\?msgmenucontent=(?P<content>[^&"]*)&msgmenuid=\d+">(?P<label>[^<]*)</a>'
)


#: Every reason a refused webhook request is answered with: short, fixed, never an exception's text
#: (what went wrong in detail goes to the log, as ``ProtocolError.detail``).
REASONS = frozenset(
    (
        "bad signature",
        "bad timestamp",
        "stale timestamp",
        "bad nonce",
        "signature reused",
        "plaintext not accepted",
        "body too large",
        "bad encoding",
        "declarations are not allowed",
        "processing instructions are not allowed",
        "malformed XML",
        "malformed message",
        "message without sender",
        "no Encrypt element",
        "cannot decrypt with any configured key",
        "safe mode is not configured",
        "bad request",
    )
)
#: A signed timestamp: Unix seconds, ASCII digits only (int() would also take '+5', '1_0', '١٢' and a
#: 400-digit number that no float can hold).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
#: A nonce goes back into the encrypted reply's XML (wechatpy puts it in CDATA): WeChat's are digits;
#: no control character, markup or CDATA end, and not longer than a URL would carry.
_NONCE = re.compile(r"[^\x00-\x1f\x7f<>&\]\ufffe\uffff\ud800-\udfff]{0,2048}")


class ProtocolError(Exception):
    """A request WeChat would never send; ``status`` is the HTTP answer, ``reason`` one of REASONS and
    ``detail`` what the log says beside it."""

    def __init__(self, status: int, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.detail = detail


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, *extra)
    return signer.signature


def verify_signature(given: str, token: str, timestamp: str, nonce: str, *extra: str) -> None:
    """Constant-time check (wechatpy compares with !=)."""
    expected = signature(token, timestamp, nonce, *extra)
    if not hmac.compare_digest(expected.encode(), (given or "").encode()):
        raise ProtocolError(403, "bad signature")


def verify_fresh(timestamp: str, now: float) -> int:
    """The signed time, refused when it is not Unix seconds or more than five minutes from now (a
    replayed request)."""
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        raise ProtocolError(403, "bad timestamp")
    sent = int(timestamp)
    if abs(now - sent) > REPLAY_WINDOW_SECONDS:
        raise ProtocolError(403, "stale timestamp")
    return sent


def verify_nonce(nonce: str) -> None:
    if not _NONCE.fullmatch(nonce):
        raise ProtocolError(403, "bad nonce")


def signed_query_key(given: str, timestamp: str, nonce: str) -> str:
    """What names one signed query string: its timestamp, nonce and signature (hashed: a nonce may
    be long)."""
    return "signed:" + hashlib.sha256(f"{timestamp}\n{nonce}\n{given}".encode()).hexdigest()


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def identity(message: BaseMessage) -> str:
    """Which message this is, without what it says: its sender and dedup key (a retry has both the
    same; another sender or another message under a reused query does not)."""
    return f"{message.source}\n{dedup_key(message)}"


def kept_for(sent: int, now: float) -> int:
    """Seconds a signed query must be remembered: as long as its timestamp is fresh (up to ten
    minutes, for a timestamp five minutes ahead), and one more."""
    return max(1, int(sent + REPLAY_WINDOW_SECONDS - now) + 2)


def ensure_safe_xml(body: bytes) -> None:
    """No DOCTYPE, entity declaration, comment or processing trick: only CDATA may start with '<!'."""
    if len(body) > MAX_BODY_BYTES:
        raise ProtocolError(413, "body too large")
    if b"<!" in body.replace(_CDATA_OPEN, b""):
        raise ProtocolError(400, "declarations are not allowed")
    if b"<?xml-stylesheet" in body or body.count(b"<?") > 1:
        raise ProtocolError(400, "processing instructions are not allowed")


def _xml_dict(text: str | bytes) -> dict:
    try:
        data = xmltodict.parse(text, disable_entities=True)["xml"]
    except (ExpatError, KeyError, ValueError, TypeError) as error:
        raise ProtocolError(400, "malformed XML", str(error)) from error
    if not isinstance(data, dict):
        raise ProtocolError(400, "malformed XML", "empty")
    return data


@dataclass(frozen=True)
class Crypto:
    """Safe-mode (安全模式) encryption, with the previous key kept for a rotation."""

    token: str
    app_id: str
    keys: tuple[str, ...]

    def decrypt(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
        outer = _xml_dict(body)
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise ProtocolError(400, "no Encrypt element")
        verify_signature(msg_signature, self.token, timestamp, nonce, encrypt)
        for key in self.keys:
            try:
                return WeChatCrypto(self.token, key, self.app_id).decrypt_message(
                    outer, msg_signature, timestamp, nonce
                )
            except (InvalidAppIdException, InvalidSignatureException, ValueError, struct.error, IndexError):
                continue
        raise ProtocolError(400, "cannot decrypt with any configured key")

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        return WeChatCrypto(self.token, self.keys[0], self.app_id).encrypt_message(xml, nonce, timestamp)


def parse(xml: str | bytes) -> BaseMessage:
    """wechatpy's parse_message, with malformed input turned into a 400: the sender, the account, the
    message id and time are checked here, since wechatpy converts its fields only when they are read."""
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    ensure_safe_xml(raw)
    try:
        message = parse_message(_NOT_XML.sub("", raw.decode("utf-8")))
    except (ExpatError, KeyError, ValueError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise ProtocolError(400, "malformed message", f"{type(error).__name__}: {error}") from error
    if message is None or not message.source:
        raise ProtocolError(400, "message without sender")
    _check_envelope(message)
    return message


def _check_envelope(message: BaseMessage) -> None:
    """The fields every turn reads: sender, account, message id, time."""
    for name in ("source", "target"):
        value = message.source if name == "source" else message.target
        if not isinstance(value, str) or not _USER_ID.fullmatch(value):
            raise ProtocolError(400, "malformed message", f"bad {name}")
    try:
        msg_id, sent = message.id or 0, message.time
    except (ValueError, TypeError, OverflowError) as error:
        raise ProtocolError(400, "malformed message", f"{type(error).__name__}: {error}") from error
    if not isinstance(msg_id, int) or not 0 <= msg_id < _MAX_MSG_ID:
        raise ProtocolError(400, "malformed message", "bad MsgId")
    if not isinstance(sent, int) or not -_MAX_CREATE_TIME < sent < _MAX_CREATE_TIME:
        raise ProtocolError(400, "malformed message", "bad CreateTime")


def _attribute(message: BaseMessage, name: str) -> object:
    """A field of wechatpy's message, or None where reading it fails (its properties split strings)."""
    try:
        return getattr(message, name, None)
    except (AttributeError, IndexError, KeyError, ValueError, TypeError):
        return None


def _field(message: BaseMessage, name: str) -> str:
    """A text field the dialogs read; a nested element or a repeated one is not a WeChat message."""
    value = _attribute(message, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProtocolError(400, "malformed message", f"{name} is not text")
    return value


#: Events that are a person's act in the chat, and start a turn (and WeChat's customer-service window).
#: Every other event — template or mass-send reports, a menu link opened (VIEW), a location reported in
#: the background, card, Wi-Fi, customer-service session and verification notices — is acknowledged
#: with "success" and changes nothing.
TURN_EVENTS = frozenset(
    ("click", "scan", "subscribe", "subscribe_scan", "subscribe_scan_product", "unsubscribe")
)


def starts_a_turn(message: BaseMessage) -> bool:
    """Whether the message is a person's act the service answers: every message, and TURN_EVENTS (an
    event wechatpy does not know is an UnknownMessage: its MsgType tells it is an event)."""
    if str(message._data.get("MsgType", "")).lower() != "event":
        return True
    return message.type == "event" and _field(message, "event") in TURN_EVENTS


def to_user_input(message: BaseMessage) -> UserInput:
    """The part of a WeChat message the dialogs care about; ProtocolError when a field is not text. A
    voice message with WeChat's recognition is its text (dialogs.voice), one without it ``voice``."""
    kind = message.type
    if kind == "text":
        return UserInput("text", text=_field(message, "content"))
    if kind == "image":
        return UserInput("photo", media_id=_field(message, "media_id"), pic_url=_field(message, "image"))
    if kind == "voice":
        heard = voice.spoken(_field(message, "recognition"))
        return UserInput("text", text=heard, heard=heard) if heard else UserInput("voice")
    if kind == "event":
        event = _field(message, "event")
        if event == "click":
            return UserInput("click", text=_field(message, "key"))
        if event in ("scan", "subscribe_scan"):
            return UserInput("scan", text=_field(message, "scene_id"))
        if event in ("subscribe", "subscribe_scan_product"):
            return UserInput("subscribe")
        if event == "unsubscribe":
            return UserInput("unsubscribe")
    return UserInput("other")


def dedup_key(message: BaseMessage) -> str:
    """MsgId for messages; FromUserName + CreateTime for events, which carry no MsgId — with the event
    and its key, so that two different taps within one second are not taken for a retry. The event's
    key is hashed, and a key longer than its column (an odd event name) is hashed whole."""
    if message.type != "event" and message.id:
        return f"msg:{message.id}"
    event = _attribute(message, "event") or message.type
    key = str(_attribute(message, "key") or _attribute(message, "scene_id") or "")
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    whole = f"evt:{message.source}:{message.time}:{event}:{digest}"
    if len(whole) <= MAX_DEDUP_KEY:
        return whole
    return "evt:" + hashlib.sha256(whole.encode()).hexdigest()


def cdata_safe(text: str) -> str:
    """Split ']]>' so that user text echoed back cannot end wechatpy's CDATA section."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def render_text(reply: Reply) -> str:
    """The reply as WeChat shows it: its text neutral (dialogs.markup: no tag, entity or address that
    a person typed can become a link), then its choices as the service's own tap-to-answer links,
    within WeChat's 2048 bytes — cut with “…”, links dropped, when the whole does not fit."""
    links = [
        f'<a href="weixin://bizmsgmenu?msgmenucontent={markup.attribute(choice.content)}&msgmenuid={index}">'
        f"{markup.neutral(choice.label)}</a>"
        for index, choice in enumerate(reply.choices, start=1)
    ]
    text = markup.neutral(reply.text)
    if links:
        rendered = text + "\n" + " ".join(links)
        if len(rendered.encode("utf-8")) <= MAX_REPLY_BYTES:
            return rendered
    return truncate(text)


def truncate(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """Neutral ``text`` cut to ``limit`` bytes with “…”, between characters: neutral text holds no
    ``<`` ``>`` ``&``, so the cut never ends inside a tag or an entity."""
    if len(text.encode("utf-8")) <= limit:
        return text
    return markup.cut(text, limit - len("…".encode())) + "…"


def links_of(text: str) -> list[tuple[str, str]]:
    """(label, content) of each tap-to-answer link in a reply — for the simulator and tests."""
    return [(m.group("label"), m.group("content")) for m in _LINK.finditer(text)]


def reply_xml(message: BaseMessage, text: str) -> str:
    """A passive text reply, CDATA-safe."""
    return TextReply(message=message, content=cdata_safe(text)).render()

"""A WeChat simulator: builds, signs (and in safe mode encrypts) pushes exactly as WeChat does.

Used by `nianjian chat` against a running server, by the benchmark, and by tests through any transport.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

import xmltodict
from wechatpy.crypto import WeChatCrypto

from chatbot.wechat.protocol import cdata_safe, signature

#: (query parameters, body) → (HTTP status, response text)
Transport = Callable[[dict[str, str], bytes], tuple[int, str]]
ACCOUNT = "gh_nianjian"
_msg_ids = count(int(time.time() * 1000) * 1000 + secrets.randbelow(1000))


def http_transport(url: str, timeout: float = 10.0) -> Transport:
    import requests

    session = requests.Session()

    def post(params: dict[str, str], body: bytes) -> tuple[int, str]:
        response = session.post(
            url,
            params=params,
            data=body,
            timeout=timeout,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        return response.status_code, response.content.decode("utf-8")

    return post


def _cdata(name: str, value: str) -> str:
    return f"<{name}><![CDATA[{cdata_safe(value)}]]></{name}>"


@dataclass
class Simulator:
    """One WeChat user talking to the webhook."""

    transport: Transport
    openid: str
    token: str
    app_id: str = ""
    aes_key: str | None = None
    clock: Callable[[], float] = time.time
    last: tuple[dict[str, str], bytes] | None = field(default=None, repr=False)

    def _envelope(self, msg_type: str, body: str, with_id: bool = True) -> str:
        msg_id = f"<MsgId>{next(_msg_ids)}</MsgId>" if with_id else ""
        return (
            f"<xml>{_cdata('ToUserName', ACCOUNT)}{_cdata('FromUserName', self.openid)}"
            f"<CreateTime>{int(self.clock())}</CreateTime>{_cdata('MsgType', msg_type)}{body}{msg_id}</xml>"
        )

    def text(self, content: str) -> tuple[int, str]:
        return self.post(self._envelope("text", _cdata("Content", content)))

    def photo(self, media_id: str | None = None) -> tuple[int, str]:
        media_id = media_id or "media_" + secrets.token_hex(8)
        body = _cdata("PicUrl", f"http://mmbiz.qpic.cn/sim/{media_id}.jpg") + _cdata("MediaId", media_id)
        return self.post(self._envelope("image", body))

    def voice(self, recognition: str = "") -> tuple[int, str]:
        """A voice message; ``recognition`` is what WeChat's speech recognition heard ("": the account's
        recognition is off, and the push has no Recognition element)."""
        media_id = "voice_" + secrets.token_hex(8)
        body = _cdata("MediaId", media_id) + _cdata("Format", "amr")
        if recognition:
            body += _cdata("Recognition", recognition)
        return self.post(self._envelope("voice", body))

    def speak(self, recognition: str = "") -> str:
        """Send a voice message and return the reply's text."""
        return self.reply_text(*self.voice(recognition))

    def event(self, event: str, key: str | None = None) -> tuple[int, str]:
        body = _cdata("Event", event) + (_cdata("EventKey", key) if key is not None else "")
        return self.post(self._envelope("event", body, with_id=False))

    def click(self, key: str) -> tuple[int, str]:
        return self.event("CLICK", key)

    def scan(self, scene: str) -> tuple[int, str]:
        return self.event("SCAN", scene)

    def subscribe(self, scene: str | None = None) -> tuple[int, str]:
        return self.event("subscribe", f"qrscene_{scene}" if scene else "")

    def post(self, xml: str) -> tuple[int, str]:
        self.last = self.sign(xml)
        return self.send(*self.last)

    def prepare_text(self, content: str) -> tuple[dict[str, str], bytes]:
        """A signed text push, not sent: for firing the same delivery several times at once."""
        return self.sign(self._envelope("text", _cdata("Content", content)))

    def sign(self, xml: str) -> tuple[dict[str, str], bytes]:
        """Query parameters and body of a push, signed (and in safe mode encrypted) as WeChat does."""
        timestamp, nonce = str(int(self.clock())), secrets.token_hex(5)
        params = {
            "signature": signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": self.openid,
        }
        body = xml
        if self.aes_key:
            crypto = WeChatCrypto(self.token, self.aes_key, self.app_id)
            outer = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            params |= {"encrypt_type": "aes", "msg_signature": outer["MsgSignature"]}
            body = f"<xml>{_cdata('ToUserName', ACCOUNT)}{_cdata('Encrypt', outer['Encrypt'])}</xml>"
        return params, body.encode("utf-8")

    def again(self) -> tuple[int, str]:
        """Send the last push once more, byte for byte, as WeChat's retry does."""
        if self.last is None:
            raise RuntimeError("nothing sent yet")
        return self.send(*self.last)

    def send(self, params: dict[str, str], body: bytes) -> tuple[int, str]:
        return self.transport(params, body)

    def reply_text(self, status: int, body: str) -> str:
        """The Content of a reply ('' for 'success'); safe-mode replies are decrypted and verified."""
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body}")
        if body in ("", "success"):
            return ""
        data = xmltodict.parse(body)["xml"]
        if "Encrypt" in data:
            crypto = WeChatCrypto(self.token, self.aes_key or "", self.app_id)
            data = xmltodict.parse(
                crypto.decrypt_message(body, data["MsgSignature"], data["TimeStamp"], data["Nonce"])
            )["xml"]
        return data.get("Content") or ""

    def say(self, content: str) -> str:
        """Send text and return the reply's text."""
        return self.reply_text(*self.text(content))

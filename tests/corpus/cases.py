"""The hostile-input corpus: every case named, each a request WeChat would never send (or a text a
person could type), built for plaintext mode, safe mode (AES), or both.

A case is data: the test module (test_corpus.py) sends it through a real HTTP server and checks the
same things of every answer. Kinds:

- ``Envelope``: the query string (signatures, timestamps) around a well-formed message;
- ``Body``: an XML body — posted as it is in plaintext mode, sealed (encrypted and signed) in safe mode,
  so the same hostile XML reaches the parser through both paths;
- ``Text``: what a chair in the middle of the self-check types, with what must be recorded;
- ``Kind``: every WeChat message and event type, the ones the service uses and the ones it does not;
- ``Sealed``: safe-mode ciphertexts that are wrong in one way each (padding, AppID, length, base64);
- ``Size``: bodies over the limit, sent on a raw socket to see that they are refused unread.
"""

from __future__ import annotations

import base64
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from chatbot.wechat.protocol import signature

ACCOUNT = "gh_corpus0000001"
PLAIN, AES = "plain", "aes"
BOTH = (PLAIN, AES)
_ids = count(int(time.time()) * 1000)


def msg_id() -> int:
    return next(_ids)


def cdata(name: str, value: str) -> str:
    return f"<{name}><![CDATA[{value.replace(']]>', ']]]]><![CDATA[>')}]]></{name}>"


def envelope(
    openid: str, msg_type: str, inner: str = "", with_id: bool = True, when: int | None = None
) -> str:
    """A message as WeChat builds it; ``inner`` is the type's own elements."""
    ident = f"<MsgId>{msg_id()}</MsgId>" if with_id else ""
    return (
        f"<xml>{cdata('ToUserName', ACCOUNT)}{cdata('FromUserName', openid)}"
        f"<CreateTime>{int(time.time()) if when is None else when}</CreateTime>{cdata('MsgType', msg_type)}"
        f"{inner}{ident}</xml>"
    )


def event(openid: str, name: str, inner: str = "") -> str:
    return envelope(openid, "event", cdata("Event", name) + inner, with_id=False)


# ---------------------------------------------------------------- signing and sealing


@dataclass(frozen=True)
class Keys:
    token: str
    app_id: str
    aes_key: str

    @property
    def key(self) -> bytes:
        return base64.b64decode(self.aes_key + "=")


def signed(keys: Keys, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    nonce = secrets.token_hex(5) if nonce is None else nonce
    return {"signature": signature(keys.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def _pkcs7(data: bytes, block: int = 32) -> bytes:
    pad = block - len(data) % block
    return data + bytes([pad]) * pad


def cipher_text(
    keys: Keys,
    xml: bytes,
    app_id: str | None = None,
    padding: Callable[[bytes], bytes] = _pkcs7,
    length: int | None = None,
    key: bytes | None = None,
) -> str:
    """WeChat's ciphertext of ``xml`` (random(16) + length + xml + AppID, PKCS#7 to 32, AES-256-CBC),
    with any part replaceable to make it wrong."""
    key = keys.key if key is None else key
    plain = (
        secrets.token_bytes(16)
        + struct.pack(">I", len(xml) if length is None else length)
        + xml
        + (keys.app_id if app_id is None else app_id).encode()
    )
    padded = padding(plain)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def seal_encrypt(keys: Keys, encrypt: str, timestamp: str | None = None) -> tuple[dict[str, str], bytes]:
    """A safe-mode push carrying ``encrypt`` as its Encrypt element, signed over it."""
    params = signed(keys, timestamp)
    params |= {
        "encrypt_type": "aes",
        "msg_signature": signature(keys.token, params["timestamp"], params["nonce"], encrypt),
    }
    body = f"<xml>{cdata('ToUserName', ACCOUNT)}{cdata('Encrypt', encrypt)}</xml>"
    return params, body.encode()


def seal(keys: Keys, mode: str, xml: str | bytes) -> tuple[dict[str, str], bytes]:
    """``xml`` as WeChat sends it in ``mode``: signed, and in safe mode encrypted."""
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    if mode == PLAIN:
        return signed(keys), raw
    return seal_encrypt(keys, cipher_text(keys, raw))


# ---------------------------------------------------------------- the kinds of case

Build = Callable[[Keys, str, str], tuple[dict[str, str], bytes]]  # keys, mode, openid → request


@dataclass(frozen=True)
class Envelope:
    """A well-formed message with a query string that is wrong (or right) in one way."""

    name: str
    build: Build
    status: int
    modes: tuple[str, ...] = BOTH


@dataclass(frozen=True)
class Body:
    """An XML body; ``status`` 0 means a reply (200) is as good as a refusal, as long as it is clean."""

    name: str
    xml: Callable[[str], str | bytes]  # openid → body
    status: int
    modes: tuple[str, ...] = BOTH


@dataclass(frozen=True)
class Text:
    """What a chair at item 1 of the self-check types. ``score``: what item 1 must hold afterwards
    (None: nothing recorded, and the question is asked again)."""

    name: str
    content: str
    score: Decimal | None = None
    shows: str = "【1/43】"


@dataclass(frozen=True)
class Kind:
    """A message or event type: ``reply`` True when the service answers it with text; events that are
    not a person's act in the chat are acknowledged with 'success' and start no turn."""

    name: str
    xml: Callable[[str], str]
    reply: bool = True
    modes: tuple[str, ...] = BOTH


@dataclass(frozen=True)
class Sealed:
    """A safe-mode push whose ciphertext is wrong: refused with ``status``."""

    name: str
    build: Callable[[Keys, str], tuple[dict[str, str], bytes]]  # keys, openid → request
    status: int


@dataclass(frozen=True)
class Size:
    """A body over the limit, as raw HTTP: ``head`` with its Content-Length or chunked, the first part
    of the body sent with it, ``rest`` only after the answer arrived."""

    name: str
    head: Callable[[Keys, int], tuple[bytes, bytes, bytes]]  # keys, port → (request, first part, rest)
    status: tuple[int, ...]


# ---------------------------------------------------------------- envelopes


def _text_push(keys: Keys, mode: str, openid: str, params: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """A '帮助' message under the given signed params (re-sealed in safe mode with the same ones)."""
    xml = envelope(openid, "text", cdata("Content", "帮助")).encode()
    if mode == PLAIN:
        return params, xml
    encrypt = cipher_text(keys, xml)
    sealed = params | {
        "encrypt_type": "aes",
        "msg_signature": signature(keys.token, params.get("timestamp", ""), params.get("nonce", ""), encrypt),
    }
    return sealed, f"<xml>{cdata('ToUserName', ACCOUNT)}{cdata('Encrypt', encrypt)}</xml>".encode()


def _with(change: Callable[[Keys, dict[str, str]], dict[str, str]]) -> Build:
    return lambda keys, mode, openid: _text_push(keys, mode, openid, change(keys, signed(keys)))


def _at(offset: int) -> Build:
    return lambda keys, mode, openid: _text_push(
        keys, mode, openid, signed(keys, timestamp=str(int(time.time()) + offset))
    )


def _stamped(change: Callable[[str], str]) -> Build:
    """Signed over a timestamp that is now, written oddly."""
    return lambda keys, mode, openid: _text_push(
        keys, mode, openid, signed(keys, timestamp=change(str(int(time.time()))))
    )


def _nonce(nonce: str) -> Build:
    """Signed with this nonce, the two modes' timestamps minutes apart: one signed query carries one body."""
    return lambda keys, mode, openid: _text_push(
        keys, mode, openid, signed(keys, str(int(time.time()) - (150 if mode == AES else 0)), nonce)
    )


_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _flip(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def _wrong_msg_signature(keys: Keys, mode: str, openid: str) -> tuple[dict[str, str], bytes]:
    params, body = _text_push(keys, AES, openid, signed(keys))
    return params | {"msg_signature": _flip(params["msg_signature"])}, body


def _no_msg_signature(keys: Keys, mode: str, openid: str) -> tuple[dict[str, str], bytes]:
    params, body = _text_push(keys, AES, openid, signed(keys))
    return {k: v for k, v in params.items() if k != "msg_signature"}, body


def _msg_signature_of_another_body(keys: Keys, mode: str, openid: str) -> tuple[dict[str, str], bytes]:
    params, _ = _text_push(keys, AES, openid, signed(keys))
    _, other = _text_push(keys, AES, openid + "x", signed(keys))
    return params, other


def _plaintext_claiming_aes(keys: Keys, mode: str, openid: str) -> tuple[dict[str, str], bytes]:
    params = signed(keys) | {"encrypt_type": "aes", "msg_signature": "0" * 40}
    return params, envelope(openid, "text", cdata("Content", "帮助")).encode()


ENVELOPES: list[Envelope] = [
    Envelope("no-query-string", _with(lambda k, p: {}), 403),
    Envelope("no-signature", _with(lambda k, p: {n: v for n, v in p.items() if n != "signature"}), 403),
    Envelope("empty-signature", _with(lambda k, p: p | {"signature": ""}), 403),
    Envelope("one-digit-off-signature", _with(lambda k, p: p | {"signature": _flip(p["signature"])}), 403),
    Envelope("uppercase-signature", _with(lambda k, p: p | {"signature": p["signature"].upper()}), 403),
    Envelope("signature-with-suffix", _with(lambda k, p: p | {"signature": p["signature"] + "00"}), 403),
    Envelope(
        "signature-of-another-token",
        _with(lambda k, p: p | {"signature": signature("othertoken", p["timestamp"], p["nonce"])}),
        403,
    ),
    Envelope("signature-of-another-nonce", _with(lambda k, p: p | {"nonce": p["nonce"] + "1"}), 403),
    Envelope("non-ascii-signature", _with(lambda k, p: p | {"signature": "签名" * 20}), 403),
    Envelope("no-timestamp", _with(lambda k, p: {n: v for n, v in p.items() if n != "timestamp"}), 403),
    Envelope(
        "signed-empty-timestamp",
        lambda k, m, o: _text_push(k, m, o, signed(k, timestamp="")),
        403,
    ),
    Envelope("signed-text-timestamp", lambda k, m, o: _text_push(k, m, o, signed(k, timestamp="abc")), 403),
    Envelope(
        "signed-float-timestamp", lambda k, m, o: _text_push(k, m, o, signed(k, timestamp="1.5e9")), 403
    ),
    Envelope(
        "signed-huge-timestamp", lambda k, m, o: _text_push(k, m, o, signed(k, timestamp="9" * 40)), 403
    ),
    Envelope(
        "signed-negative-timestamp", lambda k, m, o: _text_push(k, m, o, signed(k, timestamp="-1")), 403
    ),
    Envelope("signed-zero-timestamp", lambda k, m, o: _text_push(k, m, o, signed(k, timestamp="0")), 403),
    Envelope(
        "signed-400-digit-timestamp", lambda k, m, o: _text_push(k, m, o, signed(k, timestamp="9" * 400)), 403
    ),
    Envelope("signed-timestamp-with-plus", _stamped(lambda now: f"+{now}"), 403),
    Envelope("signed-timestamp-with-spaces", _stamped(lambda now: f" {now} "), 403),
    Envelope("signed-underscored-timestamp", _stamped(lambda now: f"{now[:4]}_{now[4:]}"), 403),
    Envelope("signed-fullwidth-timestamp", _stamped(lambda now: now.translate(_FULLWIDTH)), 403),
    Envelope("signed-arabic-indic-timestamp", _stamped(lambda now: now.translate(_ARABIC_INDIC)), 403),
    Envelope("signed-timestamp-with-nul", _stamped(lambda now: now + "\x00"), 403),
    Envelope("signed-nul-timestamp", _stamped(lambda now: "\x00"), 403),
    Envelope("signature-with-nul", _with(lambda k, p: p | {"signature": p["signature"] + "\x00"}), 403),
    Envelope("signed-nul-in-nonce", _nonce("a\x00b"), 403),
    Envelope("signed-control-chars-nonce", _nonce("\x01\x1b[2J"), 403),
    Envelope("signed-cdata-end-nonce", _nonce("]]><x/>"), 403),
    Envelope("signed-markup-nonce", _nonce("<b>1</b>"), 403),
    Envelope("latin1-bytes-in-nonce", _with(lambda k, p: p | {"nonce": "caf\xe9".encode("latin-1")}), 403),
    Envelope("signed-replacement-char-nonce", _nonce("\ufffd"), 200),
    Envelope("timestamp-6-minutes-ago", _at(-360), 403),
    Envelope("timestamp-a-day-ago", _at(-86400), 403),
    Envelope("timestamp-ten-years-ago", _at(-10 * 365 * 86400), 403),
    Envelope("timestamp-6-minutes-ahead", _at(360), 403),
    Envelope("timestamp-a-day-ahead", _at(86400), 403),
    Envelope("timestamp-ten-years-ahead", _at(10 * 365 * 86400), 403),
    Envelope("timestamp-4-minutes-ago", _at(-240), 200),
    Envelope("timestamp-4-minutes-ahead", _at(240), 200),
    Envelope("signed-empty-nonce", _nonce(""), 200),
    Envelope("signed-long-nonce", _nonce("n" * 2000), 200),
    Envelope("signed-unicode-nonce", _nonce("随机数"), 200),
    Envelope("wrong-msg-signature", _wrong_msg_signature, 403, (AES,)),
    Envelope("no-msg-signature", _no_msg_signature, 403, (AES,)),
    Envelope("msg-signature-of-another-body", _msg_signature_of_another_body, 403, (AES,)),
    Envelope("plaintext-body-claiming-aes", _plaintext_claiming_aes, 400, (AES,)),
    Envelope("unknown-encrypt-type", _with(lambda k, p: p | {"encrypt_type": "rot13"}), 200, (PLAIN,)),
]

# ---------------------------------------------------------------- bodies

_BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)


def _doc(prefix: str, content: str = "帮助", after: str = "") -> Callable[[str], str]:
    def build(openid: str) -> str:
        return prefix + envelope(openid, "text", cdata("Content", content) + after)

    return build


def _plain_content(content: str) -> Callable[[str], str]:
    """A text message whose Content is not in CDATA (so markup in it is markup)."""

    def build(openid: str) -> str:
        return envelope(openid, "text", f"<Content>{content}</Content>")

    return build


def _replace(old: str, new: str, content: str = "帮助") -> Callable[[str], str]:
    def build(openid: str) -> str:
        return envelope(openid, "text", cdata("Content", content)).replace(old.format(openid=openid), new)

    return build


def _raw(text: str | bytes) -> Callable[[str], str | bytes]:
    return lambda openid: text


def _encoded(
    encoding: str, declared: str | None = None, content: str = "帮助，中文内容"
) -> Callable[[str], bytes]:
    def build(openid: str) -> bytes:
        head = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
        return (head + envelope(openid, "text", cdata("Content", content))).encode(encoding)

    return build


def _nested(depth: int) -> Callable[[str], str]:
    return lambda openid: envelope(openid, "text", cdata("Content", "帮助") + "<a>" * depth + "</a>" * depth)


def _many(elements: int) -> Callable[[str], str]:
    return lambda openid: envelope(openid, "text", cdata("Content", "帮助") + "<e/>" * elements)


BODIES: list[Body] = [
    Body("empty-body", _raw(""), 400),
    Body("whitespace-body", _raw("   \r\n\t "), 400),
    Body("not-xml", _raw("hello, this is not xml"), 400),
    Body("json-body", _raw('{"ToUserName": "gh", "MsgType": "text"}'), 400),
    Body("html-body", _raw("<html><body>hi</body></html>"), 400),
    Body("truncated-xml", lambda o: envelope(o, "text", cdata("Content", "帮助"))[:-20], 400),
    Body("unclosed-cdata", lambda o: envelope(o, "text", "<Content><![CDATA[帮助</Content>"), 400),
    Body("empty-xml-element", _raw("<xml></xml>"), 400),
    Body("self-closing-xml", _raw("<xml/>"), 400),
    Body("other-root", lambda o: envelope(o, "text", cdata("Content", "x")).replace("xml>", "doc>"), 400),
    Body("two-roots", lambda o: envelope(o, "text", cdata("Content", "x")) * 2, 400),
    Body("text-after-root", lambda o: envelope(o, "text", cdata("Content", "x")) + "trailing", 400),
    Body("billion-laughs", _doc(_BILLION_LAUGHS, after="<X>&d;</X>"), 400),
    Body(
        "xxe-file",
        _doc(
            '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
            after="<X>&x;</X>",
        ),
        400,
    ),
    Body(
        "xxe-http",
        _doc('<!DOCTYPE xml [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', after="<X>&x;</X>"),
        400,
    ),
    Body(
        "parameter-entity",
        _doc('<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'),
        400,
    ),
    Body("external-dtd", _doc('<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">'), 400),
    Body("public-dtd", _doc('<!DOCTYPE xml PUBLIC "-//X//EN" "file:///dev/random">'), 400),
    Body("internal-subset-only", _doc("<!DOCTYPE xml []>"), 400),
    Body("lowercase-doctype", _doc("<!doctype xml>"), 400),
    Body("comment", _doc("<!-- a comment -->"), 400),
    Body("stylesheet-pi", _doc('<?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?>'), 400),
    Body("two-xml-declarations", _doc('<?xml version="1.0"?><?xml version="1.0"?>'), 400),
    Body("undefined-entity", _plain_content("&undefined;"), 400),
    Body("nul-char-reference", _plain_content("&#0;"), 400),
    Body("control-char-reference", _plain_content("&#1;"), 400),
    # Control characters are dropped before the body is parsed and the message is answered: refused,
    # WeChat would tell the user the account cannot serve them (tests/test_attack_voice.py).
    Body("raw-control-char", lambda o: envelope(o, "text", cdata("Content", "a\x01b")), 200),
    Body("raw-nul-byte", lambda o: envelope(o, "text", cdata("Content", "a\x00b")), 200),
    Body("markup-in-content", _plain_content("<b>粗体</b>"), 400),
    Body("escaped-markup-in-content", _plain_content("&lt;b&gt; &amp; &quot;"), 0),
    Body("char-references-in-content", _plain_content("&#24110;&#21161;"), 0),
    Body("latin1-bytes", _encoded("latin-1", content="café crème"), 400),
    Body("latin1-declared-and-sent", _encoded("latin-1", "ISO-8859-1", content="café crème"), 400),
    Body("gbk-bytes-undeclared", _encoded("gbk"), 400),
    Body("gbk-bytes-declared", _encoded("gbk", "GBK"), 400),
    Body("utf16-with-bom", _encoded("utf-16"), 400),
    Body("utf8-declared-gbk", _encoded("utf-8", "GBK"), 0),
    Body("utf8-bom", lambda o: "\ufeff" + envelope(o, "text", cdata("Content", "帮助")), 0),
    Body("deep-nesting", _nested(5000), 0),
    Body("ten-thousand-elements", _many(10000), 0),
    Body("huge-attribute", lambda o: envelope(o, "text", f'<Content a="{"x" * 40000}">帮助</Content>'), 0),
    Body("missing-msgtype", _replace("<MsgType><![CDATA[text]]></MsgType>", ""), 400),
    Body("empty-msgtype", _replace("<MsgType><![CDATA[text]]></MsgType>", "<MsgType></MsgType>"), 0),
    Body(
        "nested-msgtype",
        _replace("<MsgType><![CDATA[text]]></MsgType>", "<MsgType><a>text</a></MsgType>"),
        400,
    ),
    Body("missing-fromusername", _replace("<FromUserName><![CDATA[{openid}]]></FromUserName>", ""), 400),
    Body("empty-fromusername", _replace("<![CDATA[{openid}]]>", ""), 400),
    Body("nested-fromusername", _replace("<![CDATA[{openid}]]>", "<a>x</a>"), 400),
    Body(
        "repeated-fromusername",
        _replace("<FromUserName>", "<FromUserName><![CDATA[someone-else]]></FromUserName><FromUserName>"),
        400,
    ),
    Body("fromusername-65-chars", _replace("<![CDATA[{openid}]]>", "o" * 65), 400),
    Body("fromusername-10kb", _replace("<![CDATA[{openid}]]>", "o" * 10240), 400),
    Body(
        "fromusername-with-cdata-end", _replace("<![CDATA[{openid}]]>", "<![CDATA[o]]]]><![CDATA[>x]]>"), 400
    ),
    Body("fromusername-with-markup", _replace("<![CDATA[{openid}]]>", "&lt;/ToUserName&gt;"), 400),
    Body("fromusername-chinese", _replace("<![CDATA[{openid}]]>", "<![CDATA[微信用户]]>"), 400),
    Body("fromusername-with-colon", _replace("<![CDATA[{openid}]]>", "<![CDATA[o:1:x]]>"), 400),
    Body("missing-tousername", _replace(f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>", ""), 400),
    Body("tousername-with-markup", _replace(f"<![CDATA[{ACCOUNT}]]>", "&lt;x&gt;"), 400),
    Body("missing-content", _replace("<Content><![CDATA[帮助]]></Content>", ""), 0),
    Body(
        "nested-content",
        _replace("<Content><![CDATA[帮助]]></Content>", "<Content><b>帮助</b></Content>"),
        400,
    ),
    Body("repeated-content", _replace("<Content>", "<Content>a</Content><Content>"), 400),
    Body("huge-msgid", _replace("<MsgId>", "<MsgId>" + "9" * 60), 400),
    Body(
        "msgid-2-to-the-64",
        lambda o: envelope(o, "text", cdata("Content", "帮助"), with_id=False).replace(
            "</xml>", f"<MsgId>{2**64}</MsgId></xml>"
        ),
        400,
    ),
    Body(
        "negative-msgid",
        lambda o: envelope(o, "text", cdata("Content", "帮助"), with_id=False).replace(
            "</xml>", "<MsgId>-5</MsgId></xml>"
        ),
        400,
    ),
    Body(
        "text-msgid",
        lambda o: envelope(o, "text", cdata("Content", "帮助"), with_id=False).replace(
            "</xml>", "<MsgId>abc</MsgId></xml>"
        ),
        400,
    ),
    Body(
        "float-msgid",
        lambda o: envelope(o, "text", cdata("Content", "帮助"), with_id=False).replace(
            "</xml>", "<MsgId>1.5</MsgId></xml>"
        ),
        400,
    ),
    Body(
        "nested-msgid",
        lambda o: envelope(o, "text", cdata("Content", "帮助"), with_id=False).replace(
            "</xml>", "<MsgId><a>1</a></MsgId></xml>"
        ),
        400,
    ),
    Body(
        "zero-msgid",
        lambda o: envelope(o, "text", cdata("Content", "帮助"), with_id=False).replace(
            "</xml>", "<MsgId>0</MsgId></xml>"
        ),
        0,
    ),
    Body("huge-createtime", lambda o: envelope(o, "text", cdata("Content", "帮助"), when=10**30), 400),
    Body("negative-createtime", lambda o: envelope(o, "text", cdata("Content", "帮助"), when=-1), 0),
    Body(
        "text-createtime",
        lambda o: envelope(o, "text", cdata("Content", "帮助")).replace("<CreateTime>", "<CreateTime>abc"),
        400,
    ),
    Body(
        "missing-createtime",
        lambda o: envelope(o, "text", cdata("Content", "帮助"), with_id=False).replace(
            f"<CreateTime>{int(time.time())}</CreateTime>", ""
        ),
        0,
    ),
    Body("event-without-event-name", lambda o: envelope(o, "event", with_id=False), 0),
    Body(
        "nested-event-name", lambda o: envelope(o, "event", "<Event><a>CLICK</a></Event>", with_id=False), 400
    ),
    Body("nested-eventkey", lambda o: event(o, "CLICK", "<EventKey><a>SELF_CHECK</a></EventKey>"), 400),
    Body("nested-recognition", lambda o: envelope(o, "voice", "<Recognition><a>三分</a></Recognition>"), 400),
    Body("nested-subscribe-eventkey", lambda o: event(o, "subscribe", "<EventKey><a>x</a></EventKey>"), 400),
    Body("long-event-name", lambda o: event(o, "E" * 3000), 0),
]

# ---------------------------------------------------------------- texts typed by a chair at item 1

TEXTS: list[Text] = [
    Text("whole-number", "3", Decimal("3"), "【2/43】"),
    Text("half-point", "4.5", Decimal("4.5"), "【2/43】"),
    Text("fullwidth-digit", "５", Decimal("5"), "【2/43】"),
    Text("fullwidth-decimal", "３．５", Decimal("3.5"), "【2/43】"),
    Text("quarter-point", "3.25"),
    Text("over-the-maximum", "6"),
    Text("minus-one", "-1"),
    Text("minus-zero", "-0", Decimal("0"), "【2/43】"),
    Text("exponent-overflow", "1e309"),
    Text("exponent-underflow", "1e-400"),
    Text("nan", "NaN"),
    Text("infinity", "inf"),
    Text("minus-infinity", "-Infinity"),
    Text("hex", "0x3"),
    Text("underscored", "1_0"),
    Text("hundred-digits", "9" * 100),
    Text("arabic-indic-digit", "٣", Decimal("3"), "【2/43】"),  # a decimal digit, as Python reads it
    Text("vulgar-half", "½"),
    Text("circled-five", "⑤", Decimal("5"), "【2/43】"),  # NFKC, as for full-width digits
    Text("chinese-numeral", "三", Decimal("3"), "【2/43】"),
    Text("comma-decimal", "3,5", Decimal("3"), "第 1 项记 3 分"),  # 3 with a note ",5" — the reply says 3
    Text("trailing-dot", "3.", Decimal("3"), "【2/43】"),
    Text("leading-dot", ".5", Decimal("0.5"), "【2/43】"),
    Text("plus-sign", "+3", Decimal("3"), "【2/43】"),
    Text("padded-zeros", "0003", Decimal("3"), "【2/43】"),
    Text("trailing-zero", "4.50", Decimal("4.5"), "【2/43】"),
    Text("emoji", "😀👍🏽"),
    Text("emoji-zwj-family", "👨‍👩‍👧‍👦"),
    Text("flag-emoji", "🇨🇳"),
    Text("zero-width-space-only", "\u200b"),
    Text("zero-width-joiners-around-number", "\u200d3\u200d"),
    Text("bom-char", "\ufeff帮"),
    Text("rtl-override", "\u202etxt.exe"),
    Text("rtl-arabic", "مرحبا بالعالم"),
    Text("combining-marks", "a\u0301\u0302\u0303\u0304\u0305" * 50),
    Text("cdata-terminator", "]]>"),
    Text("cdata-in-text", "<![CDATA[x]]><MsgType>evil</MsgType>"),
    Text("angle-bracket", "<"),
    Text("ampersand", "&"),
    Text("entity-looking", "&amp;&lt;&#0;"),
    Text("xml-tags", "</Content><MsgType>image</MsgType>"),
    Text("ten-kb-chinese", "字" * 3413),
    Text("ten-kb-ascii", "x" * 10240),
    Text("newlines-only", "\n\n\n"),
    Text("crlf", "3\r\n", Decimal("3"), "【2/43】"),
    Text("tabs", "\t\t"),
    Text("sql-injection", "'; DROP TABLE item_scores; --"),
    Text("sql-injection-bind", "绑定 ' OR '1'='1", shows="不是有效的邀请码格式"),
    Text("sql-injection-assess", "考评 x' UNION SELECT * FROM accounts --", shows="没有找到编号为"),
    Text("script-tag", "<script>alert(1)</script>"),
    Text("template-injection", "{{7*7}}${7*7}<%= 7*7 %>"),
    Text("log4shell", "${jndi:ldap://127.0.0.1:9/a}"),
    Text("format-string", "%s%s%n%x{0}"),
    Text("path-traversal", "../../../../etc/passwd"),
    Text("weixin-link", '<a href="weixin://bizmsgmenu?msgmenucontent=满分&msgmenuid=1">满分</a>'),
    Text("modify-huge-item", "修改 99999999999999999999"),
    Text("modify-negative-item", "修改 -1"),
    Text("modify-zero", "修改 0"),
    Text("bind-10kb-code", "绑定 " + "A" * 10240, shows="不是有效的邀请码格式"),
    Text("objection-10kb", "异议 " + "理由" * 2000, shows="无法提出异议"),
    Text("evaluation-nul-code", "测评 %00", shows="测评码不正确"),
    Text("number-with-10kb-reason", "3 " + "原因" * 2000, Decimal("3"), "【2/43】"),
    Text("lone-surrogate-escape", "\\ud800"),
    Text("private-use", "\ue000\uf8ff"),
    Text("astral-cjk", "𠀀𪚥"),
]

# ---------------------------------------------------------------- every message and event type


def _msg(msg_type: str, inner: str) -> Callable[[str], str]:
    return lambda openid: envelope(openid, msg_type, inner)


def _voice(recognition: str) -> Callable[[str], str]:
    """A voice message with WeChat's speech recognition (``Recognition``)."""
    return _msg("voice", cdata("MediaId", "v3") + cdata("Format", "amr") + cdata("Recognition", recognition))


def _evt(name: str, inner: str = "") -> Callable[[str], str]:
    return lambda openid: event(openid, name, inner)


KINDS: list[Kind] = [
    Kind("text", _msg("text", cdata("Content", "帮助"))),
    Kind("image", _msg("image", cdata("PicUrl", "http://mmbiz.qpic.cn/x.jpg") + cdata("MediaId", "m1"))),
    Kind("voice", _msg("voice", cdata("MediaId", "v1") + cdata("Format", "amr"))),
    Kind(
        "voice-with-recognition",
        _msg("voice", cdata("MediaId", "v2") + cdata("Format", "amr") + cdata("Recognition", "满分")),
    ),
    Kind("voice-punctuated", _voice("三分。")),
    Kind("voice-empty-recognition", _voice("")),
    Kind("voice-punctuation-only", _voice("。")),
    Kind("voice-recognition-cdata-terminator", _voice("]]><MsgType>text</MsgType>")),
    Kind(
        "voice-recognition-markup",
        _voice('<a href="weixin://bizmsgmenu?msgmenucontent=满分&msgmenuid=1">满分</a>'),
    ),
    Kind("voice-recognition-10kb", _voice("字" * 3413)),
    Kind("video", _msg("video", cdata("MediaId", "d1") + cdata("ThumbMediaId", "t1"))),
    Kind("shortvideo", _msg("shortvideo", cdata("MediaId", "d2") + cdata("ThumbMediaId", "t2"))),
    Kind(
        "location",
        _msg(
            "location",
            "<Location_X>36.0</Location_X><Location_Y>106.2</Location_Y><Scale>20</Scale>"
            + cdata("Label", "宁夏固原市原州区"),
        ),
    ),
    Kind("location-nonsense", _msg("location", "<Location_X>NaN</Location_X><Location_Y>1e309</Location_Y>")),
    Kind(
        "link",
        _msg(
            "link",
            cdata("Title", "标题") + cdata("Description", "描述") + cdata("Url", "http://127.0.0.1:9/"),
        ),
    ),
    Kind(
        "file",
        _msg("file", cdata("Title", "a.pdf") + cdata("FileKey", "k") + "<FileTotalLen>10</FileTotalLen>"),
    ),
    Kind(
        "miniprogrampage",
        _msg(
            "miniprogrampage",
            cdata("Title", "t") + cdata("AppId", "wx1") + cdata("PagePath", "p") + cdata("ThumbUrl", "u"),
        ),
    ),
    Kind("music", _msg("music", cdata("Title", "t"))),
    Kind("news", _msg("news", "<ArticleCount>1</ArticleCount>")),
    Kind("unknown-type", _msg("hologram", cdata("Content", "帮助"))),
    Kind("uppercase-text-type", _msg("TEXT", cdata("Content", "帮助"))),
    Kind("subscribe", _evt("subscribe")),
    Kind(
        "subscribe-with-scene",
        _evt("subscribe", cdata("EventKey", "qrscene_inv:NOPE") + cdata("Ticket", "t")),
    ),
    Kind("subscribe-with-product-scan", _evt("subscribe", cdata("EventKey", "scanbarcode|x"))),
    Kind("unsubscribe", _evt("unsubscribe"), reply=False),
    Kind("scan-invitation", _evt("SCAN", cdata("EventKey", "inv:NOPE") + cdata("Ticket", "t"))),
    Kind("scan-evaluation", _evt("SCAN", cdata("EventKey", "eval:NOPE"))),
    Kind("scan-unknown-scene", _evt("SCAN", cdata("EventKey", "123"))),
    Kind("click-self-check", _evt("CLICK", cdata("EventKey", "SELF_CHECK"))),
    Kind("click-unknown-key", _evt("CLICK", cdata("EventKey", "NO_SUCH_KEY"))),
    Kind("click-empty-key", _evt("CLICK", cdata("EventKey", ""))),
    Kind("view", _evt("VIEW", cdata("EventKey", "http://127.0.0.1:9/") + cdata("MenuId", "1")), reply=False),
    Kind(
        "location-event",
        _evt("LOCATION", "<Latitude>36.0</Latitude><Longitude>106.2</Longitude><Precision>65</Precision>"),
        reply=False,
    ),
    Kind(
        "scancode-push",
        _evt(
            "scancode_push",
            cdata("EventKey", "k")
            + "<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>",
        ),
        reply=False,
    ),
    Kind("scancode-waitmsg", _evt("scancode_waitmsg", cdata("EventKey", "k")), reply=False),
    Kind(
        "pic-sysphoto",
        _evt(
            "pic_sysphoto",
            cdata("EventKey", "k")
            + "<SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[x]]></PicMd5Sum></item></PicList></SendPicsInfo>",
        ),
        reply=False,
    ),
    Kind("pic-photo-or-album", _evt("pic_photo_or_album", cdata("EventKey", "k")), reply=False),
    Kind("pic-weixin", _evt("pic_weixin", cdata("EventKey", "k")), reply=False),
    Kind("location-select", _evt("location_select", cdata("EventKey", "k")), reply=False),
    Kind("template-send-job-finish", _evt("TEMPLATESENDJOBFINISH", cdata("Status", "success")), reply=False),
    Kind("mass-send-job-finish", _evt("MASSSENDJOBFINISH", "<TotalCount>1</TotalCount>"), reply=False),
    Kind("view-miniprogram", _evt("view_miniprogram", cdata("EventKey", "pages/x")), reply=False),
    Kind("kf-create-session", _evt("kf_create_session", cdata("KfAccount", "a@b")), reply=False),
    Kind("user-get-card", _evt("user_get_card", cdata("CardId", "c")), reply=False),
    Kind("wifi-connected", _evt("WifiConnected", "<ConnectTime>0</ConnectTime>"), reply=False),
    Kind("unknown-event", _evt("whatever_new_event"), reply=False),
]

# ---------------------------------------------------------------- broken safe-mode ciphertexts


def _sealed(make: Callable[[Keys, bytes], str]) -> Callable[[Keys, str], tuple[dict[str, str], bytes]]:
    def build(keys: Keys, openid: str) -> tuple[dict[str, str], bytes]:
        xml = envelope(openid, "text", cdata("Content", "帮助")).encode()
        return seal_encrypt(keys, make(keys, xml))

    return build


def _bad_pad(value: int) -> Callable[[bytes], bytes]:
    def pad(data: bytes) -> bytes:
        count = 32 - len(data) % 32
        return data + bytes([count]) * (count - 1) + bytes([value])

    return pad


def _truncate(keys: Keys, xml: bytes, cut: int) -> str:
    return cipher_text(keys, xml)[:-cut]


SEALED: list[Sealed] = [
    Sealed("wrong-app-id", _sealed(lambda k, x: cipher_text(k, x, app_id="wx9999999999999999")), 400),
    Sealed("empty-app-id", _sealed(lambda k, x: cipher_text(k, x, app_id="")), 400),
    Sealed("wrong-key", _sealed(lambda k, x: cipher_text(k, x, key=bytes(32))), 400),
    Sealed("padding-byte-zero", _sealed(lambda k, x: cipher_text(k, x, padding=_bad_pad(0))), 400),
    Sealed("padding-byte-33", _sealed(lambda k, x: cipher_text(k, x, padding=_bad_pad(33))), 400),
    Sealed("padding-byte-255", _sealed(lambda k, x: cipher_text(k, x, padding=_bad_pad(255))), 400),
    Sealed(
        "no-padding",
        _sealed(lambda k, x: cipher_text(k, x, padding=lambda d: d + b"\0" * (-len(d) % 16))),
        400,
    ),
    Sealed("length-field-huge", _sealed(lambda k, x: cipher_text(k, x, length=2**32 - 1)), 400),
    Sealed("length-field-zero", _sealed(lambda k, x: cipher_text(k, x, length=0)), 400),
    Sealed("length-field-short", _sealed(lambda k, x: cipher_text(k, x, length=len(x) // 2)), 400),
    Sealed("truncated-by-4-chars", _sealed(lambda k, x: _truncate(k, x, 4)), 400),
    Sealed("truncated-by-a-block", _sealed(lambda k, x: cipher_text(k, x)[:-24] + "=="), 400),
    Sealed(
        "truncated-to-16-bytes",
        _sealed(lambda k, x: base64.b64encode(base64.b64decode(cipher_text(k, x))[:16]).decode()),
        400,
    ),
    Sealed("one-byte-ciphertext", _sealed(lambda k, x: base64.b64encode(b"x").decode()), 400),
    Sealed("empty-encrypt", _sealed(lambda k, x: ""), 400),
    Sealed("not-base64", _sealed(lambda k, x: "这不是base64!!"), 400),
    # Signed as it is; base64 decoding skips the spaces, so it is the message.
    Sealed("base64-with-spaces", _sealed(lambda k, x: " ".join(cipher_text(k, x))), 200),
    Sealed(
        "flipped-ciphertext-byte",
        _sealed(
            lambda k, x: base64.b64encode(
                (lambda b: b[:40] + bytes([b[40] ^ 1]) + b[41:])(base64.b64decode(cipher_text(k, x)))
            ).decode()
        ),
        400,
    ),
    Sealed(
        "inner-doctype",
        lambda k, o: seal_encrypt(
            k, cipher_text(k, (_BILLION_LAUGHS + envelope(o, "text", cdata("Content", "&d;"))).encode())
        ),
        400,
    ),
    Sealed("inner-not-xml", lambda k, o: seal_encrypt(k, cipher_text(k, b"not xml at all")), 400),
    Sealed("inner-non-utf8", lambda k, o: seal_encrypt(k, cipher_text(k, "帮助".encode("gbk"))), 400),
    Sealed("inner-empty", lambda k, o: seal_encrypt(k, cipher_text(k, b"")), 400),
    Sealed(
        "nested-encrypt-element",
        lambda k, o: (
            signed(k) | {"encrypt_type": "aes", "msg_signature": "0" * 40},
            f"<xml><Encrypt><a>{cipher_text(k, b'x')}</a></Encrypt></xml>".encode(),
        ),
        400,
    ),
    Sealed(
        "two-encrypt-elements",
        lambda k, o: (
            signed(k) | {"encrypt_type": "aes", "msg_signature": "0" * 40},
            f"<xml>{cdata('Encrypt', 'a')}{cdata('Encrypt', 'b')}</xml>".encode(),
        ),
        400,
    ),
    Sealed(
        "outer-doctype",
        lambda k, o: (
            signed(k) | {"encrypt_type": "aes", "msg_signature": "0" * 40},
            (_BILLION_LAUGHS + "<xml><Encrypt>&d;</Encrypt></xml>").encode(),
        ),
        400,
    ),
]

# ---------------------------------------------------------------- bodies over the limit, on a raw socket

MiB = 1024 * 1024


def _http(keys: Keys, port: int, headers: str, query: dict[str, str] | None = None) -> bytes:
    from urllib.parse import urlencode

    query = signed(keys) if query is None else query
    return (
        f"POST /wechat?{urlencode(query)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: text/xml\r\n{headers}\r\n"
    ).encode()


def _declared(size: int, signed_request: bool = True) -> Callable[[Keys, int], tuple[bytes, bytes, bytes]]:
    """Content-Length ``size``, 1 KiB of it sent: the answer must come before the rest is sent."""

    def build(keys: Keys, port: int) -> tuple[bytes, bytes, bytes]:
        query = signed(keys) if signed_request else {}
        first = b"<xml>" + b"x" * 1019
        return _http(keys, port, f"Content-Length: {size}\r\n", query), first, b"x" * (size - len(first))

    return build


def _whole(size: int) -> Callable[[Keys, int], tuple[bytes, bytes, bytes]]:
    """Content-Length ``size``, the whole body sent at once."""

    def build(keys: Keys, port: int) -> tuple[bytes, bytes, bytes]:
        body = b"<xml>" + b"x" * (size - 5)
        return _http(keys, port, f"Content-Length: {size}\r\n"), body, b""

    return build


def _chunked(size: int) -> Callable[[Keys, int], tuple[bytes, bytes, bytes]]:
    """Transfer-Encoding: chunked, 256 KiB of chunks sent and the body left open: the server must cut it
    at its limit and answer, without waiting for the end that never comes (the rest after it)."""

    def build(keys: Keys, port: int) -> tuple[bytes, bytes, bytes]:
        chunk = b"x" * 16384
        piece = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        first = piece * 16
        rest = piece * ((size - 16 * len(chunk)) // len(chunk)) + b"0\r\n\r\n"
        return _http(keys, port, "Transfer-Encoding: chunked\r\n"), first, rest

    return build


def _lying_length(keys: Keys, port: int) -> tuple[bytes, bytes, bytes]:
    """Content-Length 100 with 2 MiB behind it."""
    return _http(keys, port, "Content-Length: 100\r\n"), b"<xml>" + b"x" * 95, b"x" * (2 * MiB)


def _bad_length(keys: Keys, port: int) -> tuple[bytes, bytes, bytes]:
    return _http(keys, port, "Content-Length: -5\r\n"), b"", b""


SIZES: list[Size] = [
    Size("64-kib-plus-one-declared", _whole(64 * 1024 + 1), (413,)),
    Size("2-mib-declared-and-sent", _whole(2 * MiB), (413,)),
    Size("2-mib-declared-1-kib-sent", _declared(2 * MiB), (413,)),
    Size("20-mib-declared-1-kib-sent", _declared(20 * MiB), (413,)),
    Size("20-mib-declared-unsigned", _declared(20 * MiB, signed_request=False), (403,)),
    Size("2-mib-chunked-left-open", _chunked(2 * MiB), (413,)),
    Size("20-mib-chunked-left-open", _chunked(20 * MiB), (413,)),
    Size("content-length-100-with-2-mib", _lying_length, (400,)),
    # werkzeug's server answers 400 itself; gunicorn too (an invalid header)
    Size("negative-content-length", _bad_length, (400,)),
]

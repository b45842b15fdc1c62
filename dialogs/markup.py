"""Text made harmless before it goes into a chat reply or a notice: WeChat shows ``<a href=…>`` in a text
message as a tappable link, and a bare ``http://…`` or ``evil.example/login`` as one too.

People's words reach replies and notices (objections, 意见, reasons, suggestions, union names from
an import), so the service's two outputs neutralise the whole text they send — the passive reply
(``chatbot.wechat.protocol.render_text``) and the notices (``chatbot.wechat.api``) — and then add
only the tap-to-answer links the service makes itself. No dialog text relies on markup.

``neutral`` maps each character that could open a tag, end one or start an entity to its full-width
twin (``<`` → ``＜``, ``>`` → ``＞``, ``&`` → ``＆``) and breaks what makes a bare address: a scheme's
colon (``http：//``) and the dot of a domain name (``evil．example``). Since it works character by character on text that holds none of those characters once
neutral, a cut of neutral text can never end inside a tag or an entity. The full-width forms read
the same to a person, and the dialogs fold them back (NFKC) when they are typed or tapped.
"""

from __future__ import annotations

import re

#: What each character that could form a tag or an entity becomes.
_TEXT = str.maketrans({"<": "＜", ">": "＞", "&": "＆"})
#: Inside the service's own link, a choice's content is an attribute value: its quotes too.
_ATTRIBUTE = str.maketrans({"<": "＜", ">": "＞", "&": "＆", '"': "＂", "'": "＇"})
#: What WeChat makes tappable in plain text: a scheme's colon (``http://``, ``weixin://`` …) and a
#: domain name's dot (``www.evil.example``, ``evil.example/login``); a decimal point (``3.5``) stays.
_SCHEME = re.compile(r"(?<=[A-Za-z0-9+.\-]):(?=\s*/\s*/)")
_DOMAIN_DOT = re.compile(r"(?<=[A-Za-z0-9-])\.(?=[A-Za-z]{2})")


def neutral(text: str) -> str:
    """``text`` as plain text: no tag, attribute, entity or link can form in it."""
    return _DOMAIN_DOT.sub("．", _SCHEME.sub("：", text.translate(_TEXT)))


def attribute(text: str) -> str:
    """``text`` for a double-quoted attribute value of the service's own link: ``neutral``, and quotes."""
    return neutral(text).translate(_ATTRIBUTE)


def size(text: str) -> int:
    """The bytes of ``text`` once neutral, in UTF-8 (what WeChat's limits count)."""
    return len(neutral(text).encode("utf-8"))


def cut(text: str, limit: int) -> str:
    """The longest start of ``text`` whose neutral form fits in ``limit`` bytes, cut between characters."""
    if size(text) <= limit:
        return text
    low, high = 0, len(text)  # size(text[:low]) fits, size(text[:high]) does not
    while high - low > 1:
        middle = (low + high) // 2
        if size(text[:middle]) <= limit:
            low = middle
        else:
            high = middle
    return text[:low]

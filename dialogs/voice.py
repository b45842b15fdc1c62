"""Voice messages (语音): WeChat's speech recognition (``Recognition``) read as if it were typed.

Recognition writes what was said as a sentence: it ends it with punctuation (“三分。”), may pause
with a comma after an item (“第三项，两分”) and hears 分 as its homophone 份 (“三份”). ``spoken``
takes those away; everything else — Chinese numerals, full-width digits — the parser reads as it
reads typed text.
"""

from __future__ import annotations

import re

from dialogs.parsing import normalise, spoken_score

#: What recognition puts at the end of a sentence (and people never mean as an answer).
_TRAILING = "。，,．.！!？?；;：:、…~～ \t\n"
#: A pause recognition writes between an item and its score: `第三项，两分`.
_ITEM_PAUSE = re.compile(r"项\s*[，,、]\s*")


def spoken(recognition: str) -> str:
    """The recognised text as the dialogs read it: trimmed, without the punctuation recognition adds at
    its end or after an item, a score heard as 份 written 分; "" when nothing was recognised."""
    text = recognition.strip().rstrip(_TRAILING)
    text = _ITEM_PAUSE.sub("项", text)
    if text.endswith("份"):
        as_score = text[:-1] + "分"
        if spoken_score(normalise(as_score)) is not None or _ends_with_score(as_score):
            text = as_score
    return text


def _ends_with_score(text: str) -> bool:
    """`第三项两份` → a score after an item: its last part read as a score once 份 is 分."""
    head, _, last = text.rpartition("项")
    return bool(head) and spoken_score(normalise(last)) is not None

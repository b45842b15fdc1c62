"""Turns what a user sent (typed text, a menu click, a QR scene) into an Intent.

The words a ``Parser`` knows are given to it: dialogs/router.py makes the one parser of the chat from
the words, synonyms and aliases the features' routers registered and the walk's answering words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from dialogs.engine import UserInput

#: Menu CLICK keys (nianjian menu push) → the word they stand for.
CLICK_KEYS: dict[str, str] = {
    "SELF_CHECK": "自评",
    "HELP": "帮助",
    "PROGRESS": "进度",
    "EVALUATION": "测评",
    "RESULT": "结果",
}
#: QR-code scene prefixes → the word they stand for.
SCENES: dict[str, str] = {"inv:": "绑定", "eval:": "测评"}

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)分?$")
#: A score followed by words (a re-review's reason): `3 台账已补齐`, `两分半，台账不全`.
_HEAD_REASON = re.compile(r"^(?P<head>[^\s,，:：、]+?)\s*分?[\s,，:：、]+(?P<reason>\S.*)$", re.S)
#: One item and its score in one message: `第3项改为2分`, `3项2分`, `第三项 两分半 台账不全`, `第5项满分`.
_ITEM_SCORE = re.compile(
    r"^(?:把|将)?(?:修改|改)?第?(?P<item>\d+|[零〇一二两三四五六七八九十]+)项(?:得分)?"
    r"(?:改为|改成|改到|修改为|记为|记|改|为|得|打|给)?[\s:：]*"
    r"(?P<score>[^\s,，:：、]+?)\s*分?(?:[\s,，:：、]+(?P<reason>\S.*))?$",
    re.S,
)
_CHINESE_DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_SPOKEN_SCORE = re.compile(
    r"^(?P<whole>\d+|[零〇一二两三四五六七八九十]+)?(?:(?:点|\.)(?P<fraction>\d+|[零〇一二三四五六七八九]+))?"
    r"(?P<unit>分)?(?P<half>半)?分?$"
)


@dataclass(frozen=True)
class Intent:
    """What the user wants: a command word with its argument, a number, a photo, or free text."""

    kind: str  # "word" | "number" | "photo" | "subscribe" | "unsubscribe" | "voice" | "text" | "empty"
    word: str = ""
    arg: str = ""
    raw: str = ""
    reason: str = ""  # the words after a score, as typed (a re-review's reason)
    text: str = ""  # the words after a command word, as typed (an objection, a return's reason)
    media_id: str = ""
    pic_url: str = ""
    item: int = 0  # the item named with a score (`第3项改为2分`)


def normalise(text: str) -> str:
    """Full-width to half-width, trimmed, inner runs of space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


_ITEM_NAMED = re.compile(r"第\s*(\d+|[零〇一二两三四五六七八九十]+)\s*项")


def items_named(text: str, count: int) -> tuple[int, ...]:
    """The item numbers ``text`` names as `第12项` / `第十二项` (1 … ``count``), in order, each once."""
    found = (chinese_integer(m.group(1)) for m in _ITEM_NAMED.finditer(normalise(text)))
    return tuple(sorted({n for n in found if n is not None and 1 <= n <= count}))


def chinese_integer(text: str) -> int | None:
    """零 … 九十九 written in Chinese numerals (三, 十, 十五, 二十, 两), or digits; None otherwise."""
    if text.isdigit():
        return int(text)
    if len(text) == 1 and text in _CHINESE_DIGITS:
        return _CHINESE_DIGITS[text]
    tens, ten, ones = text.partition("十")
    if not ten or len(tens) > 1 or len(ones) > 1 or "两" in ones or tens in ("零", "〇"):
        return None
    if (tens and tens not in _CHINESE_DIGITS) or (ones and ones not in _CHINESE_DIGITS):
        return None
    return (_CHINESE_DIGITS[tens] if tens else 1) * 10 + (_CHINESE_DIGITS[ones] if ones else 0)


def spoken_score(text: str) -> str | None:
    """A score said in words or digits — 三分, 两分半, 三点五, 2分半, 半分, 十, 二十 — as a plain decimal
    (3, 2.5, 3.5, 2.5, 0.5, 10, 20); None when the text is not a score."""
    match = _SPOKEN_SCORE.match(text)
    if match is None or not (match.group("whole") or match.group("half")):
        return None
    whole = chinese_integer(match.group("whole")) if match.group("whole") else 0
    if whole is None:
        return None
    fraction = match.group("fraction")
    if fraction:
        if match.group("half"):
            return None
        digits = fraction if fraction.isdigit() else "".join(str(_CHINESE_DIGITS[c]) for c in fraction)
        return f"{whole}.{digits}"
    return f"{whole}.5" if match.group("half") else str(whole)


def _score_arg(text: str) -> str | None:
    """What a score as typed stands for: a plain number (signs and decimals kept for the rules to judge)."""
    if _NUMBER.match(text):
        return text.removesuffix("分")
    return spoken_score(text)


@dataclass(frozen=True)
class Parser:
    """Reads messages with a vocabulary: the command words (each once), whole messages said another
    way (``synonyms``, lower case → word) and other spellings of words taking an argument (``aliases``)."""

    words: tuple[str, ...]
    synonyms: Mapping[str, str]
    aliases: Mapping[str, str]
    _word_arg: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        typed = sorted({*self.words, *self.aliases}, key=len, reverse=True)
        pattern = re.compile(r"^(?P<word>" + "|".join(map(re.escape, typed)) + r")\s*(?P<arg>.*)$")
        object.__setattr__(self, "_word_arg", pattern)

    def parse(self, user_input: UserInput) -> Intent:
        """What the user wants, from one input of any kind."""
        if user_input.kind == "photo":
            return Intent("photo", media_id=user_input.media_id, pic_url=user_input.pic_url)
        if user_input.kind == "subscribe":
            return Intent("subscribe")
        if user_input.kind == "unsubscribe":
            return Intent("unsubscribe")
        if user_input.kind == "voice":
            return Intent("voice")
        if user_input.kind == "click":
            word = CLICK_KEYS.get(user_input.text.strip())
            return Intent("word", word, raw=user_input.text) if word else Intent("text", raw=user_input.text)
        if user_input.kind == "scan":
            scene = user_input.text.strip()
            for prefix, word in SCENES.items():
                if scene.startswith(prefix):
                    return Intent("word", word, scene[len(prefix) :].strip(), raw=scene)
            return Intent("text", raw=scene)
        if user_input.kind != "text":
            return Intent("text", raw=user_input.text)
        return self.parse_text(user_input.text)

    def parse_text(self, text: str) -> Intent:
        """What the user wants, from a typed message."""
        cleaned = normalise(text)
        if not cleaned:
            return Intent("empty", raw=text)
        number = _score_arg(cleaned)
        if number is not None:
            return Intent("number", arg=number, raw=text)
        item_score = _item_score(text, cleaned)
        if item_score is not None:
            return item_score
        with_reason = _HEAD_REASON.match(cleaned)
        number = _score_arg(with_reason.group("head")) if with_reason else None
        if with_reason and number is not None:
            as_typed = _HEAD_REASON.match(text.strip())
            reason = as_typed.group("reason").strip() if as_typed else with_reason.group("reason")
            return Intent("number", arg=number, raw=text, reason=reason)
        lowered = cleaned.lower()
        if lowered in self.synonyms:
            return Intent("word", self.synonyms[lowered], raw=text)
        match = self._word_arg.match(cleaned)
        if match:
            arg = match.group("arg").strip()
            typed_word = match.group("word")
            word = self.aliases.get(typed_word, typed_word)
            if word == "修改":
                arg = arg.removeprefix("第").removesuffix("项").strip()
                arg = str(chinese_integer(arg)) if chinese_integer(arg) is not None else arg
            typed = text.strip()
            rest = typed[len(typed_word) :].strip() if typed.startswith(typed_word) else arg
            return Intent("word", word, arg, raw=text, text=rest)
        return Intent("text", raw=text)


def _item_score(text: str, cleaned: str) -> Intent | None:
    """`第3项改为2分`, `3项2分`, `第5项满分`, `第2项同`: the item's number, its score (or 满分 / 同),
    and the words after it, as typed."""
    match = _ITEM_SCORE.match(cleaned)
    if match is None:
        return None
    item = chinese_integer(match.group("item"))
    score = match.group("score")
    arg = {"满": "满分", "满分": "满分", "同": "同"}.get(score) or _score_arg(score)
    if item is None or arg is None:
        return None
    as_typed = _ITEM_SCORE.match(text.strip())
    reason = (as_typed or match).group("reason") or ""
    return Intent("item_score", arg=arg, raw=text, reason=reason.strip(), item=item)

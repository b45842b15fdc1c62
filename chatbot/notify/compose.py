"""Values that fit a template's typed fields (WeChat's category templates, 类目模板库): pure, no I/O.

Since May 2023 WeChat cuts every field of a template message to 20 characters and drops line breaks;
the category templates' fields are typed, each with its own form and limit (``LIMITS``). A value is
composed to fit before it is sent, never cut by WeChat: whitespace and line breaks become one space,
then, while it is too long, it is shortened by rule — long organisation words abbreviated
(工会委员会 → 工会, 有限责任公司 → 公司 …), a county's prefix dropped (西吉县供电公司工会 → 供电公司工会),
the text after the first sentence left out — and at last cut with an ellipsis, never inside a number
or a Latin word. Times and dates take the forms WeChat accepts (``2026年12月12日 23:59``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

ELLIPSIS = "…"
#: Said in a text-like field whose fact is unknown for this notice (WeChat refuses an empty value).
NONE = "—"
#: The same in a field of Chinese characters only (``phrase``, ``name``).
NONE_PHRASE = "无"


class FieldType(StrEnum):
    """A category template's field type: the prefix of its key (``thing1`` is a ``thing``)."""

    THING = "thing"
    PHRASE = "phrase"
    NAME = "name"
    CHARACTER_STRING = "character_string"
    NUMBER = "number"
    TIME = "time"
    DATE = "date"
    #: The keyword fields of an old industry template (``keyword1``…): also cut at 20 characters.
    KEYWORD = "keyword"


#: The most characters WeChat shows of each type (after May 2023, 20 for every field).
LIMITS: dict[FieldType, int] = {
    FieldType.THING: 20,
    FieldType.PHRASE: 5,
    FieldType.NAME: 10,
    FieldType.CHARACTER_STRING: 32,
    FieldType.NUMBER: 32,
    FieldType.TIME: 20,
    FieldType.DATE: 20,
    FieldType.KEYWORD: 20,
}

#: Shortenings tried in order while a value is too long: long words of organisations' names.
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("工会委员会", "工会"),
    ("股份有限公司", "公司"),
    ("有限责任公司", "公司"),
    ("有限公司", "公司"),
    ("委员会", "委"),
    ("（", "("),
    ("）", ")"),
)
#: A county's (or city's) prefix of a union's name, dropped when the rest still says which union.
COUNTY_PREFIX = re.compile(r"^[\u4e00-\u9fff]{1,5}?(?:自治县|县|区|市)(?=[\u4e00-\u9fff]{4})")
#: A run that is never cut: a number (with its decimal point or separators) or a Latin word.
UNBREAKABLE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.:/\-_]*")
HAN = re.compile(r"[\u4e00-\u9fff]")
SENTENCE_END = re.compile(r"[。；！？]")
#: What a field never shows: control characters (a union's name imported from a file may hold one) and
#: the marks that turn the direction of the text after them (``\u202e`` would show a name backwards).
UNSHOWN = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: What joins the character after it to the one before: never the first character kept after a cut.
ZWJ = "\u200d"
_REGIONAL = range(0x1F1E6, 0x1F200)


def one_line(value: str) -> str:
    """Line breaks (``\u2028`` too), tabs and runs of spaces as one space, no space at either end,
    without control characters and direction marks (``UNSHOWN``)."""
    return " ".join(UNSHOWN.sub("", value).split())


def length(value: str) -> int:
    """Characters as WeChat counts them, to be safe however it counts: a Chinese character is one, a
    character beyond the BMP (an emoji) two, as its UTF-16 strings hold it."""
    return len(value) + sum(1 for ch in value if ord(ch) > 0xFFFF)


def _joined(value: str, end: int) -> bool:
    """Whether a cut before ``value[end]`` would part what shows as one character: a character and its
    combining marks or variation selector, an emoji sequence (``ZWJ``, a skin tone), a flag's two letters."""
    ch = value[end]
    if unicodedata.category(ch) in ("Mn", "Me", "Mc") or ch == ZWJ or value[end - 1] == ZWJ:
        return True
    if 0xFE00 <= ord(ch) <= 0xFE0F or 0x1F3FB <= ord(ch) <= 0x1F3FF or 0xE0020 <= ord(ch) <= 0xE007F:
        return True
    if ord(ch) in _REGIONAL:
        run = 0
        while end - run - 1 >= 0 and ord(value[end - run - 1]) in _REGIONAL:
            run += 1
        return run % 2 == 1
    return False


def cut(value: str, limit: int) -> str:
    """``value`` at most ``limit`` characters: whole, or its start with an ellipsis, never cut inside a
    number or a Latin word (the run is left out whole)."""
    if length(value) <= limit:
        return value
    end, room = 0, limit - length(ELLIPSIS)
    while end < len(value) and length(value[: end + 1]) <= room:
        end += 1
    for match in UNBREAKABLE.finditer(value):
        if match.start() < end < match.end():
            end = match.start()
            break
    while 0 < end < len(value) and _joined(value, end):
        end -= 1
    return value[:end].rstrip(" ，、,;；:：（(") + ELLIPSIS


def shorten(value: str, limit: int) -> str:
    """A text field's value within ``limit``: one line, then each shortening rule while it is too long
    (abbreviations, the county's prefix, the first sentence only), then ``cut``."""
    value = one_line(value)
    for long, short in ABBREVIATIONS:
        if length(value) <= limit:
            return value
        value = value.replace(long, short)
    if length(value) > limit:
        value = COUNTY_PREFIX.sub("", value, count=1)
    if length(value) > limit:
        first = SENTENCE_END.split(value, maxsplit=1)[0]
        value = first if first else value
    return cut(value, limit)


def phrase(value: str) -> str:
    """A ``phrase``: at most 5 Chinese characters, nothing else (``四星级``, ``已退回``)."""
    only_han = "".join(HAN.findall(value))
    return only_han[: LIMITS[FieldType.PHRASE]] or NONE_PHRASE


def name(value: str) -> str:
    """A ``name``: at most 10 Chinese characters (the name shortened first), else 20 letters."""
    han = "".join(HAN.findall(shorten(value, LIMITS[FieldType.NAME])))
    if han:
        return han[: LIMITS[FieldType.NAME]]
    letters = "".join(ch for ch in one_line(value) if ch.isascii() and (ch.isalpha() or ch in " .'-"))
    return letters.strip()[:20] or NONE_PHRASE


def number(value: str) -> str:
    """A ``number``: digits with an optional decimal part, no stray ``.0`` (half up to 2 places)."""
    try:
        amount = Decimal(value.strip())
        rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    except InvalidOperation:  # not a number, or too large to round
        return "0"
    if not rounded.is_finite():
        return "0"
    text = f"{rounded + 0:f}"  # + 0: -0 is 0
    return text if len(text) <= LIMITS[FieldType.NUMBER] else "0"


def character_string(value: str) -> str:
    """A ``character_string``: ASCII letters, digits and symbols, at most 32."""
    kept = "".join(ch for ch in one_line(value) if ch.isascii() and ch.isprintable() and ch != " ")
    return kept[:32] or "-"


def time_value(moment: datetime) -> str:
    """A ``time``: ``2026年12月12日 18:00`` (24-hour, with its date), in the moment's own zone."""
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def date_value(day: date, until: date | None = None) -> str:
    """A ``date``: ``2026年12月12日``, or a period ``2026年12月6日~12月12日`` (the year once, within 20
    characters; across two years, the end day only when both do not fit)."""
    first = f"{day.year}年{day.month}月{day.day}日"
    if until is None or until == day:
        return first
    whole = f"{first}~{until.year}年{until.month}月{until.day}日"
    if length(whole) <= LIMITS[FieldType.DATE]:
        return whole
    if until.year == day.year:
        return f"{first}~{until.month}月{until.day}日"  # the year once: within 20 characters
    return f"{until.year}年{until.month}月{until.day}日"


@dataclass(frozen=True)
class Moment:
    """A time fact: a day, or a day with its time (Asia/Shanghai), and an optional end day (a period)."""

    day: date
    at: datetime | None = None
    until: date | None = None


def fit_moment(kind: FieldType, moment: Moment) -> str:
    """A time fact in a ``time`` or ``date`` field, or in a text field as a short date."""
    if kind is FieldType.TIME:
        at = moment.at or datetime.combine(moment.until or moment.day, datetime.min.time()).replace(
            hour=23, minute=59
        )
        return time_value(at)
    if kind is FieldType.DATE:
        return date_value(moment.day, moment.until)
    if moment.until is None:
        return fit(kind, f"{moment.day.year}年{moment.day.month}月{moment.day.day}日")
    start, end = moment.day, moment.until
    return fit(kind, f"{start.month}月{start.day}日至{end.month}月{end.day}日")


def fit(kind: FieldType, value: str) -> str:
    """A text fact as a field of ``kind`` shows it: within its limit, one line, never cut by WeChat."""
    if kind is FieldType.PHRASE:
        return phrase(value)
    if kind is FieldType.NAME:
        return name(value)
    if kind is FieldType.NUMBER:
        return number(value)
    if kind is FieldType.CHARACTER_STRING:
        return character_string(value)
    shown = shorten(value, LIMITS[kind])
    return shown or NONE


def fits(kind: FieldType, value: str) -> bool:
    """Whether WeChat shows ``value`` in a field of ``kind`` whole: within the limit, one line, of its form."""
    # A name is 10 Chinese characters, or 20 letters (``name``).
    limit = 2 * LIMITS[kind] if kind is FieldType.NAME and value.isascii() else LIMITS[kind]
    if "\n" in value or "\r" in value or not value or length(value) > limit:
        return False
    if kind is FieldType.PHRASE:
        return bool(re.fullmatch(r"[\u4e00-\u9fff]{1,5}", value))
    if kind is FieldType.NUMBER:
        return bool(re.fullmatch(r"-?\d+(\.\d+)?", value))
    if kind is FieldType.CHARACTER_STRING:
        return bool(re.fullmatch(r"[\x21-\x7e]{1,32}", value))
    if kind is FieldType.TIME:
        return bool(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", value))
    if kind is FieldType.DATE:
        return bool(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日(~(\d{4}年)?\d{1,2}月\d{1,2}日)?", value))
    if kind is FieldType.NAME:
        return bool(re.fullmatch(r"[\u4e00-\u9fff]{1,10}|[A-Za-z .'-]{1,20}", value))
    return True

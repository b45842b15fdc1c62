"""Scoring rules (design §4): item scores, totals, the 百分制 score, star levels and below-standard."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import IntEnum

HALF = Decimal("0.5")
#: What a result below the standard means (年检达不到建设标准的，必须补课，并取消…指标).
BELOW_STANDARD_CONSEQUENCES = "须补课，并取消经费支持、职工帮扶、评先选优指标"
ONE_DECIMAL = Decimal("0.1")
DEFAULT_PASS_MARK = Decimal(60)


class Stars(IntEnum):
    """Star level (星级)."""

    ONE = 1
    TWO = 2
    THREE = 3
    FOUR = 4
    FIVE = 5

    @property
    def label(self) -> str:
        return f"{'一二三四五'[self - 1]}星级"


#: Lower bounds of the half-open bands, best first: ≥ 90 five stars … < 60 one star.
STAR_BANDS: tuple[tuple[Decimal, Stars], ...] = (
    (Decimal(90), Stars.FIVE),
    (Decimal(80), Stars.FOUR),
    (Decimal(70), Stars.THREE),
    (Decimal(60), Stars.TWO),
)


class ScoreError(ValueError):
    """An item score outside 0..max or not a multiple of 0.5; the message is for the user, in Chinese."""


def format_score(value: Decimal | int) -> str:
    """A number as people read it, the one format of every score, total and percentage shown: one
    decimal at most, rounded half up, no trailing zero, no sign on zero — 3, 3.5, 89.7, 100 (not
    100.0), 83.8 (not 83.8333…)."""
    rounded = Decimal(value).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    text = format(rounded.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def format_percent(share: Decimal) -> str:
    """A share (0.3055) as a percentage with one decimal, half up, no trailing zero: 30.6%, 11.1%, 70%.
    The one format of every percentage shown: console, CLI, chat, notices and documents."""
    return format_score((Decimal(share) * 100).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)) + "%"


def allowed_range(max_points: int) -> str:
    return f"0 到 {max_points} 分，可以是整数或半分（如 {max(max_points - 1, 0)} 或 {format_score(Decimal(max_points) - HALF)}）"


def validate_item_score(value: Decimal, max_points: int) -> Decimal:
    """Return ``value`` if it is a valid score for an item worth ``max_points``; else raise ScoreError."""
    if value.is_nan() or value < 0 or value > max_points or (value / HALF) % 1 != 0:
        raise ScoreError(f"本项分值为 {max_points} 分，请输入 {allowed_range(max_points)}。")
    return abs(value).quantize(ONE_DECIMAL)  # abs: "-0" is 0


def parse_item_score(text: str, max_points: int) -> Decimal:
    """Parse what a user typed (full-width digits and a trailing 分 allowed) as an item score."""
    cleaned = unicodedata.normalize("NFKC", text).strip().removesuffix("分").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ScoreError(f"“{text}”不是分数。请输入 {allowed_range(max_points)}。") from exc
    if not value.is_finite():
        raise ScoreError(f"“{text}”不是分数。请输入 {allowed_range(max_points)}。")
    return validate_item_score(value, max_points)


def raw_total(scores: Iterable[Decimal]) -> Decimal:
    """Sum of item scores (原始得分)."""
    return sum(scores, Decimal(0))


def percent_score(raw: Decimal, max_total: int) -> Decimal:
    """The 百分制 score: raw / max_total × 100, rounded half up to one decimal."""
    if max_total <= 0:
        raise ValueError("max_total must be positive")
    return (Decimal(raw) * 100 / Decimal(max_total)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def star_level(score: Decimal) -> Stars:
    """Stars from the 百分制 score by half-open bands: 89.9 is four stars, 90 is five."""
    for lower_bound, stars in STAR_BANDS:
        if score >= lower_bound:
            return stars
    return Stars.ONE


def below_standard(score: Decimal, pass_mark: Decimal = DEFAULT_PASS_MARK) -> bool:
    """True when the result misses the standard (达不到建设标准): remediation (补课) is required."""
    return score < pass_mark

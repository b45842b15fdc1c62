"""Scoring rules of design §4: item scores, the 百分制 score, star bands, below standard."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rubrics.scoring import (
    ScoreError,
    Stars,
    below_standard,
    parse_item_score,
    percent_score,
    raw_total,
    star_level,
)


@pytest.mark.parametrize(
    ("score", "stars"),
    [
        ("59.9", 1),
        ("60", 2),
        ("69.9", 2),
        ("70", 3),
        ("79.9", 3),
        ("80", 4),
        ("89.9", 4),
        ("90", 5),
        ("100", 5),
        ("0", 1),
    ],
)
def test_star_bands_are_half_open(score: str, stars: int) -> None:
    assert star_level(D(score)) == Stars(stars)


def test_a_102_point_sheet_with_raw_91_5_is_four_stars() -> None:
    score = percent_score(D("91.5"), 102)
    assert score == D("89.7") and star_level(score) == Stars.FOUR


def test_a_99_point_sheet_with_raw_89_5_is_five_stars() -> None:
    score = percent_score(D("89.5"), 99)
    assert score == D("90.4") and star_level(score) == Stars.FIVE


def test_percent_score_rounds_half_up() -> None:
    assert percent_score(D("1"), 8) == D("12.5")
    assert percent_score(D("0.5"), 800) == D("0.1")  # 0.0625
    assert percent_score(D("0.25"), 1000) == D("0.0")  # 0.025
    assert percent_score(D("0.5"), 1000) == D("0.1")  # 0.05: half up, where half-even gives 0.0
    assert percent_score(D("0.25"), 100) == D("0.3")  # half-even would give 0.2
    assert percent_score(D("0.5"), 400) == D("0.1")  # 0.125


def test_raw_total_sums_half_points() -> None:
    assert raw_total([D("4.5"), D("3"), D("0.5")]) == D("8.0")


@pytest.mark.parametrize(
    ("text", "value"), [("5", "5"), ("4.5", "4.5"), ("0", "0"), ("０.５", "0.5"), ("3分", "3"), (" 2 ", "2")]
)
def test_valid_item_scores(text: str, value: str) -> None:
    assert parse_item_score(text, 5) == D(value)


@pytest.mark.parametrize("text", ["5.5", "-1", "4.3", "6", "abc", "", "NaN", "inf", "1e3"])
def test_invalid_item_scores_state_the_allowed_range(text: str) -> None:
    with pytest.raises(ScoreError) as error:
        parse_item_score(text, 5)
    assert "0 到 5 分" in str(error.value)


def test_below_standard_is_under_60_by_default_and_configurable() -> None:
    assert below_standard(D("59.9")) and not below_standard(D("60"))
    assert below_standard(D("64.9"), pass_mark=D("65"))


def test_star_labels_are_chinese() -> None:
    assert [s.label for s in Stars] == ["一星级", "二星级", "三星级", "四星级", "五星级"]

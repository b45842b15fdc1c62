"""The five-star quota: floor(20 %) of the rated results, capping, ties and overrides."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rubrics.quota import Override, RatedResult, apply_five_star_quota, five_star_quota, override_refusal
from rubrics.scoring import Stars, star_level


def results(*scores: str) -> list[RatedResult]:
    return [RatedResult(f"U{i:02d}", D(s), star_level(D(s))) for i, s in enumerate(scores, start=1)]


def stars_of(decisions) -> dict[str, int]:
    return {d.key: int(d.stars) for d in decisions}


@pytest.mark.parametrize(("count", "quota"), [(0, 0), (4, 0), (5, 1), (10, 2), (11, 2), (14, 2), (15, 3)])
def test_quota_is_floor_of_20_percent(count: int, quota: int) -> None:
    assert five_star_quota(count) == quota


def test_no_results() -> None:
    assert apply_five_star_quota([]) == []


def test_four_results_leave_no_five_star_place() -> None:
    decisions = apply_five_star_quota(results("95", "91", "85", "70"))
    assert stars_of(decisions) == {"U01": 4, "U02": 4, "U03": 4, "U04": 3}
    assert [d.capped for d in decisions] == [True, True, False, False]
    assert "五星级名额 0 个" in decisions[0].reason


def test_five_results_keep_the_best_five_star() -> None:
    decisions = apply_five_star_quota(results("91", "95", "80", "70", "60"))
    assert stars_of(decisions) == {"U01": 4, "U02": 5, "U03": 4, "U04": 3, "U05": 2}
    assert decisions[0].capped and "排第 2 位" in decisions[0].reason


def test_ten_results_with_two_candidates_are_untouched() -> None:
    decisions = apply_five_star_quota(results("95", "92", *["85"] * 8))
    assert not any(d.capped or d.flagged for d in decisions)
    assert stars_of(decisions)["U01"] == 5 and stars_of(decisions)["U02"] == 5


def test_eleven_results_six_five_star_candidates_keep_two() -> None:
    decisions = apply_five_star_quota(
        results("99", "90", "96", "92", "91", "93", "80", "70", "60", "50", "88")
    )
    five = sorted(d.key for d in decisions if d.stars == Stars.FIVE)
    assert five == ["U01", "U03"]
    assert sorted(d.key for d in decisions if d.capped) == ["U02", "U04", "U05", "U06"]


def test_an_exact_tie_at_the_cut_off_is_flagged_not_broken() -> None:
    decisions = apply_five_star_quota(results("99", "95", "95", "91", *["70"] * 6))
    by_key = {d.key: d for d in decisions}
    assert by_key["U01"].stars == Stars.FIVE and not by_key["U01"].flagged
    assert by_key["U02"].flagged and by_key["U03"].flagged
    assert by_key["U02"].stars == Stars.FIVE == by_key["U03"].stars
    assert "须由管理员裁定" in by_key["U02"].reason
    assert by_key["U04"].capped and by_key["U04"].stars == Stars.FOUR


def test_a_tie_that_fits_the_quota_is_not_flagged() -> None:
    decisions = apply_five_star_quota(results("95", "95", "91", *["70"] * 7))
    assert stars_of(decisions)["U01"] == 5 == stars_of(decisions)["U02"]
    assert not any(d.flagged for d in decisions) and decisions[2].capped


def test_an_override_resolves_a_tie_and_keeps_its_reason() -> None:
    base = results("99", "95", "95", "91", *["70"] * 6)
    decisions = apply_five_star_quota(base, [Override("U03", Stars.FOUR, "实地察看台账不全")])
    by_key = {d.key: d for d in decisions}
    assert by_key["U02"].stars == Stars.FIVE and not by_key["U02"].flagged
    assert by_key["U03"].overridden and by_key["U03"].stars == Stars.FOUR
    assert by_key["U03"].reason == "实地察看台账不全"


def test_a_five_star_override_outside_a_tie_takes_no_place() -> None:
    """The bands are ceilings and the places go by score: an override never lifts a result past a
    better one (the 93 stays capped, the 99 and the 96 keep their places)."""
    base = results("99", "96", "93", *["70"] * 7)
    decisions = apply_five_star_quota(base, [Override("U03", Stars.FIVE, "市总工会抽查认定")])
    by_key = {d.key: d for d in decisions}
    assert by_key["U03"].stars == Stars.FOUR and by_key["U03"].capped
    assert by_key["U01"].stars == Stars.FIVE == by_key["U02"].stars


def test_a_tie_is_settled_by_the_admins_choice_among_the_tied() -> None:
    base = results("99", "95", "95", "95", *["70"] * 6)  # 10 rated: two places, one left for three tied
    chosen = apply_five_star_quota(base, [Override("U03", Stars.FIVE, "台账最完整")])
    by_key = {d.key: d for d in chosen}
    assert by_key["U03"].stars == Stars.FIVE and by_key["U03"].overridden and not by_key["U03"].flagged
    assert "经管理员裁定评为五星级：台账最完整" in by_key["U03"].reason
    for key in ("U02", "U04"):
        assert by_key[key].stars == Stars.FOUR and by_key[key].capped
        assert "经管理员裁定未进入名额" in by_key[key].reason
    too_many = apply_five_star_quota(
        base, [Override("U02", Stars.FIVE, "甲"), Override("U03", Stars.FIVE, "乙")]
    )
    by_key = {d.key: d for d in too_many}
    assert by_key["U02"].flagged and by_key["U03"].flagged and by_key["U04"].capped
    assert "须重新裁定" in by_key["U02"].reason


def test_an_override_to_five_waits_when_its_tie_falls_below_the_places() -> None:
    """A late 97 takes the last place: the 95s once tied at the cut-off are all below it now."""
    base = results("99", "95", "95", *["70"] * 7)
    override = [Override("U02", Stars.FIVE, "裁定")]
    by_key = {d.key: d for d in apply_five_star_quota(base, override)}
    assert by_key["U02"].stars == Stars.FIVE and by_key["U03"].stars == Stars.FOUR
    later = [*base, RatedResult("U11", D("97"))]
    by_key = {d.key: d for d in apply_five_star_quota(later, override)}
    assert by_key["U11"].stars == Stars.FIVE and by_key["U02"].stars == Stars.FOUR == by_key["U03"].stars


def test_below_the_standard_is_one_star_whatever_the_override() -> None:
    decisions = apply_five_star_quota(results("55", "95"), [Override("U01", Stars.FIVE, "理由")])
    assert decisions[0].stars == Stars.ONE and not decisions[0].overridden
    assert apply_five_star_quota(results("62"), pass_mark=D(65))[0].stars == Stars.ONE


def test_a_lowering_override_frees_its_place() -> None:
    base = results("99", "96", "93", *["70"] * 7)
    by_key = {d.key: d for d in apply_five_star_quota(base, [Override("U01", Stars.FOUR, "抽查台账不实")])}
    assert by_key["U01"].stars == Stars.FOUR and by_key["U01"].overridden
    assert by_key["U02"].stars == Stars.FIVE == by_key["U03"].stars


def test_until_the_scope_is_confirmed_every_result_has_its_band() -> None:
    decisions = apply_five_star_quota(results("99", "96", "93", "91"), confirmed=False)
    assert [d.stars for d in decisions] == [Stars.FIVE] * 4
    assert not any(d.capped or d.flagged for d in decisions)


@pytest.mark.parametrize(
    ("score", "stars", "tied", "refused"),
    [
        ("95", Stars.FOUR, False, ""),
        ("95", Stars.TWO, False, ""),
        ("95", Stars.FIVE, True, ""),
        ("95", Stars.FIVE, False, "只有在名额线上同分并列"),
        ("85", Stars.FIVE, False, "最高为四星级"),
        ("85", Stars.FOUR, False, "无需调整"),
        ("70", Stars.ONE, False, "一星级只用于低于建设标准"),
        ("55", Stars.TWO, False, "低于建设标准（60 分），只能是一星级"),
        ("55", Stars.ONE, False, "低于建设标准"),
    ],
)
def test_what_an_override_may_do(score: str, stars: Stars, tied: bool, refused: str) -> None:
    reason = override_refusal(D(score), stars, tied=tied)
    assert (reason or "") == "" if not refused else refused in (reason or "")


def test_an_override_needs_a_reason() -> None:
    with pytest.raises(ValueError):
        Override("U01", Stars.FIVE, "  ")


def test_an_override_for_an_unknown_result_is_refused() -> None:
    with pytest.raises(ValueError):
        apply_five_star_quota(results("95"), [Override("X", Stars.FOUR, "理由")])

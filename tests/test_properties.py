"""Properties, checked by Hypothesis over many inputs: item scores as people type them, the 百分制 score
and its stars, the five-star quota, every self-check reply within WeChat's 2048 bytes, and dialog state
read back from storage. Pure: no database, no web."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dialogs.binding import RedeemInvitation
from dialogs.commands import AddEvidence
from dialogs.context import RoleView, UserContext, WalkView
from dialogs.engine import MAX_REPLY_BYTES, DialogState, UserInput, reply_bytes
from dialogs.parsing import CLICK_KEYS
from dialogs.router import DIALOGS, WORDS, plan, respond
from dialogs.selfcheck import SaveSelfScore, SubmitSelfCheck
from rubrics import all_rubrics, get_rubric
from rubrics.quota import RatedResult, Stars, apply_five_star_quota, five_star_quota
from rubrics.scoring import ScoreError, format_score, parse_item_score, percent_score, star_level

PROPERTIES = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
HALF = Decimal("0.5")
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


# ---------------------------------------------------------------- item scores as typed


@st.composite
def typed_score(draw: st.DrawFn) -> tuple[str, int, Decimal]:
    """A valid score written as people write it: (text, the item's max points, the value)."""
    points = draw(st.integers(1, 10))
    value = Decimal(draw(st.integers(0, points * 2))) * HALF
    plain = format_score(value)
    text = draw(
        st.sampled_from(
            [
                plain,
                f"{value:.1f}",  # 3.0, 3.5
                f"{value:.2f}",  # 3.00
                "0" + plain,  # 03
                "+" + plain,
            ]
        )
    )
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    text += draw(st.sampled_from(["", "分", " 分", "分 "]))
    text = draw(st.sampled_from(["", " ", "\u3000"])) + text + draw(st.sampled_from(["", " ", "\u3000"]))
    return text, points, value


@PROPERTIES
@given(typed_score())
def test_every_valid_score_is_read_in_the_forms_people_type(case: tuple[str, int, Decimal]) -> None:
    text, points, value = case
    parsed = parse_item_score(text, points)
    assert parsed == value and parsed == parsed.quantize(Decimal("0.1")) and parsed.as_tuple().exponent == -1


@PROPERTIES
@given(
    st.integers(1, 10),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-50, max_value=50),
)
def test_a_number_is_a_score_exactly_when_it_is_a_half_point_step_in_range(
    points: int, value: Decimal
) -> None:
    valid = 0 <= value <= points and value % HALF == 0
    for text in (str(value), f"{value}分", str(value).translate(FULL_WIDTH)):
        if valid:
            assert parse_item_score(text, points) == value
        else:
            with pytest.raises(ScoreError) as error:
                parse_item_score(text, points)
            assert f"本项分值为 {points} 分" in str(error.value) or "不是分数" in str(error.value)


@PROPERTIES
@given(st.text(max_size=30), st.integers(1, 10))
@example("NaN", 5)
@example("sNaN", 5)
@example("-Infinity", 5)
@example("1e999999999", 5)
@example("1e-999999999", 5)
@example("5.00000000000000000000000000001", 5)
def test_anything_else_typed_is_a_score_error_never_another_exception(text: str, points: int) -> None:
    try:
        parsed = parse_item_score(text, points)
    except ScoreError as error:
        assert str(error)  # a message for the user
    else:
        assert 0 <= parsed <= points and parsed % HALF == 0


@PROPERTIES
@given(typed_score().map(lambda case: case[1]), st.sampled_from(["0", "-0", "-0.0", "－０", "0.0"]))
@example(5, "-0")
def test_a_parsed_score_reads_back_in_its_plain_form(points: int, text: str) -> None:
    assert format_score(parse_item_score(text, points)) == "0"


# ---------------------------------------------------------------- 百分制 and stars


def half_up_one_decimal(value: Fraction) -> Decimal:
    """Exact rounding, half up, to one decimal (for values ≥ 0)."""
    tenths = floor(value * 10 + Fraction(1, 2))
    return Decimal(tenths) / 10


@st.composite
def raw_and_max(draw: st.DrawFn) -> tuple[Decimal, int]:
    max_total = draw(st.integers(1, 2000))
    raw = Decimal(draw(st.integers(0, max_total * 2))) * HALF
    return raw, max_total


@PROPERTIES
@given(raw_and_max())
def test_the_percent_score_is_half_up_to_one_decimal_of_raw_over_max(case: tuple[Decimal, int]) -> None:
    raw, max_total = case
    score = percent_score(raw, max_total)
    assert score == half_up_one_decimal(Fraction(raw) * 100 / max_total)
    assert score.as_tuple().exponent == -1
    assert Decimal(0) <= score <= Decimal(100)


@PROPERTIES
@given(st.integers(1, 2000), st.data())
def test_the_percent_score_is_monotone(max_total: int, data: st.DataObject) -> None:
    a, b = sorted(data.draw(st.lists(st.integers(0, max_total * 2), min_size=2, max_size=2)))
    assert percent_score(Decimal(a) * HALF, max_total) <= percent_score(Decimal(b) * HALF, max_total)
    assert percent_score(Decimal(max_total), max_total) == 100 and percent_score(Decimal(0), max_total) == 0


@PROPERTIES
@given(st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False))
def test_star_bands_are_half_open_at_60_70_80_90(score: Decimal) -> None:
    expected = 1 + sum(score >= bound for bound in (60, 70, 80, 90))
    assert star_level(score) == Stars(expected)
    assert star_level(score) <= star_level(min(score + Decimal("0.001"), Decimal(100)))  # monotone


@pytest.mark.parametrize("bound", [60, 70, 80, 90])
def test_each_band_starts_exactly_at_its_bound(bound: int) -> None:
    assert star_level(Decimal(bound)) == star_level(Decimal(bound) - Decimal("0.001")) + 1
    assert star_level(Decimal(bound) - Decimal("0.1")) == star_level(Decimal(bound)) - 1


# ---------------------------------------------------------------- the five-star quota


@st.composite
def rated_results(draw: st.DrawFn) -> list[RatedResult]:
    """Rated results of one scope, many near the top and many tied, stars from their scores."""
    tenths = draw(
        st.lists(
            st.one_of(st.integers(850, 1000), st.integers(0, 1000), st.sampled_from([900, 905, 950, 1000])),
            max_size=40,
        )
    )
    return [
        RatedResult(f"U{n:02d}", Decimal(t) / 10, star_level(Decimal(t) / 10))
        for n, t in enumerate(tenths, 1)
    ]


@PROPERTIES
@given(rated_results())
def test_never_more_five_stars_than_the_quota_and_the_capped_are_the_lowest(
    results: list[RatedResult],
) -> None:
    decisions = apply_five_star_quota(results)
    quota = five_star_quota(len(results))
    assert quota == len(results) * 20 // 100 and quota * 5 <= len(results) < (quota + 1) * 5
    assert [d.key for d in decisions] == [r.key for r in results]  # same results, same order
    by_key = {r.key: r for r in results}
    candidates = [d for d in decisions if by_key[d.key].stars == Stars.FIVE]
    kept = [d for d in candidates if d.stars == Stars.FIVE and not d.flagged]
    flagged = [d for d in candidates if d.flagged]
    capped = [d for d in candidates if d.capped]
    assert not any(d.overridden for d in decisions)
    assert len(kept) <= quota
    assert {d.key for d in kept} | {d.key for d in flagged} | {d.key for d in capped} == {
        d.key for d in candidates
    }
    assert all(d.stars == Stars.FOUR and not d.flagged and d.reason for d in capped)
    assert all(d.stars == Stars.FIVE and d.reason for d in flagged)
    # The capped are exactly the lowest-scoring candidates: every one below every one kept or flagged.
    if capped:
        assert max(d.score for d in capped) < min((d.score for d in kept + flagged), default=Decimal(101))
    # Ties at the cut-off are flagged together, never broken silently; without a tie, the places are filled.
    assert len({d.score for d in flagged}) <= 1
    if flagged:
        assert len(kept) + len(flagged) > quota and all(d.score > flagged[0].score for d in kept)
    else:
        assert len(kept) == min(len(candidates), quota)
    # The others keep their stars by score, unmarked.
    for decision in decisions:
        if by_key[decision.key].stars != Stars.FIVE:
            assert decision.stars == by_key[decision.key].stars
            assert not (decision.capped or decision.flagged or decision.reason)


# ---------------------------------------------------------------- every self-check reply fits


EMOJI = ["😀", "👍🏻", "🇨🇳", "👨‍👩‍👧", "❤️", "🎉🎉🎉", "\u200d", "\ufe0f"]
RUBRICS = all_rubrics()
CHAIR = RoleView("chair", "XJ-001", "宏达工会")


def _text(value: str) -> UserInput:
    return UserInput("text", text=value)


inputs = st.one_of(
    st.integers(0, 20).map(lambda k: _text(format_score(Decimal(k) * HALF))),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10, max_value=120).map(
        lambda d: _text(str(d))
    ),
    st.sampled_from(WORDS).map(_text),
    st.tuples(st.sampled_from(WORDS), st.integers(-3, 60)).map(lambda t: _text(f"{t[0]} {t[1]}")),
    st.tuples(st.sampled_from(WORDS), st.text(max_size=40)).map(lambda t: _text(f"{t[0]} {t[1]}")),
    st.text(max_size=200).map(_text),
    st.lists(st.sampled_from(EMOJI), min_size=1, max_size=30).map(lambda parts: _text("".join(parts))),
    st.just(UserInput("photo", media_id="M" * 64, pic_url="http://mmbiz.qpic.cn/" + "p" * 200)),
    st.sampled_from(sorted(CLICK_KEYS)).map(lambda key: UserInput("click", text=key)),
    st.just(UserInput("subscribe")),
)
org_names = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=30
)


@st.composite
def chair_views(draw: st.DrawFn) -> WalkView:
    """The chair's self-check as the service loads it, with some answers and photos already in."""
    rubric = draw(st.sampled_from(RUBRICS))
    numbers = st.integers(1, rubric.item_count)
    scores = {
        no: Decimal(draw(st.integers(0, rubric.item(no).points * 2))) * HALF
        for no in draw(st.sets(numbers, max_size=rubric.item_count))
    }
    evidence = {no: draw(st.integers(1, 99)) for no in draw(st.sets(numbers, max_size=rubric.item_count))}
    return WalkView(
        draw(st.integers(1, 10**9)),
        draw(org_names) + "工会",
        2026,
        rubric.key,
        rubric.version,
        "自评中",
        True,
        scores=scores,
        evidence=evidence,
        return_reason=draw(st.sampled_from(["", "第3项缺少佐证", ("材料不全，" * 120)[:500]])),
    )


def _applied(view: WalkView, commands: tuple[Any, ...]) -> WalkView:
    """What the service would load next turn after applying the turn's commands."""
    for command in commands:
        if isinstance(command, SaveSelfScore):
            view = replace(view, scores={**view.scores, command.item_no: command.score})
        elif isinstance(command, AddEvidence):
            view = replace(
                view, evidence={**view.evidence, command.item_no: view.evidence.get(command.item_no, 0) + 1}
            )
        elif isinstance(command, SubmitSelfCheck):
            view = replace(view, editable=False, state_label="自评已提交")
    return view


@PROPERTIES
@given(chair_views(), st.lists(inputs, min_size=1, max_size=40))
def test_every_self_check_reply_fits_and_every_state_survives_storage(
    view: WalkView, messages: list[UserInput]
) -> None:
    saved: dict[str, Any] | None = None
    for message in [_text("自评"), *messages]:
        turn = plan(saved, message)
        outcome = respond(turn, UserContext((CHAIR,), view, 2026))
        if outcome.reply is None:  # a binding's outcome decides the reply
            assert all(isinstance(c, RedeemInvitation) for c in outcome.commands) and outcome.commands
        else:
            assert reply_bytes(outcome.reply) <= MAX_REPLY_BYTES, (message, outcome.reply.text[:200])
        stored = json.loads(json.dumps(outcome.state.to_dict(), ensure_ascii=False))
        assert DialogState.from_dict(stored) == outcome.state
        saved = stored
        view = _applied(view, outcome.commands)


@pytest.mark.parametrize("where", ["question", "summary"])
def test_help_inside_the_self_check_fits_with_its_links(where: str) -> None:
    rubric = get_rubric("state_owned")
    view = WalkView(1, "一一工会", 2026, rubric.key, rubric.version, "自评中", True)
    ctx = UserContext((CHAIR,), view, 2026)
    started = respond(plan(None, _text("自评")), ctx).state.to_dict()
    if where == "question":
        started["item"] = 15
    else:
        started = respond(plan(started, _text("查看")), ctx).state.to_dict()
    reply = respond(plan(started, _text("帮助")), ctx).reply
    assert reply is not None and "工会主席可用指令" in reply.text
    assert reply_bytes(reply) <= MAX_REPLY_BYTES


@pytest.mark.parametrize("words", [("自评",), ("自评", "查看", "进度")], ids=["start", "progress-on-summary"])
def test_a_long_return_reason_still_gives_replies_that_fit(words: tuple[str, ...]) -> None:
    rubric = get_rubric("village")
    reason = ("第3项缺少佐证材料，换届选举台账不全。" * 30)[:500]
    view = WalkView(
        1, "第1社区工会", 2026, rubric.key, rubric.version, "已退回修改", True, return_reason=reason
    )
    saved: dict[str, Any] | None = None
    for word in words:
        outcome = respond(plan(saved, _text(word)), UserContext((CHAIR,), view, 2026))
        saved = outcome.state.to_dict()
    assert outcome.reply is not None and reason[:20] in outcome.reply.text
    assert reply_bytes(outcome.reply) <= MAX_REPLY_BYTES


# ---------------------------------------------------------------- state read back from storage


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = [f.name for f in fields(DialogState)]
stored_states = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=10)),
    st.one_of(
        json_values,
        st.sampled_from(sorted(DIALOGS)),  # a dialog's name, in any field
        st.dictionaries(
            st.sampled_from(["evaluation_id", "returned", "distributed", "counts", "editing"]), json_values
        ),
    ),
    max_size=12,
)


@PROPERTIES
@given(st.one_of(stored_states, json_values))
def test_any_stored_value_reads_back_as_a_valid_state(stored: Any) -> None:
    state = DialogState.from_dict(stored)
    defaults = DialogState()
    for f in fields(DialogState):
        value = getattr(state, f.name)
        assert isinstance(value, type(getattr(defaults, f.name))), f.name
        if isinstance(stored, dict) and isinstance(stored.get(f.name), type(getattr(defaults, f.name))):
            assert value == stored[f.name]  # what fits is kept
    assert json.loads(json.dumps(state.to_dict())) == state.to_dict()


@PROPERTIES
@given(stored_states)
@example({"dialog": "ballot", "extra": {"evaluation_id": "E1"}})
@example({"dialog": "ballot", "extra": {"evaluation_id": [1]}})
def test_any_stored_state_gives_a_turn_that_fits(stored: dict[str, Any]) -> None:
    view = WalkView(7, "宏达工会", 2026, "non_public", get_rubric("non_public").version, "自评中", True)
    for message in (_text("进度"), _text("3"), _text("自评"), _text("暂停")):
        outcome = respond(plan(stored, message), UserContext((CHAIR,), view, 2026))
        assert outcome.reply is not None and reply_bytes(outcome.reply) <= MAX_REPLY_BYTES

"""The stars of a quota scope as a function of its facts (四、星级确定): the bands, the standard, the
five-star quota (五星级一般不超过总数的20%) and the admins' overrides.

``decide_scope`` takes every rated result of one scope — score and override, nothing about the order
in which they came — and gives each its stars and the reason. The same facts give the same decisions
whatever happened before: a result published earlier holds no place of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rubrics.scoring import DEFAULT_PASS_MARK, Stars, format_score, star_level

DEFAULT_QUOTA_PERCENT = 20


@dataclass(frozen=True)
class RatedResult:
    """One rated result of a scope before the quota: its key and 百分制 score (and, for callers that
    have them, the stars by score, which the score decides anyway)."""

    key: str
    score: Decimal
    stars: Stars | None = None


@dataclass(frozen=True)
class Override:
    """An admin's decision on one result's stars; the written reason is mandatory and audited.

    Below the score's band it lowers the stars; at five stars it settles a tie at the cut-off (the
    result goes first among those tied on its score). It never raises a result above its band.
    """

    key: str
    stars: Stars
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("an override needs a written reason")


@dataclass(frozen=True)
class QuotaDecision:
    """The final stars of one result, with why they differ from the score's stars, if they do.

    ``flagged``: tied at the cut-off with more tied results than places, waiting for an admin (its
    stars stay five until then, and an unpublished one is not published)."""

    key: str
    score: Decimal
    stars: Stars
    capped: bool = False
    flagged: bool = False
    overridden: bool = False
    reason: str = ""


def five_star_quota(rated_count: int, percent: int = DEFAULT_QUOTA_PERCENT) -> int:
    """floor(percent % × number rated), in integer arithmetic."""
    return rated_count * percent // 100


def band(score: Decimal, pass_mark: Decimal = DEFAULT_PASS_MARK) -> Stars:
    """The most stars a score can have: its band, and one star below the standard (须补课)."""
    return Stars.ONE if score < pass_mark else star_level(score)


def override_refusal(
    score: Decimal, stars: Stars, pass_mark: Decimal = DEFAULT_PASS_MARK, tied: bool = False
) -> str | None:
    """Why an admin may not set ``stars`` on a result of ``score`` (None: allowed). ``tied``: the result
    is tied at the five-star cut-off now."""
    ceiling = band(score, pass_mark)
    mark = format_score(pass_mark)
    if ceiling == Stars.ONE:
        return f"得分 {format_score(score)} 低于建设标准（{mark} 分），只能是一星级（须补课），不能调整星级。"
    if stars == Stars.ONE:
        return f"一星级只用于低于建设标准（{mark} 分）的结果，得分 {format_score(score)} 最低可调整为二星级。"
    if stars > ceiling:
        return f"得分 {format_score(score)} 按档次最高为{ceiling.label}，调整不能高于得分对应的星级。"
    if stars == ceiling == Stars.FIVE:
        return (
            None if tied else "五星级名额按得分确定，只有在名额线上同分并列、等待裁定的结果才能调整为五星级。"
        )
    if stars == ceiling:
        return f"得分 {format_score(score)} 按档次即为{ceiling.label}，无需调整；撤销已有的调整请用 --clear。"
    return None


def apply_five_star_quota(
    results: Sequence[RatedResult],
    overrides: Iterable[Override] = (),
    percent: int = DEFAULT_QUOTA_PERCENT,
    pass_mark: Decimal = DEFAULT_PASS_MARK,
    confirmed: bool = True,
    scope_name: str = "本范围",
) -> list[QuotaDecision]:
    """The stars of every rated result of one scope, in the order of ``results``.

    Each result's ceiling is its band (one star below the standard). An override lowers a result
    below its ceiling; an override at the ceiling only counts as the admin's choice in a tie. Until
    the scope is ``confirmed`` every result has its ceiling (预评). Once confirmed, the five-star
    candidates keep five stars by score, best first, while places last (floor(percent × rated)); the
    rest are four-star with the reason, which names the scope (``scope_name``: 全市, 原州区 …) as the
    public reads it. Where results tied on the score straddle the cut-off, those
    the admin chose go first; the places still undecided leave the remaining tied results flagged.
    """
    by_key = {override.key: override for override in overrides}
    unknown = set(by_key) - {result.key for result in results}
    if unknown:
        raise ValueError(f"overrides name results not in scope: {sorted(unknown)}")
    decisions: dict[str, QuotaDecision] = {}
    candidates: list[RatedResult] = []
    for result in results:
        ceiling = band(result.score, pass_mark)
        override = by_key.get(result.key)
        if override is not None and Stars.TWO <= override.stars < ceiling:
            decisions[result.key] = QuotaDecision(
                result.key, result.score, override.stars, overridden=True, reason=override.reason.strip()
            )
        elif ceiling == Stars.FIVE and confirmed:
            candidates.append(result)
        else:
            decisions[result.key] = QuotaDecision(result.key, result.score, ceiling)
    if candidates:
        decisions |= _quota(candidates, len(results), by_key, percent, scope_name)
    return [decisions[result.key] for result in results]


def _quota(
    candidates: list[RatedResult],
    rated: int,
    overrides: dict[str, Override],
    percent: int,
    scope_name: str = "本范围",
) -> dict[str, QuotaDecision]:
    """The five-star candidates of a confirmed scope: five stars while places last."""
    places = five_star_quota(rated, percent)
    head = f"{scope_name}评定 {rated} 个，五星级名额 {places} 个（评定数的 {percent}%，向下取整）"
    ranked = sorted(candidates, key=lambda r: r.score, reverse=True)
    if len(ranked) <= places:
        return {r.key: QuotaDecision(r.key, r.score, Stars.FIVE) for r in ranked}
    cut_off = ranked[places - 1].score if places > 0 else None
    above = [r for r in ranked if cut_off is not None and r.score > cut_off]
    tied = [r for r in ranked if r.score == cut_off]
    decisions = {r.key: QuotaDecision(r.key, r.score, Stars.FIVE) for r in above}
    decisions |= _left_out(head, ranked, above + tied, places, scope_name)
    return decisions | _tie(head, tied, places - len(above), len(above) + 1, overrides)


def _left_out(
    head: str, ranked: list[RatedResult], placed: list[RatedResult], places: int, scope_name: str
) -> dict[str, QuotaDecision]:
    """The candidates below the cut-off (neither above it nor tied on it): four stars."""
    decisions: dict[str, QuotaDecision] = {}
    for result in ranked:
        if result in placed:
            continue
        rank = 1 + sum(1 for other in ranked if other.score > result.score)
        if places == 0:
            why = f"{scope_name}没有五星级名额"
        else:
            why = f"在 {len(ranked)} 个 90 分及以上的单位中排第 {rank} 位，未进入名额"
        decisions[result.key] = _capped(head, result, why)
    return decisions


def _tie(
    head: str, tied: list[RatedResult], left: int, rank: int, overrides: dict[str, Override]
) -> dict[str, QuotaDecision]:
    """The candidates tied on the cut-off at ``rank``, with ``left`` places for them: five stars if
    they fit, else as the administrator decided (裁定), flagged while the decision is missing or
    gives more five stars than the places."""
    if len(tied) <= left:  # the tie fits within the places
        return {r.key: QuotaDecision(r.key, r.score, Stars.FIVE) for r in tied}
    chosen = [r for r in tied if (o := overrides.get(r.key)) is not None and o.stars == Stars.FIVE]
    others = [r for r in tied if r not in chosen]
    together = f"{len(tied)} 个单位同分并列第 {rank} 位，余下名额 {left} 个"
    if len(chosen) > left:
        too_many = f"{together}，管理员裁定的五星级多于名额，须重新裁定"
        return {r.key: _flagged(head, r, too_many) for r in chosen} | {
            r.key: _capped(head, r, f"{together}，未获管理员裁定") for r in others
        }
    decisions = {
        r.key: QuotaDecision(
            r.key,
            r.score,
            Stars.FIVE,
            overridden=True,
            reason=f"{together}，经管理员裁定评为五星级：{overrides[r.key].reason.strip()}",
        )
        for r in chosen
    }
    if len(chosen) == left:
        return decisions | {r.key: _capped(head, r, f"{together}，经管理员裁定未进入名额") for r in others}
    return decisions | {r.key: _flagged(head, r, f"{together}，超出名额，须由管理员裁定") for r in others}


def _capped(head: str, result: RatedResult, why: str) -> QuotaDecision:
    mine = f"本单位得分 {format_score(result.score)}"
    return QuotaDecision(
        result.key, result.score, Stars.FOUR, capped=True, reason=f"{head}；{mine}，{why}，评为四星级"
    )


def _flagged(head: str, result: RatedResult, why: str) -> QuotaDecision:
    mine = f"本单位得分 {format_score(result.score)}"
    return QuotaDecision(result.key, result.score, Stars.FIVE, flagged=True, reason=f"{head}；{mine}，{why}")

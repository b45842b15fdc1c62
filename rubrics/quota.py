"""The five-star quota (五星级一般不超过总数的20%) over one campaign year's rated results."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rubrics.scoring import Stars, format_score

DEFAULT_QUOTA_PERCENT = 20


@dataclass(frozen=True)
class RatedResult:
    """One organisation's rated result before the quota: its key (org code), 百分制 score and stars."""

    key: str
    score: Decimal
    stars: Stars


@dataclass(frozen=True)
class Override:
    """An admin's decision on one result's stars; the written reason is mandatory and audited."""

    key: str
    stars: Stars
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("an override needs a written reason")


@dataclass(frozen=True)
class QuotaDecision:
    """The final stars of one result, with why they differ from the score's stars, if they do."""

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


def apply_five_star_quota(
    results: Sequence[RatedResult],
    overrides: Iterable[Override] = (),
    percent: int = DEFAULT_QUOTA_PERCENT,
) -> list[QuotaDecision]:
    """Apply the quota within one scope; decisions come back in the order of ``results``.

    ``results`` are every rated result of the scope (the quota is of them all, never of a partial
    set: the caller applies it once the scope is confirmed). Overridden results keep the admin's
    stars; each five-star override uses one place. The remaining five-star candidates keep five stars
    by score, best first, while places last; the rest become four-star with the reason recorded.
    Candidates tied on the score at the cut-off are all flagged for the admin, keeping five stars for
    now, instead of being broken silently.
    """
    by_key = {override.key: override for override in overrides}
    unknown = set(by_key) - {result.key for result in results}
    if unknown:
        raise ValueError(f"overrides name results not in scope: {sorted(unknown)}")
    quota = five_star_quota(len(results), percent)
    taken = sum(1 for o in by_key.values() if o.stars == Stars.FIVE)
    places = quota - taken
    candidates = sorted(
        (r for r in results if r.stars == Stars.FIVE and r.key not in by_key),
        key=lambda r: r.score,
        reverse=True,
    )
    head = f"本范围评定 {len(results)} 个，五星级名额 {quota} 个"
    if taken:
        head += f"，其中 {min(taken, quota)} 个已由已确定的五星级结果占用" if quota else ""
    decisions: dict[str, QuotaDecision] = {}
    if len(candidates) > max(places, 0):
        cut_off = candidates[places - 1].score if places > 0 else None
        tied_over = cut_off is not None and candidates[places].score == cut_off
        for result in candidates:
            rank = 1 + sum(1 for other in candidates if other.score > result.score)
            mine = f"本单位得分 {format_score(result.score)}"
            if tied_over and result.score == cut_off:
                tied = sum(1 for other in candidates if other.score == result.score)
                decisions[result.key] = QuotaDecision(
                    result.key,
                    result.score,
                    Stars.FIVE,
                    flagged=True,
                    reason=f"{head}；{mine}，{tied} 个单位同分并列第 {rank} 位，超出名额，须由管理员裁定",
                )
            elif cut_off is None or result.score < cut_off:
                if quota == 0:
                    why = "本范围没有五星级名额"
                elif places <= 0:
                    why = "五星级名额已满"
                else:
                    why = f"在 {len(candidates)} 个 90 分及以上的单位中排第 {rank} 位，未进入名额"
                decisions[result.key] = QuotaDecision(
                    result.key,
                    result.score,
                    Stars.FOUR,
                    capped=True,
                    reason=f"{head}；{mine}，{why}，评为四星级",
                )
    final: list[QuotaDecision] = []
    for result in results:
        if result.key in by_key:
            override = by_key[result.key]
            final.append(
                QuotaDecision(
                    result.key, result.score, override.stars, overridden=True, reason=override.reason.strip()
                )
            )
        else:
            final.append(decisions.get(result.key, QuotaDecision(result.key, result.score, result.stars)))
    return final

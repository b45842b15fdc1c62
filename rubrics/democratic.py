"""The democratic evaluation's figures (民主测评), as the domain counts them and the chat shows them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: 会员人数少的，全部参加: a union of at most this many members has every member in its electorate
#: (EVALUATION_ALL_MEMBERS_MAX changes it).
ALL_MEMBERS_MAX = 25


@dataclass(frozen=True)
class DemocraticFigures:
    """The democratic evaluation's figures (民主测评): never a single ballot."""

    ballots: int
    invited: int
    satisfied: int  # 满意 + 基本满意 on the overall question
    score: Decimal | None  # 100-point democratic score
    closed: bool
    paper: int = 0  # of the ballots, paper forms entered by the evaluator
    waived_reason: str = ""  # set aside by the evaluator: not counted in the result
    closed_reason: str = ""  # closed before its date by the evaluator
    #: The paper part of the electorate fixed at the opening (None: opened before it was fixed).
    paper_places: int | None = None

    @property
    def waived(self) -> bool:
        return bool(self.waived_reason)

    @property
    def turnout(self) -> Decimal | None:
        return (
            None
            if self.invited == 0
            else (Decimal(self.ballots) * 100 / self.invited).quantize(Decimal("0.1"), ROUND_HALF_UP)
        )

    @property
    def satisfaction(self) -> Decimal | None:
        return (
            None
            if self.ballots == 0
            else (Decimal(self.satisfied) * 100 / self.ballots).quantize(Decimal("0.1"), ROUND_HALF_UP)
        )

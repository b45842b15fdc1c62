"""The democratic evaluation's figures (民主测评), as the domain counts them and the chat shows them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from rubrics import texts
from rubrics.scoring import format_score

#: 会员人数少的，全部参加: a union of at most this many members has every member in its electorate
#: (EVALUATION_ALL_MEMBERS_MAX changes it).
ALL_MEMBERS_MAX = 25

#: The small-count rule (小样本不公布): an evaluation's satisfaction rate, its democratic score, any
#: per-question breakdown and its suggestions (意见) are disclosed only once it is closed and holds at
#: least this many ballots — and its chat ballots are none or at least this many, for whoever entered
#: the paper forms knows their counts. Fewer, and one voter's answers could be read off the figures
#: (or off two looks with one vote between them, which is why nothing is disclosed while it is open).
#: EVALUATION_MIN_BALLOTS_SHOWN changes it; it is fixed on each evaluation when it opens.
MIN_BALLOTS_SHOWN = 3
#: EVALUATION_MIN_BALLOTS_SHOWN may not go below this: one ballot is one voter's answers.
MIN_BALLOTS_SHOWN_FLOOR = 2


@dataclass(frozen=True)
class DemocraticFigures:
    """The democratic evaluation's figures (民主测评). ``satisfaction`` and ``score`` are the tally;
    a surface shows them only when ``disclosed`` says so (the small-count rule), else the count and
    turnout alone."""

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
    #: The small-count rule's minimum, fixed when the evaluation opened.
    min_shown: int = MIN_BALLOTS_SHOWN

    @property
    def waived(self) -> bool:
        return bool(self.waived_reason)

    @property
    def online(self) -> int:
        """The ballots cast in chat (open places included)."""
        return self.ballots - self.paper

    @property
    def disclosed(self) -> bool:
        """The small-count rule, the one place it is decided: may the satisfaction rate, the score,
        a per-question breakdown and the suggestions be shown? Only once closed (a figure that moves
        while open gives one ballot away between two looks), not waived, with at least ``min_shown``
        ballots, of which the chat ballots are none or at least ``min_shown`` (the evaluator who
        entered the paper counts could otherwise subtract them)."""
        return (
            self.closed
            and not self.waived
            and self.ballots >= self.min_shown
            and (self.online == 0 or self.online >= self.min_shown)
        )

    @property
    def withheld(self) -> bool:
        """Closed with ballots but too few to disclose: the surfaces say why the figures are missing."""
        return self.closed and not self.waived and self.ballots > 0 and not self.disclosed

    @property
    def shown_satisfaction(self) -> Decimal | None:
        """The satisfaction rate where ``disclosed``, else None."""
        return self.satisfaction if self.disclosed else None

    @property
    def shown_score(self) -> Decimal | None:
        """The 100-point democratic score where ``disclosed``, else None."""
        return self.score if self.disclosed else None

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


def figures_phrase(figures: DemocraticFigures) -> str:
    """The satisfaction rate and the score where the small-count rule discloses them, else why they
    are not shown: every surface (chat, console, score sheet) words it with this."""
    if figures.disclosed and figures.satisfaction is not None and figures.score is not None:
        return texts.figures_shown(format_score(figures.satisfaction), format_score(figures.score))
    if not figures.closed:
        return texts.FIGURES_AFTER_CLOSE
    if figures.ballots == 0:
        return texts.NO_FIGURES
    return texts.figures_withheld(figures.ballots, figures.online, figures.min_shown)

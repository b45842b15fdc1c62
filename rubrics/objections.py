"""Objections (异议): where one came from, the words for it, and an objection as the re-review and the
evaluator's `进度` show it — values both the chat and the domain (chatbot/inspection/objections.py) use."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rubrics.scoring import Stars, format_score
from rubrics.texts import objection_outcome

#: The re-review's period (10 日内): due by the end of the tenth day (Asia/Shanghai) after the objection.
RE_REVIEW_DAYS = 10

#: Where an objection came from: the union's chair or member (bound when they objected), or the public
#: (anyone who follows the account, with the union's code).
OBJECTION_SOURCES = ("chair", "member", "public")


@dataclass(frozen=True)
class RaisedObjection:
    """An open objection as the re-review shows it: who objected (``OBJECTION_SOURCES``) and why."""

    source: str
    text: str


#: Who objected, as the re-reviewer reads it (``OBJECTION_SOURCES``).
SOURCE_LABELS: dict[str, str] = {
    "chair": "本单位工会主席",
    "member": "本单位会员",
    "public": "未绑定本单位的公众",
}
#: The same, short, where objections are counted.
SOURCE_SHORT: dict[str, str] = {"chair": "本单位工会主席", "member": "本单位会员", "public": "公众"}


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def source_short(source: str) -> str:
    return SOURCE_SHORT.get(source, source)


@dataclass(frozen=True)
class ObjectionView:
    """An objection waiting for its re-review, as the evaluator's `进度` lists it."""

    org_code: str
    org_name: str
    due: str
    text: str
    source: str = "member"  # OBJECTION_SOURCES


@dataclass(frozen=True)
class Outcome:
    """What the re-review that decided an objection came to: the result before it and after it (a score
    and its stars; None and 0 where there was none)."""

    prior_score: Decimal | None
    prior_stars: int
    decided_score: Decimal | None
    decided_stars: int

    @property
    def changed(self) -> bool:
        return (self.prior_score, self.prior_stars) != (self.decided_score, self.decided_stars)

    @property
    def label(self) -> str:
        """The outcome in a word, as the console lists it: 维持, 改分 (the score, and maybe its
        stars, changed) or 改星级 (the same score, other stars)."""
        if self.prior_score != self.decided_score:
            return "改分"
        return "改星级" if self.prior_stars != self.decided_stars else "维持"


@dataclass(frozen=True)
class FiledObjection:
    """An objection as its objector's `进度` shows it: the union, when it was filed, what it said, and
    the outcome once the re-review decided it (None while it waits)."""

    org_code: str
    org_name: str
    year: int
    filed: str  # Asia/Shanghai date
    text: str
    outcome: Outcome | None = None
    publication_ends: str = ""  # the new publication's end, once published again


def result_words(score: Decimal | None, stars: int) -> str:
    """A result as the objector reads it: “86.5 分，四星级”."""
    if score is None:
        return "未评定"
    shown = f"{format_score(score)} 分"
    return f"{shown}，{Stars(stars).label}" if stars else shown


def outcome_words(outcome: Outcome) -> str:
    """What the re-review decided: the result kept, or changed from what it was."""
    prior = result_words(outcome.prior_score, outcome.prior_stars)
    decided = result_words(outcome.decided_score, outcome.decided_stars)
    return objection_outcome(prior, decided, outcome.changed)

"""BallotDialog (民主测评): one question per rubric dimension, overall satisfaction, trust, a suggestion.

Answers go to a draft kept under the voter's keyed hash until the ballot is cast; the cast ballot
carries nothing that ties it to the voter. The reply to an answer shows the voter what they chose
(“✓ 不满意”); what the service keeps of that turn for WeChat's retry says only that an answer was
recorded (``Outcome.kept``). The rated questions are answered 1/2/3 or with the labels
themselves (满意 / 基本满意 / 不满意; the trust question 信任 / 基本信任 / 不信任). Texts:
dialogs/texts/ballot.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dialogs.binding import MAX_FAILED_ATTEMPTS
from dialogs.commands import Command
from dialogs.context import BallotView, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent, normalise
from dialogs.routing import Needs, Router
from dialogs.texts import ballot as texts
from dialogs.texts import common
from rubrics import words

NAME = "ballot"
#: A `测评 CODE` not looked up: the sender's wrong codes this hour, or every code waits for a minute.
RATE_LIMITED, LOCKED = "rate_limited", "locked"
SCALE = texts.SATISFACTION
MAX_SUGGESTION_CHARS = 500


@dataclass(frozen=True)
class SaveBallotDraft(Command):
    """Keep the answers given so far in a democratic evaluation (民主测评)."""

    evaluation_id: int
    answers: tuple[int, ...]


@dataclass(frozen=True)
class CastBallot(Command):
    """Cast the ballot: stored without any link to the voter."""

    evaluation_id: int
    answers: tuple[int, ...]
    suggestion: str


BallotCommand = SaveBallotDraft | CastBallot
router = Router.of("ballot", BallotCommand)


def _evaluation(intent: Intent) -> Needs:
    return Needs(evaluation_code=intent.arg.upper()) if intent.arg else Needs(member_evaluation=True)


def _ballot_in_progress(state: DialogState) -> Needs:
    """The ballot in progress: a stored state is untrusted data, anything but a positive id means none."""
    evaluation_id = state.extra.get("evaluation_id")
    return Needs(evaluation_id=evaluation_id if type(evaluation_id) is int and evaluation_id > 0 else 0)


@router.word(words.EVALUATE, needs=_evaluation, roles=("member",), usage=texts.USAGE, synonyms=("民主测评",))
def _evaluate(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return start(ctx)


def rated_questions(view: BallotView) -> list[str]:
    """The questions answered 1/2/3: one per dimension, overall satisfaction, trust."""
    return [texts.dimension_question(d) for d in view.dimensions] + [
        texts.OVERALL_QUESTION,
        texts.TRUST_QUESTION,
    ]


def scale_of(view: BallotView, no: int) -> dict[int, str]:
    """The answers of rated question ``no``: the trust question (the last) has its own words."""
    return texts.TRUST if no == len(rated_questions(view)) else texts.SATISFACTION


def _total(view: BallotView) -> int:
    return len(view.dimensions) + 3


def _state(view: BallotView, item: int, wrong: int = 0) -> DialogState:
    return DialogState(
        NAME,
        "ask",
        item=item,
        wrong_inputs=wrong,
        extra={"evaluation_id": view.evaluation_id, "code": view.code},
    )


def ask(view: BallotView, answers: tuple[int, ...], prefix: str = "", wrong: int = 0) -> Outcome:
    """The next question after ``answers``: a rated one, or the closing suggestion."""
    questions = rated_questions(view)
    no = len(answers) + 1
    back = (Choice("上一项", "上一项"),) if answers else ()
    if no <= len(questions):
        scale = scale_of(view, no)
        text = texts.question(prefix, no, _total(view), questions[no - 1], scale)
        choices = tuple(Choice(label, str(value)) for value, label in scale.items()) + back
        return Outcome(Reply(text, choices), _state(view, no, wrong))
    text = texts.suggestion_question(prefix, no, _total(view))
    return Outcome(Reply(text, (Choice("无", "无"),) + back), _state(view, no, wrong))


def start(ctx: UserContext, prefix: str = "") -> Outcome:
    """`测评 CODE`, the QR scene eval:CODE, or a bound member's `测评`."""
    view = ctx.ballot
    if view is None:
        return Outcome(Reply(prefix + texts.NONE_OPEN), DialogState())
    if view.status != "open":
        return Outcome(Reply(prefix + status_text(view)), DialogState())
    if view.answers:
        prefix += texts.welcome_back(view.org_name)
    else:
        prefix += texts.welcome(view.org_name, _total(view))
    if view.others:
        prefix += texts.also_invited("、".join(f"{name}（测评 {code}）" for name, code in view.others[:5]))
    return ask(view, view.answers, prefix)


def status_text(view: BallotView) -> str:
    if view.status == RATE_LIMITED:
        return texts.rate_limited(MAX_FAILED_ATTEMPTS)
    if view.status == LOCKED:
        return common.CODES_LOCKED
    return texts.status(view.status, view.org_name)


def answer_value(intent: Intent, scale: dict[int, str]) -> int | None:
    """1, 2 or 3 — typed, tapped, in Chinese numerals, or the label itself (满意, 不信任 …)."""
    if intent.kind == "number" and intent.arg in ("1", "2", "3"):
        return int(intent.arg)
    if intent.kind == "text":
        typed = normalise(intent.raw)
        for value, label in scale.items():
            if typed == label:
                return value
    return None


@router.dialog(NAME, needs=_ballot_in_progress)
def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    view = ctx.ballot
    if view is None or view.evaluation_id != state.extra.get("evaluation_id"):
        return start(ctx, texts.EVALUATION_CHANGED)
    stale = state.extra.get("code") != view.code or state.item != len(view.answers) + 1
    if stale and view.status == "open":  # the saved answers are not those this state was made with
        return start(ctx, common.ANSWERS_CHANGED)
    if view.status != "open":
        return Outcome(Reply(status_text(view)), DialogState())
    return _voting(state, intent, view)


def _voting(state: DialogState, intent: Intent, view: BallotView) -> Outcome:
    """One input to an open ballot whose saved answers are those the state was made with."""
    answers = view.answers
    again = f"测评 {view.code}" if view.code else "测评"
    on_suggestion = len(answers) >= len(rated_questions(view))
    moved = _word(intent.word, view, again) if intent.kind == "word" else None
    if moved is not None:
        return moved
    if on_suggestion and _looks_like_answer(intent, view) and not state.extra.get(ASKED_IF_SUGGESTION):
        outcome = ask(view, answers, texts.SUGGESTION_LOOKS_LIKE_ANSWER + "\n")
        asked = replace(outcome.state, extra={**outcome.state.extra, ASKED_IF_SUGGESTION: True})
        return Outcome(outcome.reply, asked)
    if on_suggestion and intent.kind not in ("photo", "empty"):
        text = normalise(intent.raw)
        suggestion = "" if text in texts.NO_SUGGESTION else text[:MAX_SUGGESTION_CHARS]
        return Outcome(
            Reply(texts.CAST), DialogState(), (CastBallot(view.evaluation_id, answers, suggestion),)
        )
    scale = scale_of(view, len(answers) + 1)
    value = None if on_suggestion else answer_value(intent, scale)
    if value is not None:  # the voter sees their answer; the turn's record keeps nothing of it
        updated = answers + (value,)
        outcome = ask(view, updated, texts.answered(scale[value]))
        kept = ask(view, updated, texts.ANSWER_RECORDED).reply
        return Outcome(outcome.reply, outcome.state, (SaveBallotDraft(view.evaluation_id, updated),), kept)
    wrong = state.wrong_inputs + 1
    reason = texts.SUGGESTION_USAGE if on_suggestion else texts.rated_usage(scale)
    if wrong >= common.WRONG_INPUTS_BEFORE_HELP:
        hint = common.stuck_hint(reason, common.pause_line(again))
        return ask(view, answers, f"{hint}\n\n", 0)
    return ask(view, answers, reason + "\n", wrong)


#: The state's mark that a bare option number sent as the suggestion was questioned once (the number
#: itself is not kept: nothing of a suggestion is stored beside the voter).
ASKED_IF_SUGGESTION = "asked_if_suggestion"


def _looks_like_answer(intent: Intent, view: BallotView) -> bool:
    """An option number or label (1, 2, 3, 满意 …) sent where the suggestion is asked."""
    return answer_value(intent, scale_of(view, len(rated_questions(view)))) is not None


def _word(word: str, view: BallotView, again: str) -> Outcome | None:
    """暂停, 继续 (back from 帮助) and 上一项 within the ballot; None for any other word."""
    answers = view.answers
    if word == "暂停":
        return Outcome(Reply(texts.paused(again), (Choice(again, again),)), DialogState())
    if word == "继续":
        return ask(view, answers)
    if word != "上一项":
        return None
    if not answers:
        return ask(view, answers, texts.FIRST_QUESTION)
    previous = answers[:-1]
    outcome = ask(view, previous)
    return Outcome(outcome.reply, outcome.state, (SaveBallotDraft(view.evaluation_id, previous),))

"""PaperTallyDialog (录入纸质测评表): the evaluator enters the paper forms of a democratic evaluation.

Counts only, never identities: how many forms were handed out — at most the paper part of the
electorate fixed when the evaluation opened, forms for people not invited in chat — and returned, then
per question how many answered 满意, 基本满意 and 不满意. Nothing is stored until `提交`; entering again
replaces the counts.

States: ``forms`` — the two form counts are asked; ``counts`` — question ``state.item`` is asked;
``review`` — the summary, waiting for `提交`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dialogs.assessment import access_for
from dialogs.commands import Command
from dialogs.context import UserContext, WalkView
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent, normalise
from dialogs.routing import Router, first_code, inspection_in_progress, organisation
from dialogs.texts import ballot as ballot_texts
from dialogs.texts import common
from dialogs.texts import paper as texts
from rubrics import words
from rubrics.lifecycle import InspectionState

NAME = "paper"
FORMS, COUNTS, REVIEW = "forms", "counts", "review"
MAX_FORMS = 100_000
_NUMBERS = re.compile(r"\d+")


@dataclass(frozen=True)
class SavePaperTally(Command):
    """Paper forms (纸质测评表) entered by the evaluator: forms handed out and returned, and per question
    the counts of 满意, 基本满意, 不满意 — counts only, never identities."""

    inspection_id: int
    distributed: int
    returned: int
    counts: tuple[tuple[int, int, int], ...]


PaperCommand = SavePaperTally
router = Router.of("paper", PaperCommand)


@router.word(
    words.ENTER_PAPER_BALLOTS,
    needs=organisation(NAME),
    roles=("evaluator",),
    usage=texts.USAGE,
    aliases=("纸质测评",),
)
def _enter(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
    """`录入测评 C`; without a code inside the paper tally, the tally answers."""
    return None if state.dialog == NAME and not intent.arg else start(ctx, first_code(intent))


def questions(view: WalkView) -> list[str]:
    """The paper form's rated questions, as the online ballot asks them: one per dimension, then the
    overall satisfaction and the trust."""
    return [*view.sheet.dimensions, texts.OVERALL, texts.TRUST]


def labels(view: WalkView, no: int) -> tuple[str, str, str]:
    """The three answers of question ``no``: 满意 … for the satisfaction questions, 信任 … for trust."""
    scale = ballot_texts.TRUST if no == len(questions(view)) else ballot_texts.SATISFACTION
    return scale[1], scale[2], scale[3]


def _numbers(text: str) -> list[int]:
    return [int(n) for n in _NUMBERS.findall(normalise(text))]


def _state(view: WalkView, step: str, item: int, extra: dict[str, Any], wrong: int = 0) -> DialogState:
    rubric = view.sheet
    return DialogState(
        NAME,
        step,
        item=item,
        inspection_id=view.inspection_id,
        rubric_key=rubric.key,
        rubric_version=rubric.version,
        wrong_inputs=wrong,
        extra=extra,
    )


def start(ctx: UserContext, code: str) -> Outcome:
    """`录入测评 C`."""
    access = access_for(ctx, code, "录入测评")
    if isinstance(access, str):
        return Outcome(Reply(access), DialogState())
    view = access.view
    assert view is not None
    figures = view.democratic
    if figures is None:
        return Outcome(Reply(texts.no_evaluation(view.org_name)), DialogState())
    if not InspectionState(access.state).is_assessable:
        return Outcome(Reply(texts.not_now(view.org_name, view.state_label)), DialogState())
    if figures.waived:
        return Outcome(Reply(texts.waived(view.org_name)), DialogState())
    if figures.paper_places == 0:
        return Outcome(Reply(texts.no_paper_part(view.org_name)), DialogState())
    prefix = texts.heading(view.org_name)
    if figures.paper_places is not None:
        prefix += texts.paper_part(figures.paper_places)
    if access.paper is not None:
        distributed, returned, _ = access.paper
        prefix += texts.entered_before(distributed, returned)
    return _ask_forms(view, {}, prefix)


def _ask_forms(view: WalkView, extra: dict[str, Any], prefix: str = "", wrong: int = 0) -> Outcome:
    text = prefix + texts.ASK_FORMS
    return Outcome(Reply(text, (Choice("暂停", "暂停"),)), _state(view, FORMS, 0, extra, wrong))


def _ask_counts(view: WalkView, extra: dict[str, Any], no: int, prefix: str = "", wrong: int = 0) -> Outcome:
    asked = questions(view)
    returned = extra["returned"]
    text = prefix + texts.ask_counts(no, len(asked), asked[no - 1], labels(view, no), returned)
    choices = (Choice("上一项", "上一项"),) if no > 1 and not extra.get("editing") else ()
    return Outcome(Reply(text, choices), _state(view, COUNTS, no, extra, wrong))


def _review(view: WalkView, extra: dict[str, Any], prefix: str = "") -> Outcome:
    lines = [prefix + texts.summary_head(view.org_name, extra["distributed"], extra["returned"])]
    for no, (name, counts) in enumerate(zip(questions(view), extra["counts"], strict=True), start=1):
        lines.append(texts.summary_line(name, labels(view, no), tuple(counts)))
    lines.append(texts.SUMMARY_TAIL)
    return Outcome(
        Reply("\n".join(lines), (Choice("提交", "提交"),)), _state(view, REVIEW, len(questions(view)), extra)
    )


@router.dialog(NAME, needs=inspection_in_progress)
def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """One turn inside the paper tally."""
    access = ctx.assessment
    view = access.view if access else None
    if view is None or view.inspection_id != state.inspection_id or access is None:
        return Outcome(Reply(texts.TASK_CHANGED), DialogState())
    figures = view.democratic
    if not InspectionState(access.state).is_assessable or figures is None or figures.waived:
        return Outcome(Reply(texts.cannot_enter(view.org_name, view.state_label)), DialogState())
    extra = dict(state.extra)
    word = intent.word if intent.kind == "word" else ""
    if word == "暂停":
        return Outcome(Reply(texts.paused(view.org_code)), DialogState())
    if word == "继续":  # back from 帮助
        return _again(state, view, extra)
    if state.step == FORMS:
        return _on_forms(state, intent, ctx, view, extra)
    if state.step == COUNTS:
        return _on_counts(state, intent, ctx, view, extra)
    return _on_review(state, intent, ctx, view, extra)


def _again(
    state: DialogState, view: WalkView, extra: dict[str, Any], prefix: str = "", wrong: int = 0
) -> Outcome:
    """The current step again, after ``prefix``."""
    if state.step == FORMS:
        return _ask_forms(view, extra, prefix, wrong)
    if state.step == COUNTS:
        return _ask_counts(view, extra, state.item, prefix, wrong)
    outcome = _review(view, extra, prefix)
    return Outcome(outcome.reply, _state(view, REVIEW, state.item, extra, wrong))


def _wrong(
    state: DialogState, ctx: UserContext, view: WalkView, extra: dict[str, Any], reason: str
) -> Outcome:
    """The reason (what to type) and the same step again; the third time in a row, the reason as the
    first of three lines that also say where help is and how to stop."""
    count = state.wrong_inputs + 1
    prefix = reason + "\n"
    if count >= common.WRONG_INPUTS_BEFORE_HELP:
        prefix = common.stuck_hint(reason, texts.pause_line(view.org_code)) + "\n\n"
        count = 0
    return _again(state, view, extra, prefix, count)


def _on_forms(
    state: DialogState, intent: Intent, ctx: UserContext, view: WalkView, extra: dict[str, Any]
) -> Outcome:
    numbers = _numbers(intent.raw) if intent.kind in ("number", "text", "word") else []
    if len(numbers) != 2:
        return _wrong(state, ctx, view, extra, texts.FORMS_USAGE)
    distributed, returned = numbers
    if not 0 < returned <= distributed <= MAX_FORMS:
        return _wrong(state, ctx, view, extra, texts.FORMS_WRONG)
    places = view.democratic.paper_places if view.democratic else None
    if places is not None and distributed > places:
        return _wrong(state, ctx, view, extra, texts.more_than_the_part(distributed, places))
    extra = {"distributed": distributed, "returned": returned, "counts": []}
    return _ask_counts(view, extra, 1, texts.forms_saved(distributed, returned))


def _on_counts(
    state: DialogState, intent: Intent, ctx: UserContext, view: WalkView, extra: dict[str, Any]
) -> Outcome:
    no = state.item
    editing = bool(extra.get("editing"))
    counts = [list(row) for row in extra.get("counts", [])]
    if not editing:
        counts = counts[: no - 1]
    if intent.kind == "word" and intent.word == "上一项" and not editing:
        if no == 1:
            return _ask_counts(view, extra, 1, texts.FIRST_QUESTION)
        return _ask_counts(view, {**extra, "counts": counts[: no - 2]}, no - 1)
    numbers = _numbers(intent.raw) if intent.kind in ("number", "text") else []
    if len(numbers) != 3:
        return _wrong(state, ctx, view, extra, texts.counts_usage(labels(view, no)))
    if sum(numbers) > extra["returned"]:
        return _wrong(state, ctx, view, extra, texts.too_many(sum(numbers), extra["returned"]))
    if editing:
        counts[no - 1] = numbers
        return _review(view, {**extra, "counts": counts, "editing": False}, texts.changed(no))
    counts.append(numbers)
    extra = {**extra, "counts": counts}
    if len(counts) < len(questions(view)):
        return _ask_counts(view, extra, no + 1, texts.RECORDED)
    return _review(view, extra, texts.ALL_ENTERED)


def _on_review(
    state: DialogState, intent: Intent, ctx: UserContext, view: WalkView, extra: dict[str, Any]
) -> Outcome:
    word, arg = (intent.word, intent.arg) if intent.kind == "word" else ("", "")
    if word == "提交":
        counts = tuple((int(a), int(b), int(c)) for a, b, c in extra["counts"])
        return Outcome(
            Reply(
                texts.saved(view.org_name, extra["distributed"], extra["returned"]),
                (Choice(f"考评 {view.org_code}", f"考评 {view.org_code}"),),
            ),
            DialogState(),
            (SavePaperTally(view.inspection_id, extra["distributed"], extra["returned"], counts),),
        )
    if word == "修改" and arg.isdigit() and 1 <= int(arg) <= len(questions(view)):
        return _ask_counts(view, {**extra, "editing": True}, int(arg))
    return _wrong(state, ctx, view, extra, texts.REVIEW_USAGE)

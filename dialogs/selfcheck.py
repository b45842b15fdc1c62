"""SelfCheckDialog (自查自评): the chair answers every item of the union's rubric, then submits.

A walk (dialogs/walk.py) over the chair's own scores, with photos as evidence; its texts are in
dialogs/texts/selfcheck.py and dialogs/texts/walk.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dialogs import walk
from dialogs.commands import AddEvidence, Command
from dialogs.context import ResultView, UserContext, WalkView
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent
from dialogs.routing import Router, inspected
from dialogs.texts import common as common_texts
from dialogs.texts import selfcheck as texts
from dialogs.texts import walk as walk_texts
from rubrics import Rubric, words
from rubrics.lifecycle import InspectionState
from rubrics.scoring import Stars, format_score, raw_total

NAME = "self_check"


@dataclass(frozen=True)
class StartSelfCheck(Command):
    """Move the inspection from not started to self-checking (自查自评)."""

    inspection_id: int


@dataclass(frozen=True)
class SaveSelfScore(Command):
    """Record the chair's self score (自评得分) for one item; saving the same score twice changes nothing."""

    inspection_id: int
    item_no: int
    score: Decimal
    reason: str = ""


@dataclass(frozen=True)
class SubmitSelfCheck(Command):
    """Submit the self-check; the answers lock."""

    inspection_id: int


@dataclass(frozen=True)
class WithdrawSelfCheck(Command):
    """Take a submitted self-check back (撤销提交) before the assessment starts; the answers unlock."""

    inspection_id: int


SelfCheckCommand = StartSelfCheck | SaveSelfScore | AddEvidence | SubmitSelfCheck | WithdrawSelfCheck
router = Router.of("selfcheck", SelfCheckCommand)


def _submitted(view: WalkView, rubric: Rubric) -> str:
    return texts.SUBMITTED + result_text(view, rubric)


def result_text(view: WalkView, rubric: Rubric) -> str:
    """Raw total out of the sheet max, the 百分制 score and the provisional stars."""
    return walk.totals_text(
        view, rubric, texts.result_heading(view.org_name, view.year), texts.PROVISIONAL_STARS
    )


def returned_text(view: WalkView) -> str:
    """Why the parent union sent the self-check back, while it is back."""
    if not view.return_reason:
        return ""
    reason = view.return_reason[:100] + ("…" if len(view.return_reason) > 100 else "")
    return texts.returned(reason)


MODE = walk.Mode(
    name=NAME,
    words=walk_texts.SELF_CHECK,
    view=lambda ctx: ctx.self_check,
    start_command=StartSelfCheck,
    score_command=lambda inspection, no, score, reason: SaveSelfScore(inspection, no, score),
    submit_command=SubmitSelfCheck,
    submitted_text=_submitted,
    photos=True,
    resume="自评",
    intro=returned_text,
)


def start(ctx: UserContext, prefix: str = "", paused: bool = False) -> Outcome:
    """`自评`: start, or resume at the first unanswered item (``paused``: after `暂停`)."""
    view = ctx.self_check
    if view is None:
        return Outcome(Reply(prefix + _not_available(ctx)), DialogState())
    if not view.editable:
        rubric = view.sheet
        return Outcome(
            Reply(prefix + texts.locked(view.state_label) + result_text(view, rubric)), DialogState()
        )
    return walk.start(MODE, view, prefix, paused)


def _not_available(ctx: UserContext) -> str:
    if not ctx.has_role("chair"):
        return texts.not_a_chair("、".join(r.label for r in ctx.roles))
    if ctx.campaign_year is None:
        return texts.NO_CAMPAIGN
    return texts.not_in_scope(ctx.campaign_year)


@router.word(
    words.SELF_CHECK,
    roles=("chair",),
    usage=texts.USAGE,
    level=inspected,
    loads_self_check=True,
    synonyms=("开始自评", "自查自评"),
)
def _self_check(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """`自评`, even inside the self-check: (re)start at the first unanswered item, as stored."""
    return start(ctx, paused=walk.paused_here(state, ctx.self_check))


@router.word(words.CONTINUE, anywhere=False, loads_self_check=True)
def _continue(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
    """`继续` with no dialog in progress: a chair's self-check, where it was paused."""
    return start(ctx, paused=walk.paused_here(state, ctx.self_check)) if ctx.has_role("chair") else None


@router.word("撤销提交", roles=("chair",), usage=texts.WITHDRAW_USAGE, level=inspected, loads_self_check=True)
def _withdraw(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """`撤销提交`: a submitted self-check back to 自评中, until the parent union starts its assessment."""
    view = ctx.self_check
    if view is None:
        return Outcome(Reply(_not_available(ctx)), DialogState())
    if view.editable:
        return Outcome(
            Reply(texts.withdraw_not_submitted(view.state_label), (Choice("自评", "自评"),)), state
        )
    if view.state != InspectionState.SELF_SUBMITTED:
        return Outcome(Reply(texts.withdraw_refused(InspectionState(view.state))), DialogState())
    withdraw = WithdrawSelfCheck(view.inspection_id)
    return Outcome(Reply(texts.WITHDRAWN, (Choice("自评", "自评"),)), DialogState(), (withdraw,))


@router.dialog(NAME)
def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """One turn inside the self-check."""
    view = ctx.self_check
    if view is not None and not view.editable:
        return start(ctx)
    return walk.handle(MODE, state, intent, ctx, start)


def result_line(result: ResultView, state_label: str = "") -> str:
    """The published result in `进度`: the stars, the score, where it stands (``state_label``, else
    the result's state) and until when objections are taken — for the chair as for a member."""
    return common_texts.result_progress(
        Stars(result.stars).label if result.stars else common_texts.NO_STARS,
        format_score(result.score),
        state_label or result.state_label,
        result.publication_ends,
        result.objection_open,
        result.already_objected,
    )


def progress_text(view: WalkView, rubric: Rubric, result: ResultView | None = None) -> str:
    """`进度` of the chair's own inspection: the self-check while it is open; once submitted, each
    stage as it stands — the objection is to the result, not to the self-check. Once ``result`` (this
    inspection's) is published, its line names the stars and score as a member's `进度` does."""
    stage = texts.STAGES.get(view.state)
    if view.editable or stage is None:
        return returned_text(view) + walk.progress_text(MODE, view, rubric)
    total = format_score(raw_total(view.scores.values()))
    photos = sum(view.evidence.values())
    submitted = texts.submitted_progress(
        view.org_name, view.year, len(view.scores), rubric.item_count, photos, total, rubric.max_total
    )
    if result is not None and result.inspection_id == view.inspection_id and stage[1]:
        return submitted + texts.stages_published(stage[0], result_line(result, stage[1]))
    return submitted + texts.stages(*stage)

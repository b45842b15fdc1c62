"""The parent union's walks over a child's inspection: 组织评定 (`考评 C`), 复查评定 (`复查 C`), and
`退回 C 原因`, which sends a submitted self-check back to the chair."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from dialogs import walk
from dialogs.commands import CloseEvaluation, Command, SaveAssessmentRecord, WaiveEvaluation
from dialogs.context import AssessmentAccess, RatingOutcome, RoleView, UserContext, WalkView
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent
from dialogs.routing import (
    DialogHandler,
    Router,
    WordHandler,
    any_level,
    city,
    first_code,
    inspection_in_progress,
    organisation,
)
from dialogs.texts import assessment as texts
from dialogs.texts import walk as walk_texts
from rubrics import Rubric, words
from rubrics.lifecycle import InspectionState
from rubrics.objections import source_label, source_short
from rubrics.scoring import (
    BELOW_STANDARD_CONSEQUENCES,
    Stars,
    format_score,
    percent_score,
    raw_total,
    star_level,
)


@dataclass(frozen=True)
class StartAssessment(Command):
    """The evaluator starts the organisational assessment (组织评定)."""

    inspection_id: int


@dataclass(frozen=True)
class SaveAssessedScore(Command):
    """Record the evaluator's score (考评得分) for one item; in a re-review with the reason."""

    inspection_id: int
    item_no: int
    score: Decimal
    reason: str = ""


@dataclass(frozen=True)
class SubmitAssessment(Command):
    """Submit the assessment: the inspection is rated."""

    inspection_id: int


@dataclass(frozen=True)
class ReturnSelfCheck(Command):
    """Send a submitted self-check back to the chair (退回), with the reason."""

    inspection_id: int
    reason: str


@dataclass(frozen=True)
class StartReReview(Command):
    """The evaluator starts the re-review (复查评定) of an objected result."""

    inspection_id: int


@dataclass(frozen=True)
class SubmitReReview(Command):
    """Submit the re-review: the result is published again, one round later."""

    inspection_id: int


@dataclass(frozen=True)
class StartSampleCheck(Command):
    """A city evaluator starts re-checking a sampled inspection (抽查)."""

    inspection_id: int


@dataclass(frozen=True)
class SaveCityScore(Command):
    """The city's score for one item of a sampled inspection."""

    inspection_id: int
    item_no: int
    score: Decimal
    reason: str = ""


@dataclass(frozen=True)
class SubmitSampleCheck(Command):
    """Submit the city's re-check; a changed star level is applied and audited."""

    inspection_id: int


#: The parent union's commands: the assessment with its record and democratic evaluation, the return.
AssessmentCommand = (
    StartAssessment
    | SaveAssessedScore
    | SaveAssessmentRecord
    | ReturnSelfCheck
    | CloseEvaluation
    | WaiveEvaluation
    | SubmitAssessment
)
ReReviewCommand = StartReReview | SubmitReReview
SampleCheckCommand = StartSampleCheck | SaveCityScore | SubmitSampleCheck
router = Router.of("assessment", AssessmentCommand | ReReviewCommand | SampleCheckCommand)


def _standard_note(view: WalkView, rubric: Rubric) -> str:
    score = percent_score(raw_total(view.scores.values()), rubric.max_total)
    if score < view.pass_mark:
        return texts.below_standard(format_score(view.pass_mark), BELOW_STANDARD_CONSEQUENCES)
    return ""


def _assessed(view: WalkView, rubric: Rubric) -> str:
    """The reply to a submitted assessment; the service adds the stars it got (``rating_text``)."""
    heading = texts.heading(view.org_name, view.year, ASSESSMENT.title)
    totals = walk.totals_text(view, rubric, heading, stars_line="")
    return (
        f"{texts.ASSESSED}{totals}\n{walk.democratic_text(view.democratic)}\n{walk.record_text(view)}"
        f"{_standard_note(view, rubric)}"
    )


def _re_reviewed(view: WalkView, rubric: Rubric) -> str:
    """The reply to a submitted re-review; the service adds the stars it got (``rating_text``)."""
    heading = texts.heading(view.org_name, view.year, RE_REVIEW.title)
    totals = walk.totals_text(view, rubric, heading, stars_line="")
    return f"{texts.RE_REVIEWED}{totals}{_standard_note(view, rubric)}"


def rating_text(outcome: RatingOutcome) -> str:
    """What a submitted assessment or re-review came to in its scope, as the database now holds it:
    the stars, and whether they wait (for an admin's decision on a tie, for the scope's
    confirmation) or were published again."""
    if outcome.published_round:
        note = texts.published(outcome.published_round, outcome.publication_ends)
    elif outcome.flagged:
        note = texts.flagged(outcome.again)
    elif outcome.provisional:
        note = texts.provisional(outcome.again)
    else:
        note = outcome.reason or texts.UNPUBLISHED
    if outcome.published_round and outcome.reason:
        note = f"{outcome.reason}；{note}"
    text = texts.stars_line(Stars(outcome.stars).label, note)
    if outcome.others_republished:
        text += texts.others_republished(outcome.others_republished)
    return text


def _assessment_view(ctx: UserContext) -> WalkView | None:
    return ctx.assessment.view if ctx.assessment else None


def _objected(view: WalkView) -> str:
    """The open objections' texts: the items they name (`第12项`) are re-reviewed first."""
    return "\n".join(o.text for o in view.objections)


def _objections(view: WalkView) -> str:
    """The open objections, shown when the re-review starts or resumes."""
    if not view.objections:
        return ""
    by_source = Counter(o.source for o in view.objections)  # in the order of the first of each
    counts = [(source_short(s), n) for s, n in by_source.items()]
    lines = [
        (source_label(o.source), o.text[:80] + ("…" if len(o.text) > 80 else "")) for o in view.objections[:3]
    ]
    return texts.objections(len(view.objections), counts, lines, max(len(view.objections) - 3, 0))


ASSESSMENT = walk.Mode(
    name="assessment",
    words=walk_texts.ASSESSMENT,
    view=_assessment_view,
    start_command=StartAssessment,
    score_command=SaveAssessedScore,
    submit_command=SubmitAssessment,
    submitted_text=_assessed,
    agree="reference",
    resume="考评 {code}",
    record=True,
    rates=True,
)
RE_REVIEW = walk.Mode(
    name="re_review",
    words=walk_texts.RE_REVIEW,
    view=_assessment_view,
    start_command=StartReReview,
    score_command=SaveAssessedScore,
    submit_command=SubmitReReview,
    submitted_text=_re_reviewed,
    agree="current",
    reasons=True,
    sequential=True,
    resume="复查 {code}",
    intro=_objections,
    focus_text=_objected,
    record=True,
)


def _sample_checked(view: WalkView, rubric: Rubric) -> str:
    county = percent_score(raw_total(view.reference.values()), rubric.max_total)
    city = percent_score(raw_total(view.scores.values()), rubric.max_total)
    county_stars, city_stars = (Stars(view.stars) if view.stars else star_level(county)), star_level(city)
    change = (
        texts.STARS_UNCHANGED
        if county_stars == city_stars
        else texts.stars_changed(county_stars.label, city_stars.label)
    )
    return texts.sample_checked(
        view.org_name,
        format_score(county),
        county_stars.label,
        format_score(city),
        city_stars.label,
        format_score(city - county),
        change,
    )


SAMPLE_CHECK = walk.Mode(
    name="sample_check",
    words=walk_texts.SAMPLE_CHECK,
    view=_assessment_view,
    start_command=StartSampleCheck,
    score_command=SaveCityScore,
    submit_command=SubmitSampleCheck,
    submitted_text=_sample_checked,
    agree="reference",
    resume="抽查 {code}",
)


def refusal_text(access: AssessmentAccess, word: str) -> str:
    """Why ``word`` (考评 / 复查 / 抽查 / 退回 …) cannot be done for the organisation."""
    code = access.org_code
    return {
        "not_found": texts.not_found(code),
        "not_evaluator": texts.not_evaluator(code, word),
        "not_city_evaluator": texts.NOT_CITY_EVALUATOR,
        "no_campaign": texts.NO_CAMPAIGN,
        "not_inspected": texts.not_inspected(code),
        "no_remediation": texts.no_remediation(code),
    }.get(access.refusal, texts.UNAVAILABLE)


def access_for(ctx: UserContext, code: str, word: str) -> AssessmentAccess | str:
    """The access the service loaded for ``code``, or the reply that says why there is none."""
    if not code:
        return texts.code_needed(word)
    access = ctx.assessment
    if access is None or access.org_code.upper() != code.upper():
        return texts.not_found(code)
    if access.view is None:
        return refusal_text(access, word)
    return access


WORDS = {"assessment": words.ASSESS, "re_review": words.RE_REVIEW, "sample_check": words.SAMPLE_CHECK}


def start(
    ctx: UserContext, code: str, mode: walk.Mode, prefix: str = "", state: DialogState | None = None
) -> Outcome:
    """`考评 C`, `复查 C` or `抽查 C` (``state``: the saved one, which may be this walk's pause)."""
    access = access_for(ctx, code, WORDS[mode.name])
    if isinstance(access, str):
        return Outcome(Reply(prefix + access), DialogState())
    view = access.view
    assert view is not None
    if not view.editable:
        return Outcome(Reply(prefix + _not_open(mode, access, view)), DialogState())
    return walk.start(mode, view, prefix, state is not None and walk.paused_here(state, view))


def _not_open(mode: walk.Mode, access: AssessmentAccess, view: WalkView) -> str:
    if mode is SAMPLE_CHECK:
        return texts.not_sampled(view.org_name)
    if mode is RE_REVIEW:
        return texts.nothing_to_re_review(view.org_name, view.state_label)
    if InspectionState(access.state).self_check_editable:
        return texts.not_submitted_yet(view.org_name, view.state_label)
    return texts.assessed_already(view.org_name, view.state_label)


def handle(mode: walk.Mode, state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    def restart(context: UserContext, prefix: str) -> Outcome:
        code = context.assessment.org_code if context.assessment else ""
        return start(context, code, mode, prefix)

    return walk.handle(mode, state, intent, ctx, restart)


def _walk_word(mode: walk.Mode) -> WordHandler:
    """`考评 C`, `复查 C`, `抽查 C`: start the walk, or let the walk in progress resume where it was."""

    def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
        current = ctx.assessment.org_code if ctx.assessment else ""
        if state.dialog == mode.name and (not intent.arg or first_code(intent).upper() == current.upper()):
            return None
        return start(ctx, first_code(intent), mode, state=state)

    return handle


def _walk_dialog(mode: walk.Mode) -> DialogHandler:
    return lambda state, intent, ctx: handle(mode, state, intent, ctx)


def _register_walk(mode: walk.Mode, level: Callable[[RoleView], bool] = any_level) -> None:
    """The walk's word (`考评 C` …) and its dialog."""
    word = WORDS[mode.name]
    route = router.word(
        word, needs=organisation(mode.name), roles=("evaluator",), usage=texts.USAGE[word], level=level
    )
    route(_walk_word(mode))
    router.dialog(mode.name, needs=inspection_in_progress)(_walk_dialog(mode))


_register_walk(ASSESSMENT)


@router.word(
    words.RETURN, needs=organisation("return", always=True), roles=("evaluator",), usage=texts.USAGE["退回"]
)
def _return(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return return_self_check(ctx, intent.arg, intent.text)


_register_walk(RE_REVIEW)
_register_walk(SAMPLE_CHECK, level=city)


@router.word(words.METHODS, anywhere=False, aliases=("考评方式",))
@router.word(words.OPINION, anywhere=False, aliases=("考评意见",))
@router.word(words.END_EVALUATION, anywhere=False)
@router.word(words.WAIVE_EVALUATION, anywhere=False)
def outside_assessment(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome | None:
    """`方式`, `意见`, `结束测评`, `免除测评` from an evaluator with no assessment open (before it, or
    after its submission): where they belong."""
    if not ctx.has_role("evaluator"):
        return None
    return Outcome(Reply(texts.OUTSIDE_ASSESSMENT), DialogState())


def return_self_check(ctx: UserContext, arg: str, typed: str) -> Outcome:
    """`退回 C 原因`; the reason is kept as typed."""
    code = arg.partition(" ")[0]
    reason = typed.split(None, 1)[1] if len(typed.split(None, 1)) > 1 else ""
    access = access_for(ctx, code, "退回")
    if isinstance(access, str):
        return Outcome(Reply(access), DialogState())
    view = access.view
    assert view is not None
    if not InspectionState(access.state).is_assessable:
        return Outcome(Reply(texts.cannot_return(view.org_name, view.state_label)), DialogState())
    reason = reason.strip()
    if not reason:
        return Outcome(Reply(texts.return_reason_needed(access.org_code)), DialogState())
    return Outcome(
        Reply(texts.returned(view.org_name, reason[:200]), (Choice("进度", "进度"),)),
        DialogState(),
        (ReturnSelfCheck(view.inspection_id, reason[:500]),),
    )

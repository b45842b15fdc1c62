"""The item walk: one question per rubric item, shared by the self-check (自查自评), the assessment
(组织评定), the re-review (复查评定) and the city's re-check (抽查评定). A ``Mode`` says what differs
between them; every text is in dialogs/texts/walk.py, but for the refusals the domain gives too
(rubrics/texts.py).

States (docs/dialogs.md): ``ask`` — item ``state.item`` is asked; ``review`` — the paged summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from dialogs.commands import (
    AddEvidence,
    CloseEvaluation,
    Command,
    SaveAssessmentRecord,
    WaiveEvaluation,
)
from dialogs.context import UserContext, WalkView
from dialogs.engine import Choice, DialogState, Outcome, Reply, fit
from dialogs.parsing import Intent, items_named
from dialogs.texts import common
from dialogs.texts import walk as texts
from dialogs.texts.walk import WalkWords
from rubrics import Rubric, words
from rubrics import texts as shared_texts
from rubrics.democratic import DemocraticFigures, figures_phrase
from rubrics.scoring import (
    HALF,
    ScoreError,
    format_score,
    parse_item_score,
    percent_score,
    raw_total,
    star_level,
)
from rubrics.submission import METHODS, METHODS_HINT, MIN_WRITTEN_CHARS, submission_gaps

ASK = "ask"
REVIEW = "review"
#: Words that re-enter a walk in progress (the last three with the organisation's code).
RESUME_WORDS = ("自评", "考评", "复查", "抽查")
#: Inputs that answer a question inside a walk (and a ballot, the paper forms): sent with no
#: questionnaire open, they are told which one to open.
ANSWERING_WORDS = (
    words.FULL_MARKS,
    words.SAME,
    words.PREVIOUS_ITEM,
    words.SKIP,
    words.CHANGE,
    words.SUMMARY,
    words.PAUSE,
    words.SUBMIT,
    words.PREVIOUS_PAGE,
    words.NEXT_PAGE,
)
#: Other ways people say an answering word, → the word.
ANSWERING_SYNONYMS: dict[str, str] = {
    "返回": "上一项", "上一题": "上一项", "下一项": "跳过", "下一题": "跳过", "汇总": "查看", "同意": "同",
    "同自评": "同", "维持": "同", "取消": "暂停", "退出": "暂停",
}  # fmt: skip
#: The budget of one summary page, leaving room for its heading, the democratic figures, the
#: assessment record and the page's links.
PAGE_BYTES = 1200
SNIPPET_CHARS = 12
#: Tap links under one question, at most: a phone shows them on two lines. The scores get what
#: `同`, `上一项` and `跳过` leave.
MAX_LINKS = 7
MAX_OPINION_CHARS = 500


def _no_text(view: WalkView) -> str:
    return ""


@dataclass(frozen=True)
class Mode:
    """What one kind of walk does differently."""

    name: str  # the dialog name kept in DialogState
    words: WalkWords  # how the walk names itself and its scores (dialogs/texts/walk.py)
    view: Callable[[UserContext], WalkView | None]
    start_command: Callable[[int], Command]
    score_command: Callable[[int, int, Decimal, str], Command]
    submit_command: Callable[[int], Command]
    submitted_text: Callable[[WalkView, Rubric], str]
    photos: bool = False  # a photo is evidence for the current item
    agree: str = ""  # what `同` takes: "reference" (the score shown beside) or "current" (keep the score)
    reasons: bool = False  # a changed score needs a reason
    sequential: bool = False  # walk every item in order, not only the unanswered ones
    resume: str = "自评"  # the command that resumes the walk; {code} is the organisation's code
    intro: Callable[[WalkView], str] = _no_text  # said when the walk starts or resumes
    #: Text naming the items the walk is about (an objection's `第12项`): a sequential walk asks those
    #: first, then the others in order.
    focus_text: Callable[[WalkView], str] = _no_text
    record: bool = False  # the assessment record (方式, 意见) is shown in this walk
    #: The assessment itself: its record (方式, 意见) and the democratic evaluation (结束测评, 免除测评)
    #: are given in it, and its `提交` waits until both are complete (``submission_gaps``).
    rates: bool = False

    @property
    def title(self) -> str:
        return self.words.title

    def resume_command(self, view: WalkView) -> str:
        return self.resume.format(code=view.org_code)

    def focus(self, view: WalkView, rubric: Rubric) -> tuple[int, ...]:
        """The items a sequential walk asks first: in a re-review, those the objections name."""
        return items_named(self.focus_text(view), rubric.item_count) if self.sequential else ()


# ---------------------------------------------------------------- rendering


def score_choices(points: int, budget: int) -> tuple[Choice, ...]:
    """The common scores of an item worth ``points``, at most ``budget`` links, the last one 满分:
    every allowed score when they fit (0, 0.5, 1 …), else the whole ones, else 0 and the highest
    whole scores (0, 2, 3, 4, 满分) — the others are typed."""
    halves = [Decimal(i) * HALF for i in range(points * 2 + 1)]
    wholes = [Decimal(i) for i in range(points + 1)]
    if len(halves) <= budget:
        values = halves
    elif len(wholes) <= budget:
        values = wholes
    else:
        values = [Decimal(0)] + [Decimal(v) for v in range(points - budget + 2, points + 1)]
    return tuple(
        Choice(texts.FULL_MARKS, texts.FULL_MARKS)
        if value == points
        else Choice(format_score(value), format_score(value))
        for value in values
    )


def _example(points: int) -> str:
    """A half-point score to show as an example: 4.5 for a 5-point item."""
    return format_score(Decimal(points) - HALF)


def _item_status(mode: Mode, view: WalkView, no: int) -> str:
    parts = []
    if mode.words.reference and no in view.reference:
        parts.append(texts.reference_score(mode.words, format_score(view.reference[no])))
    if mode.agree or view.evidence.get(no):
        parts.append(texts.photos(view.evidence.get(no, 0)))
    if no in view.scores:
        parts.append(texts.current_score(mode.words, format_score(view.scores[no])))
    return texts.item_status(parts)


def question(mode: Mode, view: WalkView, rubric: Rubric, no: int, prefix: str = "") -> Reply:
    """The question for item ``no``: 【i/n】, the dimension, the item's max points, its text, at most
    ``MAX_LINKS`` links; ``prefix`` before it, shortened where the whole would not fit a reply."""
    item = rubric.item(no)
    prompt = texts.prompt(
        mode.words, item.points, _example(item.points), mode.agree == "reference", mode.reasons, mode.photos
    )
    text = (
        f"{texts.question_head(no, rubric.item_count, item.dimension, item.points)}\n"
        f"{item.shown_text}\n{_item_status(mode, view, no)}{prompt}"
    )
    before: tuple[Choice, ...] = (Choice("同", "同"),) if mode.agree else ()
    after = ((Choice("上一项", "上一项"),) if no > 1 else ()) + (Choice("跳过", "跳过"),)
    scores = () if mode.reasons else score_choices(item.points, MAX_LINKS - len(before) - 2)
    return fit(prefix, Reply(text, before + scores + after))


def missing_items(view: WalkView, rubric: Rubric) -> list[int]:
    return [item.no for item in rubric.items if item.no not in view.scores]


def numbers_text(numbers: list[int]) -> str:
    """1、2、5 — a long list ends in “…”."""
    return "、".join(str(n) for n in numbers[:20]) + ("…" if len(numbers) > 20 else "")


def _subtotal(scores: Mapping[int, Decimal], rubric: Rubric, dimension: str) -> Decimal:
    return raw_total(scores[i.no] for i in rubric.items_of(dimension) if i.no in scores)


def _size(line: str) -> int:
    return len(line.encode("utf-8")) + 1


def summary_pages(mode: Mode, view: WalkView, rubric: Rubric) -> list[str]:
    """The summary (查看) split into pages that fit a reply. A dimension's header always has an item
    under it on the same page; a dimension carried over to the next page is headed again (续)."""
    words = mode.words
    pages: list[list[str]] = [[]]
    size = 0
    for dimension in rubric.dimensions:
        mine = format_score(_subtotal(view.scores, rubric, dimension))
        theirs = format_score(_subtotal(view.reference, rubric, dimension))
        header = texts.dimension_header(words, dimension, mine, theirs, rubric.dimension_max(dimension))
        for position, item in enumerate(rubric.items_of(dimension)):
            mark = (
                f"{format_score(view.scores[item.no])}/{item.points}"
                if item.no in view.scores
                else texts.UNANSWERED
            )
            reference = format_score(view.reference[item.no]) if item.no in view.reference else "-"
            snippet = item.text[:SNIPPET_CHARS] + ("…" if len(item.text) > SNIPPET_CHARS else "")
            line = texts.item_line(words, item.no, mark, reference, view.evidence.get(item.no, 0), snippet)
            heading = [header] if position == 0 else []
            if pages[-1] and size + sum(map(_size, heading)) + _size(line) > PAGE_BYTES:
                pages.append([])
                size = 0
                heading = heading or [texts.continued_header(dimension)]
            for shown in (*heading, line):
                pages[-1].append(shown)
                size += _size(shown)
    return ["\n".join(page) for page in pages]


def democratic_text(figures: DemocraticFigures | None) -> str:
    """The democratic evaluation's figures, one line: the count and turnout, the satisfaction rate and
    score only where the small-count rule discloses them."""
    if figures is None:
        return texts.NO_EVALUATION
    if figures.waived:
        return texts.evaluation_waived(figures.waived_reason)
    if figures.ballots == 0:
        return texts.no_ballots(figures.invited, figures.closed)
    turnout = f"{format_score(figures.turnout)}%" if figures.turnout is not None else "-"
    return texts.democratic_line(
        figures.ballots, figures.paper, turnout, figures_phrase(figures), figures.closed
    )


def review(mode: Mode, view: WalkView, rubric: Rubric, page: int, prefix: str = "") -> Reply:
    pages = summary_pages(mode, view, rubric)
    page = min(max(page, 1), len(pages))
    mine = format_score(raw_total(view.scores.values()))
    theirs = format_score(raw_total(view.reference.values()))
    head = texts.summary_head(mode.title, page, len(pages), view.org_name)
    head += texts.summary_counts(
        mode.words, len(view.scores), rubric.item_count, mine, theirs, rubric.max_total
    )
    if mode.agree:
        head += democratic_text(view.democratic) + "\n"
    if mode.record:
        head += record_text(view) + "\n"
    missing = missing_items(view, rubric)
    if not view.editable:
        tail = texts.locked(mode.title)
    elif missing:
        tail = texts.SUMMARY_MISSING
    else:
        tail = texts.summary_complete(mode.reasons)
        if mode.rates and (not view.methods or len(view.opinion.strip()) < MIN_WRITTEN_CHARS):
            tail += "\n" + texts.RECORD_FIRST
    if len(pages) > 1:
        tail += "\n" + texts.other_pages(page, len(pages))
    choices: list[Choice] = []
    if page > 1:
        choices.append(Choice("上一页", "上一页"))
    if page < len(pages):
        choices.append(Choice("下一页", "下一页"))
    if view.editable:
        choices += [Choice("继续", "继续"), Choice("提交", "提交")] if missing else [Choice("提交", "提交")]
    return fit(prefix, Reply(head + pages[page - 1] + "\n" + tail, tuple(choices)))


def totals_text(view: WalkView, rubric: Rubric, heading: str, stars_line: str = texts.STARS_BY_SCORE) -> str:
    """Per-dimension subtotals, raw total out of the sheet max, the 百分制 score (on a sheet that is not
    out of 100) and its stars."""
    total = raw_total(view.scores.values())
    score = percent_score(total, rubric.max_total)
    lines = [heading]
    for dimension in rubric.dimensions:
        subtotal = format_score(_subtotal(view.scores, rubric, dimension))
        lines.append(texts.dimension_total(dimension, subtotal, rubric.dimension_max(dimension)))
    if rubric.max_total == 100:  # the raw total is the 百分制 score: said once
        lines.append(texts.total_line(format_score(total), rubric.max_total))
    else:
        lines += [
            texts.raw_total_line(format_score(total), rubric.max_total),
            texts.percent_line(format_score(score)),
        ]
    if stars_line:
        lines.append(stars_line.format(stars=star_level(score).label))
    return "\n".join(lines)


def record_text(view: WalkView, opinion_chars: int = 60) -> str:
    """The assessment record, one line each (a long opinion shortened with “…”)."""
    opinion = view.opinion[:opinion_chars] + ("…" if len(view.opinion) > opinion_chars else "")
    return texts.record("、".join(view.methods), opinion)


def progress_text(mode: Mode, view: WalkView, rubric: Rubric) -> str:
    return texts.progress(
        mode.words, view.org_name, view.year, view.state_label, len(view.scores), rubric.item_count
    ) + texts.progress_totals(
        sum(view.evidence.values()),
        format_score(raw_total(view.scores.values())),
        rubric.max_total,
    )


# ---------------------------------------------------------------- navigation


def next_item(mode: Mode, view: WalkView, rubric: Rubric, after: int, skip: int = 0) -> int | None:
    """The item to ask after ``after``: the next one (sequential walks: the ``Mode.focus`` items first,
    then the others in order), or the first unanswered one after it, wrapping round, never ``skip``."""
    if mode.sequential:
        focus = mode.focus(view, rubric)
        order = [*focus, *(no for no in range(1, rubric.item_count + 1) if no not in focus)]
        at = order.index(after) + 1 if after in order else 0
        return order[at] if at < len(order) else None
    order = list(range(after + 1, rubric.item_count + 1)) + list(range(1, after + 1))
    for no in order:
        if no not in view.scores and no != skip:
            return no
    return None


def _state(mode: Mode, view: WalkView, rubric: Rubric, step: str, item: int, page: int = 1) -> DialogState:
    return DialogState(
        mode.name,
        step,
        item=item,
        page=page,
        inspection_id=view.inspection_id,
        rubric_key=rubric.key,
        rubric_version=rubric.version,
        extra={"seen": view.seen},
    )


def ask(
    mode: Mode, view: WalkView, rubric: Rubric, no: int, prefix: str = "", commands: tuple[Command, ...] = ()
) -> Outcome:
    return Outcome(question(mode, view, rubric, no, prefix), _state(mode, view, rubric, ASK, no), commands)


def show_review(
    mode: Mode,
    view: WalkView,
    rubric: Rubric,
    page: int,
    item: int,
    prefix: str = "",
    commands: tuple[Command, ...] = (),
) -> Outcome:
    return Outcome(
        review(mode, view, rubric, page, prefix), _state(mode, view, rubric, REVIEW, item, page), commands
    )


# ---------------------------------------------------------------- the dialog


#: DialogState.extra key of a walk paused with `暂停`: its inspection, so that its resumption says 继续.
PAUSED = "paused"


def paused_here(state: DialogState, view: WalkView | None) -> bool:
    """Whether the saved state is the pause of this walk."""
    return view is not None and state.extra.get(PAUSED) == view.inspection_id


def start(mode: Mode, view: WalkView, prefix: str = "", paused: bool = False) -> Outcome:
    """Start the walk, or resume it at the first unanswered item (``paused``: after its `暂停`)."""
    rubric = view.sheet
    commands: tuple[Command, ...] = (mode.start_command(view.inspection_id),)
    prefix += mode.intro(view)
    first = next_item(mode, view, rubric, 0)
    if first is None:
        return show_review(mode, view, rubric, 1, rubric.item_count, prefix, commands)
    if view.scores and not mode.sequential:
        prefix += texts.welcome_back(len(view.scores), rubric.item_count, first)
    else:
        # Begun before: paused, or this walk's scores are kept (a re-review's are the old ones), or
        # the photos of a walk that takes them are (a self-check left before its first score); the
        # chair's photos shown during an assessment are not the evaluator's start.
        begun = bool(view.scores) or (mode.photos and bool(view.evidence))
        resumed = paused or (begun and not mode.reasons)
        prefix += texts.starting(
            mode.words, view.org_name, view.year, rubric.item_count, rubric.max_total, resumed
        )
    if mode.reasons:
        focus = mode.focus(view, rubric)
        prefix += texts.re_review_hint(numbers_text(list(focus)) if focus else "")
    return ask(mode, view, rubric, first, prefix, commands)


@dataclass(frozen=True)
class Walk:
    """One turn inside a walk: the mode, the saved state, what the user sent, and what they see."""

    mode: Mode
    state: DialogState
    intent: Intent
    ctx: UserContext
    view: WalkView
    rubric: Rubric

    @property
    def no(self) -> int:
        """The item being asked (the first one when the state names none)."""
        return self.state.item if 1 <= self.state.item <= self.rubric.item_count else 1

    def ask(
        self, no: int, prefix: str = "", commands: tuple[Command, ...] = (), view: WalkView | None = None
    ) -> Outcome:
        return ask(self.mode, view or self.view, self.rubric, no, prefix, commands)

    def review(
        self, page: int, prefix: str = "", commands: tuple[Command, ...] = (), view: WalkView | None = None
    ) -> Outcome:
        return show_review(self.mode, view or self.view, self.rubric, page, self.state.item, prefix, commands)

    def again(
        self, prefix: str = "", commands: tuple[Command, ...] = (), view: WalkView | None = None
    ) -> Outcome:
        """The current step again, after ``prefix``."""
        if self.state.step == REVIEW:
            return self.review(self.state.page, prefix, commands, view)
        return self.ask(self.state.item, prefix, commands, view)

    def wrong(self, reason: str) -> Outcome:
        """The reason (what to type) and the same step again; the third time in a row, the reason as
        the first of three lines that also say where help is and how to pause."""
        count = self.state.wrong_inputs + 1
        prefix = reason + "\n"
        if count >= common.WRONG_INPUTS_BEFORE_HELP:
            pause = common.pause_line(self.mode.resume_command(self.view))
            prefix = common.stuck_hint(reason, pause) + "\n\n"
            count = 0
        outcome = self.again(prefix)
        return Outcome(outcome.reply, replace(outcome.state, wrong_inputs=count), outcome.commands)

    def after_answer(
        self, no: int, prefix: str, commands: tuple[Command, ...], view: WalkView, skip: int = 0
    ) -> Outcome:
        """The next item to ask, or the summary once none is left."""
        following = next_item(self.mode, view, self.rubric, no, skip=skip)
        focus = self.mode.focus(view, self.rubric)
        if focus and no == focus[-1] and following is not None and following not in focus:
            prefix += texts.focus_done(numbers_text(list(focus)))
        if following is not None:
            return self.ask(following, prefix, commands, view)
        if skip and skip not in view.scores:
            prefix += texts.still_missing(skip)
        elif self.mode.sequential:
            prefix += texts.WALKED_THROUGH
        return show_review(self.mode, view, self.rubric, 1, no, prefix, commands)


Step = Callable[[Walk], Outcome | None]


def handle(
    mode: Mode,
    state: DialogState,
    intent: Intent,
    ctx: UserContext,
    restart: Callable[[UserContext, str], Outcome],
) -> Outcome:
    """One turn inside a walk; ``restart`` re-enters it when the stored state no longer fits."""
    view = mode.view(ctx)
    if view is None or view.inspection_id != state.inspection_id:
        return restart(ctx, texts.task_changed(mode.title))
    rubric = view.sheet
    if state.rubric_version != rubric.version or state.rubric_key != rubric.key:
        return restart(ctx, texts.RUBRIC_CHANGED)
    if state.extra.get("seen") != view.seen:  # the database is not what this state was made with
        return restart(ctx, common.ANSWERS_CHANGED)
    if not view.editable:
        return Outcome(Reply(texts.not_editable(view.org_name, mode.title, view.state_label)), DialogState())
    if state.step != REVIEW:
        state = replace(state, step=ASK, item=state.item if 1 <= state.item <= rubric.item_count else 1)
    walk = Walk(mode, state, intent, ctx, view, rubric)
    key = intent.word if intent.kind == "word" else intent.kind
    steps = REVIEW_STEPS if state.step == REVIEW else ASK_STEPS
    for table in (steps, COMMON_STEPS):
        step = table.get(key)
        outcome = step(walk) if step is not None else None
        if outcome is not None:
            return outcome
    if state.step == REVIEW:
        return walk.wrong(texts.SUMMARY_NOT_UNDERSTOOD)
    return walk.wrong(texts.not_understood(intent.raw.strip(), rubric.item(walk.no).points))


# ---------------------------------------------------------------- steps while an item is asked


def _scored(walk: Walk, no: int, said: Intent) -> tuple[Decimal, str] | Outcome:
    """The score ``said`` gives item ``no`` and its reason, or the refusal (the step again)."""
    mode, view = walk.mode, walk.view
    try:
        score = _score_for(mode, said, view, no, walk.rubric.item(no).points).quantize(Decimal("0.1"))
    except ScoreError as error:
        return walk.wrong(str(error))
    reason = said.reason.strip()[:200]
    if mode.reasons and no in view.scores and score != view.scores[no] and not reason:
        shown = format_score(score)
        return walk.wrong(
            texts.needs_reason(shown) if said.kind != "item_score" else texts.item_needs_reason(no, shown)
        )
    return score, reason


def _save(walk: Walk, no: int, score: Decimal, reason: str) -> tuple[tuple[Command, ...], WalkView]:
    view, mode = walk.view, walk.mode
    unchanged = view.scores.get(no) == score
    commands = (
        () if unchanged and mode.reasons else (mode.score_command(view.inspection_id, no, score, reason),)
    )
    return commands, replace(view, scores={**view.scores, no: score})


def _answer(walk: Walk) -> Outcome | None:
    """A score, `满分`, or `同` where the walk has something to agree with."""
    intent, no = walk.intent, walk.no
    if intent.kind == "word" and intent.word == "同" and (not walk.mode.agree or intent.arg):
        return None
    scored = _scored(walk, no, intent)
    if isinstance(scored, Outcome):
        return scored
    score, reason = scored
    commands, updated = _save(walk, no, score, reason)
    return walk.after_answer(no, texts.saved(no, format_score(score)), commands, updated)


def _set_item(walk: Walk) -> Outcome:
    """`第3项改为2分` (or `3项2分`, `第5项满分`): that item's score, wherever the user is; then the
    same step again — the item being asked, or the summary page."""
    no, count = walk.intent.item, walk.rubric.item_count
    if not 1 <= no <= count:
        return walk.wrong(texts.no_such_item(count))
    said = walk.intent
    if said.arg in ("满分", "同"):
        said = replace(said, kind="word", word=said.arg, arg="")
        if said.word == "同" and not walk.mode.agree:
            return walk.wrong(texts.NOTHING_TO_AGREE)
    scored = _scored(walk, no, said)
    if isinstance(scored, Outcome):
        return scored
    score, reason = scored
    commands, updated = _save(walk, no, score, reason)
    prefix = texts.changed(no, format_score(score))
    if walk.state.step == REVIEW:
        return walk.review(walk.state.page, prefix, commands, updated)
    if no == walk.no:
        return walk.after_answer(no, prefix, commands, updated)
    return walk.ask(walk.no, prefix, commands, updated)


def _photo(walk: Walk) -> Outcome:
    if not walk.mode.photos:
        return walk.wrong(texts.no_photos(walk.mode.title))
    view, no, intent = walk.view, walk.no, walk.intent
    updated = replace(view, evidence={**view.evidence, no: view.evidence.get(no, 0) + 1})
    return walk.ask(
        no,
        texts.photo_received(no, updated.evidence[no]),
        (AddEvidence(view.inspection_id, no, intent.media_id, intent.pic_url),),
        updated,
    )


def _back(walk: Walk) -> Outcome:
    if walk.no == 1:
        return walk.ask(1, texts.FIRST_ITEM)
    return walk.ask(walk.no - 1)


def _skip(walk: Walk) -> Outcome:
    no = walk.no
    return walk.after_answer(no, texts.skipped(no), (), walk.view, skip=no)


def _summary_from_question(walk: Walk) -> Outcome:
    return walk.review(walk.state.page)


ASK_STEPS: dict[str, Step] = {
    "number": _answer,
    "满分": _answer,
    "同": _answer,
    "item_score": _set_item,
    "photo": _photo,
    "上一项": _back,
    "跳过": _skip,
    "上一页": _summary_from_question,
    "下一页": _summary_from_question,
}


# ---------------------------------------------------------------- steps on the summary


def _turn_page(walk: Walk) -> Outcome:
    return walk.review(walk.state.page + (1 if walk.intent.word == "下一页" else -1))


def _back_to_item(walk: Walk) -> Outcome:
    return walk.ask(max(walk.state.item, 1))


def _not_on_summary(walk: Walk) -> Outcome:
    return walk.wrong(texts.NOT_ON_SUMMARY)


REVIEW_STEPS: dict[str, Step] = {
    "上一页": _turn_page,
    "下一页": _turn_page,
    "上一项": _back_to_item,
    "跳过": _back_to_item,
    "满分": _back_to_item,
    "同": _back_to_item,
    "item_score": _set_item,
    "number": _not_on_summary,
    "photo": _not_on_summary,
}


# ---------------------------------------------------------------- words that mean the same in every step


def _pause(walk: Walk) -> Outcome:
    again = walk.mode.resume_command(walk.view)
    scored, total = len(walk.view.scores), walk.rubric.item_count
    return Outcome(
        Reply(texts.paused(scored, total, again), (Choice(again, again),)),
        DialogState(extra={PAUSED: walk.view.inspection_id}),
    )


def _submit(walk: Walk) -> Outcome:
    mode, view, rubric = walk.mode, walk.view, walk.rubric
    missing = missing_items(view, rubric)
    if missing:
        return walk.ask(missing[0], texts.missing(len(missing), numbers_text(missing)))
    if mode.rates:
        gaps = submission_gaps(view.org_code, view.methods, view.opinion, view.democratic)
        if gaps:  # on its own, so that a long summary page never cuts it
            choices = (Choice("查看", "查看"), Choice("提交", "提交"))
            return Outcome(Reply(shared_texts.submission_refused(gaps).rstrip(), choices), walk.state)
    return Outcome(
        Reply(mode.submitted_text(view, rubric)), DialogState(), (mode.submit_command(view.inspection_id),)
    )


def _jump(walk: Walk) -> Outcome:
    arg, count = walk.intent.arg, walk.rubric.item_count
    if not arg.isdigit() or not 1 <= int(arg) <= count:
        return walk.wrong(texts.jump_usage(count))
    return walk.ask(int(arg))


def _summary(walk: Walk) -> Outcome:
    arg = walk.intent.arg
    return walk.review(int(arg) if arg.isdigit() else 1)


def _resume(walk: Walk) -> Outcome | None:
    """`继续`, or the walk's own word again (`自评`, `考评 C` …): back to the item being answered."""
    word, arg = walk.intent.word, walk.intent.arg
    if word in RESUME_WORDS[1:] and arg and arg != walk.view.org_code:
        return None
    target = (
        walk.state.item
        if walk.state.step == ASK
        else next_item(walk.mode, walk.view, walk.rubric, 0) or walk.state.item
    )
    return walk.ask(max(target, 1))


def _progress(walk: Walk) -> Outcome:
    return walk.again(walk.mode.intro(walk.view) + progress_text(walk.mode, walk.view, walk.rubric) + "\n\n")


def _methods(walk: Walk) -> Outcome | None:
    if not walk.mode.record:
        return None
    if not walk.mode.rates:
        return walk.again(texts.ASSESSMENT_SUBMITTED)
    methods = parse_methods(walk.intent.text.strip())
    if methods is None:
        return walk.again(texts.methods_usage(METHODS_HINT))
    command = SaveAssessmentRecord(walk.view.inspection_id, methods=methods)
    return walk.again(
        texts.methods_saved("、".join(methods)), (command,), replace(walk.view, methods=methods)
    )


def _opinion(walk: Walk) -> Outcome | None:
    if not walk.mode.record:
        return None
    if not walk.mode.rates:
        return walk.again(texts.ASSESSMENT_SUBMITTED)
    opinion = walk.intent.text.strip()[:MAX_OPINION_CHARS]
    if not opinion:
        return walk.again(texts.opinion_usage(MIN_WRITTEN_CHARS))
    if len(opinion) < MIN_WRITTEN_CHARS:
        return walk.again(texts.opinion_too_short(MIN_WRITTEN_CHARS))
    command = SaveAssessmentRecord(walk.view.inspection_id, opinion=opinion)
    return walk.again(texts.OPINION_SAVED, (command,), replace(walk.view, opinion=opinion))


def _end_evaluation(walk: Walk) -> Outcome | None:
    """`结束测评 原因` — once it has a ballot — / `免除测评 原因` — also when none was opened: the evaluator
    ends or sets aside the democratic evaluation."""
    if not walk.mode.record:
        return None
    if not walk.mode.rates:
        return walk.again(texts.ASSESSMENT_SUBMITTED)
    view = walk.view
    word, text, figures = walk.intent.word, walk.intent.text.strip()[:200], view.democratic
    waive = word == "免除测评"
    if figures is None and not waive:
        return walk.again(texts.no_evaluation(view.org_name))
    if figures is not None and figures.waived:
        return walk.again(texts.EVALUATION_WAIVED_ALREADY)
    if figures is not None and figures.closed and not waive:
        return walk.again(texts.EVALUATION_ENDED_ALREADY)
    if not text:
        return walk.again(texts.reason_usage(word))
    if waive and len(text) < MIN_WRITTEN_CHARS:
        return walk.again(shared_texts.waiver_too_short(MIN_WRITTEN_CHARS))
    if not waive and figures is not None and figures.ballots == 0:
        return walk.again(shared_texts.no_ballots_to_close(view.org_code) + "\n\n")
    before = figures or DemocraticFigures(0, 0, 0, None, closed=True, paper_places=0)
    ended = replace(before, closed=True, waived_reason=text if waive else "")
    withheld = figures_phrase(ended) if ended.withheld else ""
    said = texts.evaluation_waived_now(text) if waive else texts.evaluation_closed_now(text, withheld)
    command = (WaiveEvaluation if waive else CloseEvaluation)(view.inspection_id, text)
    return walk.again(said, (command,), replace(view, figures=lambda: ended))


COMMON_STEPS: dict[str, Step] = {
    "暂停": _pause,
    "提交": _submit,
    "修改": _jump,
    "查看": _summary,
    **{word: _resume for word in ("继续", *RESUME_WORDS)},
    "进度": _progress,
    "方式": _methods,
    "意见": _opinion,
    "结束测评": _end_evaluation,
    "免除测评": _end_evaluation,
}


def parse_methods(text: str) -> tuple[str, ...] | None:
    """`1 3 4`, `1、3`, `听汇报 实地察看`: the methods named, in the plan's order; None if any part is
    not one of them."""
    parts = [p for p in text.replace("、", " ").replace(",", " ").replace("，", " ").split() if p]
    chosen: set[str] = set()
    for part in parts:
        if part.isdigit() and 1 <= int(part) <= len(METHODS):
            chosen.add(METHODS[int(part) - 1])
        elif part in METHODS:
            chosen.add(part)
        else:
            return None
    return tuple(m for m in METHODS if m in chosen) if chosen else None


def _score_for(mode: Mode, intent: Intent, view: WalkView, no: int, points: int) -> Decimal:
    """The score an input stands for; ScoreError with the user's message when it stands for none."""
    if intent.kind == "word" and intent.word == "满分":
        return Decimal(points)
    if intent.kind == "word" and intent.word == "同":
        source = view.reference if mode.agree == "reference" else view.scores
        if no not in source:
            raise ScoreError(texts.NOTHING_TO_AGREE)
        return source[no]
    return parse_item_score(intent.arg, points)

"""The item walk: one question per rubric item, shared by the self-check (自查自评), the assessment
(组织评定) and the re-review (复查评定). A ``Mode`` says what differs between them.

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
from dialogs.context import DemocraticFigures, UserContext, WalkView
from dialogs.engine import MAX_REPLY_BYTES, Choice, DialogState, Outcome, Reply, fit, reply_bytes
from dialogs.parsing import Intent
from dialogs.texts import WRONG_INPUTS_BEFORE_HELP, too_many_wrong_inputs
from rubrics import Rubric, get_rubric
from rubrics.scoring import (
    HALF,
    ScoreError,
    format_score,
    parse_item_score,
    percent_score,
    raw_total,
    star_level,
)

ASK = "ask"
REVIEW = "review"
#: Words that re-enter a walk in progress (the last three with the organisation's code).
RESUME_WORDS = ("自评", "考评", "复查", "抽查")
#: The budget of one summary page, leaving room for its heading, the democratic figures, the
#: assessment record and the page's links.
PAGE_BYTES = 1200
SNIPPET_CHARS = 12
#: 考评方式: how the parent union assessed (听汇报、查看台账资料、实地察看、个别谈话、召开座谈会).
METHODS: tuple[str, ...] = ("听汇报", "查看台账资料", "实地察看", "个别谈话", "召开座谈会")
METHODS_HINT = "　".join(f"{n} {m}" for n, m in enumerate(METHODS, start=1))
MAX_OPINION_CHARS = 500


def _no_intro(view: WalkView) -> str:
    return ""


@dataclass(frozen=True)
class Mode:
    """What one kind of walk does differently."""

    name: str  # the dialog name kept in DialogState
    title: str  # 自查自评 / 组织评定 / 复查评定
    view: Callable[[UserContext], WalkView | None]
    start_command: Callable[[int], Command]
    score_command: Callable[[int, int, Decimal, str], Command]
    submit_command: Callable[[int], Command]
    submitted_text: Callable[[WalkView, Rubric], str]
    photos: bool = False  # a photo is evidence for the current item
    agree: str = ""  # what `同` takes: "reference" (the self score) or "current" (keep the score)
    reasons: bool = False  # a changed score needs a reason
    sequential: bool = False  # walk every item in order, not only the unanswered ones
    score_label: str = "得分"
    resume: str = "自评"  # the command that resumes the walk; {code} is the organisation's code
    intro: Callable[[WalkView], str] = _no_intro  # said when the walk starts or resumes
    record: bool = False  # the assessment record (方式, 意见) belongs to this walk
    evaluation_first: bool = False  # an open democratic evaluation holds the submission back

    def resume_command(self, view: WalkView) -> str:
        return self.resume.format(code=view.org_code)


# ---------------------------------------------------------------- rendering


def score_choices(points: int) -> tuple[Choice, ...]:
    """Each allowed score for items worth ≤ 5 points."""
    if points > 5:
        return ()
    return tuple(
        Choice(format_score(v), format_score(v)) for v in (Decimal(i) * HALF for i in range(points * 2 + 1))
    )


def _item_status(mode: Mode, view: WalkView, no: int) -> str:
    parts = []
    if mode.agree and no in view.reference:
        parts.append(f"自评 {format_score(view.reference[no])} 分")
    if mode.agree or view.evidence.get(no):
        parts.append(f"佐证照片 {view.evidence.get(no, 0)} 张")
    if no in view.scores:
        parts.append(f"当前{mode.score_label} {format_score(view.scores[no])} 分")
    return "（" + "，".join(parts) + "）\n" if parts else ""


def _prompt(mode: Mode, points: int) -> str:
    if mode.reasons:
        return "维持原考评分请回复“同”；改分请发送“分数 原因”（如：3 台账已补齐）。"
    if mode.agree:
        return f"请回复考评得分：0–{points} 分，可含半分；与自评相同请回复“同”。"
    return f"请回复得分：0–{points} 分，可含半分；可发照片作佐证。"


def question(mode: Mode, view: WalkView, rubric: Rubric, no: int, prefix: str = "") -> Reply:
    """The question for item ``no``: 【i/n】, the dimension, the item's max points, its text, links;
    ``prefix`` before it, shortened where the whole would not fit a reply."""
    item = rubric.item(no)
    text = (
        f"【{no}/{rubric.item_count}】{item.dimension}（本项 {item.points} 分）\n"
        f"{item.shown_text}\n{_item_status(mode, view, no)}{_prompt(mode, item.points)}"
    )
    choices: tuple[Choice, ...] = ()
    if mode.agree:
        choices += (Choice("同", "同"),)
    if not mode.reasons:
        choices += score_choices(item.points) + (Choice("满分", "满分"),)
    if no > 1:
        choices += (Choice("上一项", "上一项"),)
    choices += (Choice("跳过", "跳过"),)
    reply = Reply(text, choices)
    if reply_bytes(Reply(prefix + text, choices)) > MAX_REPLY_BYTES:  # shed the half-point links first
        reply = Reply(text, tuple(c for c in choices if "." not in c.label))
    return fit(prefix, reply)


def missing_items(view: WalkView, rubric: Rubric) -> list[int]:
    return [item.no for item in rubric.items if item.no not in view.scores]


def numbers_text(numbers: list[int]) -> str:
    """1、2、5 — a long list ends in “…”."""
    return "、".join(str(n) for n in numbers[:20]) + ("…" if len(numbers) > 20 else "")


def _subtotal(scores: Mapping[int, Decimal], rubric: Rubric, dimension: str) -> Decimal:
    return raw_total(scores[i.no] for i in rubric.items_of(dimension) if i.no in scores)


def summary_pages(mode: Mode, view: WalkView, rubric: Rubric) -> list[str]:
    """The summary (查看) split into pages that fit a reply."""
    lines: list[str] = []
    both = bool(mode.agree)
    for dimension in rubric.dimensions:
        mine = format_score(_subtotal(view.scores, rubric, dimension))
        top = rubric.dimension_max(dimension)
        if both:
            theirs = format_score(_subtotal(view.reference, rubric, dimension))
            lines.append(f"▍{dimension}（自评 {theirs}｜考评 {mine}｜满分 {top}）")
        else:
            lines.append(f"▍{dimension}（小计 {mine}/{top}）")
        for item in rubric.items_of(dimension):
            mark = f"{format_score(view.scores[item.no])}/{item.points}" if item.no in view.scores else "未答"
            if both:
                ref = format_score(view.reference[item.no]) if item.no in view.reference else "-"
                mark = f"自{ref} 考{mark}"
            photos = f" 📷{view.evidence[item.no]}" if view.evidence.get(item.no) else ""
            snippet = item.text[:SNIPPET_CHARS] + ("…" if len(item.text) > SNIPPET_CHARS else "")
            lines.append(f"{item.no}. {mark}{photos} {snippet}")
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        line_size = len(line.encode("utf-8")) + 1
        if pages[-1] and size + line_size > PAGE_BYTES:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += line_size
    return ["\n".join(page) for page in pages]


def democratic_text(figures: DemocraticFigures | None) -> str:
    """The democratic evaluation's figures, one line."""
    if figures is None:
        return "民主测评：未开展"
    if figures.waived:
        return f"民主测评：已免除，不计入结果（{figures.waived_reason}）"
    if figures.ballots == 0:
        return f"民主测评：暂无有效票（应参加 {figures.invited} 人）" + ("，已结束" if figures.closed else "")
    turnout = f"{format_score(figures.turnout)}%" if figures.turnout is not None else "-"
    paper = f"含纸质 {figures.paper} 份，" if figures.paper else ""
    return (
        f"民主测评：{figures.ballots} 票（{paper}参与率 {turnout}），满意率 {format_score(figures.satisfaction or 0)}%，"
        f"民主测评得分 {format_score(figures.score or 0)}" + ("" if figures.closed else "（进行中）")
    )


def review(mode: Mode, view: WalkView, rubric: Rubric, page: int, prefix: str = "") -> Reply:
    pages = summary_pages(mode, view, rubric)
    page = min(max(page, 1), len(pages))
    total = format_score(raw_total(view.scores.values()))
    head = f"【{mode.title}汇总 第{page}/{len(pages)}页】{view.org_name}\n"
    if mode.agree:
        self_total = format_score(raw_total(view.reference.values()))
        head += (
            f"已评 {len(view.scores)}/{rubric.item_count} 项；自评合计 {self_total}，考评合计 {total}，"
            f"满分 {rubric.max_total}\n{democratic_text(view.democratic)}\n"
        )
    else:
        head += f"已答 {len(view.scores)}/{rubric.item_count} 项，合计 {total}/{rubric.max_total} 分\n"
    if mode.record:
        head += record_text(view) + "\n"
    missing = missing_items(view, rubric)
    if not view.editable:
        tail = f"{mode.title}已提交，答案已锁定。"
    elif missing:
        tail = "发送“修改 N”填写或修改第 N 项，“继续”回到作答，“提交”提交。"
    else:
        tail = "全部作答完毕。发送“修改 N”修改第 N 项，确认无误请发送“提交”。"
        if mode.record and not view.methods:
            tail += "\n提交前请记录考评方式（发送“方式”查看编号），可发送“意见 内容”填写考评意见。"
    choices: list[Choice] = []
    if page > 1:
        choices.append(Choice("上一页", "上一页"))
    if page < len(pages):
        choices.append(Choice("下一页", "下一页"))
    if view.editable:
        choices += [Choice("继续", "继续"), Choice("提交", "提交")] if missing else [Choice("提交", "提交")]
    return fit(prefix, Reply(head + pages[page - 1] + "\n" + tail, tuple(choices)))


def totals_text(view: WalkView, rubric: Rubric, heading: str, stars_line: str = "按得分星级：{stars}") -> str:
    """Per-dimension subtotals, raw total out of the sheet max, the 百分制 score and its stars."""
    total = raw_total(view.scores.values())
    score = percent_score(total, rubric.max_total)
    lines = [heading]
    for dimension in rubric.dimensions:
        lines.append(
            f"· {dimension} {format_score(_subtotal(view.scores, rubric, dimension))}/"
            f"{rubric.dimension_max(dimension)}"
        )
    lines += [
        f"原始得分：{format_score(total)} / {rubric.max_total} 分",
        f"百分制得分：{format_score(score)} 分",
    ]
    return "\n".join(lines) + "\n" + stars_line.format(stars=star_level(score).label)


def record_text(view: WalkView, opinion_chars: int = 60) -> str:
    """The assessment record, one line each (a long opinion shortened with “…”)."""
    methods = "、".join(view.methods) if view.methods else "未记录"
    opinion = view.opinion[:opinion_chars] + ("…" if len(view.opinion) > opinion_chars else "")
    return f"考评方式：{methods}\n考评意见：{opinion or '未填写'}"


def progress_text(mode: Mode, view: WalkView, rubric: Rubric) -> str:
    photos = sum(view.evidence.values())
    return (
        f"{view.org_name} {view.year} 年度{mode.title}：{view.state_label}\n"
        f"已答 {len(view.scores)}/{rubric.item_count} 项，佐证照片 {photos} 张，"
        f"目前合计 {format_score(raw_total(view.scores.values()))}/{rubric.max_total} 分。"
    )


# ---------------------------------------------------------------- navigation


def next_item(mode: Mode, view: WalkView, rubric: Rubric, after: int, skip: int = 0) -> int | None:
    """The item to ask after ``after``: the next one (sequential walks), or the first unanswered one
    after it, wrapping round, never ``skip``."""
    if mode.sequential:
        return after + 1 if after < rubric.item_count else None
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


def usage(mode: Mode) -> str:
    """One line: how to answer in this walk."""
    if mode.reasons:
        return "作答：回复“同”维持原分，或“分数 原因”改分；“上一项”“查看”“提交”。"
    if mode.agree:
        return "作答：回复“同”沿用参考分，或回复分数、“满分”；“跳过”“上一项”“查看”“提交”。"
    return "作答：回复分数（可含半分）或“满分”；“跳过”“上一项”“查看”“提交”。"


# ---------------------------------------------------------------- the dialog


def start(mode: Mode, view: WalkView, prefix: str = "") -> Outcome:
    """Start the walk, or resume it at the first unanswered item."""
    rubric = get_rubric(view.rubric_key)
    commands: tuple[Command, ...] = (mode.start_command(view.inspection_id),)
    prefix += mode.intro(view)
    first = 1 if mode.sequential else next_item(mode, view, rubric, 0)
    if first is None:
        return show_review(
            mode,
            view,
            rubric,
            1,
            rubric.item_count,
            prefix + "全部作答完毕，请核对后发送“提交”。\n",
            commands,
        )
    if view.scores and not mode.sequential:
        prefix += f"欢迎回来！已答 {len(view.scores)}/{rubric.item_count} 项，从第 {first} 项继续。\n"
    else:
        prefix += (
            f"开始{view.org_name} {view.year} 年度{mode.title}，共 {rubric.item_count} 项，"
            f"满分 {rubric.max_total} 分。随时发送“暂停”，进度自动保存。\n"
        )
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
        """The reason and the same step again; after three in a row, a short hint."""
        count = self.state.wrong_inputs + 1
        prefix = reason + "\n"
        if count >= WRONG_INPUTS_BEFORE_HELP:
            prefix += too_many_wrong_inputs(self.ctx, usage(self.mode)) + "\n\n"
            count = 0
        outcome = self.again(prefix)
        return Outcome(outcome.reply, replace(outcome.state, wrong_inputs=count), outcome.commands)

    def after_answer(
        self, no: int, prefix: str, commands: tuple[Command, ...], view: WalkView, skip: int = 0
    ) -> Outcome:
        """The next item to ask, or the summary once none is left."""
        following = next_item(self.mode, view, self.rubric, no, skip=skip)
        if following is not None:
            return self.ask(following, prefix, commands, view)
        if skip and skip not in view.scores:
            prefix += f"第 {skip} 项仍未作答，提交前需要补上。\n"
        else:
            prefix += (
                "已逐项复查完毕" if self.mode.sequential else "全部作答完毕"
            ) + "！请核对后发送“提交”。\n"
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
        return restart(ctx, f"{mode.title}任务已变化，已为您重新定位。\n")
    rubric = get_rubric(view.rubric_key)
    if state.rubric_version != rubric.version or state.rubric_key != rubric.key:
        return restart(ctx, "评分标准已更新，已按新版标准为您重新定位。\n")
    if state.extra.get("seen") != view.seen:  # the database is not what this state was made with
        return restart(ctx, "作答记录已有变化，已按已保存的答案为您重新定位，本条消息未作为答案记录。\n")
    if not view.editable:
        return Outcome(
            Reply(f"“{view.org_name}”目前不能进行{mode.title}（状态：{view.state_label}）。"), DialogState()
        )
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
        return walk.wrong("没有看懂您的指令。发送“修改 N”修改第 N 项，“提交”提交。")
    return walk.wrong(_not_understood(intent, rubric.item(walk.no).points))


# ---------------------------------------------------------------- steps while an item is asked


def _answer(walk: Walk) -> Outcome | None:
    """A score, `满分`, or `同` where the walk has something to agree with."""
    mode, intent, view, no = walk.mode, walk.intent, walk.view, walk.no
    if intent.kind == "word" and intent.word == "同" and (not mode.agree or intent.arg):
        return None
    try:
        score = _score_for(mode, intent, view, no, walk.rubric.item(no).points).quantize(Decimal("0.1"))
    except ScoreError as error:
        return walk.wrong(str(error))
    reason = intent.reason.strip()[:200]
    if mode.reasons and no in view.scores and score != view.scores[no] and not reason:
        shown = format_score(score)
        return walk.wrong(f"复查改分须说明原因：请发送“{shown} 原因”，如：{shown} 台账已补齐。")
    unchanged = view.scores.get(no) == score
    updated = replace(view, scores={**view.scores, no: score})
    commands = (
        () if unchanged and mode.reasons else (mode.score_command(view.inspection_id, no, score, reason),)
    )
    return walk.after_answer(no, f"✓ 第 {no} 项记 {format_score(score)} 分。\n", commands, updated)


def _photo(walk: Walk) -> Outcome:
    if not walk.mode.photos:
        return walk.wrong(f"{walk.mode.title}不需要上传照片；佐证照片由工会主席在自评时上传。")
    view, no, intent = walk.view, walk.no, walk.intent
    updated = replace(view, evidence={**view.evidence, no: view.evidence.get(no, 0) + 1})
    return walk.ask(
        no,
        f"✓ 已收到第 {no} 项的佐证照片（共 {updated.evidence[no]} 张）。\n",
        (AddEvidence(view.inspection_id, no, intent.media_id, intent.pic_url),),
        updated,
    )


def _back(walk: Walk) -> Outcome:
    if walk.no == 1:
        return walk.ask(1, "已经是第一项了。\n")
    return walk.ask(walk.no - 1)


def _skip(walk: Walk) -> Outcome:
    no = walk.no
    return walk.after_answer(no, f"已跳过第 {no} 项，稍后可发送“修改 {no}”补答。\n", (), walk.view, skip=no)


def _summary_from_question(walk: Walk) -> Outcome:
    return walk.review(walk.state.page)


ASK_STEPS: dict[str, Step] = {
    "number": _answer,
    "满分": _answer,
    "同": _answer,
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
    return walk.wrong(
        "现在是汇总页面。要填写或修改某一项，请先发送“修改 N”（N 为项号），或发送“继续”回到作答。"
    )


REVIEW_STEPS: dict[str, Step] = {
    "上一页": _turn_page,
    "下一页": _turn_page,
    "上一项": _back_to_item,
    "跳过": _back_to_item,
    "满分": _back_to_item,
    "同": _back_to_item,
    "number": _not_on_summary,
    "photo": _not_on_summary,
}


# ---------------------------------------------------------------- words that mean the same in every step


def _pause(walk: Walk) -> Outcome:
    again = walk.mode.resume_command(walk.view)
    scored, total = len(walk.view.scores), walk.rubric.item_count
    return Outcome(
        Reply(
            f"已暂停。已答 {scored}/{total} 项，进度已保存；发送“{again}”从断点继续。",
            (Choice(again, again),),
        ),
        DialogState(),
    )


def _submit(walk: Walk) -> Outcome:
    mode, view, rubric = walk.mode, walk.view, walk.rubric
    missing = missing_items(view, rubric)
    if missing:
        return walk.ask(
            missing[0], f"还有 {len(missing)} 项未作答：第 {numbers_text(missing)} 项。请先补全再提交。\n"
        )
    if mode.evaluation_first and view.democratic is not None and not view.democratic.closed:
        return walk.again(
            "民主测评仍在进行，测评结束后才能提交。如需提前结束，请发送“结束测评 原因”；"
            "如不计入测评结果，请发送“免除测评 原因”。\n\n"
        )
    return Outcome(
        Reply(mode.submitted_text(view, rubric)), DialogState(), (mode.submit_command(view.inspection_id),)
    )


def _jump(walk: Walk) -> Outcome:
    arg, count = walk.intent.arg, walk.rubric.item_count
    if not arg.isdigit() or not 1 <= int(arg) <= count:
        return walk.wrong(f"请发送“修改 N”，N 为 1 到 {count} 的项号。")
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
    methods = parse_methods(walk.intent.text.strip())
    if methods is None:
        return walk.again(f"请发送“方式”加编号，如：方式 1 3。{METHODS_HINT}\n\n")
    command = SaveAssessmentRecord(walk.view.inspection_id, methods=methods)
    return walk.again(
        f"✓ 考评方式：{'、'.join(methods)}\n\n", (command,), replace(walk.view, methods=methods)
    )


def _opinion(walk: Walk) -> Outcome | None:
    if not walk.mode.record:
        return None
    opinion = walk.intent.text.strip()[:MAX_OPINION_CHARS]
    if not opinion:
        return walk.again("请在“意见”后写上考评意见，如：意见 台账齐全，职工满意度高。\n\n")
    command = SaveAssessmentRecord(walk.view.inspection_id, opinion=opinion)
    return walk.again("✓ 已记录考评意见。\n\n", (command,), replace(walk.view, opinion=opinion))


def _end_evaluation(walk: Walk) -> Outcome | None:
    """`结束测评 原因` / `免除测评 原因`: the evaluator ends or sets aside the democratic evaluation."""
    if not walk.mode.record:
        return None
    word, text, figures = walk.intent.word, walk.intent.text.strip()[:200], walk.view.democratic
    if figures is None:
        return walk.again(f"“{walk.view.org_name}”没有开展民主测评。\n\n")
    if figures.waived or (figures.closed and word == "结束测评"):
        return walk.again("民主测评已经结束。\n\n")
    if not text:
        return walk.again(f"请写明原因，如：{word} 参加人员已全部作答。\n\n")
    waive = word == "免除测评"
    ended = replace(figures, closed=True, waived_reason=text if waive else "")
    said = f"已免除民主测评（不计入结果）。原因：{text}" if waive else f"已结束民主测评。原因：{text}"
    command = (WaiveEvaluation if waive else CloseEvaluation)(walk.view.inspection_id, text)
    return walk.again(said + "\n\n", (command,), replace(walk.view, democratic=ended))


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
            raise ScoreError("本项没有可沿用的分数，请直接回复分数。")
        return source[no]
    return parse_item_score(intent.arg, points)


def _not_understood(intent: Intent, points: int) -> str:
    raw = intent.raw.strip()
    shown = f"“{raw[:20]}”" if raw else "这条消息"
    return f"没有看懂{shown}。请回复 0–{points} 之间的分数（可含半分），或发送“帮助”查看指令。"

"""SelfCheckDialog (自查自评): the chair answers every item of the union's rubric, then submits.

States (see docs/dialogs.md): ``ask`` — a question about item ``state.item`` is open;
``review`` — the paged summary (查看) is shown. Idle when the dialog is paused or submitted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from dialogs.commands import AddEvidence, Command, SaveSelfScore, StartSelfCheck, SubmitSelfCheck
from dialogs.context import SelfCheckView, UserContext
from dialogs.engine import MAX_REPLY_BYTES, Choice, DialogState, Outcome, Reply, reply_bytes
from dialogs.parsing import Intent
from dialogs.texts import help_text, too_many_wrong_inputs
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

NAME = "self_check"
ASK = "ask"
REVIEW = "review"
WRONG_INPUTS_BEFORE_HELP = 3
#: The budget of one summary page, leaving room for the page's links.
PAGE_BYTES = 1500
SNIPPET_CHARS = 14

Handler = Callable[[DialogState, Intent, UserContext, SelfCheckView, Rubric], Outcome]


# ---------------------------------------------------------------- rendering


def _scores_line(view: SelfCheckView, no: int) -> str:
    parts = []
    if no in view.scores:
        parts.append(f"当前自评：{format_score(view.scores[no])} 分")
    if view.evidence.get(no):
        parts.append(f"已传佐证照片 {view.evidence[no]} 张")
    return "（" + "，".join(parts) + "）\n" if parts else ""


def score_choices(points: int) -> tuple[Choice, ...]:
    """Each allowed score for items worth ≤ 5 points; always 满分."""
    if points > 5:
        return ()
    values = [Decimal(i) * HALF for i in range(points * 2 + 1)]
    return tuple(Choice(format_score(v), format_score(v)) for v in values)


def question(view: SelfCheckView, rubric: Rubric, no: int, prefix: str = "") -> Reply:
    """The question for item ``no``: 【i/n】, the dimension, the item's max points, its text, links."""
    item = rubric.item(no)
    text = (
        f"{prefix}【{no}/{rubric.item_count}】{item.dimension}（本项 {item.points} 分）\n"
        f"{item.text}\n"
        f"{_scores_line(view, no)}"
        f"请回复得分：0–{item.points} 分，可含半分；可发照片作佐证。"
    )
    choices = score_choices(item.points) + (Choice("满分", "满分"),)
    if no > 1:
        choices += (Choice("上一项", "上一项"),)
    choices += (Choice("跳过", "跳过"),)
    reply = Reply(text, choices)
    if reply_bytes(reply) > MAX_REPLY_BYTES:  # keep the words, shed the half-point links
        reply = Reply(text, tuple(c for c in choices if "." not in c.label))
    return reply


def missing_items(view: SelfCheckView, rubric: Rubric) -> list[int]:
    return [item.no for item in rubric.items if item.no not in view.scores]


def _numbers(numbers: list[int]) -> str:
    """1、2、5 — a long list ends in “…”."""
    return "、".join(str(n) for n in numbers[:20]) + ("…" if len(numbers) > 20 else "")


def summary_pages(view: SelfCheckView, rubric: Rubric) -> list[str]:
    """The summary (查看) split into pages that fit a reply."""
    lines: list[str] = []
    for dimension in rubric.dimensions:
        items = rubric.items_of(dimension)
        subtotal = raw_total(view.scores[i.no] for i in items if i.no in view.scores)
        lines.append(f"▍{dimension}（小计 {format_score(subtotal)}/{rubric.dimension_max(dimension)}）")
        for item in items:
            score = (
                f"{format_score(view.scores[item.no])}/{item.points}" if item.no in view.scores else "未答"
            )
            photos = f" 📷{view.evidence[item.no]}" if view.evidence.get(item.no) else ""
            snippet = item.text[:SNIPPET_CHARS] + ("…" if len(item.text) > SNIPPET_CHARS else "")
            lines.append(f"{item.no}. {score}{photos} {snippet}")
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


def review(view: SelfCheckView, rubric: Rubric, page: int, prefix: str = "") -> Reply:
    pages = summary_pages(view, rubric)
    page = min(max(page, 1), len(pages))
    answered = len(view.scores)
    total = raw_total(view.scores.values())
    head = (
        f"{prefix}【自评汇总 第{page}/{len(pages)}页】{view.org_name}\n"
        f"已答 {answered}/{rubric.item_count} 项，合计 {format_score(total)}/{rubric.max_total} 分\n"
    )
    missing = missing_items(view, rubric)
    if not view.editable:
        tail = "自评已提交，答案已锁定。"
    elif missing:
        tail = "发送“修改 N”填写或修改第 N 项，“继续”回到作答，“提交”提交自评。"
    else:
        tail = "全部作答完毕。发送“修改 N”修改第 N 项，确认无误请发送“提交”。"
    choices: list[Choice] = []
    if page > 1:
        choices.append(Choice("上一页", "上一页"))
    if page < len(pages):
        choices.append(Choice("下一页", "下一页"))
    if view.editable:
        choices += [Choice("继续", "继续"), Choice("提交", "提交")] if missing else [Choice("提交", "提交")]
    return Reply(head + pages[page - 1] + "\n" + tail, tuple(choices))


def result_text(view: SelfCheckView, rubric: Rubric) -> str:
    """Raw total out of the sheet max, the 百分制 score and the provisional stars."""
    total = raw_total(view.scores.values())
    score = percent_score(total, rubric.max_total)
    lines = [f"{view.org_name} {view.year} 年度自评结果："]
    for dimension in rubric.dimensions:
        subtotal = raw_total(view.scores.get(i.no, Decimal(0)) for i in rubric.items_of(dimension))
        lines.append(f"· {dimension} {format_score(subtotal)}/{rubric.dimension_max(dimension)}")
    lines += [
        f"原始得分：{format_score(total)} / {rubric.max_total} 分",
        f"百分制得分：{format_score(score)} 分",
        f"预评星级：{star_level(score).label}（最终以上级工会组织评定为准）",
    ]
    return "\n".join(lines)


def progress_text(view: SelfCheckView, rubric: Rubric) -> str:
    photos = sum(view.evidence.values())
    return (
        f"{view.org_name} {view.year} 年度自查自评：{view.state_label}\n"
        f"已答 {len(view.scores)}/{rubric.item_count} 项，佐证照片 {photos} 张，"
        f"目前合计 {format_score(raw_total(view.scores.values()))}/{rubric.max_total} 分。"
    )


# ---------------------------------------------------------------- navigation


def next_unanswered(view: SelfCheckView, rubric: Rubric, after: int, skip: int = 0) -> int | None:
    """The first unanswered item after ``after``, wrapping round; never ``skip``."""
    order = list(range(after + 1, rubric.item_count + 1)) + list(range(1, after + 1))
    for no in order:
        if no not in view.scores and no != skip:
            return no
    return None


def _with_score(view: SelfCheckView, no: int, score: Decimal) -> SelfCheckView:
    scores: Mapping[int, Decimal] = {**view.scores, no: score}
    return SelfCheckView(**{**view.__dict__, "scores": scores})


def _with_photo(view: SelfCheckView, no: int) -> SelfCheckView:
    evidence: Mapping[int, int] = {**view.evidence, no: view.evidence.get(no, 0) + 1}
    return SelfCheckView(**{**view.__dict__, "evidence": evidence})


def _ask(
    state: DialogState,
    view: SelfCheckView,
    rubric: Rubric,
    no: int,
    prefix: str = "",
    commands: tuple[Command, ...] = (),
) -> Outcome:
    new = DialogState(
        NAME,
        ASK,
        item=no,
        inspection_id=view.inspection_id,
        rubric_key=rubric.key,
        rubric_version=rubric.version,
    )
    return Outcome(question(view, rubric, no, prefix), new, commands)


def _review(
    view: SelfCheckView,
    rubric: Rubric,
    page: int,
    item: int,
    prefix: str = "",
    commands: tuple[Command, ...] = (),
) -> Outcome:
    new = DialogState(
        NAME,
        REVIEW,
        item=item,
        page=page,
        inspection_id=view.inspection_id,
        rubric_key=rubric.key,
        rubric_version=rubric.version,
    )
    return Outcome(review(view, rubric, page, prefix), new, commands)


def _after_answer(
    view: SelfCheckView, rubric: Rubric, no: int, prefix: str, commands: tuple[Command, ...], skip: int = 0
) -> Outcome:
    following = next_unanswered(view, rubric, no, skip=skip)
    if following is None:
        if skip and skip not in view.scores:
            return _review(
                view, rubric, 1, no, prefix + f"第 {skip} 项仍未作答，提交前需要补上。\n", commands
            )
        return _review(view, rubric, 1, no, prefix + "全部作答完毕！请核对后发送“提交”。\n", commands)
    return _ask(DialogState(), view, rubric, following, prefix, commands)


def _wrong(state: DialogState, ctx: UserContext, view: SelfCheckView, rubric: Rubric, reason: str) -> Outcome:
    """Wrong input: the reason and the same question again; after three in a row, the command set."""
    count = state.wrong_inputs + 1
    prefix = reason + "\n"
    if count >= WRONG_INPUTS_BEFORE_HELP:
        prefix = reason + "\n" + too_many_wrong_inputs(ctx) + "\n\n"
        count = 0
    outcome = (
        _ask(state, view, rubric, state.item, prefix)
        if state.step == ASK
        else _review(view, rubric, state.page, state.item, prefix)
    )
    outcome.state.wrong_inputs = count
    return outcome


# ---------------------------------------------------------------- the dialog


def start(ctx: UserContext, prefix: str = "") -> Outcome:
    """`自评`: start, or resume at the first unanswered item."""
    view = ctx.self_check
    if view is None:
        return Outcome(Reply(prefix + _not_available(ctx)), DialogState())
    rubric = get_rubric(view.rubric_key)
    if not view.editable:
        return Outcome(
            Reply(f"{prefix}自评已提交（{view.state_label}），答案已锁定。\n{result_text(view, rubric)}"),
            DialogState(),
        )
    commands: tuple[Command, ...] = (StartSelfCheck(view.inspection_id),)
    first = next_unanswered(view, rubric, 0)
    if first is None:
        return _review(
            view, rubric, 1, rubric.item_count, prefix + "全部作答完毕，请核对后发送“提交”。\n", commands
        )
    if view.scores:
        prefix += f"欢迎回来！已答 {len(view.scores)}/{rubric.item_count} 项，从第 {first} 项继续。\n"
    else:
        prefix += (
            f"开始 {view.org_name} {view.year} 年度自查自评，共 {rubric.item_count} 项，"
            f"满分 {rubric.max_total} 分。随时发送“暂停”，进度自动保存。\n"
        )
    return _ask(DialogState(), view, rubric, first, prefix, commands)


def _not_available(ctx: UserContext) -> str:
    if not ctx.has_role("chair"):
        roles = "、".join(r.label for r in ctx.roles) or "未绑定"
        return f"自查自评由工会主席（或指定人员）完成。您当前的身份：{roles}。"
    if ctx.campaign_year is None:
        return "本年度年检尚未开启，请等待上级工会通知。"
    return f"您的工会不在 {ctx.campaign_year} 年度年检范围内，如有疑问请联系上级工会。"


def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """One turn inside the self-check."""
    view = ctx.self_check
    if view is None or view.inspection_id != state.inspection_id:
        return start(ctx, "自评任务已变化，已为您重新定位。\n")
    rubric = get_rubric(view.rubric_key)
    if state.rubric_version != rubric.version or state.rubric_key != rubric.key:
        return start(ctx, "评分标准已更新，已按新版标准为您重新定位。\n")
    if not view.editable:
        return Outcome(
            Reply(f"自评已提交（{view.state_label}），答案已锁定。\n{result_text(view, rubric)}"),
            DialogState(),
        )
    handler = HANDLERS.get(state.step, _on_ask)
    return handler(state, intent, ctx, view, rubric)


def _common(
    state: DialogState, intent: Intent, ctx: UserContext, view: SelfCheckView, rubric: Rubric
) -> Outcome | None:
    """Words that mean the same in every step."""
    word, arg = intent.word, intent.arg
    if intent.kind != "word":
        return None
    if word == "暂停":
        return Outcome(
            Reply(
                f"已暂停。已答 {len(view.scores)}/{rubric.item_count} 项，进度已保存；发送“自评”从断点继续。",
                (Choice("自评", "自评"),),
            ),
            DialogState(),
        )
    if word == "提交":
        missing = missing_items(view, rubric)
        if missing:
            return _ask(
                state,
                view,
                rubric,
                missing[0],
                f"还有 {len(missing)} 项未作答：第 {_numbers(missing)} 项。请先补全再提交。\n",
            )
        return Outcome(
            Reply("自评已提交！各项答案已锁定，上级工会将进行组织评定。\n" + result_text(view, rubric)),
            DialogState(),
            (SubmitSelfCheck(view.inspection_id),),
        )
    if word == "修改":
        if not arg.isdigit() or not 1 <= int(arg) <= rubric.item_count:
            return _wrong(state, ctx, view, rubric, f"请发送“修改 N”，N 为 1 到 {rubric.item_count} 的项号。")
        return _ask(state, view, rubric, int(arg))
    if word == "查看":
        page = int(arg) if arg.isdigit() else 1
        return _review(view, rubric, page, state.item)
    if word == "自评" or word == "继续":
        target = state.item if state.step == ASK else next_unanswered(view, rubric, 0) or state.item
        return _ask(state, view, rubric, max(target, 1))
    if word == "帮助":
        return _redo(state, view, rubric, help_text(ctx) + "\n\n")
    if word == "进度":
        return _redo(state, view, rubric, progress_text(view, rubric) + "\n\n")
    return None


def _redo(state: DialogState, view: SelfCheckView, rubric: Rubric, prefix: str) -> Outcome:
    """Show the current step again after some information."""
    if state.step == REVIEW:
        return _review(view, rubric, state.page, state.item, prefix)
    return _ask(state, view, rubric, state.item, prefix)


def _on_ask(
    state: DialogState, intent: Intent, ctx: UserContext, view: SelfCheckView, rubric: Rubric
) -> Outcome:
    no = state.item if 1 <= state.item <= rubric.item_count else 1
    state = DialogState(**{**state.__dict__, "item": no, "step": ASK})
    item = rubric.item(no)
    if intent.kind in ("number", "word") and (intent.kind == "number" or intent.word == "满分"):
        try:
            score = item.max_score if intent.kind == "word" else parse_item_score(intent.arg, item.points)
        except ScoreError as error:
            return _wrong(state, ctx, view, rubric, str(error))
        score = score.quantize(Decimal("0.1"))
        updated = _with_score(view, no, score)
        prefix = f"✓ 第 {no} 项记 {format_score(score)} 分。\n"
        return _after_answer(updated, rubric, no, prefix, (SaveSelfScore(view.inspection_id, no, score),))
    if intent.kind == "photo":
        updated = _with_photo(view, no)
        return _ask(
            state,
            updated,
            rubric,
            no,
            f"✓ 已收到第 {no} 项的佐证照片（共 {updated.evidence[no]} 张）。\n",
            (AddEvidence(view.inspection_id, no, intent.media_id, intent.pic_url),),
        )
    if intent.kind == "word" and intent.word == "上一项":
        if no == 1:
            return _ask(state, view, rubric, 1, "已经是第一项了。\n")
        return _ask(state, view, rubric, no - 1)
    if intent.kind == "word" and intent.word == "跳过":
        return _after_answer(
            view, rubric, no, f"已跳过第 {no} 项，稍后可发送“修改 {no}”补答。\n", (), skip=no
        )
    common = _common(state, intent, ctx, view, rubric)
    if common is not None:
        return common
    if intent.kind == "word" and intent.word in ("上一页", "下一页"):
        return _review(view, rubric, state.page, no)
    return _wrong(state, ctx, view, rubric, _not_understood(intent, item.points))


def _on_review(
    state: DialogState, intent: Intent, ctx: UserContext, view: SelfCheckView, rubric: Rubric
) -> Outcome:
    if intent.kind == "word" and intent.word in ("上一页", "下一页"):
        page = state.page + (1 if intent.word == "下一页" else -1)
        return _review(view, rubric, page, state.item)
    if intent.kind == "word" and intent.word in ("上一项", "跳过", "满分"):
        return _ask(state, view, rubric, max(state.item, 1))
    common = _common(state, intent, ctx, view, rubric)
    if common is not None:
        return common
    if intent.kind == "number" or intent.kind == "photo":
        return _wrong(
            state,
            ctx,
            view,
            rubric,
            "现在是汇总页面。要填写或修改某一项，请先发送“修改 N”（N 为项号），或发送“继续”回到作答。",
        )
    return _wrong(state, ctx, view, rubric, "没有看懂您的指令。发送“修改 N”修改第 N 项，“提交”提交自评。")


def _not_understood(intent: Intent, points: int) -> str:
    raw = intent.raw.strip()
    shown = f"“{raw[:20]}”" if raw else "这条消息"
    return f"没有看懂{shown}。请回复 0–{points} 之间的分数（可含半分），或发送“帮助”查看指令。"


HANDLERS: dict[str, Handler] = {ASK: _on_ask, REVIEW: _on_review}

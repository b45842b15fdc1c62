"""PaperTallyDialog (录入纸质测评表): the evaluator enters the paper forms of a democratic evaluation.

Counts only, never identities: how many forms were handed out and returned, then per question how many
answered 满意, 基本满意 and 不满意. Nothing is stored until `提交`; entering again replaces the counts.

States: ``forms`` — the two form counts are asked; ``counts`` — question ``state.item`` is asked;
``review`` — the summary, waiting for `提交`.
"""

from __future__ import annotations

import re
from typing import Any

from dialogs.assessment import access_for
from dialogs.commands import SavePaperTally
from dialogs.context import UserContext, WalkView
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent, normalise
from dialogs.texts import WRONG_INPUTS_BEFORE_HELP, too_many_wrong_inputs
from rubrics import get_rubric
from rubrics.lifecycle import InspectionState

NAME = "paper"
FORMS, COUNTS, REVIEW = "forms", "counts", "review"
MAX_FORMS = 100_000
_NUMBERS = re.compile(r"\d+")


def questions(view: WalkView) -> list[str]:
    """The paper form's rated questions, as the online ballot asks them: one per dimension, then the
    overall satisfaction and the trust."""
    return [*get_rubric(view.rubric_key).dimensions, "总体评价", "信任度"]


def _numbers(text: str) -> list[int]:
    return [int(n) for n in _NUMBERS.findall(normalise(text))]


def _state(view: WalkView, step: str, item: int, extra: dict[str, Any], wrong: int = 0) -> DialogState:
    rubric = get_rubric(view.rubric_key)
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
    if view.democratic is None:
        return Outcome(Reply(f"“{view.org_name}”没有开展民主测评，无需录入纸质测评表。"), DialogState())
    if not InspectionState(access.state).is_assessable:
        return Outcome(
            Reply(f"纸质测评表在组织评定期间录入（“{view.org_name}”当前状态：{view.state_label}）。"),
            DialogState(),
        )
    prefix = f"【录入纸质测评表】{view.org_name}：只录入份数，不记录填表人。\n"
    if access.paper is not None:
        distributed, returned, _ = access.paper
        prefix += f"已录入：发放 {distributed} 份，收回 {returned} 份；重新录入将替换原数据。\n"
    return _ask_forms(view, {}, prefix)


def _ask_forms(view: WalkView, extra: dict[str, Any], prefix: str = "", wrong: int = 0) -> Outcome:
    text = f"{prefix}请回复发放份数和收回份数，如：30 28"
    return Outcome(Reply(text, (Choice("暂停", "暂停"),)), _state(view, FORMS, 0, extra, wrong))


def _ask_counts(view: WalkView, extra: dict[str, Any], no: int, prefix: str = "", wrong: int = 0) -> Outcome:
    asked = questions(view)
    returned = extra["returned"]
    text = (
        f"{prefix}【{no}/{len(asked)}】{asked[no - 1]}：请回复“满意 基本满意 不满意”的份数，如：20 6 2"
        f"（三项之和不超过收回的 {returned} 份）"
    )
    choices = (Choice("上一项", "上一项"),) if no > 1 and not extra.get("editing") else ()
    return Outcome(Reply(text, choices), _state(view, COUNTS, no, extra, wrong))


def _review(view: WalkView, extra: dict[str, Any], prefix: str = "") -> Outcome:
    lines = [
        f"{prefix}【纸质测评表汇总】{view.org_name}：发放 {extra['distributed']} 份，收回 {extra['returned']} 份"
    ]
    for name, (good, fair, poor) in zip(questions(view), extra["counts"], strict=True):
        lines.append(f"· {name}：满意 {good}，基本满意 {fair}，不满意 {poor}")
    lines.append("确认无误请发送“提交”；发送“修改 N”重录第 N 题，“暂停”放弃本次录入。")
    return Outcome(
        Reply("\n".join(lines), (Choice("提交", "提交"),)), _state(view, REVIEW, len(questions(view)), extra)
    )


def handle(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    """One turn inside the paper tally."""
    access = ctx.assessment
    view = access.view if access else None
    if view is None or view.inspection_id != state.inspection_id or access is None:
        return Outcome(Reply("录入任务已变化，请重新发送“录入测评 单位编号”。"), DialogState())
    if not InspectionState(access.state).is_assessable or view.democratic is None:
        return Outcome(
            Reply(f"“{view.org_name}”当前不能录入纸质测评表（{view.state_label}）。"), DialogState()
        )
    extra = dict(state.extra)
    word = intent.word if intent.kind == "word" else ""
    if word == "暂停":
        return Outcome(
            Reply(f"已暂停，本次录入未保存。发送“录入测评 {view.org_code}”重新录入。"), DialogState()
        )
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
    """The reason and the same step again; after three in a row, a short hint."""
    count = state.wrong_inputs + 1
    prefix = reason + "\n"
    if count >= WRONG_INPUTS_BEFORE_HELP:
        prefix += too_many_wrong_inputs(ctx, "作答：按提示回复份数，数字之间用空格隔开。") + "\n\n"
        count = 0
    return _again(state, view, extra, prefix, count)


def _on_forms(
    state: DialogState, intent: Intent, ctx: UserContext, view: WalkView, extra: dict[str, Any]
) -> Outcome:
    numbers = _numbers(intent.raw) if intent.kind in ("number", "text", "word") else []
    if len(numbers) != 2:
        return _wrong(state, ctx, view, extra, "请回复两个数：发放份数和收回份数，如：30 28。")
    distributed, returned = numbers
    if not 0 < returned <= distributed <= MAX_FORMS:
        return _wrong(state, ctx, view, extra, "收回份数应大于 0，且不超过发放份数。")
    extra = {"distributed": distributed, "returned": returned, "counts": []}
    return _ask_counts(view, extra, 1, f"✓ 发放 {distributed} 份，收回 {returned} 份。\n")


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
            return _ask_counts(view, extra, 1, "已经是第一题了。\n")
        return _ask_counts(view, {**extra, "counts": counts[: no - 2]}, no - 1)
    numbers = _numbers(intent.raw) if intent.kind in ("number", "text") else []
    if len(numbers) != 3:
        return _wrong(state, ctx, view, extra, "请回复三个数：满意、基本满意、不满意的份数，如：20 6 2。")
    if sum(numbers) > extra["returned"]:
        return _wrong(
            state, ctx, view, extra, f"三项之和 {sum(numbers)} 超过了收回的 {extra['returned']} 份，请核对。"
        )
    if editing:
        counts[no - 1] = numbers
        return _review(view, {**extra, "counts": counts, "editing": False}, f"✓ 第 {no} 题已修改。\n")
    counts.append(numbers)
    extra = {**extra, "counts": counts}
    if len(counts) < len(questions(view)):
        return _ask_counts(view, extra, no + 1, "✓ 已记录。\n")
    return _review(view, extra, "✓ 全部录入完毕。\n")


def _on_review(
    state: DialogState, intent: Intent, ctx: UserContext, view: WalkView, extra: dict[str, Any]
) -> Outcome:
    word, arg = (intent.word, intent.arg) if intent.kind == "word" else ("", "")
    if word == "提交":
        counts = tuple((int(a), int(b), int(c)) for a, b, c in extra["counts"])
        return Outcome(
            Reply(
                f"已保存“{view.org_name}”的纸质测评表：发放 {extra['distributed']} 份，收回 {extra['returned']} 份。"
                "已计入民主测评结果。",
                (Choice(f"考评 {view.org_code}", f"考评 {view.org_code}"),),
            ),
            DialogState(),
            (SavePaperTally(view.inspection_id, extra["distributed"], extra["returned"], counts),),
        )
    if word == "修改" and arg.isdigit() and 1 <= int(arg) <= len(questions(view)):
        return _ask_counts(view, {**extra, "editing": True}, int(arg))
    return _wrong(state, ctx, view, extra, "请发送“提交”保存，或“修改 N”重录第 N 题。")

"""`结果` (the published result, 公示) and `异议 TEXT` (an objection during publication)."""

from __future__ import annotations

from dialogs.commands import FileObjection
from dialogs.context import ResultView, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.texts import common
from dialogs.texts import publication as texts
from dialogs.texts import walk as walk_texts
from dialogs.walk import democratic_text
from rubrics.scoring import BELOW_STANDARD_CONSEQUENCES, Stars, format_score

MAX_OBJECTION_CHARS = 500


def remediation_text(result: ResultView) -> str:
    return texts.below_standard(BELOW_STANDARD_CONSEQUENCES) if result.below_standard else ""


def result_text(result: ResultView) -> str:
    lines = [
        texts.heading(result.org_name, result.year, result.state_label, result.round, result.publication_ends)
    ]
    for dimension, total, top in result.dimension_totals:
        lines.append(walk_texts.dimension_total(dimension, format_score(total), top))
    lines.append(texts.score_line(format_score(result.raw_total), format_score(result.score)))
    lines.append(texts.stars_line(Stars(result.stars).label))
    if result.stars_reason:
        lines.append(texts.stars_reason(result.stars_reason))
    lines.append(democratic_text(result.democratic))
    if result.below_standard:
        lines.append(remediation_text(result))
    if result.objection_open and not result.already_objected:
        lines.append(texts.HOW_TO_OBJECT)
    return "\n".join(lines)


def show(ctx: UserContext) -> Outcome:
    """`结果`."""
    if ctx.result is None:
        return Outcome(Reply(texts.NOT_PUBLISHED if ctx.bound else common.BIND_FIRST), DialogState())
    return Outcome(Reply(result_text(ctx.result)), DialogState())


def object_to(ctx: UserContext, text: str) -> Outcome:
    """`异议 TEXT`: one objection per user per publication round, only while it is published."""
    result = ctx.result
    if result is None:
        return Outcome(Reply(texts.NOTHING_TO_OBJECT_TO), DialogState())
    if not result.objection_open:
        return Outcome(Reply(texts.outside_publication(result.org_name, result.state_label)), DialogState())
    if result.already_objected:
        return Outcome(Reply(texts.ALREADY_OBJECTED), DialogState())
    text = text.strip()
    if len(text) < 4:
        return Outcome(Reply(texts.REASON_NEEDED), DialogState())
    return Outcome(
        Reply(texts.OBJECTION_RECEIVED, (Choice("结果", "结果"),)),
        DialogState(),
        (FileObjection(result.inspection_id, text[:MAX_OBJECTION_CHARS]),),
    )

"""`结果` (the published result, 公示) and `异议 TEXT` (an objection during publication); with a union's
code first (`结果 CODE`, `异议 CODE 理由`) for anyone who follows the account, bound or not."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dialogs.commands import Command
from dialogs.context import ResultView, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent
from dialogs.routing import Needs, Router
from dialogs.texts import publication as texts
from dialogs.texts import walk as walk_texts
from dialogs.walk import democratic_text
from rubrics import words
from rubrics.scoring import BELOW_STANDARD_CONSEQUENCES, Stars, format_score

MAX_OBJECTION_CHARS = 500
#: An organisation's code (chatbot.inspection.organisations: letters, digits, "-", "_", up to 32).
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
#: The first word and what follows it, as typed: `U01 理由`, `U01：理由`, `Ｕ０１，理由`.
_HEAD = re.compile(r"^(?P<head>\S+?)(?:[\s,，:：、]+|$)", re.S)


@dataclass(frozen=True)
class FileObjection(Command):
    """An objection (异议) to a published result."""

    inspection_id: int
    text: str


PublicationCommand = FileObjection
router = Router.of("publication", PublicationCommand)


def _result(intent: Intent) -> Needs:
    return Needs(result=True, result_code=split_code(intent.text)[0])


@router.word(
    words.RESULT, needs=_result, roles=("chair", "member"), usage=texts.USAGE["结果"], synonyms=("查看结果",)
)
def _show(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return show(ctx, intent.text)


@router.word(words.OBJECTION, needs=_result, roles=("chair", "member"), usage=texts.USAGE["异议"])
def _object(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return object_to(ctx, intent.text)


def split_code(text: str) -> tuple[str, str]:
    """`U01 第3项…` → ("U01", "第3项…"): a first word that can be an organisation's code, and the rest
    as typed; ("", text) when the first word cannot be one."""
    typed = text.strip()
    match = _HEAD.match(typed)
    if match is None:
        return "", typed
    head = unicodedata.normalize("NFKC", match.group("head"))
    return (head.upper(), typed[match.end() :].strip()) if _CODE.match(head) else ("", typed)


def _coded(ctx: UserContext, text: str) -> tuple[bool, str, str]:
    """Whether the user named a union (its code and the rest of the text). A number alone names one only
    when it is the code of a union the service found (`异议 3 台账不全` is a member's reason)."""
    code, rest = split_code(text)
    named = bool(code) and (ctx.coded_result is not None or not code.isdigit())
    return named, code, rest


def _score_line(result: ResultView) -> str:
    top = result.sheet.max_total
    return texts.score_line(format_score(result.raw_total), format_score(result.score), top)


def remediation_text(result: ResultView) -> str:
    return texts.below_standard(BELOW_STANDARD_CONSEQUENCES) if result.below_standard else ""


def public_text(result: ResultView) -> str:
    """A union's publication as anyone may read it during its period: what the 公示 itself says."""
    lines = [
        texts.public_heading(
            result.org_name,
            result.org_code,
            result.year,
            result.state_label,
            result.round,
            result.publication_ends,
        ),
        _score_line(result),
        texts.stars_line(Stars(result.stars).label),
    ]
    if result.stars_reason:
        lines.append(texts.stars_reason(result.stars_reason))
    if result.below_standard:
        lines.append(remediation_text(result))
    if result.objection_open and not result.already_objected:
        lines.append(texts.how_to_object_with_code(result.org_code))
    return "\n".join(lines)


def result_text(result: ResultView) -> str:
    if not result.own:
        return public_text(result)
    lines = [
        texts.heading(result.org_name, result.year, result.state_label, result.round, result.publication_ends)
    ]
    for dimension, total, top in result.dimension_totals:
        lines.append(walk_texts.dimension_total(dimension, format_score(total), top))
    lines.append(_score_line(result))
    lines.append(texts.stars_line(Stars(result.stars).label))
    if result.stars_reason:
        lines.append(texts.stars_reason(result.stars_reason))
    lines.append(democratic_text(result.democratic))
    if result.below_standard:
        lines.append(remediation_text(result))
    if result.objection_open and not result.already_objected:
        lines.append(texts.HOW_TO_OBJECT)
    if result.objection_open and result.org_code:
        lines.append(texts.code_line(result.org_code))
    return "\n".join(lines)


def show(ctx: UserContext, text: str = "") -> Outcome:
    """`结果`, or `结果 CODE`: a union's publication (the whole result when it is the user's own)."""
    named, code, _ = _coded(ctx, text)
    if named:
        found = ctx.coded_result
        return Outcome(Reply(result_text(found) if found else texts.no_publication(code)), DialogState())
    if ctx.result is None:
        return Outcome(Reply(texts.NOT_PUBLISHED if ctx.bound else texts.PUBLIC_HOW), DialogState())
    return Outcome(Reply(result_text(ctx.result)), DialogState())


def object_to(ctx: UserContext, text: str) -> Outcome:
    """`异议 TEXT` (the user's own union) or `异议 CODE TEXT` (any union in publication): one objection
    per user per publication round, only while it is published."""
    named, code, reason = _coded(ctx, text)
    result = ctx.coded_result if named else ctx.result
    if result is None:
        if named:
            own = f"\n{texts.OWN_OBJECTION_HINT}" if ctx.result is not None else ""
            return Outcome(Reply(texts.no_publication(code) + own), DialogState())
        return Outcome(Reply(texts.NOTHING_TO_OBJECT_TO if ctx.bound else texts.PUBLIC_HOW), DialogState())
    if not result.objection_open:
        return Outcome(Reply(texts.outside_publication(result.org_name, result.state_label)), DialogState())
    if result.already_objected:
        return Outcome(Reply(texts.ALREADY_OBJECTED), DialogState())
    reason = (reason if named else text).strip()
    if len(reason) < 4:
        return Outcome(
            Reply(texts.reason_needed_with_code(code) if named else texts.REASON_NEEDED), DialogState()
        )
    received = (
        texts.received_with_code(result.org_name, result.org_code) if named else texts.OBJECTION_RECEIVED
    )
    again = f"结果 {result.org_code}" if named else "结果"
    return Outcome(
        Reply(received, (Choice("结果", again),)),
        DialogState(),
        (FileObjection(result.inspection_id, reason[:MAX_OBJECTION_CHARS]),),
    )

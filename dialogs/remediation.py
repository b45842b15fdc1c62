"""补课 (remediation) in chat: the chair reads what it means and reports it done (`补课`, `补课完成 说明`);
the parent union's evaluator records the re-check (`补课验收 C 通过|未通过 说明`)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.assessment import access_for
from dialogs.commands import Command
from dialogs.context import RemediationView, UserContext
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent
from dialogs.routing import Needs, Router, inspected, organisation
from dialogs.texts import remediation as texts
from rubrics import words
from rubrics.lifecycle import RemediationStatus
from rubrics.scoring import BELOW_STANDARD_CONSEQUENCES

MIN_TEXT_CHARS = 4
MAX_TEXT_CHARS = 500
PASSED_WORDS = ("通过", "合格")
FAILED_WORDS = ("未通过", "不通过", "不合格")


@dataclass(frozen=True)
class ReportRemediation(Command):
    """The chair reports the remediation (补课) done."""

    inspection_id: int
    text: str


@dataclass(frozen=True)
class CheckRemediation(Command):
    """The evaluator's re-check after remediation: passed or not, with the explanation."""

    inspection_id: int
    passed: bool
    text: str


RemediationCommand = ReportRemediation | CheckRemediation
router = Router.of("remediation", RemediationCommand)


def _remediation(intent: Intent) -> Needs:
    return Needs(remediation=True)


@router.word(
    words.REMEDIATION_CHECK,
    needs=organisation("remediation", always=True),
    roles=("evaluator",),
    usage=texts.USAGE["补课验收"],
)
def _check(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return check(ctx, intent.text)


@router.word(
    words.REMEDIATION, needs=_remediation, roles=("chair",), usage=texts.USAGE["补课"], level=inspected
)
def _show(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return show(ctx)


@router.word(
    words.REMEDIATION_DONE,
    needs=_remediation,
    roles=("chair",),
    usage=texts.USAGE["补课完成"],
    level=inspected,
)
def _report(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return report(ctx, intent.text)


def status_text(view: RemediationView) -> str:
    if view.status == RemediationStatus.WITHDRAWN:
        return texts.withdrawn(view.org_name, view.year)
    lines = [
        texts.heading(view.org_name, view.year, BELOW_STANDARD_CONSEQUENCES),
        texts.due_line(view.due, view.status_label),
    ]
    if view.report_text:
        lines.append(texts.reported(view.report_text))
    if view.check_text:
        lines.append(texts.check_opinion(view.check_text))
    if view.status != RemediationStatus.PASSED:
        lines.append(texts.HOW_TO_REPORT)
    return "\n".join(lines)


def show(ctx: UserContext) -> Outcome:
    """`补课`."""
    if ctx.remediation is None:
        return Outcome(Reply(texts.NONE), DialogState())
    return Outcome(Reply(status_text(ctx.remediation)), DialogState())


def report(ctx: UserContext, text: str) -> Outcome:
    """`补课完成 说明`: the chair reports the remediation done."""
    view = ctx.remediation
    if view is None or view.status == RemediationStatus.WITHDRAWN:
        return Outcome(Reply(texts.NONE if view is None else status_text(view)), DialogState())
    if view.status == RemediationStatus.PASSED:
        return Outcome(Reply(texts.PASSED_ALREADY), DialogState())
    text = text.strip()
    if len(text) < MIN_TEXT_CHARS:
        return Outcome(Reply(texts.REPORT_USAGE), DialogState())
    return Outcome(
        Reply(texts.REPORTED, (Choice("补课", "补课"),)),
        DialogState(),
        (ReportRemediation(view.inspection_id, text[:MAX_TEXT_CHARS]),),
    )


def check(ctx: UserContext, arg: str) -> Outcome:
    """`补课验收 C 通过|未通过 说明`: the evaluator's re-check after remediation."""
    code, _, rest = arg.partition(" ")
    access = access_for(ctx, code, "补课验收")
    if isinstance(access, str):
        return Outcome(Reply(access), DialogState())
    view = access.remediation
    if view is None or view.status == RemediationStatus.WITHDRAWN:
        return Outcome(Reply(texts.nothing_to_check(access.org_code)), DialogState())
    if view.status == RemediationStatus.PASSED:
        return Outcome(Reply(texts.checked_already(view.org_name)), DialogState())
    verdict, _, text = rest.strip().partition(" ")
    if verdict not in PASSED_WORDS + FAILED_WORDS or len(text.strip()) < MIN_TEXT_CHARS:
        head = status_text(view).replace(*texts.CHECK_HEADING, 1)
        return Outcome(Reply(f"{head}\n{texts.check_usage(view.org_code)}"), DialogState())
    passed = verdict in PASSED_WORDS
    return Outcome(
        Reply(texts.checked(view.org_name, passed), (Choice("进度", "进度"),)),
        DialogState(),
        (CheckRemediation(view.inspection_id, passed, text.strip()[:MAX_TEXT_CHARS]),),
    )

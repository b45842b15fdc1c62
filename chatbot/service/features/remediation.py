"""Remediation (补课): the chair reports it done, the parent union's evaluator checks it."""

from __future__ import annotations

from typing import assert_never

from chatbot.inspection import remediation
from chatbot.inspection.errors import Refused
from chatbot.service.rights import Rights
from dialogs.remediation import CheckRemediation, RemediationCommand, ReportRemediation


def apply(applier: Rights, command: RemediationCommand) -> None:
    """The chair's report, or the evaluator's re-check."""
    session, actor, now = applier.session, applier.actor, applier.now
    match command:
        case ReportRemediation(inspection_id=i, text=text):
            inspection = applier.as_chair(i, "只有本单位工会主席可以报告补课完成。")
            remediation.report_done(session, inspection, text, actor, now)
        case CheckRemediation(inspection_id=i, passed=passed, text=text):
            inspection = applier.locked(i)
            if not applier.holds(inspection.organisation.parent_id, "evaluator"):
                raise Refused("只有上级工会考评员可以验收补课。")
            remediation.check(session, inspection, passed, text, applier.account.id, actor, now)
        case _:
            assert_never(command)

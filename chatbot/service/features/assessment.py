"""The parent union's assessment (组织评定): the walk, its record, the democratic evaluation, the
return (退回), and the submission with the stars it came to."""

from __future__ import annotations

from typing import assert_never

from chatbot.inspection import assessment, evaluations
from chatbot.service.rights import WRITABLE_BY_EVALUATOR, Outcome, Rights
from dialogs.assessment import (
    AssessmentCommand,
    ReturnSelfCheck,
    SaveAssessedScore,
    StartAssessment,
    SubmitAssessment,
    rating_text,
)
from dialogs.commands import CloseEvaluation, SaveAssessmentRecord, WaiveEvaluation
from dialogs.engine import Addendum
from rubrics.lifecycle import ASSESSABLE


def apply(applier: Rights, command: AssessmentCommand) -> Outcome:
    """An evaluator's command on a child union's inspection."""
    session, actor, me = applier.session, applier.actor, applier.account.id
    match command:
        case StartAssessment(inspection_id=i):
            assessment.start(session, applier.as_evaluator(i, ASSESSABLE), me, actor)
        case SaveAssessedScore(inspection_id=i, item_no=no, score=score, reason=reason):
            row = applier.evaluator_row(i, WRITABLE_BY_EVALUATOR)
            if row is None or not assessment.save_score_of_row(session, row, no, score, reason, actor):
                inspection = applier.as_evaluator(i, WRITABLE_BY_EVALUATOR)
                assessment.save_score(session, inspection, no, score, reason, me, actor)
        case SaveAssessmentRecord(inspection_id=i, methods=methods, opinion=opinion):
            inspection = applier.as_evaluator(i, WRITABLE_BY_EVALUATOR)
            assessment.record(session, inspection, methods, opinion, me, actor)
        case ReturnSelfCheck(inspection_id=i, reason=reason):
            applier.return_self_check(applier.as_evaluator(i, ASSESSABLE), reason)
        case (
            CloseEvaluation(inspection_id=i, reason=reason) | WaiveEvaluation(inspection_id=i, reason=reason)
        ):
            inspection = applier.as_evaluator(i, ASSESSABLE)
            evaluation = assessment.evaluation_of(session, inspection)
            waive = isinstance(command, WaiveEvaluation)
            evaluations.end(session, inspection, evaluation, reason, waive, actor, applier.now)
        case SubmitAssessment(inspection_id=i):
            inspection = applier.as_evaluator(i, ASSESSABLE)
            done = assessment.submit(session, inspection, applier.config, actor, applier.now)
            return Addendum(rating_text(applier.rating(inspection, done)))
        case _:
            assert_never(command)
    return None

"""Paper forms (纸质测评表) of a democratic evaluation, entered by the evaluator."""

from __future__ import annotations

from chatbot.inspection import assessment, evaluations
from chatbot.service.rights import Rights
from dialogs.paper import PaperCommand
from rubrics.lifecycle import ASSESSABLE


def apply(applier: Rights, command: PaperCommand) -> None:
    """Store the counts of the paper forms (counts only, never identities)."""
    inspection = applier.as_evaluator(command.inspection_id, ASSESSABLE)
    evaluation = assessment.evaluation_of(applier.session, inspection)
    evaluations.save_paper(
        applier.session,
        inspection,
        evaluation,
        command.distributed,
        command.returned,
        command.counts,
        applier.actor,
    )

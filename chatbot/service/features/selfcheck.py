"""The chair's self-check (自查自评): scores, evidence and the submission."""

from __future__ import annotations

from typing import assert_never

from chatbot.inspection import selfcheck
from chatbot.inspection.errors import Refused
from chatbot.service.rights import Rights
from dialogs.commands import AddEvidence
from dialogs.selfcheck import (
    SaveSelfScore,
    SelfCheckCommand,
    StartSelfCheck,
    SubmitSelfCheck,
    WithdrawSelfCheck,
)
from dialogs.texts import selfcheck as texts
from rubrics.lifecycle import InspectionState


def apply(applier: Rights, command: SelfCheckCommand) -> None:
    """A chair's command on the union's own inspection."""
    session, actor = applier.session, applier.actor
    match command:
        case StartSelfCheck(inspection_id=i):
            selfcheck.start(session, applier.as_chair(i), actor)
        case SaveSelfScore(inspection_id=i, item_no=no, score=score):
            row = applier.chair_row(i)
            if row is None or not selfcheck.save_score_of_row(session, row, no, score, actor):
                selfcheck.save_score(session, applier.as_chair(i), no, score, actor)
        case AddEvidence(inspection_id=i, item_no=no, media_id=media_id, pic_url=pic_url):
            inspection = applier.as_chair(i)
            selfcheck.add_evidence(session, inspection, no, media_id, pic_url, applier.account.id, actor)
        case SubmitSelfCheck(inspection_id=i):
            selfcheck.submit(session, applier.as_chair(i), actor, applier.now)
        case WithdrawSelfCheck(inspection_id=i):
            inspection = applier.as_chair(i, texts.WITHDRAW_CHAIR_ONLY)
            state = InspectionState(inspection.state)
            if state != InspectionState.SELF_SUBMITTED and not state.self_check_editable:
                raise Refused(texts.withdraw_refused(state))
            selfcheck.withdraw(session, inspection, actor, applier.now)
        case _:
            assert_never(command)

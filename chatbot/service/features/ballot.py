"""A voter's ballot (民主测评): the draft, then the cast ballot with no link to the voter."""

from __future__ import annotations

from typing import assert_never

from chatbot.inspection import evaluations
from chatbot.service.rights import Rights
from dialogs.ballot import BallotCommand, CastBallot, SaveBallotDraft


def apply(applier: Rights, command: BallotCommand) -> None:
    """Save the answers so far, or cast the ballot, once the voter is admitted to the evaluation."""
    session, now, secret = applier.session, applier.now, applier.config.secret_key
    match command:
        case SaveBallotDraft(evaluation_id=e, answers=answers):
            known = applier.loaded.ballots.get(e)
            evaluation, where = evaluations.admit(session, e, applier.account, secret, now, known)
            evaluations.save_draft(session, evaluation, where.voter, answers)
        case CastBallot(evaluation_id=e, answers=answers, suggestion=suggestion):
            known = applier.loaded.ballots.get(e)
            evaluation, where = evaluations.admit(session, e, applier.account, secret, now, known)
            evaluations.cast(session, evaluation, where, answers, suggestion)
        case _:
            assert_never(command)

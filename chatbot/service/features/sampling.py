"""The city federation's re-check of a sampled inspection (抽查)."""

from __future__ import annotations

from typing import assert_never

from chatbot.inspection import sampling, scores
from chatbot.service.rights import Rights
from dialogs.assessment import SampleCheckCommand, SaveCityScore, StartSampleCheck, SubmitSampleCheck


def apply(applier: Rights, command: SampleCheckCommand) -> None:
    """A city evaluator's command on a sampled inspection."""
    match command:
        case StartSampleCheck(inspection_id=i):
            applier.as_city_checker(i)
        case SaveCityScore(inspection_id=i, item_no=no, score=score):
            scores.save(applier.session, applier.as_city_checker(i)[0], no, score, "city_score")
        case SubmitSampleCheck(inspection_id=i):
            inspection, entry = applier.as_city_checker(i)
            account = applier.account.id
            sampling.submit_check(
                applier.session, inspection, entry, applier.config, account, applier.actor, applier.now
            )
        case _:
            assert_never(command)

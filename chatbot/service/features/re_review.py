"""The re-review (复查评定) of an objected result, and the stars it came to."""

from __future__ import annotations

from typing import assert_never

from chatbot.inspection import assessment
from chatbot.service.rights import Outcome, Rights
from dialogs.assessment import ReReviewCommand, StartReReview, SubmitReReview, rating_text
from dialogs.engine import Addendum
from rubrics.lifecycle import RE_REVIEWABLE


def apply(applier: Rights, command: ReReviewCommand) -> Outcome:
    """Start the re-review, or submit it; its scores are saved as the assessment's (SaveAssessedScore)."""
    match command:
        case StartReReview(inspection_id=i):
            inspection = applier.as_evaluator(i, RE_REVIEWABLE)
            assessment.start_re_review(applier.session, inspection, applier.actor)
        case SubmitReReview(inspection_id=i):
            inspection = applier.as_evaluator(i, RE_REVIEWABLE)
            done = assessment.submit_re_review(
                applier.session, inspection, applier.config, applier.actor, applier.now
            )
            return Addendum(rating_text(applier.rating(inspection, done, again=True)))
        case _:
            assert_never(command)
    return None

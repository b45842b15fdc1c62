"""The democratic evaluation (民主测评): codes, eligibility, anonymous ballots and their figures."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.models import (
    Account,
    Ballot,
    BallotDraft,
    Evaluation,
    EvaluationVoter,
    Inspection,
    Organisation,
    RoleBinding,
)
from chatbot.timeutil import as_utc
from dialogs.context import DemocraticFigures

#: Points of each answer in the 100-point democratic score (满意 100, 基本满意 60, 不满意 0).
ANSWER_POINTS: dict[int, int] = {1: 100, 2: 60, 3: 0}
OVERALL_FROM_END = 2  # the overall question is second to last among the rated answers


def voter_hash(secret: str, evaluation_id: int, openid: str) -> str:
    """A keyed hash of the voter, per evaluation: it cannot be turned back into the openid, nor
    matched across evaluations, without the server secret."""
    return hmac.new(secret.encode(), f"{evaluation_id}:{openid}".encode(), hashlib.sha256).hexdigest()


def eligible_accounts(session: Session, inspection: Inspection) -> set[int]:
    """Accounts bound as members of the organisation, and accounts bound to its parent union."""
    org: Organisation = inspection.organisation
    members = select(RoleBinding.account_id).where(
        RoleBinding.organisation_id == org.id, RoleBinding.role == "member"
    )
    parents = select(RoleBinding.account_id).where(RoleBinding.organisation_id == org.parent_id)
    return set(session.scalars(members)) | set(session.scalars(parents))


@dataclass(frozen=True)
class Standing:
    """Where one voter stands in one evaluation."""

    status: str  # open | voted | closed | not_eligible | full
    voter: str
    bound: bool
    draft: tuple[int, ...] = ()


def standing(
    session: Session, evaluation: Evaluation, account: Account, secret: str, now: datetime
) -> Standing:
    voter = voter_hash(secret, evaluation.id, account.openid)
    bound = account.id in eligible_accounts(session, evaluation.inspection)
    if session.get(EvaluationVoter, (evaluation.id, voter)) is not None:
        return Standing("voted", voter, bound)
    if as_utc(evaluation.closes_at) <= now:
        return Standing("closed", voter, bound)
    draft = session.get(BallotDraft, (evaluation.id, voter))
    answers = tuple(draft.answers) if draft else ()
    if not bound:
        if evaluation.open_slots == 0:
            return Standing("not_eligible", voter, bound)
        if evaluation.open_used >= evaluation.open_slots:
            return Standing("full", voter, bound)
    return Standing("open", voter, bound, answers)


def figures(session: Session, inspection: Inspection, now: datetime) -> DemocraticFigures | None:
    """Ballots, invited, satisfied and the democratic score of the inspection's evaluation, if any."""
    evaluation = session.scalar(select(Evaluation).where(Evaluation.inspection_id == inspection.id))
    if evaluation is None:
        return None
    answers = list(session.scalars(select(Ballot.answers).where(Ballot.evaluation_id == evaluation.id)))
    invited = len(eligible_accounts(session, inspection)) + evaluation.open_slots
    satisfied = sum(1 for ballot in answers if ballot[-OVERALL_FROM_END] in (1, 2))
    points = [ANSWER_POINTS[a] for ballot in answers for a in ballot]
    score = (
        (Decimal(sum(points)) / len(points)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if points
        else None
    )
    return DemocraticFigures(
        ballots=len(answers),
        invited=invited,
        satisfied=satisfied,
        score=score,
        closed=as_utc(evaluation.closes_at) <= now,
    )

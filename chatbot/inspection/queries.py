"""Small reads shared by the chat, the console and the documents: the open campaign, an inspection's
scores and evidence, who holds which role, the organisations below one."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.inspection.caller import Caller
from chatbot.store.models import Campaign, Evidence, Inspection, ItemScore, Organisation, RoleBinding
from chatbot.store.outbox import accounts_with_role


def open_campaign(session: Session) -> Campaign | None:
    """The newest campaign that is not closed."""
    return session.scalar(
        select(Campaign).where(Campaign.closed_at.is_(None)).order_by(Campaign.year.desc()).limit(1)
    )


def item_scores(session: Session, inspection_id: int) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """(self scores, assessed scores) by item number."""
    own: dict[int, Decimal] = {}
    assessed: dict[int, Decimal] = {}
    rows = session.execute(
        select(ItemScore.item_no, ItemScore.self_score, ItemScore.assessed_score).where(
            ItemScore.inspection_id == inspection_id
        )
    )
    for no, self_score, assessed_score in rows:
        if self_score is not None:
            own[no] = Decimal(self_score)
        if assessed_score is not None:
            assessed[no] = Decimal(assessed_score)
    return own, assessed


def city_scores(session: Session, inspection_id: int) -> dict[int, Decimal]:
    """The city's scores of a sampled inspection (抽查), by item number."""
    rows = session.execute(
        select(ItemScore.item_no, ItemScore.city_score).where(
            ItemScore.inspection_id == inspection_id, ItemScore.city_score.is_not(None)
        )
    )
    # ``score is not None``: excluded by the query; restated for the type checker.
    return {no: Decimal(score) for no, score in rows if score is not None}


def has_role(session: Session, account: Caller, organisation_id: int | None, role: str) -> bool:
    """Whether the account is bound to the organisation in the role."""
    if organisation_id is None:
        return False
    found = session.scalar(
        select(RoleBinding.id).where(
            RoleBinding.account_id == account.id,
            RoleBinding.organisation_id == organisation_id,
            RoleBinding.role == role,
        )
    )
    return found is not None


def is_city_evaluator(session: Session, account: Caller, org: Organisation) -> bool:
    """Bound as evaluator of the city federation at the top of the organisation's tree."""
    root = org
    while root.parent is not None:
        root = root.parent
    return has_role(session, account, root.id, "evaluator")


def evidence_counts(session: Session, inspection_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(Evidence.item_no, func.count())
            .where(Evidence.inspection_id == inspection_id)
            .group_by(Evidence.item_no)
        ).all()
    )


def is_evaluator_of(session: Session, account: Caller, org: Organisation) -> bool:
    """Bound as evaluator of the organisation's parent union (上一级工会)."""
    return has_role(session, account, org.parent_id, "evaluator")


def descendants(session: Session, org_id: int) -> set[int]:
    """The organisation and every organisation below it."""
    found = {org_id}
    frontier = [org_id]
    while frontier:
        frontier = list(session.scalars(select(Organisation.id).where(Organisation.parent_id.in_(frontier))))
        found.update(frontier)
    return found


def subtree(session: Session, org_id: int) -> set[int]:
    """The organisation and every organisation below it, in one statement (a recursive CTE): what
    ``descendants`` finds level by level, each level's ids bound one by one."""
    below = select(Organisation.id).where(Organisation.id == org_id).cte("below", recursive=True)
    below = below.union_all(select(Organisation.id).where(Organisation.parent_id == below.c.id))
    return set(session.scalars(select(below.c.id)))


def evaluators_of(session: Session, inspection: Inspection) -> list[int]:
    """The accounts bound as evaluators of the inspected union's parent."""
    parent = inspection.organisation.parent_id
    return accounts_with_role(session, parent, ("evaluator",)) if parent else []

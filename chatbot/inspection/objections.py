"""异议: objections to a published result, one per person and round, during the publication period;
each reaches the parent union's evaluators with its text, who re-review within 10 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection.errors import Refused
from chatbot.inspection.queries import evaluators_of
from chatbot.inspection.transitions import move
from chatbot.store import outbox
from chatbot.store.models import Inspection, Objection, Organisation, RoleBinding
from chatbot.timeutil import SHANGHAI, as_utc, end_of_day, local_date
from dialogs.context import ObjectionView
from rubrics.lifecycle import OBJECTABLE, RE_REVIEWABLE, InspectionState, values

S = InspectionState
RE_REVIEW_DAYS = 10


def file(
    session: Session, inspection: Inspection, account_id: int, text: str, actor: str, now: datetime
) -> None:
    """A chair's or member's objection; the first of a round opens the 10 days of the re-review."""
    bound = session.scalar(
        select(RoleBinding.id).where(
            RoleBinding.account_id == account_id,
            RoleBinding.organisation_id == inspection.organisation_id,
            RoleBinding.role.in_(["chair", "member"]),
        )
    )
    if bound is None:
        raise Refused("只有本单位会员或工会主席可以对公示结果提出异议。")
    in_window = inspection.publication_ends_at is not None and as_utc(inspection.publication_ends_at) > now
    if InspectionState(inspection.state) not in OBJECTABLE or not in_window:
        raise Refused("该结果不在公示期内，无法提出异议。")
    exists = session.scalar(
        select(Objection.id).where(
            Objection.inspection_id == inspection.id,
            Objection.publication_round == inspection.publication_round,
            Objection.account_id == account_id,
        )
    )
    if exists is not None:
        raise Refused("您已对本轮公示结果提出过异议。")
    objection = Objection(
        inspection_id=inspection.id,
        publication_round=inspection.publication_round,
        account_id=account_id,
        text=text,
        created_at=now,
    )
    session.add(objection)
    session.flush()
    if inspection.state == S.PUBLISHED:
        move(session, inspection, S.OBJECTED, actor, reason="异议")
        # 10 日内: the re-review is due by the end of the tenth day (Asia/Shanghai) after the objection.
        today = now.astimezone(SHANGHAI).date()
        inspection.re_review_due_at = end_of_day(today + timedelta(days=RE_REVIEW_DAYS))
    org = inspection.organisation
    due = local_date(inspection.re_review_due_at or now)
    for evaluator in evaluators_of(session, inspection):
        outbox.enqueue(
            session,
            evaluator,
            "objection_filed",
            f"objection:{objection.id}:{evaluator}",
            f"{org.name}（{org.code}）的年检公示结果收到异议：“{text}”\n"
            f"请在 {due} 前发送“复查 {org.code}”完成复查评定。",
            now,
            due,
        )


def resolve(session: Session, inspection: Inspection, now: datetime) -> None:
    """The re-review is decided: every open objection of the inspection is resolved."""
    for objection in session.scalars(
        select(Objection).where(Objection.inspection_id == inspection.id, Objection.resolved_at.is_(None))
    ):
        objection.resolved_at = now


def pending(session: Session, parent_ids: list[int], limit: int = 10) -> tuple[ObjectionView, ...]:
    """The objections waiting for a re-review by the evaluators of ``parent_ids``, oldest first."""
    if not parent_ids:
        return ()
    rows = session.execute(
        select(Organisation.code, Organisation.name, Inspection.re_review_due_at, Objection.text)
        .select_from(Objection)
        .join(Inspection, Objection.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(
            Organisation.parent_id.in_(parent_ids),
            Objection.resolved_at.is_(None),
            Inspection.state.in_(values(RE_REVIEWABLE)),
        )
        .order_by(Objection.id)
        .limit(limit)
    ).all()
    return tuple(
        ObjectionView(code, name, local_date(due) if due is not None else "", text)
        for code, name, due, text in rows
    )


def texts(session: Session, inspection: Inspection) -> tuple[str, ...]:
    """The open objections' texts, oldest first (shown when the re-review starts)."""
    return tuple(
        session.scalars(
            select(Objection.text)
            .where(Objection.inspection_id == inspection.id, Objection.resolved_at.is_(None))
            .order_by(Objection.id)
        )
    )

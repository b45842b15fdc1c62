"""Organisations (工会组织) and invitations (邀请码): the tree the inspection follows, and the codes that
bind a WeChat user to a role in one organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.inspection.campaigns import add_inspection
from chatbot.inspection.codes import new_code
from chatbot.inspection.errors import AdminError
from chatbot.inspection.queries import open_campaign
from chatbot.store.models import Invitation, Organisation
from rubrics.loader import RUBRIC_KEYS

ROLES = ("chair", "evaluator", "member", "admin")


@dataclass(frozen=True)
class OrgRow:
    """One organisation as given on the command line or in an import file."""

    code: str
    name: str
    rubric: str | None = None
    parent: str | None = None
    members: int | None = None


def check_row(row: OrgRow) -> None:
    if not row.code.strip() or len(row.code) > 32 or not row.code.replace("-", "").replace("_", "").isalnum():
        raise AdminError(f"invalid code {row.code!r}: letters, digits, '-' and '_', at most 32")
    if not row.name.strip():
        raise AdminError("the name is empty")
    if row.rubric is not None and row.rubric not in RUBRIC_KEYS:
        raise AdminError(f"unknown rubric {row.rubric!r}; one of {', '.join(RUBRIC_KEYS)}")
    if row.members is not None and row.members < 0:
        raise AdminError("members must not be negative")


def add_org(session: Session, row: OrgRow, actor: str = "cli") -> Organisation:
    """Add one organisation; a grassroots union joins the open campaign at once."""
    check_row(row)
    if session.scalar(select(Organisation.id).where(Organisation.code == row.code)) is not None:
        raise AdminError(f"organisation {row.code} already exists")
    parent = None
    if row.parent:
        parent = session.scalar(select(Organisation).where(Organisation.code == row.parent))
        if parent is None:
            raise AdminError(f"parent {row.parent} does not exist")
    elif row.rubric is not None:
        raise AdminError("a grassroots union needs --parent (its evaluator)")
    org = Organisation(
        code=row.code,
        name=row.name.strip(),
        rubric_key=row.rubric,
        parent_id=parent.id if parent else None,
        member_count=row.members,
    )
    session.add(org)
    session.flush()
    audit.record(session, actor, "create", "organisation", org.id, after=row.__dict__)
    campaign = open_campaign(session)
    if campaign is not None and org.is_grassroots and not campaign.scoped:
        add_inspection(session, campaign, org)
    return org


def create_invitation(
    session: Session,
    org_code: str,
    role: str,
    uses: int = 1,
    days: int | None = 30,
    actor: str = "cli",
    now: datetime | None = None,
) -> Invitation:
    """A new binding code for ``role`` in the organisation."""
    if role not in ROLES:
        raise AdminError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if uses < 1:
        raise AdminError("--uses must be at least 1")
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise AdminError(f"organisation {org_code} does not exist")
    if role == "chair" and not org.is_grassroots:
        raise AdminError(f"{org_code} is a federation; chairs are bound to grassroots unions")
    now = now or datetime.now(UTC)
    invitation = Invitation(
        code=new_code(),
        organisation_id=org.id,
        role=role,
        max_uses=uses,
        expires_at=now + timedelta(days=days) if days else None,
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "invitation",
        invitation.id,
        after={"org": org_code, "role": role, "uses": uses, "days": days},
    )
    return invitation

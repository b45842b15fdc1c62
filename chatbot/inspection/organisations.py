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
        raise AdminError(f"编号“{row.code}”无效：只能用字母、数字、“-”和“_”，最长 32 个字符。")
    if not row.name.strip():
        raise AdminError("名称不能为空。")
    if row.rubric is not None and row.rubric not in RUBRIC_KEYS:
        raise AdminError(f"没有考评标准“{row.rubric}”；可选：{'、'.join(RUBRIC_KEYS)}。")
    if row.members is not None and row.members < 0:
        raise AdminError("会员人数不能为负数。")


def add_org(session: Session, row: OrgRow, actor: str = "cli") -> Organisation:
    """Add one organisation; a grassroots union joins the open campaign at once."""
    check_row(row)
    if session.scalar(select(Organisation.id).where(Organisation.code == row.code)) is not None:
        raise AdminError(f"编号为 {row.code} 的组织已经存在。")
    parent = None
    if row.parent:
        parent = session.scalar(select(Organisation).where(Organisation.code == row.parent))
        if parent is None:
            raise AdminError(f"上级组织 {row.parent} 不存在，请先添加它。")
    elif row.rubric is not None:
        raise AdminError("基层工会（有考评标准）须用 --parent 指定上一级工会，由它负责考评。")
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
        raise AdminError(f"没有角色“{role}”；可选：{'、'.join(ROLES)}。")
    if uses < 1:
        raise AdminError("--uses 可用次数至少为 1。")
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise AdminError(f"没有编号为 {org_code} 的组织。")
    if role == "chair" and not org.is_grassroots:
        raise AdminError(f"{org_code} 是总工会，不是基层工会：主席邀请码只能发给基层工会。")
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

"""绑定: a WeChat user takes the role and organisation of an invitation code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.inspection import audit, evaluations
from chatbot.inspection.caller import Caller
from chatbot.store.models import Invitation, Organisation, RoleBinding
from chatbot.timeutil import as_utc
from rubrics.binding import BindResult, BindStatus


def redeem(session: Session, account: Caller, code: str, actor: str, now: datetime) -> BindResult:
    """Redeem invitation ``code`` for the account: a new role binding, the use counted. Member codes
    of a union never bind more people than its member count (``Organisation.member_count``, the roll
    the federation registered); a member who binds while evaluations are open joins those with room."""
    invitation = session.scalar(select(Invitation).where(Invitation.code == code).with_for_update())
    if invitation is None:
        return BindResult(BindStatus.NOT_FOUND)
    org = invitation.organisation
    existing = session.scalar(
        select(RoleBinding).where(
            RoleBinding.account_id == account.id,
            RoleBinding.organisation_id == org.id,
            RoleBinding.role == invitation.role,
        )
    )
    if existing is not None:
        return BindResult(BindStatus.ALREADY_BOUND, invitation.role, org.name)
    if invitation.expires_at is not None and as_utc(invitation.expires_at) <= now:
        return BindResult(BindStatus.EXPIRED)
    if invitation.uses >= invitation.max_uses:
        return BindResult(BindStatus.USED_UP)
    if invitation.role == "member" and _roll_full(session, org):
        return BindResult(BindStatus.ROLL_FULL, invitation.role, org.name, roll=org.member_count or 0)
    invitation.uses += 1
    binding = RoleBinding(
        account_id=account.id, organisation_id=org.id, role=invitation.role, invitation_id=invitation.id
    )
    session.add(binding)
    session.flush()
    audit.record(
        session,
        actor,
        "bind",
        "role_binding",
        binding.id,
        after={"org": org.code, "role": invitation.role, "invitation": invitation.code},
    )
    if invitation.role != "member":
        return BindResult(BindStatus.BOUND, invitation.role, org.name)
    joining = evaluations.join_open(session, account, org, now)
    return BindResult(
        BindStatus.BOUND,
        invitation.role,
        org.name,
        evaluations=tuple(e.code for e in joining.joined),
        paper=tuple(e.inspection.organisation.name for e in joining.paper),
        full=tuple(e.inspection.organisation.name for e in joining.full),
    )


def _roll_full(session: Session, org: Organisation) -> bool:
    """Whether the union's members bound in chat already number its member count. The union's row is
    locked first, so two codes of one union redeemed at once cannot both take its last place."""
    if org.member_count is None:
        return False
    session.execute(select(Organisation.id).where(Organisation.id == org.id).with_for_update())
    bound = session.scalar(
        select(func.count())
        .select_from(RoleBinding)
        .where(RoleBinding.organisation_id == org.id, RoleBinding.role == "member")
    )
    return (bound or 0) >= org.member_count

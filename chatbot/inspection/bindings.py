"""绑定: a WeChat user takes the role and organisation of an invitation code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import audit, evaluations
from chatbot.inspection.caller import Caller
from chatbot.store.models import Invitation, RoleBinding
from chatbot.timeutil import as_utc
from dialogs.binding import BindResult, BindStatus


def redeem(session: Session, account: Caller, code: str, actor: str, now: datetime) -> BindResult:
    """Redeem invitation ``code`` for the account: a new role binding, the use counted; a member who
    binds while evaluations are open joins their electorate."""
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
    joined: tuple[str, ...] = ()
    if invitation.role == "member":
        joined = tuple(e.code for e in evaluations.join_open(session, account, org, now))
    return BindResult(BindStatus.BOUND, invitation.role, org.name, joined)

"""Read-only snapshots the service hands to the dialogs: who the user is and what they are working on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ROLE_LABELS: dict[str, str] = {
    "chair": "工会主席",
    "evaluator": "考评员",
    "member": "会员",
    "admin": "管理员",
}


@dataclass(frozen=True)
class RoleView:
    """One of the user's bindings."""

    role: str
    org_code: str
    org_name: str

    @property
    def label(self) -> str:
        return f"{self.org_name}（{ROLE_LABELS.get(self.role, self.role)}）"


@dataclass(frozen=True)
class SelfCheckView:
    """The chair's inspection in the open campaign, with the self scores saved so far."""

    inspection_id: int
    org_name: str
    year: int
    rubric_key: str
    rubric_version: str
    state_label: str
    editable: bool
    scores: Mapping[int, Decimal] = field(default_factory=dict)
    evidence: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UserContext:
    """Everything a dialog may know about the user for this turn."""

    roles: tuple[RoleView, ...] = ()
    self_check: SelfCheckView | None = None
    campaign_year: int | None = None

    def has_role(self, role: str) -> bool:
        return any(r.role == role for r in self.roles)

    @property
    def bound(self) -> bool:
        return bool(self.roles)

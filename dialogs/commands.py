"""Commands: what a dialog asks the service to apply, in one transaction, before the reply goes out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class RedeemInvitation:
    """Bind the user to the role and organisation of invitation ``code`` (绑定)."""

    code: str


@dataclass(frozen=True)
class StartSelfCheck:
    """Move the inspection from not started to self-checking (自查自评)."""

    inspection_id: int


@dataclass(frozen=True)
class SaveSelfScore:
    """Record the chair's self score (自评得分) for one item; saving the same score twice changes nothing."""

    inspection_id: int
    item_no: int
    score: Decimal


@dataclass(frozen=True)
class AddEvidence:
    """Attach a photo as evidence (佐证) to one item."""

    inspection_id: int
    item_no: int
    media_id: str
    pic_url: str


@dataclass(frozen=True)
class SubmitSelfCheck:
    """Submit the self-check; the answers lock."""

    inspection_id: int


Command = RedeemInvitation | StartSelfCheck | SaveSelfScore | AddEvidence | SubmitSelfCheck

"""The inspection lifecycle (design §2): states and the one place where transitions are checked.

See docs/lifecycle.md for the diagram.
"""

from __future__ import annotations

from enum import StrEnum


class InspectionState(StrEnum):
    NOT_STARTED = "not_started"
    SELF_CHECKING = "self_checking"
    SELF_SUBMITTED = "self_submitted"
    RETURNED = "returned"
    REVIEWING = "reviewing"
    RATED = "rated"
    PUBLISHED = "published"
    OBJECTED = "objected"
    RE_REVIEWING = "re_reviewing"
    FINAL = "final"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def self_check_editable(self) -> bool:
        """The chair may still change self scores (自评得分)."""
        return self in (InspectionState.NOT_STARTED, InspectionState.SELF_CHECKING, InspectionState.RETURNED)


STATE_LABELS: dict[InspectionState, str] = {
    InspectionState.NOT_STARTED: "未开始",
    InspectionState.SELF_CHECKING: "自评中",
    InspectionState.SELF_SUBMITTED: "自评已提交",
    InspectionState.RETURNED: "已退回修改",
    InspectionState.REVIEWING: "考评中",
    InspectionState.RATED: "已评定",
    InspectionState.PUBLISHED: "公示中",
    InspectionState.OBJECTED: "有异议",
    InspectionState.RE_REVIEWING: "复查中",
    InspectionState.FINAL: "已定级",
}

S = InspectionState
TRANSITIONS: frozenset[tuple[InspectionState, InspectionState]] = frozenset(
    {
        (S.NOT_STARTED, S.SELF_CHECKING),
        (S.SELF_CHECKING, S.SELF_SUBMITTED),
        (S.SELF_SUBMITTED, S.RETURNED),
        (S.RETURNED, S.SELF_SUBMITTED),
        (S.SELF_SUBMITTED, S.REVIEWING),
        (S.REVIEWING, S.RETURNED),
        (S.REVIEWING, S.RATED),
        (S.RATED, S.PUBLISHED),
        (S.PUBLISHED, S.OBJECTED),
        (S.PUBLISHED, S.FINAL),
        (S.OBJECTED, S.RE_REVIEWING),
        (S.RE_REVIEWING, S.PUBLISHED),
    }
)


class IllegalTransition(Exception):
    """A transition the lifecycle does not allow; ``message`` is for the user, in Chinese."""

    def __init__(self, current: InspectionState, target: InspectionState) -> None:
        self.current = current
        self.target = target
        self.message = f"当前状态为“{current.label}”，不能变为“{target.label}”。"
        super().__init__(f"{current} → {target}")


def check_transition(current: str, target: InspectionState) -> InspectionState:
    """Return ``target`` if the lifecycle allows current → target; raise IllegalTransition otherwise."""
    state = InspectionState(current)
    if (state, target) not in TRANSITIONS:
        raise IllegalTransition(state, target)
    return target

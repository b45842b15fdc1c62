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
        return self in NOT_SUBMITTED

    @property
    def is_submitted(self) -> bool:
        """The self-check is in the parent union's hands (or beyond)."""
        return self not in NOT_SUBMITTED

    @property
    def is_assessed(self) -> bool:
        """The parent union has started (or finished) its assessment."""
        return self in ASSESSED

    @property
    def is_assessable(self) -> bool:
        """Submitted and not yet rated: the parent union may assess it or send it back."""
        return self in ASSESSABLE

    @property
    def awaits_re_review(self) -> bool:
        """Objected to and not yet re-reviewed."""
        return self in RE_REVIEWABLE

    @property
    def is_rated(self) -> bool:
        """The inspection has a result (score and stars)."""
        return self in RATED

    @property
    def is_published(self) -> bool:
        """The result is or was published (公示)."""
        return self in PUBLISHED


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
    InspectionState.FINAL: "已确定星级",
}

S = InspectionState
#: The groups of states, defined once; ``values`` turns one into the strings stored in the database.
NOT_SUBMITTED: frozenset[InspectionState] = frozenset({S.NOT_STARTED, S.SELF_CHECKING, S.RETURNED})
RATED: frozenset[InspectionState] = frozenset({S.RATED, S.PUBLISHED, S.OBJECTED, S.RE_REVIEWING, S.FINAL})
PUBLISHED: frozenset[InspectionState] = frozenset({S.PUBLISHED, S.OBJECTED, S.RE_REVIEWING, S.FINAL})
ASSESSED: frozenset[InspectionState] = RATED | {S.REVIEWING}
#: Submitted and not yet rated: the parent union assesses (考评), or sends the self-check back (退回).
ASSESSABLE: frozenset[InspectionState] = frozenset({S.SELF_SUBMITTED, S.REVIEWING})
#: An objection waits for its re-review (复查).
RE_REVIEWABLE: frozenset[InspectionState] = frozenset({S.OBJECTED, S.RE_REVIEWING})
#: Open for an objection (异议) while the publication period runs.
OBJECTABLE: frozenset[InspectionState] = frozenset({S.PUBLISHED, S.OBJECTED})
#: A democratic evaluation is opened before the result is rated.
EVALUABLE: frozenset[InspectionState] = NOT_SUBMITTED | ASSESSABLE
#: Published results whose stars are out in public: the quota keeps them as they are.
FIXED: frozenset[InspectionState] = frozenset({S.PUBLISHED, S.OBJECTED, S.FINAL})


class RemediationStatus(StrEnum):
    """补课: open → reported (the chair says it is done) → passed | open (the evaluator's re-check);
    withdrawn when a re-check lifts the result to the standard (it follows the result)."""

    OPEN = "open"
    REPORTED = "reported"
    PASSED = "passed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return REMEDIATION_LABELS[self]

    @property
    def pending(self) -> bool:
        """Still to be done or checked: counted as 补课中."""
        return self in PENDING_REMEDIATION


REMEDIATION_LABELS: dict[RemediationStatus, str] = {
    RemediationStatus.OPEN: "补课中",
    RemediationStatus.REPORTED: "已报告完成，待验收",
    RemediationStatus.PASSED: "已通过验收",
    RemediationStatus.WITHDRAWN: "已撤销（结果已达到建设标准）",
}
#: The statuses counted as 补课中: to be done, or done and waiting for the evaluator's re-check.
PENDING_REMEDIATION: frozenset[RemediationStatus] = frozenset(
    {RemediationStatus.OPEN, RemediationStatus.REPORTED}
)
#: A remediation still open after its due date.
OVERDUE_LABEL = "补课逾期"


def values(states: frozenset[InspectionState] | tuple[InspectionState, ...]) -> list[str]:
    """The stored strings of a group of states, sorted, for SQL ``IN``."""
    return sorted(state.value for state in states)


TRANSITIONS: frozenset[tuple[InspectionState, InspectionState]] = frozenset(
    {
        (S.NOT_STARTED, S.SELF_CHECKING),
        (S.SELF_CHECKING, S.SELF_SUBMITTED),
        # The chair withdraws the submission (撤销提交) before the parent union starts its assessment.
        (S.SELF_SUBMITTED, S.SELF_CHECKING),
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
        # The re-review's stars wait (a tie at the five-star cut-off): published again by `publish`.
        (S.RE_REVIEWING, S.RATED),
        # The city's re-check (抽查) changed the stars of a published or final result: a new round.
        (S.PUBLISHED, S.PUBLISHED),
        (S.FINAL, S.PUBLISHED),
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

"""Read-only snapshots the service hands to the dialogs: who the user is and what they are working on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from rubrics import Rubric, get_rubric
from rubrics.democratic import DemocraticFigures
from rubrics.objections import FiledObjection, ObjectionView, RaisedObjection
from rubrics.scoring import DEFAULT_PASS_MARK

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
    top: bool = False  # the organisation at the top of the tree: the city federation
    inspected: bool = True  # the organisation has a rubric: a grassroots union, inspected each year

    @property
    def label(self) -> str:
        return f"{self.org_name}（{ROLE_LABELS.get(self.role, self.role)}）"


@dataclass(frozen=True)
class WalkView:
    """An inspection as one walk over its items sees it: the scores being entered (``scores``), what
    is shown beside them (``reference``: the self scores during an assessment), and evidence counts."""

    inspection_id: int
    org_name: str
    year: int
    rubric_key: str
    rubric_version: str
    state_label: str
    editable: bool
    scores: Mapping[int, Decimal] = field(default_factory=dict)
    evidence: Mapping[int, int] = field(default_factory=dict)
    reference: Mapping[int, Decimal] = field(default_factory=dict)
    org_code: str = ""
    #: Reads the democratic figures when a reply shows them (a summary page, the submission), so an
    #: answering turn does not pay for them; the loader caches its result.
    figures: Callable[[], DemocraticFigures | None] = field(default=lambda: None, compare=False, repr=False)
    pass_mark: Decimal = DEFAULT_PASS_MARK
    stars: int = 0  # the result's star level, once rated (after the quota)
    return_reason: str = ""  # why the parent union sent the self-check back (退回), while it is back
    objections: tuple[RaisedObjection, ...] = ()  # the open objections, for the re-review
    methods: tuple[str, ...] = ()  # the assessment's methods (考评方式), as recorded
    opinion: str = ""  # the written opinion (考评意见), as recorded
    origin: str = ""  # which database's campaign the inspection belongs to (its opening time)
    state: str = ""  # the inspection's lifecycle state (rubrics.lifecycle.InspectionState)
    #: The sheet in the inspection's version, as the service read it; None: the shipped sheet.
    rubric: Rubric | None = field(default=None, compare=False, repr=False)

    @property
    def sheet(self) -> Rubric:
        """The sheet the inspection is scored on (its version, to the end)."""
        return self.rubric or get_rubric(self.rubric_key)

    @property
    def democratic(self) -> DemocraticFigures | None:
        """The democratic evaluation's figures (民主测评), if the union has one."""
        return self.figures()

    @property
    def seen(self) -> str:
        """What a saved walk state must agree with to steer the next answer: the same campaign of the
        same database, and as many items answered as the walk left."""
        return f"{self.origin}:{len(self.scores)}"


@dataclass(frozen=True)
class RemediationView:
    """A remediation (补课) after a result below the standard."""

    inspection_id: int
    org_code: str
    org_name: str
    year: int
    status: str  # rubrics.lifecycle.RemediationStatus
    status_label: str
    due: str
    report_text: str = ""
    check_text: str = ""


@dataclass(frozen=True)
class AssessmentAccess:
    """The answer to `考评 C` / `复查 C` / `退回 C`: the walk, or why there is none."""

    org_code: str
    view: WalkView | None = None
    refusal: str = ""  # not_found | not_evaluator | no_campaign | not_inspected | no_remediation
    state: str = ""  # the inspection's lifecycle state
    remediation: RemediationView | None = None  # `补课验收 C`
    paper: tuple[int, int, tuple[tuple[int, int, int], ...]] | None = None  # stored paper forms


@dataclass(frozen=True)
class BallotView:
    """A democratic evaluation as one voter sees it."""

    evaluation_id: int
    org_name: str
    dimensions: tuple[str, ...]
    status: str  # open | voted | closed | not_eligible | full | not_found | rate_limited | locked
    answers: tuple[int, ...] = ()
    code: str = ""
    others: tuple[tuple[str, str], ...] = ()  # (org name, code) of other open evaluations to join


@dataclass(frozen=True)
class ResultView:
    """A published result (公示结果) of the user's organisation."""

    inspection_id: int
    org_name: str
    year: int
    rubric_key: str
    state_label: str
    round: int
    score: Decimal
    raw_total: Decimal
    stars: int
    stars_reason: str
    below_standard: bool
    dimension_totals: tuple[tuple[str, Decimal, int], ...]
    publication_ends: str
    objection_open: bool
    already_objected: bool
    democratic: DemocraticFigures | None = None
    org_code: str = ""
    #: The user's own union (chair or member): the whole result; else the publication as the public sees it.
    own: bool = True
    #: The sheet in the inspection's version; None: the shipped sheet.
    rubric: Rubric | None = field(default=None, compare=False, repr=False)

    @property
    def sheet(self) -> Rubric:
        return self.rubric or get_rubric(self.rubric_key)


@dataclass(frozen=True)
class RatingOutcome:
    """What a submitted assessment or re-review came to, once its scope was worked out."""

    stars: int
    provisional: bool  # the scope's five-star quota is not confirmed yet (预评)
    flagged: bool  # tied at the five-star cut-off, waiting for an admin
    reason: str  # why the stars differ from the score's band, if they do
    published_round: int = 0  # published (again) as this round, 0: not published
    publication_ends: str = ""
    others_republished: int = 0  # other results of the scope published again because of it
    again: bool = False  # a re-review: the result was published before, and is to be again


@dataclass(frozen=True)
class ChildStatus:
    """One child organisation's inspection, as its evaluator's `进度` lists it."""

    org_code: str
    org_name: str
    state_label: str
    self_total: str  # formatted; "" when nothing is scored yet
    assessed_total: str  # formatted; "" when nothing is scored yet


@dataclass(frozen=True)
class CoverageLine:
    """A federation's coverage as its evaluators and admins see it in `进度`."""

    name: str
    rated: int
    unions: int
    share: Decimal  # rated this year, of the unions (0.111)
    target: Decimal
    cumulative_share: Decimal = Decimal(0)


@dataclass(frozen=True)
class UserContext:
    """Everything a dialog may know about the user for this turn."""

    roles: tuple[RoleView, ...] = ()
    self_check: WalkView | None = None
    campaign_year: int | None = None
    assessment: AssessmentAccess | None = None
    ballot: BallotView | None = None
    result: ResultView | None = None
    #: `结果 CODE` / `异议 CODE 理由`: that union's result, if it is the user's own or in publication.
    coded_result: ResultView | None = None
    children: tuple[ChildStatus, ...] = ()
    children_total: int = 0  # how many children there are; ``children`` holds the first few
    coverage: tuple[CoverageLine, ...] = ()
    objections: tuple[ObjectionView, ...] = ()  # an evaluator's objections waiting for re-review
    remediation: RemediationView | None = None  # the chair's union's remediation (补课)
    #: `进度`: the objections the user filed (newest first), with what their re-reviews decided.
    filed_objections: tuple[FiledObjection, ...] = ()

    def has_role(self, role: str) -> bool:
        return any(r.role == role for r in self.roles)

    @property
    def bound(self) -> bool:
        return bool(self.roles)

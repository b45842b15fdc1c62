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
    reason: str = ""


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


@dataclass(frozen=True)
class StartAssessment:
    """The evaluator starts the organisational assessment (组织评定)."""

    inspection_id: int


@dataclass(frozen=True)
class SaveAssessedScore:
    """Record the evaluator's score (考评得分) for one item; in a re-review with the reason."""

    inspection_id: int
    item_no: int
    score: Decimal
    reason: str = ""


@dataclass(frozen=True)
class SubmitAssessment:
    """Submit the assessment: the inspection is rated."""

    inspection_id: int


@dataclass(frozen=True)
class ReturnSelfCheck:
    """Send a submitted self-check back to the chair (退回), with the reason."""

    inspection_id: int
    reason: str


@dataclass(frozen=True)
class StartReReview:
    """The evaluator starts the re-review (复查评定) of an objected result."""

    inspection_id: int


@dataclass(frozen=True)
class SubmitReReview:
    """Submit the re-review: the result is published again, one round later."""

    inspection_id: int


@dataclass(frozen=True)
class StartSampleCheck:
    """A city evaluator starts re-checking a sampled inspection (抽查)."""

    inspection_id: int


@dataclass(frozen=True)
class SaveCityScore:
    """The city's score for one item of a sampled inspection."""

    inspection_id: int
    item_no: int
    score: Decimal
    reason: str = ""


@dataclass(frozen=True)
class SubmitSampleCheck:
    """Submit the city's re-check; a changed star level is applied and audited."""

    inspection_id: int


@dataclass(frozen=True)
class SaveBallotDraft:
    """Keep the answers given so far in a democratic evaluation (民主测评)."""

    evaluation_id: int
    answers: tuple[int, ...]


@dataclass(frozen=True)
class CastBallot:
    """Cast the ballot: stored without any link to the voter."""

    evaluation_id: int
    answers: tuple[int, ...]
    suggestion: str


@dataclass(frozen=True)
class FileObjection:
    """An objection (异议) to a published result."""

    inspection_id: int
    text: str


@dataclass(frozen=True)
class CloseEvaluation:
    """The evaluator closes the union's democratic evaluation before its date, with the reason."""

    inspection_id: int
    reason: str


@dataclass(frozen=True)
class WaiveEvaluation:
    """The evaluator sets the union's democratic evaluation aside (not counted), with the reason."""

    inspection_id: int
    reason: str


@dataclass(frozen=True)
class SavePaperTally:
    """Paper forms (纸质测评表) entered by the evaluator: forms handed out and returned, and per question
    the counts of 满意, 基本满意, 不满意 — counts only, never identities."""

    inspection_id: int
    distributed: int
    returned: int
    counts: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class SaveAssessmentRecord:
    """The assessment record: the methods used (考评方式) and the written opinion (考评意见); None keeps
    what is stored."""

    inspection_id: int
    methods: tuple[str, ...] | None = None
    opinion: str | None = None


@dataclass(frozen=True)
class ReportRemediation:
    """The chair reports the remediation (补课) done."""

    inspection_id: int
    text: str


@dataclass(frozen=True)
class CheckRemediation:
    """The evaluator's re-check after remediation: passed or not, with the explanation."""

    inspection_id: int
    passed: bool
    text: str


Command = (
    RedeemInvitation
    | StartSelfCheck
    | SaveSelfScore
    | AddEvidence
    | SubmitSelfCheck
    | StartAssessment
    | SaveAssessedScore
    | SubmitAssessment
    | ReturnSelfCheck
    | StartReReview
    | SubmitReReview
    | StartSampleCheck
    | SaveCityScore
    | SubmitSampleCheck
    | SaveBallotDraft
    | CastBallot
    | FileObjection
    | CloseEvaluation
    | WaiveEvaluation
    | SavePaperTally
    | SaveAssessmentRecord
    | ReportRemediation
    | CheckRemediation
)

"""Applies a dialog's commands to the database, inside the turn's transaction.

Each command is one case: who may give it (checked against the stored truth, so a stale dialog state
can never write past a submission or into another union's inspection), then one domain function of
``chatbot.inspection``. A refused command raises Refused; the service rolls the whole turn back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import (
    assessment,
    bindings,
    evaluations,
    objections,
    remediation,
    results,
    sampling,
    scores,
    selfcheck,
)
from chatbot.inspection.caller import Caller
from chatbot.inspection.errors import Refused
from chatbot.inspection.queries import has_role, is_city_evaluator
from chatbot.service.codes import BIND, Limit, wrong_codes
from chatbot.service.context import Loaded
from chatbot.service.handlers import checked_registry
from chatbot.store.counters import RateCounter
from chatbot.store.models import Inspection, SampledInspection
from chatbot.timeutil import local_date
from dialogs import binding
from dialogs.assessment import rating_text
from dialogs.commands import (
    AddEvidence,
    CastBallot,
    CheckRemediation,
    CloseEvaluation,
    Command,
    FileObjection,
    RedeemInvitation,
    ReportRemediation,
    ReturnSelfCheck,
    SaveAssessedScore,
    SaveAssessmentRecord,
    SaveBallotDraft,
    SaveCityScore,
    SavePaperTally,
    SaveSelfScore,
    StartAssessment,
    StartReReview,
    StartSampleCheck,
    StartSelfCheck,
    SubmitAssessment,
    SubmitReReview,
    SubmitSampleCheck,
    SubmitSelfCheck,
    WaiveEvaluation,
)
from dialogs.context import RatingOutcome
from dialogs.engine import Addendum, Reply
from rubrics.binding import BindResult, BindStatus
from rubrics.lifecycle import ASSESSABLE, RE_REVIEWABLE, IllegalTransition, InspectionState

S = InspectionState
WRITABLE_BY_EVALUATOR = ASSESSABLE | RE_REVIEWABLE

Outcome = Reply | Addendum | None

# The command types each handler applies (its ``command`` parameter's annotation): HANDLERS maps every
# type of dialogs.commands.Command to exactly one handler (checked at import), and each handler's
# match ends in assert_never, so mypy checks that it applies every type it is registered for.
BindingCommand = RedeemInvitation
SubmitCommand = SubmitAssessment | SubmitReReview
ChairCommand = StartSelfCheck | SaveSelfScore | AddEvidence | SubmitSelfCheck | ReportRemediation
MemberCommand = SaveBallotDraft | CastBallot | FileObjection
CityCommand = StartSampleCheck | SaveCityScore | SubmitSampleCheck
EvaluatorCommand = (
    StartAssessment
    | StartReReview
    | SaveAssessedScore
    | SaveAssessmentRecord
    | ReturnSelfCheck
    | CloseEvaluation
    | WaiveEvaluation
    | SavePaperTally
    | CheckRemediation
)


@dataclass
class Applier:
    """Applies the commands of one turn for one account."""

    session: Session
    account: Caller
    config: Config
    now: datetime
    counter: RateCounter
    loaded: Loaded = Loaded()

    @property
    def actor(self) -> str:
        return f"wechat:{self.account.id}"

    def apply(self, command: Command) -> Outcome:
        """Apply one command through its one handler (HANDLERS); a command whose outcome decides the
        reply (a binding) returns it, one whose outcome only the database knows (the stars of a
        submitted assessment) adds it."""
        return HANDLERS[type(command)](self, command)

    def _bind(self, command: BindingCommand) -> Reply:
        """Redeem an invitation code (绑定)."""
        return binding.reply(self._redeem(command.code))

    def _submit(self, command: SubmitCommand) -> Addendum:
        """Submit an assessment or a re-review, and add the stars it came to."""
        match command:
            case SubmitAssessment(inspection_id=i):
                inspection = self._as_evaluator(i, ASSESSABLE)
                done = assessment.submit(self.session, inspection, self.config, self.actor, self.now)
                return Addendum(rating_text(self._rating(inspection, done)))
            case SubmitReReview(inspection_id=i):
                inspection = self._as_evaluator(i, RE_REVIEWABLE)
                done = assessment.submit_re_review(
                    self.session, inspection, self.config, self.actor, self.now
                )
                return Addendum(rating_text(self._rating(inspection, done, again=True)))
            case _:
                assert_never(command)

    def _as_chair_do(self, command: ChairCommand) -> None:
        """The chair's commands: the self-check (自查自评) and the report of a remediation (补课)."""
        session, now, actor = self.session, self.now, self.actor
        match command:
            case StartSelfCheck(inspection_id=i):
                selfcheck.start(session, self._as_chair(i), actor)
            case SaveSelfScore(inspection_id=i, item_no=no, score=score):
                selfcheck.save_score(session, self._as_chair(i), no, score, actor)
            case AddEvidence(inspection_id=i, item_no=no, media_id=media_id, pic_url=pic_url):
                selfcheck.add_evidence(
                    session, self._as_chair(i), no, media_id, pic_url, self.account.id, actor
                )
            case SubmitSelfCheck(inspection_id=i):
                selfcheck.submit(session, self._as_chair(i), actor, now)
            case ReportRemediation(inspection_id=i, text=text):
                inspection = self._as_chair(i, "只有本单位工会主席可以报告补课完成。")
                remediation.report_done(session, inspection, text, actor, now)
            case _:
                assert_never(command)

    def _as_member_do(self, command: MemberCommand) -> None:
        """A voter's ballot (民主测评) and a chair's or member's objection (异议)."""
        session, now = self.session, self.now
        secret = self.config.secret_key
        match command:
            case SaveBallotDraft(evaluation_id=e, answers=answers):
                known = self.loaded.ballots.get(e)
                evaluation, where = evaluations.admit(session, e, self.account, secret, now, known)
                evaluations.save_draft(session, evaluation, where.voter, answers)
            case CastBallot(evaluation_id=e, answers=answers, suggestion=suggestion):
                known = self.loaded.ballots.get(e)
                evaluation, where = evaluations.admit(session, e, self.account, secret, now, known)
                evaluations.cast(session, evaluation, where, answers, suggestion)
            case FileObjection(inspection_id=i, text=text):
                objections.file(session, self._locked(i), self.account.id, text, self.actor, now)
            case _:
                assert_never(command)

    def _as_city_do(self, command: CityCommand) -> None:
        """The city federation's re-check of a sampled inspection (抽查)."""
        match command:
            case StartSampleCheck(inspection_id=i):
                self._as_city_checker(i)
            case SaveCityScore(inspection_id=i, item_no=no, score=score):
                scores.save(self.session, self._as_city_checker(i)[0], no, score, "city_score")
            case SubmitSampleCheck(inspection_id=i):
                inspection, entry = self._as_city_checker(i)
                sampling.submit_check(
                    self.session, inspection, entry, self.config, self.account.id, self.actor, self.now
                )
            case _:
                assert_never(command)

    def _as_evaluator_do(self, command: EvaluatorCommand) -> None:
        """The parent union's commands: assessment, re-review, return, the evaluation, remediation."""
        session, now, actor, me = self.session, self.now, self.actor, self.account.id
        match command:
            case StartAssessment(inspection_id=i):
                assessment.start(session, self._as_evaluator(i, ASSESSABLE), me, actor)
            case StartReReview(inspection_id=i):
                assessment.start_re_review(session, self._as_evaluator(i, RE_REVIEWABLE), actor)
            case SaveAssessedScore(inspection_id=i, item_no=no, score=score, reason=reason):
                inspection = self._as_evaluator(i, WRITABLE_BY_EVALUATOR)
                assessment.save_score(session, inspection, no, score, reason, me, actor)
            case SaveAssessmentRecord(inspection_id=i, methods=methods, opinion=opinion):
                inspection = self._as_evaluator(i, WRITABLE_BY_EVALUATOR)
                assessment.record(session, inspection, methods, opinion, me, actor)
            case ReturnSelfCheck(inspection_id=i, reason=reason):
                self._return(self._as_evaluator(i, ASSESSABLE), reason)
            case (
                CloseEvaluation(inspection_id=i, reason=reason)
                | WaiveEvaluation(inspection_id=i, reason=reason)
            ):
                inspection = self._as_evaluator(i, ASSESSABLE)
                evaluation = assessment.evaluation_of(session, inspection)
                waive = isinstance(command, WaiveEvaluation)
                evaluations.end(session, inspection, evaluation, reason, waive, actor, now)
            case SavePaperTally(inspection_id=i, distributed=handed_out, returned=returned, counts=counts):
                inspection = self._as_evaluator(i, ASSESSABLE)
                evaluation = assessment.evaluation_of(session, inspection)
                evaluations.save_paper(session, inspection, evaluation, handed_out, returned, counts, actor)
            case CheckRemediation(inspection_id=i, passed=passed, text=text):
                inspection = self._locked(i)
                if not self._holds(inspection.organisation.parent_id, "evaluator"):
                    raise Refused("只有上级工会考评员可以验收补课。")
                remediation.check(session, inspection, passed, text, me, actor, now)
            case _:
                assert_never(command)

    def _rating(self, inspection: Inspection, done: results.Recomputed, again: bool = False) -> RatingOutcome:
        """What a submitted assessment or re-review came to, read off the inspection as it now is."""
        provisional = inspection.id in results.provisional_ids(self.session, inspection.campaign, self.config)
        published = InspectionState(inspection.state) == S.PUBLISHED
        ends = inspection.publication_ends_at
        return RatingOutcome(
            stars=inspection.stars or 1,
            provisional=provisional,
            flagged=inspection.quota_flagged,
            reason=inspection.override_reason or inspection.stars_reason or "",
            published_round=inspection.publication_round if published else 0,
            publication_ends=local_date(ends) if published and ends is not None else "",
            others_republished=len(done.republished - {inspection.id}),
            again=again,
        )

    # ------------------------------------------------------------ who may

    def _redeem(self, code: str) -> BindResult:
        """Redeem a code, unless the user got too many wrong within the hour or the whole account
        within the minute (service/codes.py)."""
        codes = wrong_codes(self.counter, self.config)
        limit = codes.refused(BIND, self.account.openid)
        if limit is not None:
            return BindResult(BindStatus.RATE_LIMITED if limit == Limit.SENDER else BindStatus.LOCKED)
        result = bindings.redeem(self.session, self.account, code, self.actor, self.now)
        wrong = result.status in (BindStatus.NOT_FOUND, BindStatus.EXPIRED, BindStatus.USED_UP)
        if wrong and codes.failed(self.session, BIND, self.account.openid, self.now) is not None:
            return BindResult(BindStatus.LOCKED)  # past the account's limit: told as everyone is
        return result

    def _locked(self, inspection_id: int) -> Inspection:
        """The inspection, locked for the rest of the turn."""
        inspection: Inspection | None = self.loaded.locked.get(inspection_id)  # read FOR UPDATE this turn
        if inspection is None:
            # populate_existing: the row as locked now, not a copy the session read before the lock.
            inspection = self.session.get(
                Inspection, inspection_id, with_for_update=True, populate_existing=True
            )
        if inspection is None:
            raise Refused("没有找到这项年检任务，请联系上级工会。")
        return inspection

    def _as_chair(self, inspection_id: int, refusal: str = "只有本单位工会主席可以填写自评。") -> Inspection:
        """The inspection, locked for this turn, if the account is a chair of its organisation."""
        inspection = self._locked(inspection_id)
        if not self._holds(inspection.organisation_id, "chair"):
            raise Refused(refusal)
        return inspection

    def _holds(self, organisation_id: int | None, role: str) -> bool:
        """Whether the account is bound to the organisation in the role (read by this turn's context, in
        this transaction; else asked)."""
        if organisation_id is None:
            return False
        if self.loaded.bindings:
            return (organisation_id, role) in self.loaded.bindings
        return has_role(self.session, self.account, organisation_id, role)

    def _as_evaluator(self, inspection_id: int, states: frozenset[InspectionState]) -> Inspection:
        """The inspection, locked, if the account evaluates its union and its state is one of ``states``."""
        inspection = self._locked(inspection_id)
        if not self._holds(inspection.organisation.parent_id, "evaluator"):
            raise Refused("只有上级工会考评员可以进行考评或复查。")
        state = InspectionState(inspection.state)
        if state not in states:
            raise Refused(f"“{inspection.organisation.name}”当前状态为“{state.label}”，本次操作未生效。")
        return inspection

    def _as_city_checker(self, inspection_id: int) -> tuple[Inspection, SampledInspection]:
        inspection = self._locked(inspection_id)
        if not is_city_evaluator(self.session, self.account, inspection.organisation):
            raise Refused("抽查由市总工会考评员办理。")
        entry = sampling.pending_check(self.session, inspection.id)
        if entry is None:
            raise Refused(f"“{inspection.organisation.name}”不在待抽查名单中，或已抽查完毕。")
        return inspection, entry

    def _return(self, inspection: Inspection, reason: str) -> None:
        try:
            assessment.return_self_check(self.session, inspection, reason, self.actor, self.now)
        except IllegalTransition as error:
            raise Refused(error.message) from error
        except ValueError as error:
            raise Refused(str(error)) from error


#: A handler applies the command types its ``command`` parameter is annotated with, for one Applier.
Handler = Callable[[Applier, Any], Outcome]

#: Every command type's one handler, checked when this module is imported: a command type of
#: dialogs.commands.Command without a handler, or with two, stops the service at start.
HANDLER_FUNCTIONS: tuple[Handler, ...] = (
    Applier._bind,
    Applier._submit,
    Applier._as_chair_do,
    Applier._as_member_do,
    Applier._as_city_do,
    Applier._as_evaluator_do,
)
HANDLERS: Mapping[type, Handler] = checked_registry(list(HANDLER_FUNCTIONS), Command)

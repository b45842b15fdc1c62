"""Applies a dialog's commands to the database, inside the caller's transaction.

Every check that depends on the stored truth happens here, so a stale dialog state can never write
past a submission or into another union's inspection. A refused command raises Refused; the caller
rolls the whole turn back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import assessment, audit, evaluations, remediation, results
from chatbot.inspection.evaluations import standing
from chatbot.inspection.queries import has_role, is_city_evaluator, is_evaluator_of
from chatbot.inspection.sampling import pending_check
from chatbot.store import outbox
from chatbot.store.models import (
    Account,
    Ballot,
    BallotDraft,
    Evaluation,
    EvaluationVoter,
    Evidence,
    Inspection,
    Invitation,
    ItemScore,
    Objection,
    RoleBinding,
    SampledInspection,
)
from chatbot.timeutil import SHANGHAI, as_utc, end_of_day, local_date
from dialogs.binding import BindResult, BindStatus
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
from rubrics import get_rubric
from rubrics.lifecycle import IllegalTransition, InspectionState, check_transition
from rubrics.scoring import (
    ScoreError,
    Stars,
    format_score,
    percent_score,
    raw_total,
    star_level,
    validate_item_score,
)

S = InspectionState
ANSWER_VALUES = (1, 2, 3)


class Refused(Exception):
    """A command that the stored state does not allow; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Applier:
    """Applies the commands of one turn for one account."""

    session: Session
    account: Account
    config: Config
    now: datetime

    @property
    def actor(self) -> str:
        return f"wechat:{self.account.id}"

    def apply(self, command: Command) -> BindResult | None:
        """Apply one command; a binding returns its result, the others None."""
        match command:
            case RedeemInvitation(code=code):
                return self.redeem(code)
            case StartSelfCheck(inspection_id=inspection_id):
                inspection = self._as_chair(inspection_id)
                if inspection.state == S.NOT_STARTED:
                    self._move(inspection, S.SELF_CHECKING)
            case SaveSelfScore(inspection_id=inspection_id, item_no=no, score=score):
                inspection = self._editable_self_check(inspection_id)
                before, after = self._save(inspection, no, score, "self_score")
                if inspection.self_submitted_at is not None and before != after:  # a change after a return
                    self._score_changed("self_score", inspection, no, before, after)
            case AddEvidence(inspection_id=inspection_id, item_no=no, media_id=media_id, pic_url=pic_url):
                inspection = self._editable_self_check(inspection_id)
                get_rubric(inspection.rubric_key).item(no)
                self.session.add(
                    Evidence(
                        inspection_id=inspection.id,
                        item_no=no,
                        media_id=media_id[:128],
                        pic_url=pic_url[:512],
                        account_id=self.account.id,
                    )
                )
            case SubmitSelfCheck(inspection_id=inspection_id):
                self._submit_self_check(self._editable_self_check(inspection_id))
            case StartAssessment(inspection_id=inspection_id):
                inspection = self._as_evaluator(inspection_id, (S.SELF_SUBMITTED, S.REVIEWING))
                if inspection.state == S.SELF_SUBMITTED:
                    self._move(inspection, S.REVIEWING)
                    inspection.assessor_account_id = self.account.id
            case StartReReview(inspection_id=inspection_id):
                inspection = self._as_evaluator(inspection_id, (S.OBJECTED, S.RE_REVIEWING))
                if inspection.state == S.OBJECTED:
                    self._move(inspection, S.RE_REVIEWING)
            case SaveAssessedScore(inspection_id=inspection_id, item_no=no, score=score, reason=reason):
                self._save_assessed(inspection_id, no, score, reason)
            case SubmitAssessment(inspection_id=inspection_id):
                self._submit_assessment(self._as_evaluator(inspection_id, (S.SELF_SUBMITTED, S.REVIEWING)))
            case SubmitReReview(inspection_id=inspection_id):
                self._submit_re_review(self._as_evaluator(inspection_id, (S.OBJECTED, S.RE_REVIEWING)))
            case ReturnSelfCheck(inspection_id=inspection_id, reason=reason):
                self._return(self._as_evaluator(inspection_id, (S.SELF_SUBMITTED, S.REVIEWING)), reason)
            case StartSampleCheck(inspection_id=inspection_id):
                self._as_city_checker(inspection_id)
            case SaveCityScore(inspection_id=inspection_id, item_no=no, score=score):
                self._save(self._as_city_checker(inspection_id)[0], no, score, "city_score")
            case SubmitSampleCheck(inspection_id=inspection_id):
                self._submit_sample_check(*self._as_city_checker(inspection_id))
            case SaveBallotDraft(evaluation_id=evaluation_id, answers=answers):
                self._save_draft(evaluation_id, answers)
            case CastBallot(evaluation_id=evaluation_id, answers=answers, suggestion=suggestion):
                self._cast(evaluation_id, answers, suggestion)
            case FileObjection(inspection_id=inspection_id, text=text):
                self._object(inspection_id, text)
            case CloseEvaluation(inspection_id=inspection_id, reason=reason):
                self._end_evaluation(inspection_id, reason, waive=False)
            case WaiveEvaluation(inspection_id=inspection_id, reason=reason):
                self._end_evaluation(inspection_id, reason, waive=True)
            case SavePaperTally():
                self._paper(command)
            case SaveAssessmentRecord(inspection_id=inspection_id, methods=methods, opinion=opinion):
                self._record(inspection_id, methods, opinion)
            case ReportRemediation(inspection_id=inspection_id, text=text):
                self._report_remediation(inspection_id, text)
            case CheckRemediation(inspection_id=inspection_id, passed=passed, text=text):
                self._check_remediation(inspection_id, passed, text)
        return None

    # ------------------------------------------------------------ binding

    def redeem(self, code: str) -> BindResult:
        session = self.session
        invitation = session.scalar(select(Invitation).where(Invitation.code == code).with_for_update())
        if invitation is None:
            return BindResult(BindStatus.NOT_FOUND)
        org = invitation.organisation
        existing = session.scalar(
            select(RoleBinding).where(
                RoleBinding.account_id == self.account.id,
                RoleBinding.organisation_id == org.id,
                RoleBinding.role == invitation.role,
            )
        )
        if existing is not None:
            return BindResult(BindStatus.ALREADY_BOUND, invitation.role, org.name)
        if invitation.expires_at is not None and as_utc(invitation.expires_at) <= self.now:
            return BindResult(BindStatus.EXPIRED)
        if invitation.uses >= invitation.max_uses:
            return BindResult(BindStatus.USED_UP)
        invitation.uses += 1
        binding = RoleBinding(
            account_id=self.account.id,
            organisation_id=org.id,
            role=invitation.role,
            invitation_id=invitation.id,
        )
        session.add(binding)
        session.flush()
        audit.record(
            session,
            self.actor,
            "bind",
            "role_binding",
            binding.id,
            after={"org": org.code, "role": invitation.role, "invitation": invitation.code},
        )
        joined: tuple[str, ...] = ()
        if invitation.role == "member":
            found = evaluations.join_open(session, self.account, org, self.now)
            joined = tuple(e.code for e in found)
        return BindResult(BindStatus.BOUND, invitation.role, org.name, joined)

    # ------------------------------------------------------------ self-check

    def _locked(self, inspection_id: int) -> Inspection:
        inspection = self.session.get(Inspection, inspection_id, with_for_update=True)
        if inspection is None:
            raise Refused("没有找到这项年检任务，请联系上级工会。")
        return inspection

    def _as_chair(self, inspection_id: int) -> Inspection:
        """The inspection, locked for this turn, if the account is a chair of its organisation."""
        inspection = self._locked(inspection_id)
        if not has_role(self.session, self.account, inspection.organisation_id, "chair"):
            raise Refused("只有本单位工会主席可以填写自评。")
        return inspection

    def _editable_self_check(self, inspection_id: int) -> Inspection:
        inspection = self._as_chair(inspection_id)
        state = InspectionState(inspection.state)
        if not state.self_check_editable:
            raise Refused(f"自评已提交（{state.label}），答案已锁定，本次操作未生效。")
        if state == S.NOT_STARTED:
            self._move(inspection, S.SELF_CHECKING)
        return inspection

    def _move(self, inspection: Inspection, target: InspectionState, reason: str | None = None) -> None:
        before = inspection.state
        try:
            inspection.state = check_transition(before, target)
        except IllegalTransition as error:
            raise Refused(error.message) from error
        audit.record(
            self.session,
            self.actor,
            "transition",
            "inspection",
            inspection.id,
            before=before,
            after=str(target),
            reason=reason,
        )

    def _score_changed(
        self,
        action: str,
        inspection: Inspection,
        no: int,
        before: Decimal | None,
        after: Decimal | None,
        reason: str | None = None,
    ) -> None:
        """Audit one item's score change: before, after and why."""
        audit.record(
            self.session,
            self.actor,
            action,
            "inspection",
            inspection.id,
            before={"item": no, "score": before},
            after={"item": no, "score": after},
            reason=reason,
        )

    def _row(self, inspection: Inspection, no: int) -> ItemScore:
        row = self.session.scalar(
            select(ItemScore).where(ItemScore.inspection_id == inspection.id, ItemScore.item_no == no)
        )
        if row is None:
            row = ItemScore(inspection_id=inspection.id, item_no=no)
            self.session.add(row)
        return row

    def _save(
        self, inspection: Inspection, no: int, score: Decimal, column: str
    ) -> tuple[Decimal | None, Decimal]:
        """Store a validated score in ``column``; returns (before, after)."""
        item = get_rubric(inspection.rubric_key).item(no)
        try:
            score = validate_item_score(score, item.points)
        except ScoreError as error:
            raise Refused(str(error)) from error
        row = self._row(inspection, no)
        before = getattr(row, column)
        if before != score:
            setattr(row, column, score)
        return before, score

    def _submit_self_check(self, inspection: Inspection) -> None:
        _, missing = self._answered(inspection, ItemScore.self_score)
        if missing:
            raise Refused(
                f"还有 {len(missing)} 项未作答（第 {'、'.join(map(str, missing[:20]))} 项），未能提交。"
            )
        self._move(inspection, S.SELF_SUBMITTED)
        inspection.self_submitted_at = self.now
        inspection.return_reason = None
        org = inspection.organisation
        for account_id in self._evaluators(inspection):
            outbox.enqueue(
                self.session,
                account_id,
                "self_check_submitted",
                f"submitted:{inspection.id}:{self.now.isoformat()}:{account_id}",
                f"{org.name}（{org.code}）已提交 {inspection.campaign.year} 年度自评，"
                f"请发送“考评 {org.code}”进行组织评定。",
                self.now,
            )

    def _answered(self, inspection: Inspection, column) -> tuple[set[int], list[int]]:
        answered = set(
            self.session.scalars(
                select(ItemScore.item_no).where(ItemScore.inspection_id == inspection.id, column.is_not(None))
            )
        )
        missing = [item.no for item in get_rubric(inspection.rubric_key).items if item.no not in answered]
        return answered, missing

    def _evaluators(self, inspection: Inspection) -> list[int]:
        parent = inspection.organisation.parent_id
        return outbox.accounts_with_role(self.session, parent, ("evaluator",)) if parent else []

    # ------------------------------------------------------------ assessment and re-review

    def _as_evaluator(self, inspection_id: int, states: tuple[InspectionState, ...]) -> Inspection:
        inspection = self._locked(inspection_id)
        if not is_evaluator_of(self.session, self.account, inspection.organisation):
            raise Refused("只有上级工会考评员可以进行考评或复查。")
        state = InspectionState(inspection.state)
        if state not in states:
            raise Refused(f"“{inspection.organisation.name}”当前状态为“{state.label}”，本次操作未生效。")
        return inspection

    def _save_assessed(self, inspection_id: int, no: int, score: Decimal, reason: str) -> None:
        inspection = self._as_evaluator(
            inspection_id, (S.SELF_SUBMITTED, S.REVIEWING, S.OBJECTED, S.RE_REVIEWING)
        )
        if inspection.state == S.SELF_SUBMITTED:
            self._move(inspection, S.REVIEWING)
            inspection.assessor_account_id = self.account.id
        elif inspection.state == S.OBJECTED:
            self._move(inspection, S.RE_REVIEWING)
        before, after = self._save(inspection, no, score, "assessed_score")
        if (
            inspection.state == S.RE_REVIEWING
            and before is not None
            and before != after
            and not reason.strip()
        ):
            raise Refused("复查改分须说明原因。")
        if before != after:
            self._score_changed("assessed_score", inspection, no, before, after, reason.strip() or None)

    def _submit_assessment(self, inspection: Inspection) -> None:
        _, missing = self._answered(inspection, ItemScore.assessed_score)
        if missing:
            raise Refused(
                f"还有 {len(missing)} 项未考评（第 {'、'.join(map(str, missing[:20]))} 项），未能提交。"
            )
        evaluation = self._evaluation_of(inspection)
        if evaluation is not None and evaluations.is_open(evaluation, self.now):
            raise Refused(
                "民主测评仍在进行，测评结束后才能提交组织评定；如需提前结束，请发送“结束测评 原因”，"
                "如不再计入测评结果，请发送“免除测评 原因”。"
            )
        if inspection.state == S.SELF_SUBMITTED:
            self._move(inspection, S.REVIEWING)
        self._move(inspection, S.RATED)
        results.rate(self.session, inspection, self.config, self.now)
        self.session.flush()
        results.confirm(self.session, inspection.campaign, self.config, only={inspection.id})

    def _submit_re_review(self, inspection: Inspection) -> None:
        if inspection.state == S.OBJECTED:
            self._move(inspection, S.RE_REVIEWING)
        results.rate(self.session, inspection, self.config, self.now)
        self.session.flush()
        results.confirm(
            self.session, inspection.campaign, self.config, adjustable={inspection.id}, only={inspection.id}
        )
        for objection in self.session.scalars(
            select(Objection).where(Objection.inspection_id == inspection.id, Objection.resolved_at.is_(None))
        ):
            objection.resolved_at = self.now
        results.open_publication(
            self.session,
            inspection,
            self.now,
            inspection.publication_days or results.DEFAULT_PUBLICATION_DAYS,
            self.actor,
        )

    def _return(self, inspection: Inspection, reason: str) -> None:
        try:
            assessment.return_self_check(self.session, inspection, reason, self.actor, self.now)
        except IllegalTransition as error:
            raise Refused(error.message) from error
        except ValueError as error:
            raise Refused(str(error)) from error

    # ------------------------------------------------------------ sampling (抽查)

    def _as_city_checker(self, inspection_id: int) -> tuple[Inspection, SampledInspection]:
        inspection = self._locked(inspection_id)
        if not is_city_evaluator(self.session, self.account, inspection.organisation):
            raise Refused("抽查由市总工会考评员办理。")
        entry = pending_check(self.session, inspection.id)
        if entry is None:
            raise Refused(f"“{inspection.organisation.name}”不在待抽查名单中，或已抽查完毕。")
        return inspection, entry

    def _submit_sample_check(self, inspection: Inspection, entry: SampledInspection) -> None:
        """The city's re-check. Where its score gives other stars than the county's result, the city's
        scores become the assessed scores (each change audited), the result is rated again through
        the quota and, if it was published, published again as a new round (chair and members told)."""
        rubric = get_rubric(inspection.rubric_key)
        rows = self.session.scalars(select(ItemScore).where(ItemScore.inspection_id == inspection.id)).all()
        city = {row.item_no: Decimal(row.city_score) for row in rows if row.city_score is not None}
        if len(city) < rubric.item_count:
            raise Refused(f"还有 {rubric.item_count - len(city)} 项未抽查评分，未能提交。")
        state = InspectionState(inspection.state)
        if state in (S.OBJECTED, S.RE_REVIEWING):
            raise Refused(f"“{inspection.organisation.name}”的结果有待复查的异议，请在复查完成后再提交抽查。")
        score = percent_score(raw_total(city.values()), rubric.max_total)
        entry.city_score = score
        entry.checked_at, entry.checker_account_id = self.now, self.account.id
        before = {"score": entry.county_score, "stars": entry.county_stars}
        changed = star_level(score) != Stars(inspection.stars_by_score or inspection.stars or 1)
        if changed:
            reason = f"市总工会抽查：{format_score(score)} 分（县级考评 {format_score(entry.county_score or 0)} 分）"
            for row in rows:
                if row.assessed_score != row.city_score:
                    self._score_changed(
                        "assessed_score",
                        inspection,
                        row.item_no,
                        row.assessed_score,
                        row.city_score,
                        "市总工会抽查",
                    )
                    row.assessed_score = row.city_score
            self.session.flush()
            results.rate(self.session, inspection, self.config, self.now)
            inspection.override_stars = inspection.override_reason = None
            self.session.flush()
            results.confirm(
                self.session,
                inspection.campaign,
                self.config,
                adjustable={inspection.id},
                only={inspection.id},
            )
            if state.is_published:
                results.open_publication(
                    self.session,
                    inspection,
                    self.now,
                    inspection.publication_days or results.DEFAULT_PUBLICATION_DAYS,
                    self.actor,
                    note="经市总工会抽查重新评定，",
                )
            audit.record(
                self.session,
                self.actor,
                "sample_stars_changed",
                "inspection",
                inspection.id,
                before={"stars": entry.county_stars},
                after={"stars": inspection.stars, "score": score},
                reason=reason,
            )
        entry.city_stars = inspection.stars if changed else int(star_level(score))
        audit.record(
            self.session,
            self.actor,
            "sample_check",
            "inspection",
            inspection.id,
            before=before,
            after={"score": score, "stars": entry.city_stars},
        )

    # ------------------------------------------------------------ democratic evaluation

    def _evaluation(self, evaluation_id: int) -> tuple[Evaluation, str, bool]:
        evaluation = self.session.get(Evaluation, evaluation_id, with_for_update=True)
        if evaluation is None:
            raise Refused("没有找到这次民主测评。")
        where = standing(self.session, evaluation, self.account, self.config.secret_key, self.now)
        if where.status == "voted":
            raise Refused("您已参加过这次民主测评，每人限投一次。")
        if where.status == "closed":
            raise Refused("这次民主测评已经结束，您的答卷未能提交。")
        if where.status == "full":
            raise Refused("这次民主测评的开放名额已满，您的答卷未能提交，感谢关注。")
        if where.status == "not_eligible":
            raise Refused("您不在这次民主测评的参加人员范围内。如有疑问请联系上级工会。")
        return evaluation, where.voter, where.bound

    def _valid_answers(self, evaluation: Evaluation, answers: tuple[int, ...], complete: bool) -> None:
        expected = len(get_rubric(evaluation.inspection.rubric_key).dimensions) + 2
        if (
            len(answers) > expected
            or (complete and len(answers) != expected)
            or any(a not in ANSWER_VALUES for a in answers)
        ):
            raise Refused("测评答案不完整，请重新开始测评。")

    def _save_draft(self, evaluation_id: int, answers: tuple[int, ...]) -> None:
        evaluation, voter, _ = self._evaluation(evaluation_id)
        self._valid_answers(evaluation, answers, complete=False)
        draft = self.session.get(BallotDraft, (evaluation.id, voter))
        if draft is None:
            self.session.add(
                BallotDraft(evaluation_id=evaluation.id, voter_hash=voter, answers=list(answers))
            )
        else:
            draft.answers = list(answers)

    def _cast(self, evaluation_id: int, answers: tuple[int, ...], suggestion: str) -> None:
        evaluation, voter, bound = self._evaluation(evaluation_id)
        self._valid_answers(evaluation, answers, complete=True)
        if not bound:
            evaluation.open_used += 1
        draft = self.session.get(BallotDraft, (evaluation.id, voter))
        if draft is not None:
            self.session.delete(draft)
        self.session.add(
            EvaluationVoter(evaluation_id=evaluation.id, voter_hash=voter, used_open_slot=not bound)
        )
        self.session.add(
            Ballot(
                id=uuid.uuid4().hex,
                evaluation_id=evaluation.id,
                answers=list(answers),
                suggestion=suggestion or None,
            )
        )
        try:
            self.session.flush()
        except IntegrityError as error:
            raise Refused("您已参加过这次民主测评，每人限投一次。") from error

    # ------------------------------------------------------------ objections

    def _object(self, inspection_id: int, text: str) -> None:
        inspection = self._locked(inspection_id)
        bound = self.session.scalar(
            select(RoleBinding.id).where(
                RoleBinding.account_id == self.account.id,
                RoleBinding.organisation_id == inspection.organisation_id,
                RoleBinding.role.in_(["chair", "member"]),
            )
        )
        if bound is None:
            raise Refused("只有本单位会员或工会主席可以对公示结果提出异议。")
        in_window = (
            inspection.publication_ends_at is not None and as_utc(inspection.publication_ends_at) > self.now
        )
        if inspection.state not in (S.PUBLISHED, S.OBJECTED) or not in_window:
            raise Refused("该结果不在公示期内，无法提出异议。")
        exists = self.session.scalar(
            select(Objection.id).where(
                Objection.inspection_id == inspection.id,
                Objection.publication_round == inspection.publication_round,
                Objection.account_id == self.account.id,
            )
        )
        if exists is not None:
            raise Refused("您已对本轮公示结果提出过异议。")
        objection = Objection(
            inspection_id=inspection.id,
            publication_round=inspection.publication_round,
            account_id=self.account.id,
            text=text,
            created_at=self.now,
        )
        self.session.add(objection)
        self.session.flush()
        if inspection.state == S.PUBLISHED:
            self._move(inspection, S.OBJECTED, reason="异议")
            # 10 日内: the re-review is due by the end of the tenth day (Asia/Shanghai) after the objection.
            today = self.now.astimezone(SHANGHAI).date()
            inspection.re_review_due_at = end_of_day(today + timedelta(days=results.RE_REVIEW_DAYS))
        org = inspection.organisation
        due = local_date(inspection.re_review_due_at or self.now)
        for account_id in self._evaluators(inspection):
            outbox.enqueue(
                self.session,
                account_id,
                "objection_filed",
                f"objection:{objection.id}:{account_id}",
                f"{org.name}（{org.code}）的年检公示结果收到异议：“{text}”\n"
                f"请在 {due} 前发送“复查 {org.code}”完成复查评定。",
                self.now,
                due,
            )

    # ------------------------------------------------------------ the evaluator's decisions on an evaluation

    def _evaluation_of(self, inspection: Inspection) -> Evaluation | None:
        return self.session.scalar(
            select(Evaluation).where(Evaluation.inspection_id == inspection.id).with_for_update()
        )

    def _end_evaluation(self, inspection_id: int, reason: str, waive: bool) -> None:
        inspection = self._as_evaluator(inspection_id, (S.SELF_SUBMITTED, S.REVIEWING))
        evaluation = self._evaluation_of(inspection)
        if evaluation is None:
            raise Refused(f"“{inspection.organisation.name}”没有开展民主测评。")
        if not reason.strip():
            raise Refused("请写明原因，如：结束测评 参加人员已全部作答。")
        if evaluation.waived_at is not None:
            raise Refused("这次民主测评已免除。")
        if waive:
            evaluation.waived_at, evaluation.waived_reason = self.now, reason.strip()
        elif evaluations.is_open(evaluation, self.now):
            evaluation.closes_at, evaluation.closed_reason = self.now, reason.strip()
        else:
            raise Refused("这次民主测评已经结束。")
        audit.record(
            self.session,
            self.actor,
            "waive_evaluation" if waive else "close_evaluation",
            "inspection",
            inspection.id,
            after={"evaluation": evaluation.code},
            reason=reason.strip(),
        )

    def _paper(self, command: SavePaperTally) -> None:
        inspection = self._as_evaluator(command.inspection_id, (S.SELF_SUBMITTED, S.REVIEWING))
        evaluation = self._evaluation_of(inspection)
        if evaluation is None:
            raise Refused(f"“{inspection.organisation.name}”没有开展民主测评，无法录入纸质测评表。")
        expected = len(get_rubric(inspection.rubric_key).dimensions) + 2
        valid = (
            0 < command.returned <= command.distributed
            and len(command.counts) == expected
            and all(min(row) >= 0 and sum(row) <= command.returned for row in command.counts)
        )
        if not valid:
            raise Refused("纸质测评表的份数不一致，未能保存，请重新录入。")
        before = {"distributed": evaluation.paper_distributed, "returned": evaluation.paper_returned}
        evaluation.paper_distributed, evaluation.paper_returned = command.distributed, command.returned
        evaluation.paper_counts = [list(row) for row in command.counts]
        audit.record(
            self.session,
            self.actor,
            "paper_ballots",
            "inspection",
            inspection.id,
            before=before,
            after={"distributed": command.distributed, "returned": command.returned},
        )

    def _record(self, inspection_id: int, methods: tuple[str, ...] | None, opinion: str | None) -> None:
        inspection = self._as_evaluator(
            inspection_id, (S.SELF_SUBMITTED, S.REVIEWING, S.OBJECTED, S.RE_REVIEWING)
        )
        if inspection.state == S.SELF_SUBMITTED:
            self._move(inspection, S.REVIEWING)
            inspection.assessor_account_id = self.account.id
        before = {"methods": inspection.assessment_methods, "opinion": inspection.assessment_opinion}
        if methods is not None:
            inspection.assessment_methods = list(methods)
        if opinion is not None:
            inspection.assessment_opinion = opinion
        audit.record(
            self.session,
            self.actor,
            "assessment_record",
            "inspection",
            inspection.id,
            before=before,
            after={"methods": inspection.assessment_methods, "opinion": inspection.assessment_opinion},
        )

    # ------------------------------------------------------------ remediation (补课)

    def _report_remediation(self, inspection_id: int, text: str) -> None:
        inspection = self._as_chair(inspection_id)
        try:
            remediation.report_done(self.session, inspection, text, self.actor, self.now)
        except ValueError as error:
            raise Refused(str(error)) from error

    def _check_remediation(self, inspection_id: int, passed: bool, text: str) -> None:
        inspection = self._locked(inspection_id)
        if not is_evaluator_of(self.session, self.account, inspection.organisation):
            raise Refused("只有上级工会考评员可以验收补课。")
        try:
            remediation.check(self.session, inspection, passed, text, self.account.id, self.actor, self.now)
        except ValueError as error:
            raise Refused(str(error)) from error

"""Who may apply a command: the account's rights over the rows of one turn, checked against the stored
truth, so a stale dialog state can never write past a submission or into another union's inspection.

The features' handlers (chatbot/service/features/) ask these before they call one domain function of
``chatbot.inspection``; a refusal raises Refused and the service rolls the whole turn back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from chatbot.config import Config
from chatbot.inspection import assessment, bindings, results, sampling
from chatbot.inspection.caller import Caller
from chatbot.inspection.errors import Refused
from chatbot.inspection.queries import has_role, is_city_evaluator
from chatbot.inspection.rows import InspectionRow
from chatbot.service.codes import BIND, Limit, wrong_codes
from chatbot.service.context import Loaded
from chatbot.store.counters import RateCounter
from chatbot.store.models import Inspection, SampledInspection
from chatbot.timeutil import local_date
from dialogs.context import RatingOutcome
from dialogs.engine import Addendum, Reply
from rubrics.binding import BindResult, BindStatus
from rubrics.lifecycle import ASSESSABLE, RE_REVIEWABLE, IllegalTransition, InspectionState

S = InspectionState
WRITABLE_BY_EVALUATOR = ASSESSABLE | RE_REVIEWABLE

#: What applying a command gives the reply: the reply itself (a binding), an addendum only the
#: database knows (the stars of a submitted assessment), or nothing.
Outcome = Reply | Addendum | None


@dataclass
class Rights:
    """One turn's account, transaction and clock, and what it may do to the rows it locks."""

    session: Session
    account: Caller
    config: Config
    now: datetime
    counter: RateCounter
    loaded: Loaded = Loaded()

    @property
    def actor(self) -> str:
        return f"wechat:{self.account.id}"

    def rating(self, inspection: Inspection, done: results.Recomputed, again: bool = False) -> RatingOutcome:
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

    def redeem(self, code: str) -> BindResult:
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

    def locked(self, inspection_id: int) -> Inspection:
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

    def row(self, inspection_id: int) -> InspectionRow | None:
        """The inspection as this turn's context read it, locked, as Core rows — unless a command of
        the turn has loaded it as an ORM object since (which would be the newer)."""
        row = self.loaded.rows.get(inspection_id)
        if row is None or identity_key(Inspection, inspection_id) in self.session.identity_map:
            return None
        return row

    def chair_row(self, inspection_id: int) -> InspectionRow | None:
        """``row``, if the account chairs the inspection's union; else None (``as_chair`` decides)."""
        row = self.row(inspection_id)
        return row if row is not None and self.holds(row.organisation_id, "chair") else None

    def evaluator_row(self, inspection_id: int, states: frozenset[InspectionState]) -> InspectionRow | None:
        """``row``, if the account evaluates the inspection's union and its state is one of ``states``;
        else None (``as_evaluator`` decides)."""
        row = self.row(inspection_id)
        if row is None or InspectionState(row.state) not in states:
            return None
        return row if self.holds(row.org_parent_id, "evaluator") else None

    def as_chair(self, inspection_id: int, refusal: str = "只有本单位工会主席可以填写自评。") -> Inspection:
        """The inspection, locked for this turn, if the account is a chair of its organisation."""
        inspection = self.locked(inspection_id)
        if not self.holds(inspection.organisation_id, "chair"):
            raise Refused(refusal)
        return inspection

    def holds(self, organisation_id: int | None, role: str) -> bool:
        """Whether the account is bound to the organisation in the role (read by this turn's context, in
        this transaction; else asked)."""
        if organisation_id is None:
            return False
        if self.loaded.bindings:
            return (organisation_id, role) in self.loaded.bindings
        return has_role(self.session, self.account, organisation_id, role)

    def as_evaluator(self, inspection_id: int, states: frozenset[InspectionState]) -> Inspection:
        """The inspection, locked, if the account evaluates its union and its state is one of ``states``."""
        inspection = self.locked(inspection_id)
        if not self.holds(inspection.organisation.parent_id, "evaluator"):
            raise Refused("只有上级工会考评员可以进行考评或复查。")
        state = InspectionState(inspection.state)
        if state not in states:
            raise Refused(f"“{inspection.organisation.name}”当前状态为“{state.label}”，本次操作未生效。")
        return inspection

    def as_city_checker(self, inspection_id: int) -> tuple[Inspection, SampledInspection]:
        inspection = self.locked(inspection_id)
        if not is_city_evaluator(self.session, self.account, inspection.organisation):
            raise Refused("抽查由市总工会考评员办理。")
        entry = sampling.pending_check(self.session, inspection.id)
        if entry is None:
            raise Refused(f"“{inspection.organisation.name}”不在待抽查名单中，或已抽查完毕。")
        return inspection, entry

    def return_self_check(self, inspection: Inspection, reason: str) -> None:
        try:
            assessment.return_self_check(self.session, inspection, reason, self.actor, self.now)
        except IllegalTransition as error:
            raise Refused(error.message) from error
        except ValueError as error:
            raise Refused(str(error)) from error

"""补课 (remediation): a result below the standard must be remedied and re-checked.

"年检达不到建设标准的，必须补课，并取消经费支持、职工帮扶、评先选优指标。" When such a result becomes
final, a remediation opens with a due date; the chair reports it done (`补课完成 说明`), the parent
union's evaluator re-checks it (`补课验收 C 通过|未通过 说明`): passed closes it, not passed reopens it.
It follows the result: a re-review or the city's re-check that lifts the score to the standard
withdraws it (and the three disqualifications go with the score, chatbot.inspection.results.rate);
a result below the standard again reopens it when it becomes final. Open past its due date, it is
overdue (逾期).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.orm import Session

from chatbot.inspection import audit, texts
from chatbot.inspection.errors import Refused
from chatbot.store import outbox
from chatbot.store.models import Inspection, Remediation
from chatbot.store.notice_kinds import NoticeKind
from chatbot.timeutil import SHANGHAI
from rubrics.lifecycle import OVERDUE_LABEL, PENDING_REMEDIATION, RemediationStatus

#: The stored statuses counted as 补课中, for SQL ``IN``.
PENDING = sorted(status.value for status in PENDING_REMEDIATION)


def is_overdue(status: str, due_on: date, today: date) -> bool:
    """Open after its due date (a report waiting for the evaluator's re-check is not the chair's delay)."""
    return status == RemediationStatus.OPEN and due_on < today


def label(status: str, due_on: date, today: date) -> str:
    """The status as people read it, overdue marked."""
    if is_overdue(status, due_on, today):
        return f"{RemediationStatus.OPEN.label}（{OVERDUE_LABEL}）"
    return RemediationStatus(status).label


def _statuses(session: Session, *criteria: ColumnElement[bool]) -> dict[int, tuple[RemediationStatus, date]]:
    """The remediations that meet ``criteria``: status and due day, by inspection id."""
    return {
        inspection_id: (RemediationStatus(status), due_on)
        for inspection_id, status, due_on in session.execute(
            select(Remediation.inspection_id, Remediation.status, Remediation.due_on)
            .join(Inspection, Remediation.inspection_id == Inspection.id)
            .where(*criteria)
        )
    }


def of_campaign(
    session: Session, campaign_id: int, pending: bool = False
) -> dict[int, tuple[RemediationStatus, date]]:
    """The campaign's remediations (``pending``: only those still to do or check): status and due day,
    by inspection id."""
    if pending:
        return _statuses(session, Inspection.campaign_id == campaign_id, Remediation.status.in_(PENDING))
    return _statuses(session, Inspection.campaign_id == campaign_id)


def open_for(
    session: Session, inspection_ids: Sequence[int], days: int, now: datetime, actor: str
) -> dict[int, date]:
    """Open the remediation (补课) of these results, below the standard and final: the due date of each.
    One already open (or reported, or passed) keeps its own; one withdrawn when a re-check had lifted
    the result opens again, due in ``days``. The new and reopened ones are written in two
    statements with their audit entries — one result is the case of one."""
    if not inspection_ids:
        return {}
    due = now.astimezone(SHANGHAI).date() + timedelta(days=days)
    existing = _statuses(session, Remediation.inspection_id.in_(inspection_ids))
    new = [i for i in inspection_ids if i not in existing]
    again = [i for i in inspection_ids if i in existing and existing[i][0] == RemediationStatus.WITHDRAWN]
    if new:
        session.execute(
            insert(Remediation),
            [
                {"inspection_id": i, "opened_at": now, "due_on": due, "status": RemediationStatus.OPEN.value}
                for i in new
            ],
        )
    if again:
        session.execute(
            update(Remediation)
            .where(Remediation.inspection_id.in_(again))
            .values(opened_at=now, due_on=due, status=RemediationStatus.OPEN.value)
        )
    opened = new + again
    audit.record_many(
        session,
        actor,
        "remediation_open",
        "inspection",
        [(i, None, {"due": due.isoformat()}, None) for i in opened],
    )
    kept = {i: due_on for i, (status, due_on) in existing.items() if status != RemediationStatus.WITHDRAWN}
    return kept | dict.fromkeys(opened, due)


def follow(session: Session, inspection: Inspection, now: datetime, actor: str) -> None:
    """After the result was rated again: a result no longer below the standard withdraws its pending
    remediation (audited, the chair told); a remediation already passed stays as it was."""
    if inspection.below_standard:
        return
    row = of(session, inspection.id)
    if row is None or not RemediationStatus(row.status).pending:
        return
    before = row.status
    row.status = RemediationStatus.WITHDRAWN
    audit.record(
        session,
        actor,
        "remediation_withdrawn",
        "inspection",
        inspection.id,
        before=before,
        after=RemediationStatus.WITHDRAWN.value,
        reason="重新评定后结果已达到建设标准",
    )
    org = inspection.organisation
    text = texts.remediation_withdrawn(org.name, inspection.campaign.year)
    key = f"remediation-withdrawn:{row.id}:{now.isoformat()}:"
    facts = {"union": org.name, "result": texts.RESULT_NO_REMEDIATION}
    outbox.tell(session, NoticeKind.REMEDIATION_CHECKED, org.id, ("chair",), key, text, now, facts=facts)


def of(session: Session, inspection_id: int) -> Remediation | None:
    return session.scalar(select(Remediation).where(Remediation.inspection_id == inspection_id))


def report_done(
    session: Session, inspection: Inspection, text: str, actor: str, now: datetime
) -> Remediation:
    """The chair reports the remediation done; the evaluators are asked to re-check it."""
    row = of(session, inspection.id)
    if row is None or row.status == RemediationStatus.WITHDRAWN:
        raise Refused("本单位没有需要补课的年检结果。")
    if row.status == RemediationStatus.PASSED:
        raise Refused("补课已通过验收，无需再次报告。")
    row.status, row.reported_at, row.report_text = RemediationStatus.REPORTED, now, text
    audit.record(session, actor, "remediation_reported", "inspection", inspection.id, after={"text": text})
    org = inspection.organisation
    notice = texts.remediation_reported(org.name, org.code, text)
    key = f"remediation-reported:{row.id}:{now.isoformat()}:"
    outbox.tell(
        session,
        NoticeKind.REMEDIATION_REPORTED,
        org.parent_id,
        ("evaluator",),
        key,
        notice,
        now,
        facts={"union": org.name},
    )
    return row


def check(
    session: Session,
    inspection: Inspection,
    passed: bool,
    text: str,
    account_id: int,
    actor: str,
    now: datetime,
) -> Remediation:
    """The evaluator's re-check after remediation: passed closes it, not passed reopens it."""
    row = of(session, inspection.id)
    if row is None or row.status == RemediationStatus.WITHDRAWN:
        raise Refused(f"“{inspection.organisation.name}”没有需要验收的补课。")
    if row.status == RemediationStatus.PASSED:
        raise Refused(f"“{inspection.organisation.name}”的补课已通过验收。")
    before = row.status
    row.status = RemediationStatus.PASSED if passed else RemediationStatus.OPEN
    row.checked_at, row.checker_account_id, row.check_text = now, account_id, text
    audit.record(
        session,
        actor,
        "remediation_checked",
        "inspection",
        inspection.id,
        before=before,
        after={"passed": passed},
        reason=text,
    )
    org = inspection.organisation
    notice = texts.remediation_checked(org.name, passed, text)
    key = f"remediation-checked:{row.id}:{now.isoformat()}:"
    facts = {"union": org.name, "result": texts.RESULT_PASSED if passed else texts.RESULT_NOT_PASSED}
    outbox.tell(session, NoticeKind.REMEDIATION_CHECKED, org.id, ("chair",), key, notice, now, facts=facts)
    return row

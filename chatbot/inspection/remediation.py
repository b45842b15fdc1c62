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

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import audit, texts
from chatbot.inspection.errors import Refused
from chatbot.store import outbox
from chatbot.store.models import Inspection, Remediation
from chatbot.store.notice_kinds import NoticeKind
from rubrics.lifecycle import OVERDUE_LABEL, REMEDIATION_LABELS, RemediationStatus

OPEN, REPORTED, PASSED, WITHDRAWN = (
    RemediationStatus.OPEN,
    RemediationStatus.REPORTED,
    RemediationStatus.PASSED,
    RemediationStatus.WITHDRAWN,
)
STATUS_LABELS: dict[str, str] = {status.value: label for status, label in REMEDIATION_LABELS.items()}
#: The statuses counted as 补课中 (to be done, or done and waiting for the re-check).
PENDING = (OPEN.value, REPORTED.value)


def is_overdue(status: str, due_on: date, today: date) -> bool:
    """Open after its due date (a report waiting for the evaluator's re-check is not the chair's delay)."""
    return status == OPEN and due_on < today


def label(status: str, due_on: date, today: date) -> str:
    """The status as people read it, overdue marked."""
    if is_overdue(status, due_on, today):
        return f"{STATUS_LABELS[OPEN]}（{OVERDUE_LABEL}）"
    return STATUS_LABELS.get(status, status)


def follow(session: Session, inspection: Inspection, now: datetime, actor: str) -> None:
    """After the result was rated again: a result no longer below the standard withdraws its pending
    remediation (audited, the chair told); a remediation already passed stays as it was."""
    if inspection.below_standard:
        return
    row = of(session, inspection.id)
    if row is None or row.status not in PENDING:
        return
    before = row.status
    row.status = WITHDRAWN
    audit.record(
        session,
        actor,
        "remediation_withdrawn",
        "inspection",
        inspection.id,
        before=before,
        after=WITHDRAWN.value,
        reason="重新评定后结果已达到建设标准",
    )
    org = inspection.organisation
    for account_id in outbox.accounts_with_role(session, org.id, ("chair",)):
        outbox.enqueue(
            session,
            account_id,
            NoticeKind.REMEDIATION_CHECKED,
            f"remediation-withdrawn:{row.id}:{now.isoformat()}:{account_id}",
            texts.remediation_withdrawn(org.name, inspection.campaign.year),
            now,
        )


def of(session: Session, inspection_id: int) -> Remediation | None:
    return session.scalar(select(Remediation).where(Remediation.inspection_id == inspection_id))


def report_done(
    session: Session, inspection: Inspection, text: str, actor: str, now: datetime
) -> Remediation:
    """The chair reports the remediation done; the evaluators are asked to re-check it."""
    row = of(session, inspection.id)
    if row is None or row.status == WITHDRAWN:
        raise Refused("本单位没有需要补课的年检结果。")
    if row.status == PASSED:
        raise Refused("补课已通过验收，无需再次报告。")
    row.status, row.reported_at, row.report_text = REPORTED, now, text
    audit.record(session, actor, "remediation_reported", "inspection", inspection.id, after={"text": text})
    org = inspection.organisation
    if org.parent_id is not None:
        for account_id in outbox.accounts_with_role(session, org.parent_id, ("evaluator",)):
            outbox.enqueue(
                session,
                account_id,
                NoticeKind.REMEDIATION_REPORTED,
                f"remediation-reported:{row.id}:{now.isoformat()}:{account_id}",
                texts.remediation_reported(org.name, org.code, text),
                now,
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
    if row is None or row.status == WITHDRAWN:
        raise Refused(f"“{inspection.organisation.name}”没有需要验收的补课。")
    if row.status == PASSED:
        raise Refused(f"“{inspection.organisation.name}”的补课已通过验收。")
    before = row.status
    row.status = PASSED if passed else OPEN
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
    for account_id_ in outbox.accounts_with_role(session, org.id, ("chair",)):
        outbox.enqueue(
            session,
            account_id_,
            NoticeKind.REMEDIATION_CHECKED,
            f"remediation-checked:{row.id}:{now.isoformat()}:{account_id_}",
            texts.remediation_checked(org.name, passed, text),
            now,
        )
    return row

"""Personal data (个人信息保护法): sealing closed evaluations, removing a person on request, purging
what is past its retention period.

**Sealing.** While an evaluation is open, a voter is known by a keyed hash of their openid (so nobody
votes twice). Once it has closed (and ``SEAL_GRACE`` has passed, for a turn still in flight), the voter
rows are replaced by random tokens in a random order — a re-key with a key nobody keeps — the drafts
are deleted and the ballots are written again in a random order under new random ids. From then on the
server itself can tell neither who voted (the server secret no longer reproduces any stored token) nor
which ballot is whose (not even by the order rows were written). The counts stay: voters, open places
used, every ballot's answers.

**Removal** (``nianjian member remove``): a person's roll entries (name, phone), or their WeChat
account's openid, bindings, unsent and sent notices, handled messages and unfinished ballots. The
account row stays as an anonymous id so that the audit trail (``wechat:<id>``), the scores they gave
and the turnout of past evaluations still add up; cast ballots were never theirs to begin with.

**Purge** (``nianjian purge --before YEAR``): for closed campaigns before YEAR and past the retention
period, the list of who was invited to each evaluation (its turnout's denominator kept as a number)
and the objections' texts; across the service, accounts silent since before YEAR, roll entries no
import has listed since then, and notices older than that.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from random import SystemRandom
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Delete,
    Update,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from chatbot.inspection import audit
from chatbot.inspection.errors import AdminError
from chatbot.inspection.evaluations import invited_count, paper_part, rewrite_ballots, voter_hash
from chatbot.inspection.members import with_phone
from chatbot.store.models import (
    Account,
    BallotDraft,
    Campaign,
    Evaluation,
    EvaluationParticipant,
    EvaluationVoter,
    InboundMessage,
    Inspection,
    Member,
    Objection,
    Organisation,
    OutboxMessage,
    RoleBinding,
)
from chatbot.store.personal import PersonalDataKey
from chatbot.timeutil import SHANGHAI

#: How long after its close an evaluation is sealed: far beyond any turn still in flight (WeChat's 5 s).
SEAL_GRACE = timedelta(minutes=5)
#: Years a closed campaign's personal data is kept after its year ends (default of `purge`).
RETENTION_YEARS = 3
#: The openid an account keeps once its person is removed: no WeChat openid starts so.
REMOVED_PREFIX = "removed-"
PURGED_OBJECTION = "（异议内容已按个人信息保存期限删除）"
#: Notices in these states are done with; older than the purge's cut-off they go.
DONE = ("sent", "failed", "undeliverable", "unconfirmed")

_random = SystemRandom()


# ---------------------------------------------------------------- sealing


def seal_due(session: Session, now: datetime) -> int:
    """Seal every evaluation closed or waived more than ``SEAL_GRACE`` ago; how many were sealed. The
    same dozen statements however many evaluations are due (they all close at the review deadline)."""
    limit = now - SEAL_GRACE
    due = list(
        session.scalars(
            select(Evaluation.id)
            .where(
                Evaluation.sealed_at.is_(None),
                or_(Evaluation.closes_at <= limit, Evaluation.waived_at <= limit),
            )
            .order_by(Evaluation.id)
            .with_for_update(skip_locked=True)
        )
    )
    if due:
        seal(session, due, now)
    return len(due)


def seal(session: Session, evaluation_ids: Sequence[int], now: datetime) -> None:
    """Make the evaluations' voters and ballots unlinkable, to openids and to each other (see above):
    drafts dropped, voters' tokens replaced by random ones in a random order, ballots written again in
    a random order under new ids (``rewrite_ballots``, as every cast does)."""
    ids = list(evaluation_ids)
    session.execute(delete(BallotDraft).where(BallotDraft.evaluation_id.in_(ids)))
    open_places: dict[int, list[bool]] = {e: [] for e in ids}
    for evaluation_id, used in session.execute(
        select(EvaluationVoter.evaluation_id, EvaluationVoter.used_open_slot).where(
            EvaluationVoter.evaluation_id.in_(ids)
        )
    ):
        open_places[evaluation_id].append(used)
    for places in open_places.values():
        _random.shuffle(places)
    session.execute(delete(EvaluationVoter).where(EvaluationVoter.evaluation_id.in_(ids)))
    voters = [
        {"evaluation_id": e, "voter_hash": secrets.token_hex(32), "used_open_slot": used}
        for e, places in open_places.items()
        for used in places
    ]
    if voters:
        session.execute(insert(EvaluationVoter), voters)
    ballots = rewrite_ballots(session, ids)
    session.execute(update(Evaluation).where(Evaluation.id.in_(ids)).values(sealed_at=now))
    audit.record_many(
        session,
        "system",
        "seal_evaluation",
        "evaluation",
        [(e, None, {"voters": len(open_places[e]), "ballots": ballots[e]}, None) for e in ids],
    )


# ---------------------------------------------------------------- removal on request


@dataclass
class Removal:
    """What a removal took away (counts only: the report holds no personal data)."""

    roll_entries: int = 0
    organisations: list[str] = field(default_factory=list)
    account_id: int | None = None
    bindings: int = 0
    notices: int = 0
    messages: int = 0
    drafts: int = 0
    objections_kept: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.roll_entries or self.account_id)


def remove_from_roll(
    session: Session,
    key: PersonalDataKey,
    phone: str | None,
    name: str | None,
    org_code: str | None,
) -> tuple[int, list[str]]:
    """Delete the roll entries with this number (or this name, in one organisation); their count and
    organisations' codes."""
    org_id = None
    if org_code is not None:
        org_id = session.scalar(select(Organisation.id).where(Organisation.code == org_code))
        if org_id is None:
            raise AdminError(f"没有编号为 {org_code} 的组织。")
    if phone is not None:
        found = with_phone(session, key, phone, org_id)
    else:
        found = list(
            session.scalars(select(Member).where(Member.organisation_id == org_id, Member.name == name))
        )
    codes = dict(
        session.execute(
            select(Organisation.id, Organisation.code).where(
                Organisation.id.in_({m.organisation_id for m in found})
            )
        ).all()
    )
    if found:
        session.execute(delete(Member).where(Member.id.in_([m.id for m in found])))
    return len(found), sorted(codes[m.organisation_id] for m in found)


def anonymise_account(session: Session, account: Account, secret: str) -> Removal:
    """Take an account's personal data away and keep the row as an anonymous id (see above)."""
    removal = Removal(account_id=account.id)
    openid = account.openid
    unsealed = list(session.scalars(select(Evaluation.id).where(Evaluation.sealed_at.is_(None))))
    if unsealed:
        mine = [voter_hash(secret, evaluation_id, openid) for evaluation_id in unsealed]
        removal.drafts = _count_deleted(
            session,
            delete(BallotDraft).where(
                BallotDraft.evaluation_id.in_(unsealed), BallotDraft.voter_hash.in_(mine)
            ),
        )
    removal.bindings = _count_deleted(
        session, delete(RoleBinding).where(RoleBinding.account_id == account.id)
    )
    removal.notices = _count_deleted(
        session, delete(OutboxMessage).where(OutboxMessage.account_id == account.id)
    )
    removal.messages = _count_deleted(session, delete(InboundMessage).where(InboundMessage.openid == openid))
    removal.objections_kept = (
        session.scalar(select(func.count()).where(Objection.account_id == account.id)) or 0
    )
    account.openid = REMOVED_PREFIX + secrets.token_hex(16)
    account.subscribed = False
    account.last_message_at = account.last_event_at = None
    account.cs_since_message = account.cs_since_event = 0
    return removal


def remove_person(
    session: Session,
    key: PersonalDataKey,
    secret: str,
    *,
    openid: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    org_code: str | None = None,
    reason: str,
    actor: str = "cli",
) -> Removal:
    """A person's personal data removed on request: their roll entries (by phone, or by name in one
    organisation) and/or their WeChat account (by openid). Audited with counts and the reason only."""
    if not (openid or phone or name):
        raise AdminError("请指定要删除的人：--phone、--openid，或 --name 与 --org。")
    if name and not org_code:
        raise AdminError("按姓名删除须同时指定 --org（姓名可能重复）。")
    if not reason.strip():
        raise AdminError("请用 --reason 写明删除依据，如：本人申请。")
    removal = Removal()
    if phone or name:
        removal.roll_entries, removal.organisations = remove_from_roll(session, key, phone, name, org_code)
    if openid:
        if openid.startswith(REMOVED_PREFIX):
            raise AdminError("这个账号的个人信息已经删除。")
        account = session.scalar(select(Account).where(Account.openid == openid))
        if account is not None:
            found = anonymise_account(session, account, secret)
            found.roll_entries, found.organisations = removal.roll_entries, removal.organisations
            removal = found
    if removal.anything:
        audit.record(
            session,
            actor,
            "remove_personal_data",
            "account" if removal.account_id else "member",
            removal.account_id,
            after={
                "roll_entries": removal.roll_entries,
                "organisations": removal.organisations,
                "bindings": removal.bindings,
                "notices": removal.notices,
            },
            reason=reason.strip(),
        )
    return removal


# ---------------------------------------------------------------- purge after the retention period


@dataclass
class Purge:
    """What a purge took away, in counts, and the campaigns it covered or left."""

    campaigns: list[int] = field(default_factory=list)
    still_open: list[int] = field(default_factory=list)
    sealed: int = 0
    participants: int = 0
    objections: int = 0
    accounts: int = 0
    roll_entries: int = 0
    notices: int = 0
    anonymised_openids: list[str] = field(default_factory=list, repr=False)


def latest_purgeable(today: date, retention_years: int) -> int:
    """The largest YEAR ``--before`` may name: every campaign before it is past its retention period
    (a campaign's personal data is kept through the end of its year plus ``retention_years``)."""
    return today.year - retention_years


def purge(
    session: Session,
    before: int,
    now: datetime,
    secret: str,
    retention_years: int = RETENTION_YEARS,
    actor: str = "cli",
) -> Purge:
    """Remove the personal data of closed campaigns before ``before`` and, service-wide, what has not
    been used since 1 January of ``before`` (Asia/Shanghai); refuses a year inside the retention period."""
    limit = latest_purgeable(now.astimezone(SHANGHAI).date(), retention_years)
    if before > limit:
        raise AdminError(
            f"{before - 1} 年度的个人信息须保存至 {before - 1 + retention_years} 年底"
            f"（保存期限 {retention_years} 年）；--before 最大为 {limit}。"
        )
    cutoff = datetime.combine(date(before, 1, 1), time(0), SHANGHAI)
    report = Purge()
    later = aliased(Campaign)
    for campaign in session.scalars(select(Campaign).where(Campaign.year < before).order_by(Campaign.year)):
        superseded = session.scalar(select(exists().where(later.year > campaign.year)))
        if campaign.closed_at is None and not superseded:
            report.still_open.append(campaign.year)
            continue
        report.campaigns.append(campaign.year)
        _purge_campaign(session, campaign, now, report)
    for account in session.scalars(select(Account).where(*_silent_since(cutoff))):
        report.anonymised_openids.append(account.openid)
        anonymise_account(session, account, secret)
        report.accounts += 1
    report.roll_entries = _count_deleted(session, delete(Member).where(Member.imported_at < cutoff))
    report.notices = _count_deleted(
        session,
        delete(OutboxMessage).where(OutboxMessage.created_at < cutoff, OutboxMessage.status.in_(DONE)),
    )
    audit.record(
        session,
        actor,
        "purge_personal_data",
        "campaign",
        None,
        after={
            "before": before,
            "retention_years": retention_years,
            "campaigns": report.campaigns,
            "sealed": report.sealed,
            "participants": report.participants,
            "objections": report.objections,
            "accounts": report.accounts,
            "roll_entries": report.roll_entries,
            "notices": report.notices,
        },
    )
    return report


def _purge_campaign(session: Session, campaign: Campaign, now: datetime, report: Purge) -> None:
    """One closed campaign: evaluations sealed, who was invited reduced to a count, objections' texts."""
    of_campaign = select(Inspection.id).where(Inspection.campaign_id == campaign.id)
    for evaluation in session.scalars(select(Evaluation).where(Evaluation.inspection_id.in_(of_campaign))):
        if evaluation.sealed_at is None:
            seal(session, [evaluation.id], now)
            report.sealed += 1
        if evaluation.invited_frozen is None:  # the bound part of the turnout's denominator
            evaluation.invited_frozen = (
                invited_count(session, evaluation) - evaluation.open_slots - paper_part(evaluation)
            )
        report.participants += _count_deleted(
            session,
            delete(EvaluationParticipant).where(EvaluationParticipant.evaluation_id == evaluation.id),
        )
    report.objections += _count_deleted(
        session,
        update(Objection)
        .where(Objection.inspection_id.in_(of_campaign), Objection.text != PURGED_OBJECTION)
        .values(text=PURGED_OBJECTION),
    )


def _silent_since(cutoff: datetime) -> Sequence[ColumnElement[bool]]:
    """An account not yet anonymised whose creation, last message and last event are all before cutoff."""
    return (
        Account.openid.not_like(REMOVED_PREFIX + "%"),
        Account.created_at < cutoff,
        or_(Account.last_message_at.is_(None), Account.last_message_at < cutoff),
        or_(Account.last_event_at.is_(None), Account.last_event_at < cutoff),
    )


def _count_deleted(session: Session, statement: Delete | Update) -> int:
    """Run a DELETE or UPDATE and return how many rows it touched."""
    result = cast(
        "CursorResult[Any]", session.execute(statement.execution_options(synchronize_session=False))
    )
    return result.rowcount or 0

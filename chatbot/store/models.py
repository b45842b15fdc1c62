"""SQLAlchemy 2 typed models: organisations, accounts, bindings, invitations, campaigns, inspections."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from rubrics.lifecycle import InspectionState, RemediationStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Organisation(Base):
    """A union in the tree: city federation → county/zone federations → grassroots unions (基层工会),
    to any depth (a 乡镇 or 联合 union above village or member unions).

    The parent of an organisation is its evaluator (上一级工会), whatever its kind: a grassroots union
    (one with a rubric, inspected itself) may be the parent of others. Only grassroots unions carry a
    rubric.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rubric_key: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    member_count: Mapped[int | None] = mapped_column(Integer)
    #: Place among its siblings in official listings (原州区, 西吉县 … 开发区); None: after the numbered
    #: ones, in the order they were added.
    sort_order: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])

    @property
    def is_grassroots(self) -> bool:
        return self.rubric_key is not None


class Account(Base):
    """A WeChat user of the official account, known by openid."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # WeChat's customer-service window: 5 messages within 48 h of the user's last message,
    # 3 within a minute of a menu click, subscribe or scan.
    last_message_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    cs_since_message: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cs_since_event: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    bindings: Mapped[list[RoleBinding]] = relationship(back_populates="account", order_by="RoleBinding.id")


class Invitation(Base):
    """A binding code (邀请码) for one role in one organisation; single or multi use, with an expiry."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(16))
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class RoleBinding(Base):
    """An account's role (chair, evaluator, member, admin) in one organisation."""

    __tablename__ = "role_bindings"
    __table_args__ = (UniqueConstraint("account_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(back_populates="bindings")
    organisation: Mapped[Organisation] = relationship()


class Campaign(Base):
    """A campaign year (年度年检)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    self_check_due: Mapped[date | None] = mapped_column(Date)
    review_due: Mapped[date | None] = mapped_column(Date)
    #: The county summaries (年检工作情况总结) are due on this month/day of the following year; a day
    #: past the month's end means its last day (the seed's 2月30日).
    report_due_month: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    report_due_day: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    #: Share of grassroots unions to be inspected this year; None: the seed's (2023 30 %, 2024 70 %, then 100 %).
    coverage_target: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    #: Narrowed to a list or a draw (campaign open --scope-file / --share): unions added later do not join.
    scoped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: How the scope was chosen, as shown to admins (a file name, or the share and seed of a draw).
    scope_note: Mapped[str | None] = mapped_column(String(200))
    #: The version of each sheet pinned when the year opened ({"village": "2026.1", …}); None: the
    #: shipped sheets (a campaign opened before versions were stored).
    rubric_versions: Mapped[dict[str, str] | None] = mapped_column(JSON)


class RubricVersion(Base):
    """A sheet's version imported by a federation (`nianjian rubrics import`); the shipped TOML sheets
    are each key's first version and are not stored here."""

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("rubric_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_key: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(32))
    #: The sheet as `Rubric.to_dict` gives it (title, dimensions, items with their notes).
    sheet: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    #: Where it came from (the file name), as shown in the console.
    origin: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Inspection(Base):
    """One organisation's inspection in one campaign; ``state`` follows rubrics.lifecycle."""

    __tablename__ = "inspections"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    rubric_key: Mapped[str] = mapped_column(String(32))
    rubric_version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(24), default=InspectionState.NOT_STARTED.value)
    self_submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The result (组织评定 → 星级确定), filled when the evaluator submits and by the quota.
    assessor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    rated_at: Mapped[datetime | None]
    raw_total: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    democratic_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    stars_by_score: Mapped[int | None] = mapped_column(Integer)
    stars: Mapped[int | None] = mapped_column(Integer)
    quota_capped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    quota_flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stars_reason: Mapped[str | None] = mapped_column(Text)
    override_stars: Mapped[int | None] = mapped_column(Integer)
    override_reason: Mapped[str | None] = mapped_column(Text)
    below_standard: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The plan's three consequences of a result below the standard (取消经费支持、职工帮扶、评先选优指标).
    no_funding_support: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    no_hardship_aid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    no_award_eligibility: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The reason of the last 退回, shown to the chair until the self-check is submitted again.
    return_reason: Mapped[str | None] = mapped_column(Text)
    #: The assessment record (组织评定): methods used (听汇报 …) and the written opinion (考评意见).
    assessment_methods: Mapped[list[str] | None] = mapped_column(JSON)
    assessment_opinion: Mapped[str | None] = mapped_column(Text)
    # 公示: the publication round (1, 2 after a re-review, …) and its window.
    publication_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    publication_days: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None]
    publication_ends_at: Mapped[datetime | None]
    re_review_due_at: Mapped[datetime | None]
    #: A re-review (复查) was submitted after the end of its 10 days (应在 10 日内进行复查评定).
    re_review_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    final_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship()
    organisation: Mapped[Organisation] = relationship()
    item_scores: Mapped[list[ItemScore]] = relationship(order_by="ItemScore.item_no")


class ItemScore(Base):
    """The self score (自评得分) of one item of one inspection."""

    __tablename__ = "item_scores"
    __table_args__ = (UniqueConstraint("inspection_id", "item_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"))
    item_no: Mapped[int] = mapped_column(Integer)
    self_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    assessed_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    #: The city federation's score when the inspection is sampled (抽查).
    city_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    #: Indexed: the latest change of any score is read at once (the weakness figures' cache key).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class Evidence(Base):
    """A photo sent as evidence (佐证材料) for one item."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    item_no: Mapped[int] = mapped_column(Integer)
    media_id: Mapped[str] = mapped_column(String(128))
    pic_url: Mapped[str] = mapped_column(String(512), default="")
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # WeChat keeps an upload's media 3 days: the scheduler downloads it into the evidence directory
    # (chatbot.notify.evidence). pending → fetching → stored | failed (with the reason in Chinese).
    file_status: Mapped[str] = mapped_column(
        String(16), default="pending", server_default="pending", index=True
    )
    file_path: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(40))
    file_size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_fetch_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    fetch_error: Mapped[str | None] = mapped_column(Text)
    stored_at: Mapped[datetime | None]


class Evaluation(Base):
    """A democratic evaluation (民主测评) of one inspection, joined with a code or its QR scene eval:CODE."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime]
    #: The open part of the electorate: places for people without a binding who arrive with the code.
    open_slots: Mapped[int] = mapped_column(Integer, default=0)
    #: Open places taken by a ballot of someone not invited, and by a member who bound later and was
    #: invited in place of one: together never more than ``open_slots``.
    open_used: Mapped[int] = mapped_column(Integer, default=0)
    open_joined: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The paper part of the electorate, fixed when it opens: forms for people not invited in chat
    #: (where all members take part, the members on the roll not bound in chat). NULL on evaluations
    #: opened before the electorate was fixed (migration 0013): their forms handed out count instead.
    paper_places: Mapped[int | None] = mapped_column(Integer)
    #: 会员人数少的，全部参加: the union's member count when it was at most the configured size at opening;
    #: every member is then in the electorate, bound or not.
    all_members: Mapped[int | None] = mapped_column(Integer)
    #: The small-count rule's minimum (EVALUATION_MIN_BALLOTS_SHOWN) when it opened: fewer ballots and
    #: its satisfaction rate and score are never shown. NULL on evaluations opened before (migration 0017):
    #: the default minimum applies.
    min_ballots_shown: Mapped[int | None] = mapped_column(Integer)
    #: Closed before its date by the evaluator, with the reason (audited).
    closed_reason: Mapped[str | None] = mapped_column(Text)
    #: Set aside by the evaluator (not counted in the result), with the reason (audited).
    waived_at: Mapped[datetime | None]
    waived_reason: Mapped[str | None] = mapped_column(Text)
    #: Paper forms (纸质测评表) entered by the evaluator: counts only, never identities.
    paper_distributed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paper_returned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Per question, [满意, 基本满意, 不满意] counts of the returned paper forms.
    paper_counts: Mapped[list[list[int]] | None] = mapped_column(JSON)
    #: When the voters' dedup tokens were re-keyed with a key thrown away and the ballots reshuffled
    #: (chatbot.inspection.privacy): from then on no one, the server included, can tie a voter row to
    #: an openid or to a ballot.
    sealed_at: Mapped[datetime | None]
    #: The bound part of the turnout's denominator, kept when `nianjian purge` removed the list of the
    #: people invited (chatbot.inspection.privacy).
    invited_frozen: Mapped[int | None] = mapped_column(Integer)

    inspection: Mapped[Inspection] = relationship()


class EvaluationParticipant(Base):
    """One invited participant of a democratic evaluation (the explicit electorate).

    Who was invited is known; how anyone voted is not (ballots carry no voter).
    """

    __tablename__ = "evaluation_participants"

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True, index=True)
    #: member: a member of the union; committee: a member (委员、代表) of the parent union; open: a
    #: member who bound after the opening, invited in place of an open place (counted in that part).
    source: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvaluationVoter(Base):
    """That somebody voted: a keyed hash (HMAC) of the voter, never the openid, and no link to the ballot."""

    __tablename__ = "evaluation_voters"

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), primary_key=True)
    voter_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_open_slot: Mapped[bool] = mapped_column(Boolean, default=False)


class Ballot(Base):
    """One anonymous ballot: a random id, the answers (1 满意 2 基本满意 3 不满意), an optional suggestion.

    No voter, no account and no time: nothing here ties a ballot to a person.
    """

    __tablename__ = "ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    answers: Mapped[list[int]] = mapped_column(JSON)
    suggestion: Mapped[str | None] = mapped_column(Text)


class BallotDraft(Base):
    """A ballot being filled in, kept under the voter's keyed hash until it is cast, then deleted."""

    __tablename__ = "ballot_drafts"

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), primary_key=True)
    voter_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    answers: Mapped[list[int]] = mapped_column(JSON)


class Objection(Base):
    """An objection (异议) to a published result: one per user per publication round."""

    __tablename__ = "objections"
    __table_args__ = (UniqueConstraint("inspection_id", "publication_round", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    publication_round: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    #: Who objected, as bound when they did: ``chair`` or ``member`` of the union, or ``public``.
    source: Mapped[str] = mapped_column(String(8), default="member", server_default="member")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    #: The result before and after the re-review that decided the objection (its outcome, told to the
    #: objector and shown in their `进度`); empty while it waits.
    prior_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    prior_stars: Mapped[int | None] = mapped_column(Integer)
    decided_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    decided_stars: Mapped[int | None] = mapped_column(Integer)


class Sample(Base):
    """A draw of rated inspections for the city's re-check (抽查), reproducible from its seed."""

    __tablename__ = "samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    share: Mapped[Decimal] = mapped_column(Numeric(4, 3))
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: 回头看: the draw also took unions rated in an earlier year and not yet this year.
    earlier: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class QuotaConfirmation(Base):
    """A quota scope confirmed for a campaign year: from then on its five-star quota is counted.

    ``scope`` is the code of the scope's organisation: the city (one quota for the city, or its
    city-direct unions when the quota is per county) or a county/zone federation. Confirmed when every
    inspection of the scope is rated, or by an admin who declares the scope complete (with a reason).
    """

    __tablename__ = "quota_confirmations"
    __table_args__ = (UniqueConstraint("campaign_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    scope: Mapped[str] = mapped_column(String(32))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    #: True when every inspection of the scope was rated; False when an admin declared it complete.
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str | None] = mapped_column(Text)


class Remediation(Base):
    """补课: a result below the standard must be remedied by a due date and re-checked by the evaluator."""

    __tablename__ = "remediations"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), unique=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    #: rubrics.lifecycle.RemediationStatus: open → reported (the chair says it is done) → passed, or
    #: open again (the evaluator's re-check); withdrawn when a re-check lifts the result to the standard.
    status: Mapped[str] = mapped_column(String(16), default=RemediationStatus.OPEN.value)
    reported_at: Mapped[datetime | None]
    report_text: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None]
    checker_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    check_text: Mapped[str | None] = mapped_column(Text)


class SampledInspection(Base):
    """One inspection drawn for the city's re-check, with the city's result once it is done."""

    __tablename__ = "sampled_inspections"
    __table_args__ = (UniqueConstraint("sample_id", "inspection_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id"), index=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    county_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    county_stars: Mapped[int | None] = mapped_column(Integer)
    city_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    city_stars: Mapped[int | None] = mapped_column(Integer)
    checked_at: Mapped[datetime | None]
    checker_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class Member(Base):
    """A union member on the roll (会员), imported by the admin.

    The phone is kept encrypted (``phone_cipher``, PERSONAL_DATA_KEY) and found by its keyed hash
    (``phone_hash``): one entry per number in an organisation's roll. Shown masked (chatbot.store.personal).
    """

    __tablename__ = "members"
    #: Leads with the hash: it finds a number in every organisation and keeps it once in each.
    __table_args__ = (UniqueConstraint("phone_hash", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    phone_cipher: Mapped[str] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The last import that listed this member: a roll entry no import has listed for the retention
    #: period is removed by `nianjian purge`.
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class CountyReport(Base):
    """A county/zone federation's annual summary as received by the city (electronic, stamped paper)."""

    __tablename__ = "county_reports"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    electronic_received_at: Mapped[datetime | None]
    paper_received_at: Mapped[datetime | None]


class ReportNarrative(Base):
    """The parts of a federation's annual summary (年检工作情况总结) its staff write in the console:
    二、主要做法, 三、存在问题, 四、下一步打算 — one row per federation and campaign year."""

    __tablename__ = "report_narratives"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: 主送机关; empty: the default (a county's summary goes to the city's 组织部, the city's to none).
    addressee: Mapped[str] = mapped_column(String(200), default="", server_default="")
    practices: Mapped[str] = mapped_column(Text, default="", server_default="")
    problems: Mapped[str] = mapped_column(Text, default="", server_default="")
    plans: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class CountyPlan(Base):
    """A county/zone federation's plan for a campaign year (制定本地本系统年检活动的计划和目标): its own
    coverage target (at least the city's), its own deadlines (none later than the city's; None: the
    city's) and a short text."""

    __tablename__ = "county_plans"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    coverage_target: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    self_check_due: Mapped[date | None] = mapped_column(Date)
    review_due: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")


class GridAssignment(Base):
    """网格化管理: the one person responsible for a union's inspection in a campaign year — a console
    user of its county federation, or an evaluator binding (a WeChat account) above the union. The
    assignment goes with the binding when the binding is removed."""

    __tablename__ = "grid_assignments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "organisation_id"),
        CheckConstraint("(console_user_id IS NULL) <> (role_binding_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    console_user_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), index=True)
    role_binding_id: Mapped[int | None] = mapped_column(
        ForeignKey("role_bindings.id", ondelete="CASCADE"), index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by: Mapped[str] = mapped_column(String(80), default="")


class ApiToken(Base):
    """The WeChat access token where no Redis is configured: one row per account, shared by processes."""

    __tablename__ = "api_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(512), default="")
    expires_at: Mapped[datetime | None]
    day: Mapped[str] = mapped_column(String(10), default="")
    fetches: Mapped[int] = mapped_column(Integer, default=0)


class OutboxMessage(Base):
    """A notice to one user, written in the transaction of the event that causes it (delivered later)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    due: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(Text)
    #: The notice's facts as JSON (union, stars, score, round, result…): what a template's typed fields
    #: are composed from (chatbot.notify.message); "" for none.
    facts: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: pending → claimed → sending → sent | failed | undeliverable | pending (retry); a send cut off
    #: mid-way becomes unconfirmed and is never repeated (chatbot.delivery).
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class DeliveryPause(Base):
    """A kind of notice held back until WeChat's daily quota renews (45009), seen by every delivery
    process; kind ``*`` holds every send (the access_token fetches of the day are used up). A pause
    ends by itself at ``until`` (the next Asia/Shanghai midnight)."""

    __tablename__ = "delivery_pauses"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    paused_at: Mapped[datetime] = mapped_column(default=utcnow)
    until: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    #: Sends that went through that day before WeChat refused: the daily quota as measured.
    sent_today: Mapped[int] = mapped_column(Integer, default=0)


class ConsoleUser(Base):
    """A federation staff member of the web console: a city admin sees everything, a county admin its county."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    #: Raised by a password reset and by disabling the account: every session signed in under an
    #: earlier value has ended.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When the account was disabled (``nianjian admin disable``); None while it may sign in.
    disabled_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()


class InboundMessage(Base):
    """A message already handled, with the reply it got: a WeChat retry gets the same reply, applied once."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(128), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    reply: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEntry(Base):
    """The audit log (审计日志): who did what, when, before and after, and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)

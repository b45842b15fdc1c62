"""The written parts of a federation's annual summary (年检工作情况总结): 主送机关, 二、主要做法,
三、存在问题, 四、下一步打算 — kept per federation and campaign year, edited in the console, filled into
the generated report. Light: SQLAlchemy only, so the console's form does not load python-docx."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.documents.labels import printed
from chatbot.documents.sentences import (
    LosingItem,
    OverRating,
    counties_sentence,
    item_name,
    weakness_paragraph,
)
from chatbot.inspection import audit, weaknesses
from chatbot.inspection.errors import AdminError
from chatbot.inspection.hierarchy import CITY_DIRECT, OrgTree, load_tree
from chatbot.inspection.order import short_name
from chatbot.store.models import Campaign, Organisation, ReportNarrative


@dataclass(frozen=True)
class Section:
    """A written section: the model's field, its heading in the report, and a hint for the form."""

    field: str
    heading: str
    hint: str


SECTIONS: tuple[Section, ...] = (
    Section("practices", "二、主要做法", "组织发动、分级负责、督促指导、宣传培训等方面的做法和成效。"),
    Section("problems", "三、存在问题", "年检中发现的基层工会组织建设、制度落实、经费管理等方面的问题。"),
    Section("plans", "四、下一步打算", "整改补课、规范化建设和下一年度年检的安排。"),
)
#: What the report says where a section was not written: neutral, for a clerk to replace.
NOT_WRITTEN = "（本部分内容待补充。）"
#: Longest text kept per section: a page or two of the report. The three sections fit one form post
#: under the app's 64 KB body limit even URL-encoded (9 bytes a Chinese character).
MAX_CHARS = 2_000
MAX_ADDRESSEE = 200
ORGANISATION_DEPARTMENT = "组织部"
#: Breaks a paste from Word carries: a line break inside a paragraph (Shift+Enter) and a page break.
_WORD_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})
#: Control characters a document cannot hold (XML forbids them): dropped, or the summary would fail.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffe\uffff]")


@dataclass(frozen=True)
class Narrative:
    """One federation's written sections for one year; empty strings where nothing is written."""

    addressee: str = ""
    practices: str = ""
    problems: str = ""
    plans: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""

    def text(self, field: str) -> str:
        value = getattr(self, field)
        assert isinstance(value, str)
        return value

    @property
    def missing(self) -> list[Section]:
        """The sections still to be written (the console shows them as to-do)."""
        return [s for s in SECTIONS if not self.text(s.field).strip()]


def narrative_of(session: Session, campaign: Campaign, organisation: Organisation) -> Narrative:
    row = _row(session, campaign, organisation)
    if row is None:
        return Narrative()
    return Narrative(
        row.addressee, row.practices, row.problems, row.plans, row.updated_at, row.updated_by or ""
    )


def narratives_of(session: Session, campaign: Campaign) -> dict[int, Narrative]:
    """Every federation's narrative of the campaign, by organisation id (one query)."""
    return {
        row.organisation_id: Narrative(
            row.addressee, row.practices, row.problems, row.plans, row.updated_at, row.updated_by or ""
        )
        for row in session.scalars(select(ReportNarrative).where(ReportNarrative.campaign_id == campaign.id))
    }


def _row(session: Session, campaign: Campaign, organisation: Organisation) -> ReportNarrative | None:
    return session.scalar(
        select(ReportNarrative).where(
            ReportNarrative.campaign_id == campaign.id,
            ReportNarrative.organisation_id == organisation.id,
        )
    )


def clean(text: str) -> str:
    """The text as kept: Windows line ends made plain, Word's line and page breaks as line ends, other
    control characters dropped, trailing spaces and blank edges dropped."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").translate(_WORD_BREAKS))
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def save_narrative(
    session: Session,
    campaign: Campaign,
    organisation: Organisation,
    texts: dict[str, str],
    actor: str,
    now: datetime,
) -> Narrative:
    """Store the sections given in ``texts`` (field → text; others unchanged), audited."""
    if organisation.is_grassroots:
        raise AdminError(f"{organisation.name}是基层工会，年检工作情况总结由县（区）总工会或市总工会填写。")
    known = {"addressee", *(s.field for s in SECTIONS)}
    unknown = set(texts) - known
    if unknown:
        raise ValueError(f"unknown narrative fields: {sorted(unknown)}")
    cleaned = {field: clean(value) for field, value in texts.items()}
    if len(cleaned.get("addressee", "")) > MAX_ADDRESSEE:
        raise AdminError(f"主送机关最多 {MAX_ADDRESSEE} 个字。")
    for section in SECTIONS:
        if len(cleaned.get(section.field, "")) > MAX_CHARS:
            raise AdminError(f"“{section.heading}”最多 {MAX_CHARS} 个字，请精简后再保存。")
    row = _row(session, campaign, organisation)
    if row is None:
        row = ReportNarrative(campaign_id=campaign.id, organisation_id=organisation.id)
        session.add(row)
    before = {field: getattr(row, field) or "" for field in cleaned}
    for field, value in cleaned.items():
        setattr(row, field, value)
    row.updated_at, row.updated_by = now, actor
    session.flush()
    changed = {f: v for f, v in cleaned.items() if v != before[f]}
    if changed:
        audit.record(
            session,
            actor,
            "report_narrative_saved",
            "organisation",
            organisation.id,
            before={f: before[f] for f in changed},
            after=changed,
            reason=f"{campaign.year}年度年检工作情况总结",
        )
    return narrative_of(session, campaign, organisation)


#: Where the city federation's own summary goes when it names no 主送 (固原 is in 宁夏).
CITY_ADDRESSEE = "宁夏回族自治区总工会组织部"


def default_addressee(session: Session, organisation: Organisation) -> str:
    """主送机关 when none is written: a county's summary goes to its city federation's 组织部 (the plan:
    上报市总工会组织部); the city's own goes up to the region's federation (``CITY_ADDRESSEE``)."""
    if organisation.parent_id is None:
        return CITY_ADDRESSEE
    parent = session.get(Organisation, organisation.parent_id)
    while parent is not None and parent.parent_id is not None:
        parent = session.get(Organisation, parent.parent_id)
    return f"{parent.name}{ORGANISATION_DEPARTMENT}" if parent is not None else ""


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a written section: one per non-empty line (of the text as ``clean`` keeps it,
    should it have been stored before control characters were dropped)."""
    return [line.strip() for line in clean(text).split("\n") if line.strip()]


# ---------------------------------------------------------------- the drafted 三、存在问题


def losing_item(item: weaknesses.ItemLoss) -> LosingItem:
    """An item's figures as the drafted paragraph states them."""
    return LosingItem(
        item_name(printed(item.text)),
        item.now.losing,
        item.now.share,
        item.now.average,
        item.share_change,
        item.last_year is weaknesses.LastYear.NEW,
    )


def _over(found: weaknesses.Weaknesses) -> OverRating | None:
    over = found.over_rated(1)
    if not over:
        return None
    item = over[0]
    return OverRating(item_name(printed(item.text)), item.self_rating.over, item.self_rating.mean_gap)


def area_of(name: str) -> str:
    """How the paragraph names a federation's whole area: 全县 for a county, else 全区."""
    return "全县" if short_name(name).endswith("县") else "全区"


def problems_draft(
    session: Session, campaign: Campaign, organisation: Organisation, tree: OrgTree | None = None
) -> str:
    """三、存在问题 as drafted from the year's figures (``weaknesses``): a proposal the federation edits
    in the console; "" for a federation with no rated union that lost points (``tree``: the one the
    caller loaded)."""
    tree = tree or load_tree(session)
    if organisation.parent_id is None:
        city, groups = weaknesses.survey(session, campaign, tree)
        text = weakness_paragraph(
            "全市", [losing_item(i) for i in city.top()], _over(city), city.previous_year
        )
        parts = [(short_name(g.name), losing_item(g.top(1)[0])) for g in groups if g.top(1)]
        return text + counties_sentence(parts) if text else ""
    group = next((g for g in tree.groups() if g.code == organisation.code and g.name != CITY_DIRECT), None)
    if group is None:
        return ""
    found = weaknesses.of_group(session, campaign, group)
    return weakness_paragraph(
        area_of(organisation.name), [losing_item(i) for i in found.top()], _over(found), found.previous_year
    )

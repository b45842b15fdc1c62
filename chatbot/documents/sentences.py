"""The generated sentences of a summary's 一、基本情况, as pure functions of counts.

Every sentence states only what the counts say: the inspections of the year are split into disjoint
stages (each union counted in exactly one), a stage with no union is left out rather than written as
"0 个", and a stage holding every union reads "均……". ``chatbot.documents.reports`` gathers the counts
from the database; nothing here reads it, so the sentences are tested over every combination of states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rubrics.scoring import format_percent, format_score


@dataclass(frozen=True)
class Progress:
    """Where the inspections of one group (or the city) stand: each in exactly one stage."""

    unions: int  # grassroots unions known
    not_submitted: int  # not started, self-checking, or sent back to the chair
    assessing: int  # self-check submitted, organisational assessment not finished
    rated: int  # rated, not yet published
    publishing: int  # published, the publication period running
    re_reviewing: int  # objected to, the re-review not yet published
    final: int  # the publication period over: stars final

    @property
    def in_scope(self) -> int:
        return (
            self.not_submitted
            + self.assessing
            + self.rated
            + self.publishing
            + self.re_reviewing
            + self.final
        )

    @property
    def with_result(self) -> int:
        return self.rated + self.publishing + self.re_reviewing + self.final

    @property
    def published(self) -> int:
        return self.publishing + self.re_reviewing + self.final


#: The stages as a summary names them, the furthest first.
STAGES: tuple[tuple[str, str], ...] = (
    ("final", "已公示期满、确定星级"),
    ("publishing", "正在公示"),
    ("re_reviewing", "公示期间有异议、正在复查"),
    ("rated", "已完成组织评定、尚未公示"),
    ("assessing", "已提交自评、正在组织评定"),
    ("not_submitted", "尚未提交自评"),
)


def counted(parts: Sequence[tuple[str, int]], whole: int, unit: str = "个") -> str:
    """ "其中A2个，B1个" without the empty parts, or "均A" when one part is the whole ("A" when the
    whole is one); "" for none."""
    present = [(label, n) for label, n in parts if n]
    if not present:
        return ""
    if len(present) == 1 and present[0][1] == whole:
        return ("均" if whole > 1 else "") + present[0][0]
    return "其中" + "，".join(f"{label}{n}{unit}" for label, n in present)


def coverage_paragraph(
    subject: str, year: int, progress: Progress, share: Decimal, cumulative: Decimal, target: Decimal
) -> str:
    """（一）年检覆盖情况. ``subject`` opens it ("原州区总工会所属", "全市共有"); ``share`` is this year's
    rated share, ``cumulative`` the share rated in this or an earlier year, compared with ``target``."""
    p = progress
    if not p.unions:
        return f"{subject}基层工会尚未登记，{year}年度无年检对象。"
    text = f"{subject}基层工会{p.unions}个，"
    if not p.in_scope:
        text += f"{year}年度尚未纳入年检。"
    else:
        whole = p.in_scope == p.unions
        text += (
            ("均" if whole and p.unions > 1 else "")
            + f"纳入{year}年度年检"
            + ("" if whole else f"{p.in_scope}个")
        )
        text += "，" + counted([(label, getattr(p, key)) for key, label in STAGES], p.in_scope) + "。"
    reached = "达到" if cumulative >= target else "未达到"
    if cumulative == share:
        text += f"年检覆盖率{format_percent(share)}，{reached}年度目标{format_percent(target)}。"
    else:
        text += (
            f"本年度已评定单位占{format_percent(share)}，连同以往年度已评定的单位，"
            f"累计年检覆盖率{format_percent(cumulative)}，{reached}年度目标{format_percent(target)}。"
        )
    return text


def rated_sentence(subject: str, rated: int, average: str, counts: Sequence[tuple[str, int]]) -> str:
    """（二）'s opening: how many unions are rated, their (average) score, then their stars from
    (label, count) pairs, best first, as a sentence of their own so no star level reads as the
    average's: "已评定1个单位，得分98分，评为四星级。", "已评定2个单位，平均得分90分，均评为四星级。",
    "已评定3个单位，平均得分80.7分。评定结果为五星级1个、四星级2个。". ``subject`` opens it ("", "全市")."""
    present = [(label, n) for label, n in counts if n]
    if rated == 1:
        text = f"{subject}已评定1个单位，得分{average}分"
        return text + (f"，评为{present[0][0]}。" if present else "。")
    text = f"{subject}已评定{rated}个单位，平均得分{average}分"
    if len(present) == 1 and present[0][1] == rated:
        return text + f"，均评为{present[0][0]}。"
    stars = "、".join(f"{label}{n}个" for label, n in present)
    return text + (f"。评定结果为{stars}。" if stars else "。")


@dataclass(frozen=True)
class Quota:
    """A five-star quota scope as a summary states it."""

    where: str  # 全市 or 本级
    percent: int
    rated: int
    places: int
    five_star: int
    confirmed: bool


def quota_sentence(quota: Quota) -> str:
    q = quota
    text = f"按照五星级不超过评定总数的{q.percent}%的要求，"
    if not q.rated:
        return text + f"{q.where}尚无评定结果，五星级名额待评定后核定。"
    if q.places:
        text += f"{q.where}五星级名额{q.places}个"
    else:
        text += f"{q.where}评定{q.rated}个，按比例尚无五星级名额"
    if q.confirmed:
        text += (
            f"，评为五星级{q.five_star}个，名额已确认。" if q.five_star else "，名额已确认，无五星级单位。"
        )
    elif q.five_star:
        text += f"，按得分达到五星级的{q.five_star}个单位待名额确认后确定星级。"
    else:
        text += "，尚无单位得分达到五星级，名额待确认。"
    return text


@dataclass(frozen=True)
class Remedies:
    """The unions below the standard by where their remediation (补课) stands."""

    passed: int = 0  # done and passed the re-check
    reported: int = 0  # reported done, waiting for the re-check
    open: int = 0  # to be done, within its due date
    overdue: int = 0  # to be done, past its due date
    waiting: int = 0  # the result not yet final: the remediation opens when it is

    @property
    def total(self) -> int:
        return self.passed + self.reported + self.open + self.overdue + self.waiting


def below_sentence(remedies: Remedies) -> str:
    r = remedies
    if not r.total:
        return "本年度无低于建设标准的单位。"
    text = f"共有{r.total}个单位低于建设标准，按规定须补课，并取消其经费支持、职工帮扶、评先选优指标"
    parts = (
        ("已补课并验收通过", r.passed),
        ("已报告补课完成、待验收", r.reported),
        ("正在补课", r.open),
        ("补课已逾期", r.overdue),
        ("待结果确定后开始补课", r.waiting),
    )
    return f"{text}；{'该单位' if r.total == 1 else ''}{counted(parts, r.total)}。"


def objections_sentence(published: int, objections: int, units: int, re_reviewing: int) -> str:
    """（四）: ``objections`` filed against ``units`` unions, ``re_reviewing`` of them not yet republished
    (an objected result is always re-reviewed and published again)."""
    if not objections:
        return "公示期间未收到异议。" if published else "本年度尚未公示年检结果。"
    text = f"公示期间收到异议{objections}件，涉及{units}个单位"
    parts = (("已复查评定并再次公示", units - re_reviewing), ("复查尚未完成", re_reviewing))
    return f"{text}，{counted(parts, units)}。"


# ---------------------------------------------------------------- where the points are lost (三、存在问题)

#: How many of the items that lose most the drafted paragraph names.
DRAFT_ITEMS = 3
#: The longest item name the paragraph quotes (the requirement's first clause, cut here).
ITEM_NAME_CHARS = 24
_CLAUSE_END = "，,。；;：:"


def item_name(text: str) -> str:
    """An item as a sentence quotes it: the requirement's first clause, cut to ``ITEM_NAME_CHARS``."""
    clause = text
    for index, ch in enumerate(text):
        if ch in _CLAUSE_END:
            clause = text[:index]
            break
    return clause if len(clause) <= ITEM_NAME_CHARS else clause[:ITEM_NAME_CHARS] + "…"


@dataclass(frozen=True)
class LosingItem:
    """One item as the drafted paragraph states it."""

    name: str  # ``item_name`` of its requirement
    losing: int  # unions that lost points on it
    share: Decimal  # of the unions assessed on it (0 … 1)
    average: Decimal  # points lost per assessed union
    change: Decimal | None = None  # the share's change from last year (0 … 1), where compared
    new: bool = False  # not in last year's sheet


@dataclass(frozen=True)
class OverRating:
    """The item chairs over-rate most: how many rated themselves higher, and by how much on average."""

    name: str
    over: int
    mean_gap: Decimal


def _points(value: Decimal) -> str:
    return format_score(value)


def _change(item: LosingItem) -> str:
    if item.new:
        return f"“{item.name}”为今年新增考评内容"
    assert item.change is not None
    points = format_percent(abs(item.change)).removesuffix("%")
    if item.change > 0:
        return f"“{item.name}”一项失分单位占比较上年上升{points}个百分点"
    if item.change < 0:
        return f"“{item.name}”一项失分单位占比较上年下降{points}个百分点"
    return f"“{item.name}”一项失分单位占比与上年持平"


def weakness_paragraph(
    area: str, items: Sequence[LosingItem], over: OverRating | None, year_before: int | None
) -> str:
    """三、存在问题's drafted paragraph: the items that lose most in ``area`` (全县, 全市 …), how they
    changed from last year, and where chairs over-rate themselves; "" when no item lost points."""
    if not items:
        return ""
    named = [
        f"{item.losing}个单位在“{item.name}”一项失分，占{format_percent(item.share)}，"
        f"平均失分{_points(item.average)}分"
        for item in items[:DRAFT_ITEMS]
    ]
    text = f"数据显示，{area}" + "；".join(named) + "。"
    changes = [_change(i) for i in items[:DRAFT_ITEMS] if i.new or i.change is not None]
    if changes and year_before is not None:
        text += f"与{year_before}年相比，" + "，".join(changes) + "。"
    if over is not None and over.over:
        text += (
            f"对照自评，“{over.name}”一项有{over.over}个单位自评高于考评，"
            f"平均高出{_points(over.mean_gap)}分，自评把关有待加强。"
        )
    return text


def counties_sentence(parts: Sequence[tuple[str, LosingItem]]) -> str:
    """The city's paragraph across counties: each county's item that loses most."""
    if not parts:
        return ""
    named = [
        f"{county}失分最多的是“{item.name}”一项（{item.losing}个单位，占{format_percent(item.share)}）"
        for county, item in parts
    ]
    return "分县（区）看，" + "；".join(named) + "。"

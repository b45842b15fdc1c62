"""The annual summary (年检工作情况总结) of a county federation, or of the whole city, as .docx with charts.

Generated from the data: coverage against target, results by star level and by rubric, five-star quota
use, below-standard unions and their remediation, objections and re-reviews, sampled results,
undeliverable notices.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from chatbot.documents import charts
from chatbot.inspection.coverage import CoverageRow, coverage
from chatbot.inspection.hierarchy import CITY_DIRECT, load_tree
from chatbot.store.models import (
    Campaign,
    Inspection,
    ItemScore,
    Objection,
    Organisation,
    OutboxMessage,
    RoleBinding,
    SampledInspection,
)
from rubrics import get_rubric
from rubrics.lifecycle import RATED, values
from rubrics.quota import five_star_quota
from rubrics.scoring import Stars, format_score

FONT = "宋体"
RUBRIC_NAMES = {
    "state_owned": "国有、集体企业和事业单位", "non_public": "非公有制经济组织、社会组织", "agency": "机关",
    "joint": "区域性、行业性工会联合会", "township": "乡镇（街道）、开发区、工业园区", "village": "村（社区）",
}  # fmt: skip


@dataclass
class ScopeFigures:
    """Everything one section of a summary says, for one group of unions."""

    name: str
    coverage: CoverageRow
    stars: Counter[int] = field(default_factory=Counter)
    by_rubric: dict[str, list[Decimal]] = field(default_factory=dict)
    below: list[tuple[str, str, Decimal]] = field(default_factory=list)
    objections: int = 0
    re_reviewed: int = 0
    samples: list[tuple[str, str, str, str]] = field(default_factory=list)
    undeliverable: int = 0
    dimensions: dict[str, tuple[Decimal, int]] = field(default_factory=dict)

    @property
    def rated(self) -> int:
        return sum(self.stars.values())


def figures_for(
    session: Session,
    campaign: Campaign,
    name: str,
    row: CoverageRow,
    unions: Sequence[int],
    federation_ids: Sequence[int],
) -> ScopeFigures:
    result = ScopeFigures(name, row)
    inspections = session.scalars(
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(
            Inspection.campaign_id == campaign.id,
            Inspection.organisation_id.in_(list(unions)),
            Inspection.state.in_(values(RATED)),
        )
        .order_by(Inspection.id)
    ).all()
    dimension_sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for inspection in inspections:
        score = Decimal(inspection.score or 0)
        result.stars[inspection.stars or 1] += 1
        result.by_rubric.setdefault(inspection.rubric_key, []).append(score)
        if inspection.below_standard:
            result.below.append((inspection.organisation.code, inspection.organisation.name, score))
        if inspection.publication_round > 1:
            result.re_reviewed += 1
        rubric = get_rubric(inspection.rubric_key)
        assessed = {
            no: score
            for no, score in session.execute(
                select(ItemScore.item_no, ItemScore.assessed_score).where(
                    ItemScore.inspection_id == inspection.id, ItemScore.assessed_score.is_not(None)
                )
            ).all()
            if score is not None  # excluded by the query; restated for the type checker
        }
        for dimension in rubric.dimensions:
            sums = dimension_sums[dimension]
            sums[0] += sum((Decimal(assessed.get(i.no, 0)) for i in rubric.items_of(dimension)), Decimal(0))
            sums[1] += rubric.dimension_max(dimension)
    result.dimensions = {
        d: ((s[0] * 100 / s[1]).quantize(Decimal("0.1")), int(s[1]))
        for d, s in dimension_sums.items()
        if s[1]
    }
    ids = [i.id for i in inspections]
    result.objections = (
        session.scalar(select(func.count()).select_from(Objection).where(Objection.inspection_id.in_(ids)))
        or 0
    )
    for entry, org in session.execute(
        select(SampledInspection, Organisation)
        .join(Inspection, SampledInspection.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Inspection.id.in_(ids), SampledInspection.checked_at.is_not(None))
    ):
        result.samples.append(
            (
                org.code,
                org.name,
                f"{format_score(entry.county_score or 0)}（{_stars(entry.county_stars)}）",
                f"{format_score(entry.city_score or 0)}（{_stars(entry.city_stars)}）",
            )
        )
    accounts = select(RoleBinding.account_id).where(
        RoleBinding.organisation_id.in_([*unions, *federation_ids])
    )
    result.undeliverable = (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status.in_(["undeliverable", "failed", "unconfirmed"]),
                OutboxMessage.account_id.in_(accounts),
            )
        )
        or 0
    )
    return result


def _stars(value: int | None) -> str:
    return Stars(value).label if value else "—"


# ---------------------------------------------------------------- the document


def _document() -> DocumentType:
    document = Document()
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
    return document


def _heading(document: DocumentType, text: str, level: int) -> None:
    heading = document.add_heading(text, level=level)
    for run in heading.runs:
        run.font.name = FONT
        run.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def _table(document: DocumentType, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = str(text)
        cell.paragraphs[0].runs[0].font.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = str(value)
    document.add_paragraph()


def _picture(document: DocumentType, png: bytes) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(15))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _percent(value: Decimal) -> str:
    return f"{value * 100:.1f}%"


def _section(
    document: DocumentType, figures: ScopeFigures, year: int, level: int, with_charts: bool = False
) -> None:
    row = figures.coverage
    _heading(document, "一、年检覆盖情况", level)
    document.add_paragraph(
        f"{figures.name}共有基层工会 {row.unions} 个，纳入 {year} 年度年检 {row.in_scope} 个，已提交自评 {row.submitted} 个，"
        f"已完成组织评定 {row.rated} 个，已公示 {row.published} 个，已定级 {row.final} 个。"
        f"年检覆盖率 {_percent(row.share)}，年度目标 {_percent(row.target)}，{'已达到' if row.on_target else '尚未达到'}目标。"
    )
    _table(
        document,
        ("单位数", "纳入年检", "已提交", "已评定", "已公示", "已定级", "覆盖率", "目标"),
        [
            (
                row.unions,
                row.in_scope,
                row.submitted,
                row.rated,
                row.published,
                row.final,
                _percent(row.share),
                _percent(row.target),
            )
        ],
    )
    if with_charts:
        _picture(
            document,
            charts.coverage_against_target(
                [figures.name], [float(row.share)], float(row.target), "年检覆盖率"
            ),
        )
    _heading(document, "二、星级评定情况", level)
    quota = five_star_quota(figures.rated)
    document.add_paragraph(
        f"已评定 {figures.rated} 个单位，其中五星级 {figures.stars[5]} 个"
        f"（名额 {quota} 个，评定总数的 20%）。"
    )
    _table(
        document,
        ("星级", *[s.label for s in reversed(Stars)], "合计"),
        [("单位数", *[figures.stars[int(s)] for s in reversed(Stars)], figures.rated)],
    )
    _table(
        document,
        ("考评标准", "单位数", "平均得分"),
        [
            (RUBRIC_NAMES.get(key, key), len(scores), format_score(sum(scores, Decimal(0)) / len(scores)))
            for key, scores in sorted(figures.by_rubric.items())
        ]
        or [("—", 0, "—")],
    )
    if with_charts:
        _picture(document, charts.star_distribution([figures.name], [_levels(figures)], "星级分布"))
    if figures.dimensions:
        names = list(figures.dimensions)
        _picture(
            document,
            charts.dimension_scores(
                names, [float(figures.dimensions[n][0]) for n in names], f"{figures.name}各维度平均得分率"
            ),
        )
    _heading(document, "三、未达标单位及补课情况", level)
    if figures.below:
        document.add_paragraph(
            f"共 {len(figures.below)} 个单位低于建设标准，须补课，并取消经费支持、职工帮扶、评先选优指标："
        )
        _table(
            document, ("单位编号", "单位名称", "得分"), [(c, n, format_score(s)) for c, n, s in figures.below]
        )
    else:
        document.add_paragraph("无低于建设标准的单位。")
    _heading(document, "四、异议与复查", level)
    document.add_paragraph(
        f"公示期间收到异议 {figures.objections} 件，经复查评定后再次公示 {figures.re_reviewed} 个单位。"
    )
    _heading(document, "五、市总工会抽查情况", level)
    if figures.samples:
        _table(document, ("单位编号", "单位名称", "县级考评", "市级抽查"), figures.samples)
    else:
        document.add_paragraph("本年度尚无抽查结果。")
    _heading(document, "六、通知送达情况", level)
    document.add_paragraph(
        f"未能送达的通知 {figures.undeliverable} 条（未关注公众号、超出消息窗口或发送中断），"
        "请通过电话等方式补充通知。"
    )


def county_report(session: Session, campaign: Campaign, county: Organisation, path: Path) -> None:
    """The summary of one county/zone federation."""
    tree = load_tree(session)
    rows = {r.code: r for r in coverage(session, campaign, tree)}
    unions = next((list(g.unions) for g in tree.groups() if g.code == county.code), None)
    if unions is None or county.code not in rows:
        raise ValueError(f"{county.code} 不是县（区）或开发区总工会。")
    figures = figures_for(session, campaign, county.name, rows[county.code], unions, [county.id])
    document = _document()
    _title(document, f"{county.name}{campaign.year}年度基层工会组织年检工作情况总结")
    _section(document, figures, campaign.year, 1, with_charts=True)
    document.save(str(path))  # python-docx takes a path as str (ZipFile would fspath a Path the same)


def city_report(session: Session, campaign: Campaign, path: Path) -> None:
    """The city's summary: the totals and charts, then one section per county."""
    tree = load_tree(session)
    rows = coverage(session, campaign, tree)  # one row per group, in the order of groups(), then the total
    sections = []
    for group, row in zip(tree.groups(), rows[:-1], strict=True):
        federations = [tree.codes[group.code]] if group.name != CITY_DIRECT else []
        sections.append(figures_for(session, campaign, group.name, row, list(group.unions), federations))
    document = _document()
    _title(document, f"固原市{campaign.year}年度基层工会组织年检工作情况总结")
    total = rows[-1]
    document.add_paragraph(
        f"全市纳入年检基层工会 {total.in_scope} 个，已评定 {total.rated} 个，覆盖率 {_percent(total.share)}，"
        f"年度目标 {_percent(total.target)}。"
    )
    names = [s.name for s in sections]
    _picture(
        document,
        charts.coverage_against_target(
            names, [float(s.coverage.share) for s in sections], float(total.target), "各县（区）年检覆盖率"
        ),
    )
    _picture(document, charts.star_distribution(names, [_levels(s) for s in sections], "各县（区）星级分布"))
    for figures in sections:
        _heading(document, figures.name, 1)
        _section(document, figures, campaign.year, 2)
    document.save(str(path))


def _levels(figures: ScopeFigures) -> list[int]:
    return [figures.stars[level] for level in range(1, 6)]


def _title(document: DocumentType, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.font.size = Pt(18)
    run.font.bold = True
    run.font.name = FONT
    properties = run.element.rPr
    assert properties is not None  # created by the font settings above
    fonts = properties.rFonts
    assert fonts is not None  # created by run.font.name
    fonts.set(qn("w:eastAsia"), FONT)

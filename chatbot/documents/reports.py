"""The annual summary (年检工作情况总结) of a county/zone federation, or of the whole city, as a formal
document (.docx, laid out by ``gongwen``): title, 主送, an opening line, 一、基本情况 generated from the
data (coverage, star levels and the five-star quota, below-standard unions and their remediation,
objections and re-reviews, the city's sampling), 二、主要做法 三、存在问题 四、下一步打算 as the federation
wrote them in the console (``narratives``), and the 落款 with room for the stamp.

Counties appear in their official order (``order.official_key``, the tree's order): the organisations'
``sort_order``, then the order they were added, the city-direct unions last — never by code or name.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from docx.document import Document as DocumentType
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.documents import charts, gongwen, sentences
from chatbot.documents.labels import RUBRIC_NAMES, printed, rubric_name
from chatbot.documents.narratives import (
    NOT_WRITTEN,
    SECTIONS,
    Narrative,
    clean,
    default_addressee,
    narrative_of,
    paragraphs,
    problems_draft,
)
from chatbot.inspection import remediation
from chatbot.inspection.coverage import CoverageRow, coverage
from chatbot.inspection.hierarchy import CITY_DIRECT, Group, OrgTree, load_tree
from chatbot.inspection.order import short_name
from chatbot.inspection.results import ScopeStatus, provisional_ids, scope_statuses
from chatbot.inspection.rubric_versions import pinned, rubric_for
from chatbot.store.models import (
    Campaign,
    Inspection,
    ItemScore,
    Objection,
    Organisation,
    SampledInspection,
)
from chatbot.timeutil import SHANGHAI
from rubrics.lifecycle import RATED, InspectionState, RemediationStatus, values
from rubrics.scoring import ONE_DECIMAL, Stars, format_percent, format_score

#: The plan the summaries report on (the seed).
PLAN = "《固原市基层工会组织年检工作实施方案》（固工发〔2023〕86号）"
STAR_ORDER = tuple(reversed(Stars))  # 五星级 first, as reports list them
TITLE_TAIL = "年度基层工会组织年检工作情况总结"


def one_decimal(value: Decimal) -> str:
    """A score or average as the project writes numbers: one decimal, half up, no trailing zero."""
    return format_score(Decimal(value).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP))


def average(scores: Sequence[Decimal]) -> str:
    """The scores' average as ``one_decimal`` writes it; "—" for none."""
    return one_decimal(sum(scores, Decimal(0)) / len(scores)) if scores else "—"


@dataclass(frozen=True)
class Below:
    code: str
    name: str
    score: Decimal
    remediation: str


@dataclass(frozen=True)
class Sample:
    code: str
    name: str
    county: str
    city: str


@dataclass
class GroupFigures:
    """What the summary says about one group of unions (a county/zone federation's, or the city's
    direct unions)."""

    group: Group
    coverage: CoverageRow
    stars: Counter[int] = field(default_factory=Counter)
    provisional: int = 0
    scores: dict[str, list[Decimal]] = field(default_factory=dict)  # by rubric key
    below: list[Below] = field(default_factory=list)
    objections: int = 0
    objected_units: int = 0  # unions objections were filed against
    re_reviewing: int = 0  # objected to, the re-review not yet published
    remedies: Counter[str] = field(default_factory=Counter)  # by sentences.Remedies field
    samples: list[Sample] = field(default_factory=list)
    dimension_sums: dict[str, list[Decimal]] = field(default_factory=dict)  # [assessed, max]

    @property
    def name(self) -> str:
        return self.group.name

    @property
    def rated(self) -> int:
        return sum(self.stars.values())

    @property
    def all_scores(self) -> list[Decimal]:
        return [s for scores in self.scores.values() for s in scores]

    def average(self) -> str:
        return average(self.all_scores)

    def dimensions(self) -> dict[str, Decimal]:
        """Each dimension's average assessed score as a percentage of its points."""
        return {d: s[0] * 100 / s[1] for d, s in self.dimension_sums.items() if s[1]}


def _groups_with_rows(
    session: Session, campaign: Campaign, tree: OrgTree
) -> tuple[list[tuple[Group, CoverageRow]], CoverageRow]:
    """Each group with its coverage row, in official order (the tree's), and the total row."""
    rows = coverage(session, campaign, tree)  # one row per group, in the order of groups(), then the total
    return list(zip(tree.groups(), rows[:-1], strict=True)), rows[-1]


def gather(
    session: Session,
    campaign: Campaign,
    config: Config,
    tree: OrgTree,
    groups: Sequence[tuple[Group, CoverageRow]],
) -> list[GroupFigures]:
    """The figures of each group, in a fixed number of queries whatever the number of unions."""
    found = [GroupFigures(group, row) for group, row in groups]
    group_of = {union: figures for figures in found for union in figures.group.unions}
    rated = session.execute(
        select(
            Inspection.id,
            Inspection.organisation_id,
            Inspection.rubric_key,
            Inspection.score,
            Inspection.stars,
            Inspection.below_standard,
            Inspection.state,
            Organisation.code,
            Organisation.name,
        )
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Inspection.campaign_id == campaign.id, Inspection.state.in_(values(RATED)))
        .order_by(Inspection.id)
    ).all()
    rated = [r for r in rated if r.organisation_id in group_of]
    figures_of = {r.id: group_of[r.organisation_id] for r in rated}
    provisional = provisional_ids(session, campaign, config, tree)
    remediations = remediation.of_campaign(session, campaign.id)
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    for r in rated:
        figures = figures_of[r.id]
        score = Decimal(r.score or 0)
        figures.stars[r.stars or 1] += 1
        figures.provisional += r.id in provisional
        figures.scores.setdefault(r.rubric_key, []).append(score)
        if r.below_standard:
            remedied = remediations.get(r.id)
            label = remediation.label(*remedied, today) if remedied else "待补课"
            figures.below.append(Below(r.code, r.name, score, label))
            figures.remedies[_remedy(remedied, today)] += 1
        figures.re_reviewing += InspectionState(r.state).awaits_re_review
    _dimensions(
        session,
        campaign,
        [(r.id, r.rubric_key) for r in rated],
        figures_of,
        {tree.nodes[union].parent_id: figures for union, figures in group_of.items()},
    )
    for inspection_id, count in session.execute(
        select(Objection.inspection_id, func.count())
        .join(Inspection, Objection.inspection_id == Inspection.id)
        .where(Inspection.campaign_id == campaign.id)
        .group_by(Objection.inspection_id)
    ):
        if inspection_id in figures_of:
            figures_of[inspection_id].objections += count
            figures_of[inspection_id].objected_units += 1
    for entry, code, name in session.execute(
        select(SampledInspection, Organisation.code, Organisation.name)
        .join(Inspection, SampledInspection.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Inspection.campaign_id == campaign.id, SampledInspection.checked_at.is_not(None))
        .order_by(Organisation.code)
    ):
        if entry.inspection_id in figures_of:
            figures_of[entry.inspection_id].samples.append(
                Sample(
                    code,
                    name,
                    _score_and_stars(entry.county_score, entry.county_stars),
                    _score_and_stars(entry.city_score, entry.city_stars),
                )
            )
    return found


def _dimensions(
    session: Session,
    campaign: Campaign,
    rated: Sequence[tuple[int, str]],
    figures_of: dict[int, GroupFigures],
    by_parent: dict[int | None, GroupFigures],
) -> None:
    """Sum each group's assessed points and maximum per dimension: the maximum from the number of rated
    inspections on each sheet, the points from one query summing the item scores by the unions' parent
    (each parent's unions are in one group), sheet and item — a few hundred rows, not one per score."""
    used = {key for _id, key in rated}
    sheets = {key: rubric_for(session, key, pinned(campaign, key)) for key in used}  # the year's versions
    counts: Counter[tuple[int, str]] = Counter()  # by (id() of the group's figures, sheet key)
    groups: dict[int, GroupFigures] = {}
    for inspection_id, rubric_key in rated:
        figures = groups.setdefault(id(figures_of[inspection_id]), figures_of[inspection_id])
        if not counts[(id(figures), rubric_key)]:  # the dimensions in the order the inspections name them
            for dimension in sheets[rubric_key].dimensions:
                figures.dimension_sums.setdefault(dimension, [Decimal(0), Decimal(0)])
        counts[(id(figures), rubric_key)] += 1
    for (group, rubric_key), count in counts.items():
        rubric, sums = sheets[rubric_key], groups[group].dimension_sums
        for dimension in rubric.dimensions:
            sums[dimension][1] += rubric.dimension_max(dimension) * count
    dimension_of = {
        key: {item.no: item.dimension for item in rubric.items if item.dimension in rubric.dimensions}
        for key, rubric in sheets.items()
    }
    for parent, rubric_key, item_no, points in session.execute(
        select(
            Organisation.parent_id,
            Inspection.rubric_key,
            ItemScore.item_no,
            func.sum(ItemScore.assessed_score),
        )
        .select_from(ItemScore)
        .join(Inspection, ItemScore.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(
            Inspection.campaign_id == campaign.id,
            Inspection.state.in_(values(RATED)),
            Organisation.rubric_key.is_not(None),  # grassroots: the unions the groups hold
            ItemScore.assessed_score.is_not(None),
        )
        .group_by(Organisation.parent_id, Inspection.rubric_key, ItemScore.item_no)
    ):
        owner = by_parent.get(parent)
        named = dimension_of.get(rubric_key, {}).get(item_no)
        if owner is not None and named is not None and points is not None:
            total = owner.dimension_sums.setdefault(named, [Decimal(0), Decimal(0)])
            total[0] += Decimal(str(points))  # SQLite sums the halves as a float


def progress_of(row: CoverageRow, re_reviewing: int) -> sentences.Progress:
    """The coverage row's cumulative counts split into disjoint stages."""
    return sentences.Progress(
        unions=row.unions,
        not_submitted=row.in_scope - row.submitted,
        assessing=row.submitted - row.rated,
        rated=row.rated - row.published,
        publishing=row.published - row.final - re_reviewing,
        re_reviewing=re_reviewing,
        final=row.final,
    )


def _remedy(found: tuple[RemediationStatus, date] | None, today: date) -> str:
    """The ``sentences.Remedies`` field a below-standard union counts in (its remediation, if any)."""
    if found is None:
        return "waiting"
    status, due_on = found
    if status == RemediationStatus.OPEN:
        return "overdue" if remediation.is_overdue(status, due_on, today) else "open"
    return {RemediationStatus.REPORTED: "reported", RemediationStatus.PASSED: "passed"}.get(status, "waiting")


def _score_and_stars(score: Decimal | None, stars: int | None) -> str:
    shown = one_decimal(score) if score is not None else "—"
    return f"{shown}分（{Stars(stars).label}）" if stars else shown


# ---------------------------------------------------------------- the documents


def county_report(
    session: Session,
    campaign: Campaign,
    county: Organisation,
    path: Path,
    config: Config | None = None,
    today: date | None = None,
) -> None:
    """The summary of one county/zone federation, to the city federation's 组织部."""
    read = _read(session, campaign, config)
    config = read.config
    chosen = [(g, row) for g, row in read.groups if g.code == county.code and g.name != CITY_DIRECT]
    if not chosen or county.is_grassroots:
        raise ValueError(f"{county.code}（{county.name}）不是县（区）或开发区总工会。")
    figures = gather(session, campaign, config, read.tree, chosen)[0]
    _summary(
        session,
        campaign,
        county,
        (
            f"按照{PLAN}要求，{county.name}组织开展了{campaign.year}年度基层工会组织年检工作。"
            "现将工作情况总结如下。"
        ),
        lambda document, statuses: _county_facts(document, figures, campaign, config, statuses),
        config,
        read.tree,
        path,
        today,
    )


def city_report(
    session: Session,
    campaign: Campaign,
    path: Path,
    config: Config | None = None,
    today: date | None = None,
) -> None:
    """The city's summary: the whole city, then a row per county in official order in each table."""
    read = _read(session, campaign, config)
    config, total = read.config, read.total
    city = session.scalar(
        select(Organisation).where(Organisation.parent_id.is_(None)).order_by(Organisation.id)
    )
    if city is None:
        raise ValueError("尚未建立市总工会。")
    sections = gather(session, campaign, config, read.tree, read.groups)
    _summary(
        session,
        campaign,
        city,
        (
            f"按照{PLAN}要求，全市各县（区）总工会、开发区总工会和市直基层工会开展了{campaign.year}年度基层工会组织"
            "年检工作。现将工作情况总结如下。"
        ),
        lambda document, statuses: _city_facts(document, sections, total, campaign, config, statuses),
        config,
        read.tree,
        path,
        today,
    )


@dataclass(frozen=True)
class _Read:
    """What both summaries start from: the settings, the organisation tree, each group with its
    coverage row (official order) and the total row."""

    config: Config
    tree: OrgTree
    groups: list[tuple[Group, CoverageRow]]
    total: CoverageRow


def _read(session: Session, campaign: Campaign, config: Config | None) -> _Read:
    tree = load_tree(session)
    groups, total = _groups_with_rows(session, campaign, tree)
    return _Read(config or Config.from_env(), tree, groups, total)


#: Writes 一、基本情况 of a summary, given the quota scopes by code.
Facts = Callable[[DocumentType, dict[str, ScopeStatus]], None]


def _summary(
    session: Session,
    campaign: Campaign,
    issuer: Organisation,
    opening: str,
    facts: Facts,
    config: Config,
    tree: OrgTree,
    path: Path,
    today: date | None,
) -> None:
    """One summary as a 公文 of ``issuer``: the title and addressee, the opening sentence, 一、基本情况
    (``facts``), the written parts and the signature, saved at ``path``."""
    narrative = narrative_of(session, campaign, issuer)
    document = gongwen.new_document()
    _head(document, session, issuer, campaign, narrative)
    gongwen.body(document, opening)
    gongwen.heading(document, "一、基本情况")
    facts(document, _statuses(session, campaign, config, tree))
    _written(document, narrative, problems_draft(session, campaign, issuer, tree))
    gongwen.signature(document, issuer.name, today or _today())
    document.save(str(path))  # python-docx takes a path as str


def _today() -> date:
    return datetime.now(UTC).astimezone(SHANGHAI).date()


def _statuses(session: Session, campaign: Campaign, config: Config, tree: OrgTree) -> dict[str, ScopeStatus]:
    """The quota scopes by code: the city's (whole city) or each county's, as configured."""
    return {s.code: s for s in scope_statuses(session, campaign, config, tree)}


def _head(
    document: DocumentType, session: Session, issuer: Organisation, campaign: Campaign, narrative: Narrative
) -> None:
    gongwen.title(document, [issuer.name, f"{campaign.year}{TITLE_TAIL}"])
    addressee = clean(narrative.addressee) or default_addressee(session, issuer)
    if addressee:
        gongwen.addressee(document, addressee)


def _written(document: DocumentType, narrative: Narrative, draft: str) -> None:
    """二、三、四: the federation's own text, or a neutral line where it wrote nothing; 三 not yet saved
    is the paragraph drafted from the figures (``draft``). The end of 三 keeps with 四, which the
    signature keeps with: the last page never holds 四 and the signature alone."""
    for index, section in enumerate(SECTIONS):
        gongwen.heading(document, section.heading)
        text = narrative.text(section.field)
        if section.field == "problems" and not text.strip():
            text = draft
        for paragraph in paragraphs(text) or [NOT_WRITTEN]:
            written = gongwen.body(document, paragraph)
        written.paragraph_format.keep_with_next = index == len(SECTIONS) - 2


def _rated_sentence(subject: str, figures: Sequence[GroupFigures]) -> str:
    stars: Counter[int] = Counter()
    for f in figures:
        stars.update(f.stars)
    return sentences.rated_sentence(
        subject,
        sum(f.rated for f in figures),
        average([s for f in figures for s in f.all_scores]),
        [(s.label, stars[int(s)]) for s in STAR_ORDER],
    )


def _quota_sentence(status: ScopeStatus | None, config: Config, whole_city: bool) -> str:
    if status is None:
        return ""
    return sentences.quota_sentence(
        sentences.Quota(
            "全市" if whole_city else "本级",
            config.quota_percent,
            status.rated,
            status.places,
            status.five_star,
            status.confirmed,
        )
    )


def _provisional_sentence(figures: Sequence[GroupFigures]) -> str:
    count = sum(f.provisional for f in figures)
    if not count:
        return ""
    rated = sum(f.rated for f in figures)
    which = ("以上星级均" if count > 1 else "以上星级") if count == rated else f"目前有{count}个单位的星级"
    return f"{which}为预评结果，待五星级名额确认后确定。"


def _coverage_paragraph(subject: str, campaign: Campaign, row: CoverageRow, re_reviewing: int) -> str:
    return sentences.coverage_paragraph(
        subject, campaign.year, progress_of(row, re_reviewing), row.share, row.cumulative_share, row.target
    )


def _rubric_table(document: DocumentType, figures: Sequence[GroupFigures]) -> None:
    by_rubric: dict[str, list[Decimal]] = defaultdict(list)
    for f in figures:
        for key, scores in f.scores.items():
            by_rubric[key] += scores
    rows = [
        (
            rubric_name(key),
            len(scores),
            one_decimal(sum(scores, Decimal(0)) / len(scores)),
            one_decimal(max(scores)),
            one_decimal(min(scores)),
        )
        for key, scores in sorted(by_rubric.items(), key=lambda kv: list(RUBRIC_NAMES).index(kv[0]))
        if scores
    ]
    if rows:
        gongwen.table(
            document,
            ("考评标准", "单位数", "平均得分", "最高分", "最低分"),
            rows,
            caption="各类基层工会得分情况（百分制）",
        )


#: Width of the dimension chart (cm): with its low bars, about 5 cm tall, its text about 9 pt.
DIMENSION_CHART_CM = 12.0


def _dimension_chart(document: DocumentType, figures: Sequence[GroupFigures], title: str) -> None:
    sums: dict[str, list[Decimal]] = {}
    for f in figures:
        for dimension, (got, most) in f.dimension_sums.items():
            total = sums.setdefault(dimension, [Decimal(0), Decimal(0)])
            total[0] += got
            total[1] += most
    if not sums:
        return
    names = list(sums)
    shares = [float(sums[n][0] * 100 / sums[n][1]) for n in names]
    png = charts.dimension_scores([printed(n) for n in names], shares, title)
    gongwen.picture(document, png, DIMENSION_CHART_CM)


def _county_facts(
    document: DocumentType,
    figures: GroupFigures,
    campaign: Campaign,
    config: Config,
    statuses: dict[str, ScopeStatus],
) -> None:
    row = figures.coverage
    gongwen.heading(document, "（一）年检覆盖情况", 2)
    gongwen.body(document, _coverage_paragraph(f"{figures.name}所属", campaign, row, figures.re_reviewing))
    gongwen.heading(document, "（二）星级评定情况", 2)
    if figures.rated:
        quota = statuses.get(figures.group.code) if config.quota_scope == "county" else None
        text = _rated_sentence("", [figures])
        text += (
            _quota_sentence(quota, config, whole_city=False)
            if quota
            else "五星级名额由市总工会在全市范围内统一核定。"
        )
        gongwen.body(document, text + _provisional_sentence([figures]))
        _rubric_table(document, [figures])
        _dimension_chart(document, [figures], "各维度平均得分率")
    else:
        gongwen.body(document, "本年度尚无完成组织评定的单位。")
    _below_and_after(document, [figures], with_group=False)


def _city_facts(
    document: DocumentType,
    sections: Sequence[GroupFigures],
    total: CoverageRow,
    campaign: Campaign,
    config: Config,
    statuses: dict[str, ScopeStatus],
) -> None:
    gongwen.heading(document, "（一）年检覆盖情况", 2)
    re_reviewing = sum(f.re_reviewing for f in sections)
    gongwen.body(
        document, _coverage_paragraph("全市共有", campaign, total, re_reviewing) + "各县（区）情况见下表。"
    )
    gongwen.table(
        document,
        ("单位", "基层工会", "纳入年检", "已提交", "已评定", "覆盖率"),
        [
            (short_name(f.name), f.coverage.unions, f.coverage.in_scope, f.coverage.submitted, f.coverage.rated,
             format_percent(f.coverage.share))
            for f in sections
        ]
        + [("合计", total.unions, total.in_scope, total.submitted, total.rated, format_percent(total.share))],
        caption="各县（区）年检覆盖情况",
    )  # fmt: skip
    names = [f.name for f in sections]
    gongwen.picture(
        document,
        charts.coverage_against_target(
            names, [float(f.coverage.share) for f in sections], float(total.target), "各县（区）年检覆盖率"
        ),
    )
    gongwen.heading(document, "（二）星级评定情况", 2)
    rated = sum(f.rated for f in sections)
    if not rated:
        gongwen.body(document, "本年度尚无完成组织评定的单位。")
    else:
        text = _rated_sentence("全市", sections)
        if config.quota_scope == "city":
            city_code = next((s.code for s in statuses.values()), "")
            text += _quota_sentence(statuses.get(city_code), config, whole_city=True)
        else:
            text += f"五星级名额按县（区）分别核定，均不超过本级评定总数的{config.quota_percent}%，见下表。"
        gongwen.body(document, text + _provisional_sentence(sections))
        by_county = config.quota_scope == "county"
        header = ("单位", "已评定", *[s.label for s in STAR_ORDER], "平均得分") + (
            ("五星级名额",) if by_county else ()
        )
        table_rows = []
        for f in sections:
            places = statuses.get(f.group.code)
            extra = ((places.places if places else "—"),) if by_county else ()
            table_rows.append(
                (short_name(f.name), f.rated, *[f.stars[int(s)] for s in STAR_ORDER], f.average(), *extra)
            )
        gongwen.table(document, header, table_rows, caption="各县（区）星级评定情况")
        gongwen.picture(
            document, charts.star_distribution(names, [_levels(f) for f in sections], "各县（区）星级分布")
        )
        _rubric_table(document, sections)
        _dimension_chart(document, sections, "全市各维度平均得分率")
    _below_and_after(document, sections, with_group=True)


def _below_and_after(document: DocumentType, sections: Sequence[GroupFigures], with_group: bool) -> None:
    """（三）below standard and remediation, （四）objections, （五）the city's sampling."""
    gongwen.heading(document, "（三）未达标单位及补课情况", 2)
    below = [(f.name, b) for f in sections for b in f.below]
    if below:
        remedies: Counter[str] = Counter()
        for f in sections:
            remedies.update(f.remedies)
        gongwen.body(document, sentences.below_sentence(sentences.Remedies(**remedies)))
        header = (("所属单位",) if with_group else ()) + ("单位名称", "得分", "补课情况")
        gongwen.table(
            document,
            header,
            [
                ((group,) if with_group else ()) + (b.name, one_decimal(b.score), b.remediation)
                for group, b in below
            ],
            caption="未达标单位",
            groups=_runs([group for group, _ in below]) if with_group else None,
        )
    else:
        gongwen.body(document, "本年度无低于建设标准的单位。")
    gongwen.heading(document, "（四）异议与复查情况", 2)
    gongwen.body(
        document,
        sentences.objections_sentence(
            sum(f.coverage.published for f in sections),
            sum(f.objections for f in sections),
            sum(f.objected_units for f in sections),
            sum(f.re_reviewing for f in sections),
        ),
    )
    gongwen.heading(document, "（五）市总工会抽查情况", 2)
    samples = [(f.name, s) for f in sections for s in f.samples]
    if samples:
        gongwen.body(document, f"市总工会抽查复核{len(samples)}个单位，结果如下。")
        header = (("所属单位",) if with_group else ()) + ("单位名称", "县级考评", "市级抽查")
        gongwen.table(
            document,
            header,
            [((group,) if with_group else ()) + (s.name, s.county, s.city) for group, s in samples],
            caption="抽查复核结果",
            groups=_runs([group for group, _ in samples]) if with_group else None,
        )
    else:
        gongwen.body(document, "本年度尚无抽查复核结果。")


def _runs(values: Sequence[str]) -> list[int]:
    """The lengths of the runs of equal neighbours (a county's rows): the groups a table keeps on one
    page each."""
    runs: list[int] = []
    for at, value in enumerate(values):
        if at and value == values[at - 1]:
            runs[-1] += 1
        else:
            runs.append(1)
    return runs


def _levels(figures: GroupFigures) -> list[int]:
    return [figures.stars[level] for level in range(1, 6)]

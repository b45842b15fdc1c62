"""Where the points are lost, as tables: the headers and cells the console page and the workbook share
(``exports.weakness_book``). Numbers stay numbers — counts as integers, averages and percentages
rounded half up to one decimal, whole ones as integers (no cell shows "75.0"). Light: no openpyxl."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from chatbot.documents.labels import printed, rubric_name, rubric_short_name
from chatbot.documents.sentences import item_name
from chatbot.inspection.order import short_name
from chatbot.inspection.weaknesses import DimensionLoss, ItemLoss, LastYear, Weaknesses
from rubrics.scoring import ONE_DECIMAL, format_score

Cell = int | float | str


def number(value: Decimal) -> int | float:
    """One decimal, half up; a whole number as an integer."""
    rounded = value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def percent(share: Decimal) -> int | float:
    """A share (0.125) as the number of its percentage (12.5)."""
    return number(share * 100)


def change(value: Decimal | None, status: LastYear, reworded: bool = False) -> str:
    """The change of a share from last year, in percentage points, or why there is none."""
    if status is LastYear.NEW:
        return "上年无此项"
    if value is None:
        return "上年无数据"
    points = format_score(abs(value) * 100)
    said = f"上升{points}个百分点" if value > 0 else f"下降{points}个百分点" if value < 0 else "持平"
    return said + ("（表述有调整）" if reworded else "")


ITEM_HEADERS = (
    "排名",
    "考评标准",
    "子项",
    "内容",
    "基本要求",
    "分值",
    "考评单位数",
    "失分单位数",
    "失分单位占比（%）",
    "平均失分",
    "较上年（失分单位占比）",
)
#: Columns of ``ITEM_HEADERS`` holding long text (wrapped, left aligned).
ITEM_LONG = frozenset({4})


def item_row(rank: int, item: ItemLoss) -> tuple[Cell, ...]:
    return (
        rank,
        rubric_name(item.key),
        item.no,
        printed(item.dimension),
        printed(item.text),
        item.points,
        item.now.assessed,
        item.now.losing,
        percent(item.now.share),
        number(item.now.average),
        change(item.share_change, item.last_year, item.reworded),
    )


def ranked(found: Weaknesses) -> list[ItemLoss]:
    """Every item, those that lose most first (``Weaknesses.top``'s order), then the rest in sheet order."""
    losing = found.top(len(found.items))
    return losing + [i for i in found.items if i not in losing]


DIMENSION_HEADERS = (
    "考评标准",
    "内容",
    "分值",
    "考评单位数",
    "失分单位数",
    "失分单位占比（%）",
    "平均失分",
    "失分占该项分值（%）",
    "较上年（失分单位占比）",
)


def dimension_row(dimension: DimensionLoss) -> tuple[Cell, ...]:
    return (
        rubric_name(dimension.key),
        printed(dimension.dimension),
        dimension.points,
        dimension.now.assessed,
        dimension.now.losing,
        percent(dimension.now.share),
        number(dimension.now.average),
        percent(dimension.lost_share),
        change(dimension.share_change, dimension.last_year),
    )


SELF_HEADERS = (
    "考评标准",
    "子项",
    "基本要求",
    "分值",
    "自评、考评均有得分的单位数",
    "自评高于考评的单位数",
    "自评高于考评占比（%）",
    "自评平均高出考评（分）",
)
SELF_LONG = frozenset({2})


def self_row(item: ItemLoss) -> tuple[Cell, ...]:
    rating = item.self_rating
    return (
        rubric_name(item.key),
        item.no,
        printed(item.text),
        item.points,
        rating.both,
        rating.over,
        percent(rating.over_share),
        number(rating.mean_gap),
    )


COUNTY_HEADERS = ("单位", "已评定", "失分最多的子项", "失分单位数", "失分单位占比（%）", "平均失分")


def county_row(found: Weaknesses) -> tuple[Cell, ...]:
    top = found.top(1)
    if not top:
        return (short_name(found.name), found.rated, "—", 0, 0, 0)
    item = top[0]
    named = f"{rubric_name(item.key)}第{item.no}项：{item_name(printed(item.text))}"
    return (
        short_name(found.name),
        found.rated,
        named,
        item.now.losing,
        percent(item.now.share),
        number(item.now.average),
    )


@dataclass(frozen=True)
class Bar:
    """One bar of the console's charts: its label and its value (%)."""

    label: str
    percent: float


@dataclass(frozen=True)
class Axes:
    """The titles of a chart's axes: the values' (with their unit) and the bars'."""

    value: str
    category: str


#: The console's two charts: the items' shares of unions losing points, the dimensions' shares of
#: their points lost (the headers of the tables under them).
ITEM_AXES = Axes(ITEM_HEADERS[8], "子项")
DIMENSION_AXES = Axes(DIMENSION_HEADERS[7], "内容")


def item_bars(items: list[ItemLoss]) -> list[Bar]:
    return [Bar(f"{i.no}.{item_name(printed(i.text))[:10]}", float(percent(i.now.share))) for i in items]


def dimension_bars(dimensions: tuple[DimensionLoss, ...], several_sheets: bool) -> list[Bar]:
    """The dimensions' shares of points lost (named with their sheet, on a line above, where the scope
    has several)."""
    return [
        Bar(
            (f"{rubric_short_name(d.key)}\n" if several_sheets else "") + printed(d.dimension),
            float(percent(d.lost_share)),
        )
        for d in dimensions
    ]

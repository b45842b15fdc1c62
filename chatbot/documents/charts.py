"""Charts for the reports and the console (matplotlib, headless), labelled in Chinese with the CJK font
that ships with the package (Noto Sans CJK SC, SIL Open Font License: fonts/OFL.txt), so no label
renders as empty boxes on a server without CJK fonts."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from fontTools.ttLib import TTFont
from matplotlib import pyplot
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from chatbot.inspection.order import short_name
from rubrics.scoring import format_percent

STAR_COLOURS = ("#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#2471a3")
STAR_NAMES = ("一星级", "二星级", "三星级", "四星级", "五星级")


@cache
def font_path() -> Path:
    path = Path(str(resources.files("chatbot.documents") / "fonts" / "NotoSansCJKsc-Regular.otf"))
    fontManager.addfont(str(path))
    return path


@cache
def _codepoints() -> frozenset[int]:
    with TTFont(str(font_path()), fontNumber=0, lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` the chart font cannot draw (spaces excepted)."""
    return {ch for ch in text if not ch.isspace() and ord(ch) not in _codepoints()}


def _font() -> FontProperties:
    return FontProperties(fname=str(font_path()))


#: The console's charts: drawn as wide as a phone shows them, so that their text keeps its size there.
SCREEN_WIDTH_INCHES = 3.2
#: Their text size (points): on a 390 px phone, where they are shown at about 350 px, about 12 px.
SCREEN_TEXT = 10
#: Their group labels wrap past this many characters (固原经济技术开发区 on two lines).
SCREEN_LABEL_EMS = 6
#: Dots per inch of every chart picture.
PNG_DPI = 150


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight")
    pyplot.close(figure)
    return buffer.getvalue()


#: Size of the tick labels (points) and the width of the axes (inches) the bar charts start from.
LABEL_SIZE = 9
BAR_WIDTH_INCHES = 7.0


def _display_width(text: str) -> float:
    """Width in ems: a CJK character is one, anything else about half."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.55 for ch in text)


def wrap_label(text: str, ems: float) -> str:
    """The label broken into lines at most ``ems`` wide (Chinese breaks between any two characters);
    a line break it has stays."""
    if "\n" in text:
        return "\n".join(wrap_label(part, ems) for part in text.split("\n"))
    lines, line = [], ""
    for ch in text:
        if line and _display_width(line + ch) > ems:
            lines.append(line)
            line = ""
        line += ch
    return "\n".join([*lines, line])


#: A bracketed part of an axis title (（%）), kept on one line when the title is set upright.
_BRACKETED = re.compile(r"（[^）]*）|.")


def upright(text: str) -> str:
    """A vertical axis title as Chinese sets one: upright, a character a line (a bracketed unit such as
    （%） on a line of its own), not a line turned on its side."""
    return "\n".join(_BRACKETED.findall(text))


def y_title(axes: Axes, text: str, font: FontProperties, size: float | None = None) -> None:
    """Title the vertical axis with ``text`` set upright, left of the tick labels."""
    axes.set_ylabel(
        upright(text),
        fontproperties=font,
        fontsize=size,
        rotation=0,
        ha="right",
        va="center",
        linespacing=1.05,
        multialignment="center",
        labelpad=8,
    )


def _figure_width(groups: int) -> float:
    """Wide enough for about 3 characters per bar before the labels need to turn."""
    return max(BAR_WIDTH_INCHES, 0.45 * groups + 1.5)


def _group_labels(figure: Figure, axes: Axes, groups: Sequence[str], font: FontProperties) -> None:
    """Label the bars (``short_name``) so that no two labels overlap and none breaks mid-word: each on
    one line where every label fits the width of a bar's slot, else all turned 45° and drawn in full."""
    groups = [short_name(g) for g in groups]
    axes.set_xticks(range(len(groups)))
    slot_points = axes.get_position().width * figure.get_figwidth() * 72 / max(len(groups), 1)
    ems = slot_points * 0.8 / LABEL_SIZE
    if max((_display_width(g) for g in groups), default=0) <= ems:
        axes.set_xticklabels(list(groups), fontproperties=font, fontsize=LABEL_SIZE)
    else:
        axes.set_xticklabels(
            list(groups),
            fontproperties=font,
            fontsize=LABEL_SIZE,
            rotation=45,
            ha="right",
            rotation_mode="anchor",
        )


def overlapping_labels(figure: Figure) -> list[tuple[str, str]]:
    """Pairs of neighbouring x tick labels of the figure's axes that overlap as drawn (the check the
    tests and the charts rely on). Level labels overlap when their boxes do; labels turned by the same
    angle are parallel strips, which overlap when their anchors are closer, across the strips, than a
    line of text is tall (their upright boxes overlap whenever one label is long)."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    found = []
    for axes in figure.axes:
        labels = [label for label in axes.get_xticklabels() if label.get_text()]
        boxes = [label.get_window_extent(renderer) for label in labels]
        for i in range(len(labels) - 1):
            first, second = labels[i], labels[i + 1]
            angle = first.get_rotation()
            if angle % 180 == 0:
                clash = boxes[i].overlaps(boxes[i + 1])
            else:
                across = abs(boxes[i + 1].x1 - boxes[i].x1) * abs(math.sin(math.radians(angle)))
                clash = across < float(first.get_fontsize()) * figure.dpi / 72
            if clash:
                found.append((first.get_text(), second.get_text()))
    return found


def star_figure(groups: Sequence[str], counts: Sequence[Sequence[int]], title: str) -> Figure:
    """Stacked bars: for each group, how many results have one … five stars (five at the top)."""
    font = _font()
    figure, axes = pyplot.subplots(figsize=(_figure_width(len(groups)), 3.8))
    bottoms = [0] * len(groups)
    positions = list(range(len(groups)))
    for level in range(5):
        values = [row[level] for row in counts]
        axes.bar(positions, values, bottom=bottoms, color=STAR_COLOURS[level], label=STAR_NAMES[level])
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_title(title, fontproperties=font)
    y_title(axes, "单位数", font)
    handles, names = axes.get_legend_handles_labels()
    axes.legend(
        handles[::-1], names[::-1], prop=font, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )
    locator = axes.yaxis.get_major_locator()
    assert isinstance(locator, MaxNLocator)  # a new axes' AutoLocator; Locator.set_params takes no options
    locator.set_params(integer=True)
    figure.subplots_adjust(right=0.82)
    _group_labels(figure, axes, groups, font)
    return figure


def star_distribution(groups: Sequence[str], counts: Sequence[Sequence[int]], title: str) -> bytes:
    """``star_figure`` as PNG."""
    return _png(star_figure(groups, counts, title))


#: Star levels whose colour needs dark text on it (三星级's yellow).
LIGHT_STARS = frozenset({2})


@dataclass(frozen=True)
class ScreenChart:
    """A chart picture and the size of its smallest text in the picture's own pixels (the console
    states it, so that a browser test can tell how large the text is as the picture is shown)."""

    png: bytes
    text_px: float


def screen_chart(figure: Figure) -> ScreenChart:
    """The figure as PNG, with the font size of its smallest visible text in pixels."""
    figure.canvas.draw()
    texts = [
        t for t in figure.findobj(Text) if isinstance(t, Text) and t.get_visible() and t.get_text().strip()
    ]
    points = min(float(t.get_fontproperties().get_size_in_points()) for t in texts)
    return ScreenChart(_png(figure), points * PNG_DPI / 72)


def star_bars(groups: Sequence[str], counts: Sequence[Sequence[int]], title: str) -> Figure:
    """For a screen: one horizontal bar per group, stacked one … five stars from the left, each part
    labelled with its count where it is wide enough and each bar with its total, the title (if any)
    above the legend; every text at least
    ``SCREEN_TEXT`` points in a figure ``SCREEN_WIDTH_INCHES`` wide."""
    font = FontProperties(fname=str(font_path()), size=SCREEN_TEXT)
    positions = list(range(len(groups)))
    figure, axes = pyplot.subplots(figsize=(SCREEN_WIDTH_INCHES, 0.34 * len(groups) + 1.3))
    totals = [sum(row) for row in counts]
    widest = max([*totals, 1])
    lefts = [0] * len(groups)
    for level in range(5):
        values = [row[level] for row in counts]
        bars = axes.barh(
            positions, values, left=lefts, height=0.62, color=STAR_COLOURS[level], label=STAR_NAMES[level]
        )
        shown = [str(v) if v and v / widest >= 0.08 else "" for v in values]
        colour = "#222222" if level in LIGHT_STARS else "white"
        axes.bar_label(bars, labels=shown, label_type="center", fontsize=SCREEN_TEXT, color=colour)
        lefts = [left + v for left, v in zip(lefts, values, strict=True)]
    for position, total in zip(positions, totals, strict=True):
        axes.annotate(
            str(total),
            (total, position),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=SCREEN_TEXT,
        )
    axes.set_yticks(positions)
    axes.set_yticklabels([wrap_label(short_name(g), SCREEN_LABEL_EMS) for g in groups], fontproperties=font)
    axes.invert_yaxis()
    axes.set_xlim(0, widest * 1.15)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(axis="x", labelsize=SCREEN_TEXT)
    axes.set_xlabel("单位数", fontproperties=font)
    if title:
        axes.set_title(
            title, fontproperties=FontProperties(fname=str(font_path()), size=SCREEN_TEXT + 1), pad=24
        )
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(
        prop=font,
        ncols=5,
        loc="lower center",
        bbox_to_anchor=(0.4, 1.0),
        frameon=False,
        handlelength=0.9,
        handletextpad=0.3,
        columnspacing=0.7,
    )
    return figure


def coverage_figure(groups: Sequence[str], shares: Sequence[float], target: float, title: str) -> Figure:
    """Bars of the share rated per group, with the year's target as a dashed line named in the legend."""
    font = _font()
    figure, axes = pyplot.subplots(figsize=(_figure_width(len(groups)), 3.6))
    colours = ["#27ae60" if share >= target else "#e67e22" for share in shares]
    positions = list(range(len(groups)))
    axes.bar(positions, [share * 100 for share in shares], color=colours)
    axes.axhline(
        target * 100,
        color="#c0392b",
        linestyle="--",
        label=f"年度目标 {format_percent(Decimal(str(target)))}",
    )
    axes.legend(prop=font, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.set_ylim(0, 105)
    y_title(axes, "已评定占比（%）", font)
    axes.set_title(title, fontproperties=font)
    figure.subplots_adjust(right=0.82)
    _group_labels(figure, axes, groups, font)
    return figure


def coverage_against_target(
    groups: Sequence[str], shares: Sequence[float], target: float, title: str
) -> bytes:
    """``coverage_figure`` as PNG."""
    return _png(coverage_figure(groups, shares, target, title))


#: Height of a dimension's bar (inches): low enough that a county's chart stays on the page of its table.
DIMENSION_BAR_INCHES = 0.24


#: The axis titles of the summary's dimension chart: the value axis with its unit, the category axis.
DIMENSION_VALUE_AXIS = "平均得分率（%）"
DIMENSION_CATEGORY_AXIS = "内容"


def dimension_figure(dimensions: Sequence[str], percents: Sequence[float], title: str) -> Figure:
    """Horizontal bars: the average assessed score of each dimension, as a share of its points, each
    bar labelled with its value, the axes titled (``DIMENSION_VALUE_AXIS``, ``DIMENSION_CATEGORY_AXIS``)."""
    font = _font()
    figure, axes = pyplot.subplots(figsize=(5.5, DIMENSION_BAR_INCHES * len(dimensions) + 0.6))
    bars = axes.barh(list(dimensions), list(percents), height=0.7, color="#2471a3")
    axes.bar_label(
        bars, labels=[format_percent(Decimal(str(p)) / 100) for p in percents], padding=3, fontsize=8
    )
    axes.set_xlim(0, 110)
    axes.set_xticks(range(0, 101, 20))
    axes.invert_yaxis()
    axes.set_title(title, fontproperties=font)
    axes.set_xlabel(DIMENSION_VALUE_AXIS, fontproperties=font, fontsize=8, labelpad=2)
    y_title(axes, DIMENSION_CATEGORY_AXIS, font, 8)
    for label in axes.get_yticklabels():
        label.set_fontproperties(font)
    return figure


def dimension_scores(dimensions: Sequence[str], percents: Sequence[float], title: str) -> bytes:
    """``dimension_figure`` as PNG."""
    return _png(dimension_figure(dimensions, percents, title))


#: Colour of the bars of points lost.
LOSS_COLOUR = "#c0392b"


def loss_bars(
    labels: Sequence[str],
    percents: Sequence[float],
    title: str,
    value_axis: str,
    category_axis: str,
) -> Figure:
    """For a screen: one horizontal bar per item or dimension, its share (%) written at its end, the
    labels wrapped at ``SCREEN_LABEL_EMS``, first at the top, the value axis titled with what the share
    is and its unit (``value_axis``: 失分单位占比（%）), the other with what the bars are
    (``category_axis``: 子项); every text at least ``SCREEN_TEXT`` points in a figure
    ``SCREEN_WIDTH_INCHES`` wide, as ``star_bars``."""
    font = FontProperties(fname=str(font_path()), size=SCREEN_TEXT)
    wrapped = [wrap_label(label, SCREEN_LABEL_EMS + 1) for label in labels]
    lines = sum(label.count("\n") + 1 for label in wrapped)
    figure, axes = pyplot.subplots(figsize=(SCREEN_WIDTH_INCHES, 0.2 * lines + 0.18 * len(labels) + 1.2))
    positions = list(range(len(labels)))
    bars = axes.barh(positions, list(percents), height=0.62, color=LOSS_COLOUR)
    axes.bar_label(
        bars,
        labels=[format_percent(Decimal(str(p)) / 100) for p in percents],
        padding=3,
        fontsize=SCREEN_TEXT,
    )
    axes.set_yticks(positions)
    axes.set_yticklabels(wrapped, fontproperties=font)
    axes.invert_yaxis()
    axes.set_xlim(0, 125)
    axes.set_xticks(range(0, 101, 50))
    axes.tick_params(axis="x", labelsize=SCREEN_TEXT)
    axes.set_xlabel(value_axis, fontproperties=font)
    y_title(axes, category_axis, font)
    if title:
        axes.set_title(title, fontproperties=FontProperties(fname=str(font_path()), size=SCREEN_TEXT + 1))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure

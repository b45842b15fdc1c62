"""Charts for the reports and the console (matplotlib, headless), labelled in Chinese with the CJK font
that ships with the package (Noto Sans CJK SC, SIL Open Font License: fonts/OFL.txt), so no label
renders as empty boxes on a server without CJK fonts."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from fontTools.ttLib import TTFont
from matplotlib import pyplot
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ticker import MaxNLocator

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


def _png(figure: pyplot.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    pyplot.close(figure)
    return buffer.getvalue()


def star_distribution(groups: Sequence[str], counts: Sequence[Sequence[int]], title: str) -> bytes:
    """Stacked bars: for each group, how many results have one … five stars."""
    font = _font()
    figure, axes = pyplot.subplots(figsize=(7, 3.6))
    bottoms = [0] * len(groups)
    for level in range(5):
        values = [row[level] for row in counts]
        axes.bar(groups, values, bottom=bottoms, color=STAR_COLOURS[level], label=STAR_NAMES[level])
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_title(title, fontproperties=font)
    axes.set_ylabel("单位数", fontproperties=font)
    axes.legend(prop=font, fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    for label in axes.get_xticklabels():
        label.set_fontproperties(font)
    locator = axes.yaxis.get_major_locator()
    assert isinstance(locator, MaxNLocator)  # a new axes' AutoLocator; Locator.set_params takes no options
    locator.set_params(integer=True)
    return _png(figure)


def coverage_against_target(
    groups: Sequence[str], shares: Sequence[float], target: float, title: str
) -> bytes:
    """Bars of the share rated per group, with the year's target as a line."""
    font = _font()
    figure, axes = pyplot.subplots(figsize=(7, 3.4))
    colours = ["#27ae60" if share >= target else "#e67e22" for share in shares]
    axes.bar(groups, [share * 100 for share in shares], color=colours)
    axes.axhline(target * 100, color="#c0392b", linestyle="--")
    axes.text(
        len(groups) - 0.5,
        target * 100,
        f"年度目标 {target * 100:.0f}%",
        fontproperties=font,
        color="#c0392b",
        ha="right",
        va="bottom",
    )
    axes.set_ylim(0, 105)
    axes.set_ylabel("已评定占比（%）", fontproperties=font)
    axes.set_title(title, fontproperties=font)
    for label in axes.get_xticklabels():
        label.set_fontproperties(font)
    return _png(figure)


def dimension_scores(dimensions: Sequence[str], percents: Sequence[float], title: str) -> bytes:
    """Horizontal bars: the average assessed score of each dimension, as a share of its points."""
    font = _font()
    figure, axes = pyplot.subplots(figsize=(7, 0.5 * len(dimensions) + 1.2))
    axes.barh(list(dimensions), list(percents), color="#2471a3")
    axes.set_xlim(0, 100)
    axes.invert_yaxis()
    axes.set_xlabel("平均得分率（%）", fontproperties=font)
    axes.set_title(title, fontproperties=font)
    for label in axes.get_yticklabels():
        label.set_fontproperties(font)
    return _png(figure)

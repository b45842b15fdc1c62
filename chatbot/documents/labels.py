"""Chinese labels for the keys the data uses (rubric keys, disqualifications), shared by the documents."""

from __future__ import annotations

import re

#: Each rubric's kind of union, as a report or a table names it (the sheet's title without its number).
RUBRIC_NAMES = {
    "state_owned": "国有、集体企业和事业单位工会", "non_public": "非公有制经济组织、社会组织工会",
    "agency": "机关工会", "joint": "区域性、行业性基层工会联合会",
    "township": "乡镇（街道）、开发区、工业园区工会", "village": "村（社区）工会",
}  # fmt: skip


def rubric_name(key: str) -> str:
    return RUBRIC_NAMES.get(key, key)


#: Each rubric's kind of union in a few characters, where a chart's label names the sheet beside a
#: dimension (村（社区）·工会组织健全): whole words, never a bracket cut open.
RUBRIC_SHORT_NAMES = {
    "state_owned": "国有企事业", "non_public": "非公社会组织", "agency": "机关",
    "joint": "联合会", "township": "乡镇（街道）", "village": "村（社区）",
}  # fmt: skip


def rubric_short_name(key: str) -> str:
    return RUBRIC_SHORT_NAMES.get(key, key)


#: The three disqualifications of a result below the standard: the key a results row holds each under
#: and the 指标 it takes away ("取消经费支持、职工帮扶、评先选优指标").
DISQUALIFICATIONS = (
    ("no_funding_support", "经费支持"),
    ("no_hardship_aid", "职工帮扶"),
    ("no_award_eligibility", "评先选优"),
)

_CJK = "\u2e80-\u9fff\uff00-\uffef\u3000-\u303f"
#: An ASCII , ; : ! ? beside a Chinese character (or full-width punctuation): "1,000" and "http://" keep theirs.
_HALF_WIDTH = re.compile(rf"(?<=[{_CJK}])[,;:!?]|[,;:!?](?=[{_CJK}])")
_FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"}


def printed(text: str) -> str:
    """A text as the documents print it: the ASCII punctuation the rubric sheets keep verbatim beside
    Chinese ("组织,具备"、"村(社区)") in its full-width form ("组织，具备"、"村（社区）"). Parentheses are
    always full width in print; , ; : ! ? only beside a Chinese character. The sheets stay verbatim."""
    text = _HALF_WIDTH.sub(lambda m: _FULL[m.group()], text)
    return text.replace("(", _FULL["("]).replace(")", _FULL[")"])

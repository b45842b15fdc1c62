"""Chinese labels for the keys the data uses (rubric keys, quota marks), shared by the documents."""

from __future__ import annotations

#: Each rubric's kind of union, as a report or a table names it (the sheet's title without its number).
RUBRIC_NAMES = {
    "state_owned": "国有、集体企业和事业单位工会", "non_public": "非公有制经济组织、社会组织工会",
    "agency": "机关工会", "joint": "区域性、行业性基层工会联合会",
    "township": "乡镇（街道）、开发区、工业园区工会", "village": "村（社区）工会",
}  # fmt: skip
#: The marks of a result (chatbot.inspection.listing) in words.
MARK_LABELS = {
    "provisional": "预评（名额待确认）",
    "capped": "超出五星级名额，调为四星级",
    "flagged": "名额临界同分，待人工确定",
    "overridden": "星级经人工调整",
    "below-standard": "未达建设标准",
}


def rubric_name(key: str) -> str:
    return RUBRIC_NAMES.get(key, key)


def marks_text(marks: str) -> str:
    """ "provisional capped" → "预评（名额待确认）；超出五星级名额，调为四星级"; a mark without a
    longer wording here in the words the CLI and the console use."""
    from chatbot.inspection.listing import marks_words  # the listing's queries: only when asked

    return "；".join(MARK_LABELS.get(mark) or marks_words(mark) for mark in marks.split())

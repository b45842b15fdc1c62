"""Objections (异议): where one came from, the words for it, and an objection as the re-review and the
evaluator's `进度` show it — values both the chat and the domain (chatbot/inspection/objections.py) use."""

from __future__ import annotations

from dataclasses import dataclass

#: The re-review's period (10 日内): due by the end of the tenth day (Asia/Shanghai) after the objection.
RE_REVIEW_DAYS = 10

#: Where an objection came from: the union's chair or member (bound when they objected), or the public
#: (anyone who follows the account, with the union's code).
OBJECTION_SOURCES = ("chair", "member", "public")


@dataclass(frozen=True)
class RaisedObjection:
    """An open objection as the re-review shows it: who objected (``OBJECTION_SOURCES``) and why."""

    source: str
    text: str


#: Who objected, as the re-reviewer reads it (``OBJECTION_SOURCES``).
SOURCE_LABELS: dict[str, str] = {
    "chair": "本单位工会主席",
    "member": "本单位会员",
    "public": "未绑定本单位的公众",
}
#: The same, short, where objections are counted.
SOURCE_SHORT: dict[str, str] = {"chair": "本单位工会主席", "member": "本单位会员", "public": "公众"}


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def source_short(source: str) -> str:
    return SOURCE_SHORT.get(source, source)


@dataclass(frozen=True)
class ObjectionView:
    """An objection waiting for its re-review, as the evaluator's `进度` lists it."""

    org_code: str
    org_name: str
    due: str
    text: str
    source: str = "member"  # OBJECTION_SOURCES

"""Turns what a user sent (typed text, a menu click, a QR scene) into an Intent."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dialogs.engine import UserInput

#: The command words of design §6.
WORDS: tuple[str, ...] = (
    "绑定", "自评", "满分", "上一项", "跳过", "修改", "查看", "暂停", "提交", "进度", "帮助", "上一页", "下一页", "继续", "同",
    "考评", "复查", "抽查", "退回", "测评", "结果", "异议", "结束测评", "免除测评", "录入测评", "纸质测评", "方式", "考评方式", "意见",
    "考评意见", "补课", "补课完成", "补课验收"
)  # fmt: skip
#: Other ways people say the same, → the command word.
SYNONYMS: dict[str, str] = {
    "?": "帮助", "help": "帮助", "菜单": "帮助", "返回": "上一项", "上一题": "上一项", "下一项": "跳过",
    "下一题": "跳过", "汇总": "查看", "开始自评": "自评", "自查自评": "自评", "同意": "同", "同自评": "同",
    "维持": "同", "民主测评": "测评", "查看结果": "结果",
}  # fmt: skip
#: Command words that take an argument, said another way → the command word.
ALIASES: dict[str, str] = {"纸质测评": "录入测评", "考评方式": "方式", "考评意见": "意见"}
#: Menu CLICK keys (nianjian menu push) → the word they stand for.
CLICK_KEYS: dict[str, str] = {
    "SELF_CHECK": "自评",
    "HELP": "帮助",
    "PROGRESS": "进度",
    "EVALUATION": "测评",
    "RESULT": "结果",
}
#: QR-code scene prefixes → the word they stand for.
SCENES: dict[str, str] = {"inv:": "绑定", "eval:": "测评"}

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)分?$")
_RAW_REASON = re.compile(r"^\s*[+\-＋－]?[\d０-９.．]+\s*分?[\s,，:：、]+(?P<reason>\S.*)$", re.S)
_NUMBER_REASON = re.compile(r"^(?P<number>[+-]?(\d+(\.\d*)?|\.\d+))分?[\s,，:：]+(?P<reason>\S.*)$")
_WORD_ARG = re.compile(r"^(?P<word>" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")\s*(?P<arg>.*)$")


@dataclass(frozen=True)
class Intent:
    """What the user wants: a command word with its argument, a number, a photo, or free text."""

    kind: str  # "word" | "number" | "photo" | "subscribe" | "unsubscribe" | "text" | "empty"
    word: str = ""
    arg: str = ""
    raw: str = ""
    reason: str = ""  # the words after a score, as typed (a re-review's reason)
    text: str = ""  # the words after a command word, as typed (an objection, a return's reason)
    media_id: str = ""
    pic_url: str = ""


def normalise(text: str) -> str:
    """Full-width to half-width, trimmed, inner runs of space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def parse(user_input: UserInput) -> Intent:
    if user_input.kind == "photo":
        return Intent("photo", media_id=user_input.media_id, pic_url=user_input.pic_url)
    if user_input.kind == "subscribe":
        return Intent("subscribe")
    if user_input.kind == "unsubscribe":
        return Intent("unsubscribe")
    if user_input.kind == "click":
        word = CLICK_KEYS.get(user_input.text.strip())
        return Intent("word", word, raw=user_input.text) if word else Intent("text", raw=user_input.text)
    if user_input.kind == "scan":
        scene = user_input.text.strip()
        for prefix, word in SCENES.items():
            if scene.startswith(prefix):
                return Intent("word", word, scene[len(prefix) :].strip(), raw=scene)
        return Intent("text", raw=scene)
    if user_input.kind != "text":
        return Intent("text", raw=user_input.text)
    return parse_text(user_input.text)


def parse_text(text: str) -> Intent:
    cleaned = normalise(text)
    if not cleaned:
        return Intent("empty", raw=text)
    if _NUMBER.match(cleaned):
        return Intent("number", arg=cleaned, raw=text)
    with_reason = _NUMBER_REASON.match(cleaned)
    if with_reason:
        as_typed = _RAW_REASON.match(text)
        reason = as_typed.group("reason").strip() if as_typed else with_reason.group("reason")
        return Intent("number", arg=with_reason.group("number"), raw=text, reason=reason)
    lowered = cleaned.lower()
    if lowered in SYNONYMS:
        return Intent("word", SYNONYMS[lowered], raw=text)
    match = _WORD_ARG.match(cleaned)
    if match:
        arg = match.group("arg").strip()
        typed_word = match.group("word")
        word = ALIASES.get(typed_word, typed_word)
        if word == "修改":
            arg = arg.removeprefix("第").removesuffix("项").strip()
        typed = text.strip()
        rest = typed[len(typed_word) :].strip() if typed.startswith(typed_word) else arg
        return Intent("word", word, arg, raw=text, text=rest)
    return Intent("text", raw=text)

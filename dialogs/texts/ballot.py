"""Texts of the democratic evaluation (民主测评, dialogs/ballot.py)."""

from __future__ import annotations

#: The answers of the rated questions, by number: the satisfaction questions and the trust question.
SATISFACTION: dict[int, str] = {1: "满意", 2: "基本满意", 3: "不满意"}
TRUST: dict[int, str] = {1: "信任", 2: "基本信任", 3: "不信任"}
#: Suggestions that mean "none".
NO_SUGGESTION = ("无", "没有", "暂无", "无意见", "没有意见")


def dimension_question(dimension: str) -> str:
    return f"您对本单位工会在“{dimension}”方面的工作是否满意？"


OVERALL_QUESTION = "您对本单位工会工作的总体评价？"
TRUST_QUESTION = "您对本单位工会的信任程度如何（工会是否是您信赖的“职工之家”）？"


def scale_line(scale: dict[int, str]) -> str:
    """1 满意　2 基本满意　3 不满意"""
    return "　".join(f"{value} {label}" for value, label in scale.items())


def question(prefix: str, no: int, total: int, text: str, scale: dict[int, str]) -> str:
    return f"{prefix}【{no}/{total}】{text}\n请点选或回复：{scale_line(scale)}"


def suggestion_question(prefix: str, no: int, total: int) -> str:
    return f"{prefix}【{no}/{total}】最后，您对本单位工会有什么意见或建议？直接回复文字即可；没有请回复“无”。"


def answered(label: str) -> str:
    """The voter's choice, shown to them once (never stored: ANSWER_RECORDED is)."""
    return f"✓ {label}\n"


#: What the stored record of an answered question says instead of the choice (WeChat's retry gets it).
ANSWER_RECORDED = "✓ 已记录\n"


NONE_OPEN = "目前没有您可以参加的民主测评。如有测评码，请发送“测评 测评码”。"


def welcome_back(org_name: str) -> str:
    return f"欢迎回来，继续“{org_name}”民主测评。\n"


def welcome(org_name: str, total: int) -> str:
    return f"欢迎参加“{org_name}”民主测评（匿名），共 {total} 题，您的选择不会与您的身份关联。\n"


def also_invited(waiting: str) -> str:
    return f"您还受邀参加：{waiting}，答完本次后发送对应指令即可。\n"


def status(status: str, org_name: str) -> str:
    """Why a ballot cannot be answered; the union is named only to someone in its electorate."""
    return {
        "voted": f"您已参加过“{org_name}”的民主测评，每人限投一次，感谢参与！",
        "closed": f"“{org_name}”的民主测评已经结束，感谢关注。",
        "not_eligible": "您不在这次民主测评的参加人员范围内。如有疑问请联系上级工会。",
        "full": "这次民主测评的开放名额已满，感谢关注。",
        "not_found": (
            "没有找到您可以参加的民主测评：测评码不正确，或您不在这次测评的参加人员范围内。"
            "请核对后重新发送“测评 测评码”，或扫描测评二维码；如有疑问请联系上级工会。"
        ),
    }.get(status, "这次民主测评暂时无法参加。")


def rate_limited(attempts: int) -> str:
    return f"测评码错误次数过多（每小时最多 {attempts} 次），请一小时后再试，或联系上级工会。"


EVALUATION_CHANGED = "测评已变化，已为您重新定位。\n"


def paused(again: str) -> str:
    return f"已暂停，已答部分已保存。发送“{again}”继续。"


FIRST_QUESTION = "已经是第一题了。\n"
CAST = "感谢参与！您的测评已匿名提交。"
SUGGESTION_USAGE = "请回复文字建议，没有请回复“无”。"
#: A bare option number (or label) where the suggestion is asked: a tap too many, most likely. Asked once,
#: without repeating what was sent (the turn's reply is kept for WeChat's retries).
SUGGESTION_LOOKS_LIKE_ANSWER = (
    "评分题已答完，这一题是意见或建议。您发送的像是选项，如确要作为意见提交，请再发送一次；"
    "没有意见请回复“无”，也可以直接写下您的意见。"
)


def rated_usage(scale: dict[int, str]) -> str:
    """The reason after a wrong answer, and the hint's first line."""
    labels = "、".join(scale.values())
    return f"请回复 1、2 或 3（{scale_line(scale)}），也可直接回复“{labels}”。"


#: `测评`'s line in `帮助`.
USAGE = "测评 —— 参加民主测评（匿名）"

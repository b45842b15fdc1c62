"""The sentences of the reminders (chatbot/notify/reminders.py) and of evidence photos not fetched
(chatbot/notify/evidence.py): each command word is taken from ``rubrics.words`` and each period from
its rule (``rubrics.objections.RE_REVIEW_DAYS``, WeChat's ``MEDIA_KEPT_DAYS``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chatbot.wechat.api import MEDIA_KEPT_DAYS
from rubrics import words
from rubrics.objections import RE_REVIEW_DAYS
from rubrics.scoring import format_percent


def days_left(deadline: date, today: date) -> str:
    """How long until the deadline, as the reminders say it."""
    left = (deadline - today).days
    return "今天截止" if left == 0 else f"还有 {left} 天"


#: What a sentence may name besides its row's facts: the command words and the periods of the rules.
NAMED: dict[str, object] = {**words.ALL, "RE_REVIEW_DAYS": RE_REVIEW_DAYS}

# The reminders' sentences (``REMINDERS`` in chatbot/notify/reminders.py), filled by ``sentence``:
# {due} is the deadline, {days} how long until it; the rest, the row's facts and the ``NAMED`` values.
SELF_CHECK_DUE = "{name} {year} 年度自查自评将于 {due} 截止（{days}），目前已答 {answered}/{total} 项。发送“{SELF_CHECK}”继续，全部作答后发送“{SUBMIT}”。"
REVIEW_DUE = "{name}（{code}）的自评已提交，待您组织评定，截止 {due}（{days}）。发送“{ASSESS} {code}”开始。"
EVALUATION_CLOSING = "“{name}”民主测评将于 {due} 结束（{days}），您还没有参加。发送“{EVALUATE} {code}”即可匿名作答，约需 1 分钟。"
REPORT_DUE = "请于 {due} 前（{days}）将{name} {year} 年度年检工作情况总结（{missing}）报送市总工会组织部。"
RE_REVIEW_DUE = (
    "{name}（{code}）的年检结果异议须于 {due} 前复查评定（{days}）。发送“{RE_REVIEW} {code}”办理。"
)
#: To the city's admins ({union}: its name and code) and to the union's responsible person.
RE_REVIEW_OVERDUE = (
    "{union}的年检结果异议已超过 {RE_REVIEW_DAYS} 日复查期限（{due}）仍未复查评定，请督促上级工会办理。"
)
COVERAGE_WARNING = "{name}所属基层工会累计已评定 {ever_rated}/{unions} 个（{share}），{below}，本年度已评定 {rated} 个。组织评定将于 {due} 截止，请加快进度。"
REMEDIATION_DUE = "{name} {year} 年度年检的补课将于 {due} 截止（{days}）。完成后请发送“{REMEDIATION_DONE} 情况说明”，上级工会将进行验收。"
# To a union's responsible person (网格员), once per overdue step.
GRID_UNION = "您负责的网格单位{name}（{code}）"
GRID_SELF_CHECK_OVERDUE = (
    "{union} {year} 年度自查自评已于 {due} 截止，至今未提交（{state}）。请督促工会主席尽快完成自评并提交。"
)
GRID_REVIEW_OVERDUE = "{union}的自评已提交，组织评定已于 {due} 截止，至今未完成。请督促上级工会尽快考评。"
GRID_REMEDIATION_OVERDUE = "{union} {year} 年度年检的补课已于 {due} 截止，至今未报告完成。请督促落实补课。"


def sentence(template: str, due: date, **facts: object) -> str:
    """A sentence of this module with its deadline, its row's facts and the ``NAMED`` values."""
    return template.format(**NAMED, **facts, due=due.isoformat())


def coverage_below(year: int, target: Decimal, plan_target: Decimal | None) -> str:
    """What a county's share is below: the year's target, or (``plan_target``) its own plan's."""
    if plan_target is not None:
        return f"低于本县（区）{year} 年度年检计划目标 {format_percent(plan_target)}"
    return f"低于 {year} 年度目标 {format_percent(target)}"


# ---------------------------------------------------------------- template notices (chatbot/notify/message.py)

#: What a template's 办理方式 field says when the notice gives no word to send: its full text is a tap away.
READ_MORE = "点开查看全文"


def send_in_chat(word: str) -> str:
    """A template's 办理方式 field: the word to send in the chat."""
    return f"发送“{word}”"


# ---------------------------------------------------------------- evidence photos (chatbot/notify/evidence.py)

PHOTO_GONE = f"微信已不再保存这张照片（上传后只保存 {MEDIA_KEPT_DAYS} 天），未能取回。"
#: As the console shows a photo still not fetched when WeChat no longer keeps it.
PHOTO_EXPIRED = f"照片未能取回：超过微信保存期限（{MEDIA_KEPT_DAYS} 天）仍未下载。"


def photo_not_fetched(error: str) -> str:
    return f"在微信保存的 {MEDIA_KEPT_DAYS} 天内未能下载这张照片（{error}），未能取回。"

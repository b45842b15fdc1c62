"""The sentences of the reminders (chatbot/notify/reminders.py) and of evidence photos not fetched
(chatbot/notify/evidence.py): each command word is taken from ``rubrics.words`` and each period from
its rule (``rubrics.objections.RE_REVIEW_DAYS``, WeChat's ``MEDIA_KEPT_DAYS``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chatbot.wechat.api import MEDIA_KEPT_DAYS
from rubrics.objections import RE_REVIEW_DAYS
from rubrics.scoring import format_percent
from rubrics.words import ASSESS, EVALUATE, RE_REVIEW, REMEDIATION_DONE, SELF_CHECK, SUBMIT


def days_left(deadline: date, today: date) -> str:
    """How long until the deadline, as the reminders say it."""
    left = (deadline - today).days
    return "今天截止" if left == 0 else f"还有 {left} 天"


def self_check_due(*, name: str, year: int, due: date, days: str, answered: int, total: int) -> str:
    return (
        f"{name} {year} 年度自查自评将于 {due.isoformat()} 截止（{days}），"
        f"目前已答 {answered}/{total} 项。发送“{SELF_CHECK}”继续，全部作答后发送“{SUBMIT}”。"
    )


def review_due(*, name: str, code: str, due: date, days: str) -> str:
    return (
        f"{name}（{code}）的自评已提交，待您组织评定，截止 {due.isoformat()}（{days}）。"
        f"发送“{ASSESS} {code}”开始。"
    )


def evaluation_closing(*, name: str, code: str, due: date, days: str) -> str:
    return (
        f"“{name}”民主测评将于 {due.isoformat()} 结束"
        f"（{days}），您还没有参加。发送“{EVALUATE} {code}”即可匿名作答，约需 1 分钟。"
    )


def report_due(*, name: str, year: int, missing: list[str], due: date, days: str) -> str:
    return (
        f"请于 {due.isoformat()} 前（{days}）将{name} {year} 年度年检工作情况总结"
        f"（{'、'.join(missing)}）报送市总工会组织部。"
    )


def re_review_due(*, name: str, code: str, due: date, days: str) -> str:
    return (
        f"{name}（{code}）的年检结果异议须于 {due.isoformat()} 前复查评定（{days}）。"
        f"发送“{RE_REVIEW} {code}”办理。"
    )


def re_review_overdue(*, union: str, due: date, days: str = "") -> str:
    """To the city's admins (``union``: its name and code) and to the union's responsible person."""
    return (
        f"{union}的年检结果异议已超过 {RE_REVIEW_DAYS} 日复查期限（{due.isoformat()}）仍未复查评定，"
        "请督促上级工会办理。"
    )


def coverage_warning(
    *,
    name: str,
    year: int,
    ever_rated: int,
    unions: int,
    share: Decimal,
    rated: int,
    target: Decimal,
    plan_target: Decimal | None,
    due: date,
    days: str,
) -> str:
    """Below the year's target, or (``plan_target``) on it but below the county's own plan."""
    if plan_target is not None:
        below = f"低于本县（区）{year} 年度年检计划目标 {format_percent(plan_target)}"
    else:
        below = f"低于 {year} 年度目标 {format_percent(target)}"
    return (
        f"{name}所属基层工会累计已评定 {ever_rated}/{unions} 个（{format_percent(share)}），"
        f"{below}，本年度已评定 {rated} 个。"
        f"组织评定将于 {due.isoformat()} 截止，请加快进度。"
    )


def remediation_due(*, name: str, year: int, due: date, days: str) -> str:
    return (
        f"{name} {year} 年度年检的补课将于 {due.isoformat()} 截止"
        f"（{days}）。完成后请发送“{REMEDIATION_DONE} 情况说明”，上级工会将进行验收。"
    )


# ---------------------------------------------------------------- to a union's responsible person (网格员)


def grid_union(name: str, code: str) -> str:
    return f"您负责的网格单位{name}（{code}）"


def grid_self_check_overdue(union: str, year: int, due: date, state: str) -> str:
    return (
        f"{union} {year} 年度自查自评已于 {due.isoformat()} 截止，至今未提交（{state}）。"
        "请督促工会主席尽快完成自评并提交。"
    )


def grid_review_overdue(union: str, due: date) -> str:
    return f"{union}的自评已提交，组织评定已于 {due.isoformat()} 截止，至今未完成。请督促上级工会尽快考评。"


def grid_remediation_overdue(union: str, year: int, due: date) -> str:
    return f"{union} {year} 年度年检的补课已于 {due.isoformat()} 截止，至今未报告完成。请督促落实补课。"


# ---------------------------------------------------------------- evidence photos (chatbot/notify/evidence.py)

PHOTO_GONE = f"微信已不再保存这张照片（上传后只保存 {MEDIA_KEPT_DAYS} 天），未能取回。"
#: As the console shows a photo still not fetched when WeChat no longer keeps it.
PHOTO_EXPIRED = f"照片未能取回：超过微信保存期限（{MEDIA_KEPT_DAYS} 天）仍未下载。"


def photo_not_fetched(error: str) -> str:
    return f"在微信保存的 {MEDIA_KEPT_DAYS} 天内未能下载这张照片（{error}），未能取回。"

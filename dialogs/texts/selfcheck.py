"""Texts of the self-check (自查自评) beyond the item walk's (dialogs/texts/walk.py)."""

from __future__ import annotations

from dialogs.texts.common import self_check_locked

SUBMITTED = "自评已提交！各项答案已锁定，上级工会将进行组织评定。\n"
PROVISIONAL_STARS = "预评星级：{stars}（最终以上级工会组织评定为准）"


def result_heading(org_name: str, year: int) -> str:
    return f"{org_name} {year} 年度自评结果："


def locked(state_label: str) -> str:
    """`自评` after the submission: the state named once, never 自评已提交（自评已提交）."""
    return self_check_locked(state_label) + "\n"


def returned(reason: str) -> str:
    return f"您的自评已被上级工会退回修改。原因：{reason}\n"


def not_a_chair(roles: str) -> str:
    return f"自查自评由工会主席（或指定人员）完成。您当前的身份：{roles or '未绑定'}。"


NO_CAMPAIGN = "本年度年检尚未开启，请等待上级工会通知。"


def not_in_scope(year: int) -> str:
    return f"您的工会不在 {year} 年度年检范围内，如有疑问请联系上级工会。"

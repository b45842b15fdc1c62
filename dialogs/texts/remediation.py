"""Texts of 补课 (remediation, dialogs/remediation.py): `补课`, `补课完成 说明`, `补课验收 C …`."""

from __future__ import annotations


def heading(org_name: str, year: int, consequences: str) -> str:
    return f"【补课】{org_name} {year} 年度年检结果低于建设标准：{consequences}。"


CHECK_HEADING = ("【补课】", "【补课验收】")


def due_line(due: str, status: str) -> str:
    return f"补课截止：{due}；状态：{status}。"


def reported(text: str) -> str:
    return f"已报告：{text}"


def check_opinion(text: str) -> str:
    return f"上级工会验收意见：{text}"


HOW_TO_REPORT = "补课完成后请发送“补课完成 情况说明”，上级工会将进行验收。"
NONE = "本单位没有需要补课的年检结果。"


def withdrawn(org_name: str, year: int) -> str:
    return f"{org_name} {year} 年度年检结果经重新评定已达到建设标准，补课已撤销，无需再报告。"


PASSED_ALREADY = "本单位的补课已通过验收，无需再次报告。"
REPORT_USAGE = "请在“补课完成”后写明补课情况，如：补课完成 已建立女职工委员会并完成换届选举。"
REPORTED = "已报告补课完成，上级工会将进行验收，验收结果会通知您。"


def nothing_to_check(code: str) -> str:
    return f"“{code}”没有需要验收的补课。"


def checked_already(org_name: str) -> str:
    return f"“{org_name}”的补课已通过验收。"


def check_usage(code: str) -> str:
    return f"请发送“补课验收 {code} 通过 说明”或“补课验收 {code} 未通过 说明”。"


def checked(org_name: str, passed: bool) -> str:
    return f"已记录“{org_name}”补课验收{'通过' if passed else '未通过'}，主席将收到通知。"


#: The lines of the remediation's words in `帮助`.
USAGE: dict[str, str] = {
    "补课验收": "补课验收 单位编号 通过/未通过 说明 —— 验收下级工会补课",
    "补课": "补课 —— 结果低于建设标准时查看补课要求",
    "补课完成": "补课完成 说明 —— 报告补课完成，待上级工会验收",
}

"""Texts of the paper forms' tally (录入纸质测评表, dialogs/paper.py)."""

from __future__ import annotations

OVERALL = "总体评价"
TRUST = "信任度"


def heading(org_name: str) -> str:
    return f"【录入纸质测评表】{org_name}：只录入份数，不记录填表人。\n"


def entered_before(distributed: int, returned: int) -> str:
    return f"已录入：发放 {distributed} 份，收回 {returned} 份；重新录入将替换原数据。\n"


def no_evaluation(org_name: str) -> str:
    return f"“{org_name}”没有开展民主测评，无需录入纸质测评表。"


def waived(org_name: str) -> str:
    return f"“{org_name}”的民主测评已免除，无需录入纸质测评表。"


def no_paper_part(org_name: str) -> str:
    return (
        f"“{org_name}”的民主测评开启时没有安排纸质测评表：参加人员在开启时确定，"
        "需要纸质测评的，开启时用 nianjian evaluation open --paper 份数 安排。"
    )


def paper_part(places: int) -> str:
    return f"开启时安排纸质测评表 {places} 份，只发给未在微信受邀的人员，发放份数不超过 {places} 份。\n"


def more_than_the_part(distributed: int, places: int) -> str:
    return f"发放 {distributed} 份超过了开启时安排的 {places} 份纸质测评表。"


def not_now(org_name: str, state: str) -> str:
    return f"纸质测评表在组织评定期间录入（“{org_name}”当前状态：{state}）。"


def cannot_enter(org_name: str, state: str) -> str:
    return f"“{org_name}”当前不能录入纸质测评表（{state}）。"


TASK_CHANGED = "录入任务已变化，请重新发送“录入测评 单位编号”。"
ASK_FORMS = "请回复发放份数和收回份数，如：30 28"


def ask_counts(no: int, total: int, question: str, labels: tuple[str, str, str], returned: int) -> str:
    good, fair, poor = labels
    return (
        f"【{no}/{total}】{question}：请回复“{good} {fair} {poor}”的份数，如：20 6 2"
        f"（三项之和不超过收回的 {returned} 份）"
    )


def summary_head(org_name: str, distributed: int, returned: int) -> str:
    return f"【纸质测评表汇总】{org_name}：发放 {distributed} 份，收回 {returned} 份"


def summary_line(question: str, labels: tuple[str, str, str], counts: tuple[int, int, int]) -> str:
    return f"· {question}：" + "，".join(
        f"{label} {count}" for label, count in zip(labels, counts, strict=True)
    )


SUMMARY_TAIL = "确认无误请发送“提交”；发送“修改 N”重录第 N 题，“暂停”放弃本次录入。"


def paused(code: str) -> str:
    return f"已暂停，本次录入未保存。发送“录入测评 {code}”重新录入。"


FORMS_USAGE = "请回复两个数：发放份数和收回份数，如：30 28。"
FORMS_WRONG = "收回份数应大于 0，且不超过发放份数。"


def forms_saved(distributed: int, returned: int) -> str:
    return f"✓ 发放 {distributed} 份，收回 {returned} 份。\n"


FIRST_QUESTION = "已经是第一题了。\n"


def counts_usage(labels: tuple[str, str, str]) -> str:
    good, fair, poor = labels
    return f"请回复三个数：{good}、{fair}、{poor}的份数，如：20 6 2。"


def too_many(total: int, returned: int) -> str:
    return f"三项之和 {total} 超过了收回的 {returned} 份，请核对。"


def changed(no: int) -> str:
    return f"✓ 第 {no} 题已修改。\n"


RECORDED = "✓ 已记录。\n"
ALL_ENTERED = "✓ 全部录入完毕。\n"


def saved(org_name: str, distributed: int, returned: int) -> str:
    return f"已保存“{org_name}”的纸质测评表：发放 {distributed} 份，收回 {returned} 份。已计入民主测评结果。"


REVIEW_USAGE = "请发送“提交”保存，或“修改 N”重录第 N 题。"


def pause_line(code: str) -> str:
    return f"发送“暂停”放弃本次录入，稍后发送“录入测评 {code}”重新录入。"


#: `录入测评`'s line in `帮助`.
USAGE = "录入测评 单位编号 —— 录入纸质测评表（只录份数）"

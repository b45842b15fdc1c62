"""Sentences said both in the chat (dialogs/) and by the domain (chatbot/inspection, whose refusals the
console shows too): kept below both, so that a refusal reads the same wherever it is given."""

from __future__ import annotations

#: An example reason for each word that ends an evaluation.
REASON_EXAMPLES = {"结束测评": "参加人员已全部作答", "免除测评": "会员分散在外地务工，无法组织测评"}


def waiver_too_short(least: int) -> str:
    return f"免除测评的原因至少 {least} 个字，如：免除测评 {REASON_EXAMPLES['免除测评']}。\n\n"


def submission_refused(gaps: list[str]) -> str:
    """Why `提交` of an assessment waits: every gap, each with what to do."""
    return "还不能提交组织评定：\n" + "\n".join(f"· {gap}" for gap in gaps) + "\n\n"


def gap_methods(hint: str) -> str:
    return f"考评方式未记录：发送“方式”加编号，如：方式 1 2 3（{hint}）"


def gap_opinion(least: int) -> str:
    return f"考评意见未填写（至少 {least} 个字）：发送“意见”加内容，如：意见 台账齐全，职工满意度高"


def gap_no_evaluation(code: str) -> str:
    return f"民主测评未开展：请先开展民主测评（nianjian evaluation open --org {code}），或发送“免除测评 原因”"


GAP_EVALUATION_OPEN = (
    "民主测评仍在进行：测评结束后才能提交；如需提前结束，请发送“结束测评 原因”，"
    "如不计入测评结果，请发送“免除测评 原因”"
)


def gap_no_ballots(code: str) -> str:
    return f"民主测评已结束但没有收到答卷：请录入收回的纸质测评表（录入测评 {code}），或发送“免除测评 原因”"


def no_ballots_to_close(code: str) -> str:
    """Why an evaluation without a ballot cannot be closed, and what to do instead."""
    return (
        "民主测评还没有收到任何答卷，不能结束：请等待参加人员作答，"
        f"或录入收回的纸质测评表（录入测评 {code}），或发送“免除测评 原因”。"
    )


def objection_outcome(prior: str, decided: str, changed: bool) -> str:
    """What a re-review decided of an objection, as its objector reads it (``prior``/``decided``: the
    result before and after, e.g. “86.5 分，四星级”)."""
    if changed:
        return f"复查后结果改为 {decided}（原为 {prior}）"
    return f"复查后维持原结果 {decided}"


# The small-count rule of the democratic evaluation (rubrics/democratic.py): what is said in place of
# the satisfaction rate and the score, in the chat, the console and the documents alike.
FIGURES_AFTER_CLOSE = "满意率和得分在测评结束后公布"
NO_FIGURES = "没有答卷，无满意率和得分"


def figures_shown(satisfaction: str, score: str) -> str:
    return f"满意率 {satisfaction}%，民主测评得分 {score}"


def figures_withheld(ballots: int, online: int, least: int) -> str:
    """Closed with too few ballots (or too few in chat beside the paper forms) to disclose."""
    if ballots < least:
        return f"票数少于 {least} 张，为保护投票人匿名，不公布满意率和得分"  # the count is said beside it
    return (
        f"微信答卷 {online} 张，少于 {least} 张（纸质测评表的份数已录入，可以减去），"
        "为保护投票人匿名，不公布满意率和得分"
    )

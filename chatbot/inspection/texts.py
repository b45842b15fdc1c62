"""The sentences the domain sends (notices queued in the outbox, and refusals that tell what to send):
each command word is taken from ``rubrics.words`` and each period from its rule, never written out."""

from __future__ import annotations

from datetime import date

from rubrics.scoring import BELOW_STANDARD_CONSEQUENCES
from rubrics.words import (
    ASSESS,
    EVALUATE,
    OBJECTION,
    RE_REVIEW,
    REMEDIATION_CHECK,
    REMEDIATION_DONE,
    RESULT,
    SAMPLE_CHECK,
    SELF_CHECK,
    WAIVE_EVALUATION,
)

#: Told to whoever publishes: the 公示 they post carries each union's code, which is how the public objects.
HOW_THE_PUBLIC_OBJECTS = (
    f"对外公示时请列出单位编号：职工群众关注公众号后发送“{RESULT} 单位编号”查看、"
    f"“{OBJECTION} 单位编号 理由”提出异议。"
)


#: What a template's 结果 field says of a notice (a ``phrase``: at most 5 Chinese characters).
RESULT_RETURNED = "已退回"
RESULT_WITHDRAWN = "已撤回"
RESULT_PASSED = "验收通过"
RESULT_NOT_PASSED = "未通过"
RESULT_NO_REMEDIATION = "无需补课"
RESULT_KEPT = "维持原结果"
RESULT_CHANGED = "结果已改"


def evaluation_invitation(org_name: str, closes: date, code: str) -> str:
    """The notice that invites a participant to an evaluation."""
    return f"“{org_name}”民主测评已开始，{closes.isoformat()} 结束。您受邀参加，匿名作答，约需 1 分钟：发送“{EVALUATE} {code}”开始。"


def nothing_to_end(org_name: str) -> str:
    """Refused: ending an evaluation that was never opened (it may be waived)."""
    return f"“{org_name}”没有开展民主测评，无需结束；如确实无法开展，请发送“{WAIVE_EVALUATION} 原因”。"


def self_check_submitted(org_name: str, org_code: str, year: int) -> str:
    """To the evaluators: a union below submitted its self-check."""
    return f"{org_name}（{org_code}）已提交 {year} 年度自评，请发送“{ASSESS} {org_code}”进行组织评定。"


def self_check_withdrawn(org_name: str, org_code: str, year: int) -> str:
    """To the evaluators: the union took its submitted self-check back before the assessment."""
    return (
        f"{org_name}（{org_code}）撤回了已提交的 {year} 年度自评，正在修改，暂不能考评；"
        "重新提交后会再通知您。"
    )


def self_check_returned(org_name: str, year: int, reason: str) -> str:
    """To the chair: the self-check was returned."""
    return f"{org_name} {year} 年度自评被上级工会退回修改。原因：{reason}\n发送“{SELF_CHECK}”修改后重新提交。"


def objection_filed(org_name: str, org_code: str, source: str, text: str, due: str) -> str:
    """To the evaluators: an objection, with where it came from and by when to re-review."""
    return (
        f"{org_name}（{org_code}）的年检公示结果收到异议（来自{source}）：“{text}”\n"
        f"请在 {due} 前发送“{RE_REVIEW} {org_code}”完成复查评定。"
    )


def objection_decided(org_name: str, org_code: str, year: int, text: str, outcome: str, ends: str) -> str:
    """To the objector: the re-review decided their objection (``outcome``: what it came to), and the
    result is published again until ``ends`` ("": once its stars are settled)."""
    told = f"您对{org_name}（{org_code}）{year} 年度年检结果提出的异议“{text}”已复查：{outcome}。"
    if ends:
        return told + f"结果再次公示至 {ends}，发送“{RESULT} {org_code}”查看。"
    return told + "星级确定后将再次公示。"


def objections_no_longer_one_by_one(count: int) -> str:
    """Added to the evaluators' notice of the last objection of a round told one by one."""
    return f"本轮公示已收到 {count} 条异议，此后的异议不再逐条通知，请在复查或管理台中查看全部异议。"


def result_published(
    name: str, code: str, year: int, publication_round: int, rating: str, ends: str, below_standard: bool
) -> str:
    """To the chair and members: the result is published (``rating``: the note, the stars, the score)."""
    text = (
        f"{name}（{code}）{year} 年度年检结果公示（第 {publication_round} 轮）：{rating}。公示期至 {ends}，"
        f"发送“{RESULT}”查看详情；如有异议请在公示期内发送“{OBJECTION} 理由”"
        f"（未绑定本单位的职工群众发送“{OBJECTION} {code} 理由”）。"
    )
    return text + (f"低于建设标准：{BELOW_STANDARD_CONSEQUENCES}。" if below_standard else "")


def result_final(name: str, year: int, stars: str, remediation_due: date | None) -> str:
    """To the chair: the result is final; below the standard, by when to remediate."""
    text = f"{name} {year} 年度年检结果已确定：{stars}。发送“{RESULT}”查看详情。"
    if remediation_due is None:
        return text
    return text + (
        f"低于建设标准：{BELOW_STANDARD_CONSEQUENCES}。请于 {remediation_due.isoformat()} 前完成补课，"
        f"完成后发送“{REMEDIATION_DONE} 情况说明”。"
    )


def remediation_reported(org_name: str, org_code: str, text: str) -> str:
    """To the evaluators: the chair reports the remediation done."""
    check = f"{REMEDIATION_CHECK} {org_code}"
    return f"{org_name}（{org_code}）报告已完成补课：{text}\n请验收后发送“{check} 通过 说明”或“{check} 未通过 说明”。"


def remediation_withdrawn(org_name: str, year: int) -> str:
    """To the chair: a new assessment reached the standard, so the remediation is withdrawn."""
    return f"{org_name} {year} 年度年检结果经重新评定已达到建设标准，补课已撤销。"


def remediation_checked(org_name: str, passed: bool, text: str) -> str:
    """To the chair: the re-check's verdict, with the evaluator's words."""
    verdict = "已通过验收" if passed else "未通过验收，请继续补课后再次报告"
    return f"{org_name} 的补课{verdict}。说明：{text}"


#: After a sample is drawn (the CLI), and when a result is put on the sample (the console).
SAMPLE_DRAWN = f"市总工会考评员在微信中发送“{SAMPLE_CHECK} 单位编号”进行抽查；用同一随机种子可重现本次抽取。"
SAMPLE_MARKED = f"已列入抽查名单，市总工会考评员可发送“{SAMPLE_CHECK} 单位编号”复核。"

"""Texts of the parent union's walks — 组织评定 (`考评 C`), 复查评定 (`复查 C`), 抽查评定 (`抽查 C`) —
and of `退回 C 原因`, beyond the item walk's (dialogs/texts/walk.py)."""

from __future__ import annotations

ASSESSED = "组织评定已提交！\n"
RE_REVIEWED = "复查评定已提交。\n"


def stars_line(label: str, note: str) -> str:
    """The stars the submitted result got, and why, at the end of the submission's reply (the note
    after a dash, not in brackets: it may hold brackets of its own, 已再次公示（第 2 轮）)."""
    return f"\n评定星级：{label}" + (f"——{note}" if note else "") + "。"


def provisional(again: bool) -> str:
    """The scope's five-star quota is not confirmed yet: the stars are provisional, nothing published."""
    publish = "之后再次公示" if again else "之后才能公示"
    return f"预评：本范围全部单位评定或五星级名额范围确认后确定，{publish}"


def flagged(again: bool) -> str:
    """Tied at the five-star cut-off: an admin decides, then it is published (again)."""
    return "与其他单位同分并列在五星级名额线上，待管理员裁定后" + ("再次公示，暂未公示" if again else "公示")


UNPUBLISHED = "可以公示"


def published(round_no: int, ends: str) -> str:
    return f"已再次公示（第 {round_no} 轮），公示期至 {ends}，主席和会员将收到通知"


def others_republished(count: int) -> str:
    return f"\n本范围另有 {count} 个单位的星级因此调整，已重新公示。"


def heading(org_name: str, year: int, title: str) -> str:
    return f"{org_name} {year} 年度{title}结果："


def below_standard(pass_mark: str, consequences: str) -> str:
    return f"\n⚠ 低于建设标准（{pass_mark} 分）：{consequences}。"


def objections(count: int, by_source: list[tuple[str, int]], lines: list[tuple[str, str]], more: int) -> str:
    """The open objections when the re-review starts: how many from whom, then the first few."""
    counts = "，".join(f"{source} {n} 条" for source, n in by_source)
    shown = [f"收到异议 {count} 条（{counts}）："]
    shown += [f"{n}. 【{source}】{line}" for n, (source, line) in enumerate(lines, start=1)]
    if more:
        shown.append(f"……另有 {more} 条，请在管理台查看。")
    return "\n".join(shown) + "\n"


def sample_checked(
    org_name: str, county: str, county_stars: str, city: str, city_stars: str, difference: str, change: str
) -> str:
    return (
        f"抽查评定已提交。{org_name}：县级考评 {county} 分（{county_stars}），"
        f"市级抽查 {city} 分（{city_stars}），相差 {difference} 分，{change}。"
    )


STARS_UNCHANGED = "星级不变"


def stars_changed(before: str, after: str) -> str:
    return f"星级由{before}调整为{after}（已记录审计）"


# ---------------------------------------------------------------- why a walk cannot start

#: What each command word does, in a refusal: 您不是…的上级工会考评员，不能对其{…}.
DOING = {"考评": "考评", "复查": "复查", "抽查": "抽查", "退回": "退回自评", "录入测评": "录入测评表", "补课验收": "验收补课"}  # fmt: skip


def code_needed(word: str) -> str:
    """`考评` / `复查` / `抽查` … without the organisation's code."""
    example = f"{word} XJ-001" + (" 原因" if word == "退回" else "")
    return f"请在“{word}”后写上单位编号，如：{example}。发送“进度”查看您负责的单位。"


def not_found(code: str) -> str:
    return f"没有找到编号为“{code}”的工会，请核对单位编号。"


def not_evaluator(code: str, word: str) -> str:
    return f"您不是“{code}”的上级工会考评员，不能对其{DOING.get(word, word)}。"


NOT_CITY_EVALUATOR = "抽查由市总工会考评员办理。"
NO_CAMPAIGN = "本年度年检尚未开启。"


def not_inspected(code: str) -> str:
    return f"“{code}”不在本年度年检范围内。"


def no_remediation(code: str) -> str:
    return f"“{code}”没有需要验收的补课。"


UNAVAILABLE = "无法办理，请联系上级工会。"


def not_sampled(org_name: str) -> str:
    return f"“{org_name}”不在待抽查名单中，或已抽查完毕。"


def nothing_to_re_review(org_name: str, state: str) -> str:
    return f"“{org_name}”目前没有待复查的异议（状态：{state}）。"


def not_submitted_yet(org_name: str, state: str) -> str:
    return f"“{org_name}”的自评尚未提交（状态：{state}），暂不能考评。"


def assessed_already(org_name: str, state: str) -> str:
    return f"“{org_name}”已完成组织评定（状态：{state}）。"


#: `方式`, `意见`, `结束测评`, `免除测评` with no assessment open.
OUTSIDE_ASSESSMENT = (
    "考评方式、考评意见和民主测评的结束或免除，在组织评定中发送：请先发送“考评 单位编号”。"
    "组织评定已经提交的，不能再更改。"
)


# ---------------------------------------------------------------- 退回 C 原因


def cannot_return(org_name: str, state: str) -> str:
    return f"只能退回已提交、尚未评定的自评（“{org_name}”当前状态：{state}）。"


def return_reason_needed(code: str) -> str:
    return f"请写明退回原因，如：退回 {code} 第5项缺少佐证材料。"


def returned(org_name: str, reason: str) -> str:
    return f"已将“{org_name}”的自评退回工会主席修改。原因：{reason}\n主席将收到通知，修改后重新提交。"


#: The lines of the parent union's words in `帮助`.
USAGE: dict[str, str] = {
    "考评": "考评 单位编号 —— 逐项考评（回复“同”沿用自评分，或回复分数）",
    "退回": "退回 单位编号 原因 —— 把已提交的自评退回主席修改",
    "复查": "复查 单位编号 —— 复查有异议的结果（改分须说明原因）",
    "抽查": "抽查 单位编号 —— 市总工会抽查下级评定结果（回复“同”沿用县级考评分）",
}

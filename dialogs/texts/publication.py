"""Texts of `结果` (the published result, 公示) and `异议 理由` (dialogs/publication.py)."""

from __future__ import annotations


def heading(org_name: str, year: int, state: str, round_no: int, ends: str) -> str:
    return f"【年检结果】{org_name} {year} 年度（{state}，第 {round_no} 轮公示，公示期至 {ends}）"


def score_line(raw_total: str, score: str, top: int) -> str:
    """The assessed total; its 百分制 score beside it only where they differ (a sheet not out of 100,
    a democratic score blended in)."""
    if top == 100 and raw_total == score:
        return f"考评得分：{score} 分（满分 {top} 分）"
    return f"考评得分：{raw_total} 分（满分 {top} 分），百分制 {score} 分"


def stars_line(stars: str) -> str:
    return f"星级：{stars}"


def stars_reason(reason: str) -> str:
    return f"星级说明：{reason}"


def below_standard(consequences: str) -> str:
    return f"⚠ 低于建设标准：{consequences}。"


HOW_TO_OBJECT = "如对结果有异议，请在公示期内发送“异议 具体理由”。"
NOT_PUBLISHED = "您所在单位本年度的年检结果尚未公示。"
NOTHING_TO_OBJECT_TO = "您所在单位目前没有公示中的年检结果，无法提出异议。"
#: To someone who named no union and is not bound to one: how the public reads and objects.
PUBLIC_HOW = (
    "查看公示中的年检结果请发送“结果 单位编号”，提出异议请发送“异议 单位编号 理由”（单位编号见公示）。"
    "本单位会员、工会主席绑定身份后可直接发送“结果”“异议 理由”。"
)


def public_heading(org_name: str, code: str, year: int, state: str, round_no: int, ends: str) -> str:
    return (
        f"【年检结果公示】{org_name}（{code}）{year} 年度（{state}，第 {round_no} 轮公示，公示期至 {ends}）"
    )


def code_line(code: str) -> str:
    """The union's code under its own result, while it may be objected to."""
    return f"单位编号：{code}。未绑定的职工群众可发送“结果 {code}”查看本公示、“异议 {code} 理由”提出异议。"


def how_to_object_with_code(code: str) -> str:
    return f"如对该结果有异议，请在公示期内发送“异议 {code} 具体理由”（每轮公示每人一次）。"


def no_publication(code: str) -> str:
    """A code that names no union in publication: said the same whether or not the union exists."""
    return f"没有找到编号为 {code} 的公示中的年检结果。请核对公示上的单位编号；公示期外不能查看或提出异议。"


OWN_OBJECTION_HINT = "如要对本单位的结果提出异议，请直接发送“异议 理由”（理由请以中文开头）。"


def reason_needed_with_code(code: str) -> str:
    return f"请在单位编号后写明具体理由，如：异议 {code} 第12项职工书屋并未建立。"


def received_with_code(org_name: str, code: str) -> str:
    return f"您对“{org_name}”（{code}）年检结果的异议已收到。上级工会将在 10 日内复查评定，并再次公示结果。"


def outside_publication(org_name: str, state: str) -> str:
    return f"“{org_name}”的年检结果不在公示期内（{state}），无法提出异议。"


ALREADY_OBJECTED = "您已对本轮公示结果提出过异议，上级工会将在 10 日内复查，请耐心等待。"
REASON_NEEDED = "请在“异议”后写明具体理由，如：异议 第12项职工书屋并未建立。"
OBJECTION_RECEIVED = "您的异议已收到。上级工会将在 10 日内复查评定，并再次公示结果。"

#: The lines of `结果` and `异议` in `帮助`.
USAGE: dict[str, str] = {
    "结果": "结果 —— 查看公示的年检结果（结果 单位编号：查看其他单位的公示）",
    "异议": "异议 理由 —— 公示期内提出异议（异议 单位编号 理由：对其他单位）",
}

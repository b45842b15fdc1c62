"""Texts of `结果` (the published result, 公示) and `异议 理由` (dialogs/publication.py)."""

from __future__ import annotations


def heading(org_name: str, year: int, state: str, round_no: int, ends: str) -> str:
    return f"【年检结果】{org_name} {year} 年度（{state}，第 {round_no} 轮公示，公示期至 {ends}）"


def score_line(raw_total: str, score: str) -> str:
    return f"考评得分：{raw_total} 分，百分制 {score} 分"


def stars_line(stars: str) -> str:
    return f"星级：{stars}"


def stars_reason(reason: str) -> str:
    return f"星级说明：{reason}"


def below_standard(consequences: str) -> str:
    return f"⚠ 低于建设标准：{consequences}。"


HOW_TO_OBJECT = "如对结果有异议，请在公示期内发送“异议 具体理由”。"
NOT_PUBLISHED = "您所在单位本年度的年检结果尚未公示。"
NOTHING_TO_OBJECT_TO = "您所在单位目前没有公示中的年检结果，无法提出异议。"


def outside_publication(org_name: str, state: str) -> str:
    return f"“{org_name}”的年检结果不在公示期内（{state}），无法提出异议。"


ALREADY_OBJECTED = "您已对本轮公示结果提出过异议，上级工会将在 10 日内复查，请耐心等待。"
REASON_NEEDED = "请在“异议”后写明具体理由，如：异议 第12项职工书屋并未建立。"
OBJECTION_RECEIVED = "您的异议已收到。上级工会将在 10 日内复查评定，并再次公示结果。"

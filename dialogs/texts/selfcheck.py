"""Texts of the self-check (自查自评) beyond the item walk's (dialogs/texts/walk.py)."""

from __future__ import annotations

from dialogs.texts.common import self_check_locked
from rubrics.lifecycle import ASSESSABLE, InspectionState

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


# ---------------------------------------------------------------- 进度 after the submission

#: Where a submitted inspection stands, stage by stage: the organisational assessment (组织评定) and the
#: result (年检结果); the stage not reached yet is left out. Keyed by the lifecycle state.
STAGES: dict[str, tuple[str, str]] = {
    "self_submitted": ("待上级工会评定", ""),
    "reviewing": ("上级工会评定中", ""),
    "rated": ("已完成", "已评定，待公示"),
    "published": ("已完成", "公示中"),
    "objected": ("已完成", "公示结果收到异议，待上级工会复查"),
    "re_reviewing": ("已完成", "公示结果收到异议，上级工会复查中"),
    "final": ("已完成", "已确定星级"),
}


def submitted_progress(
    org_name: str, year: int, scored: int, count: int, photos: int, total: str, top: int
) -> str:
    return (
        f"{org_name} {year} 年度自查自评：已提交（已答 {scored}/{count} 项，"
        f"佐证照片 {photos} 张，自评合计 {total}/{top} 分）"
    )


def stages(assessment: str, result: str) -> str:
    return f"\n组织评定：{assessment}" + (f"\n年检结果：{result}" if result else "")


def stages_published(assessment: str, result_line: str) -> str:
    """The stages once the result is published: ``result_line`` is the whole 年检结果 line."""
    return f"\n组织评定：{assessment}\n{result_line}"


#: `自评`'s line in `帮助`.
USAGE = "自评 —— 开始或继续自查自评（从第一项未答处继续）"

# ---------------------------------------------------------------- 撤销提交

#: `撤销提交`'s line in `帮助`.
WITHDRAW_USAGE = "撤销提交 —— 考评开始前撤回自评"
WITHDRAWN = "已撤销提交，自评恢复为“自评中”。发送“自评”修改答案，改好后发送“提交”重新提交。"
WITHDRAW_CHAIR_ONLY = "只有本单位工会主席可以撤销提交自评。"


def withdraw_not_submitted(state_label: str) -> str:
    """`撤销提交` when there is no submission to withdraw (sent twice, or never submitted)."""
    return f"自评当前状态为“{state_label}”，没有需要撤销的提交；发送“自评”继续填写。"


def withdraw_refused(state: InspectionState) -> str:
    """`撤销提交` once the parent union has started its assessment (it can still return the self-check)
    or has rated it (nothing can take the self-check back any more)."""
    if state in ASSESSABLE:
        return f"自评当前状态为“{state.label}”，上级工会已开始考评，不能撤销提交；如需修改，请联系上级工会“退回”自评。"
    return f"自评当前状态为“{state.label}”，组织评定已经完成，不能再撤销提交。"

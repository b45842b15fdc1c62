"""The parent union's walks over a child's inspection: 组织评定 (`考评 C`), 复查评定 (`复查 C`), and
`退回 C 原因`, which sends a submitted self-check back to the chair."""

from __future__ import annotations

from dialogs import walk
from dialogs.commands import (
    ReturnSelfCheck,
    SaveAssessedScore,
    SaveCityScore,
    StartAssessment,
    StartReReview,
    StartSampleCheck,
    SubmitAssessment,
    SubmitReReview,
    SubmitSampleCheck,
)
from dialogs.context import AssessmentAccess, UserContext, WalkView
from dialogs.engine import Choice, DialogState, Outcome, Reply
from dialogs.parsing import Intent
from rubrics import Rubric
from rubrics.lifecycle import InspectionState
from rubrics.scoring import (
    BELOW_STANDARD_CONSEQUENCES,
    Stars,
    format_score,
    percent_score,
    raw_total,
    star_level,
)


def _standard_note(view: WalkView, rubric: Rubric) -> str:
    score = percent_score(raw_total(view.scores.values()), rubric.max_total)
    if score < view.pass_mark:
        return f"\n⚠ 低于建设标准（{format_score(view.pass_mark)} 分）：{BELOW_STANDARD_CONSEQUENCES}。"
    return ""


QUOTA_NOTE = "按得分星级：{stars}（五星级名额统一确认后公示）"


def _assessed(view: WalkView, rubric: Rubric) -> str:
    totals = walk.totals_text(view, rubric, f"{view.org_name} {view.year} 年度组织评定结果：", QUOTA_NOTE)
    return (
        f"组织评定已提交！\n{totals}\n{walk.democratic_text(view.democratic)}\n{walk.record_text(view)}"
        f"{_standard_note(view, rubric)}"
    )


def _re_reviewed(view: WalkView, rubric: Rubric) -> str:
    totals = walk.totals_text(view, rubric, f"{view.org_name} {view.year} 年度复查评定结果：", QUOTA_NOTE)
    return f"复查评定已提交，结果将再次公示。\n{totals}{_standard_note(view, rubric)}"


def _assessment_view(ctx: UserContext) -> WalkView | None:
    return ctx.assessment.view if ctx.assessment else None


def _objections(view: WalkView) -> str:
    """The open objections, shown when the re-review starts or resumes."""
    if not view.objections:
        return ""
    lines = [f"收到异议 {len(view.objections)} 条："]
    lines += [
        f"{n}. {text[:80]}" + ("…" if len(text) > 80 else "")
        for n, text in enumerate(view.objections[:3], start=1)
    ]
    if len(view.objections) > 3:
        lines.append(f"……另有 {len(view.objections) - 3} 条，请在管理台查看。")
    return "\n".join(lines) + "\n"


ASSESSMENT = walk.Mode(
    name="assessment",
    title="组织评定",
    view=_assessment_view,
    start_command=StartAssessment,
    score_command=SaveAssessedScore,
    submit_command=SubmitAssessment,
    submitted_text=_assessed,
    agree="reference",
    score_label="考评",
    resume="考评 {code}",
    record=True,
    evaluation_first=True,
)
RE_REVIEW = walk.Mode(
    name="re_review",
    title="复查评定",
    view=_assessment_view,
    start_command=StartReReview,
    score_command=SaveAssessedScore,
    submit_command=SubmitReReview,
    submitted_text=_re_reviewed,
    agree="current",
    reasons=True,
    sequential=True,
    score_label="考评",
    resume="复查 {code}",
    intro=_objections,
    record=True,
)


def _sample_checked(view: WalkView, rubric: Rubric) -> str:
    county = percent_score(raw_total(view.reference.values()), rubric.max_total)
    city = percent_score(raw_total(view.scores.values()), rubric.max_total)
    county_stars, city_stars = (Stars(view.stars) if view.stars else star_level(county)), star_level(city)
    change = (
        "星级不变"
        if county_stars == city_stars
        else f"星级由{county_stars.label}调整为{city_stars.label}（已记录审计）"
    )
    return (
        f"抽查评定已提交。{view.org_name}：县级考评 {format_score(county)} 分（{county_stars.label}），"
        f"市级抽查 {format_score(city)} 分（{city_stars.label}），相差 {format_score(city - county)} 分，{change}。"
    )


SAMPLE_CHECK = walk.Mode(
    name="sample_check",
    title="抽查评定",
    view=_assessment_view,
    start_command=StartSampleCheck,
    score_command=SaveCityScore,
    submit_command=SubmitSampleCheck,
    submitted_text=_sample_checked,
    agree="reference",
    score_label="抽查",
    resume="抽查 {code}",
)


def refusal_text(access: AssessmentAccess) -> str:
    return {
        "not_found": f"没有找到编号为“{access.org_code}”的工会，请核对单位编号。",
        "not_evaluator": f"您不是“{access.org_code}”的上级工会考评员，不能对其考评或复查。",
        "not_city_evaluator": "抽查由市总工会考评员办理。",
        "no_campaign": "本年度年检尚未开启。",
        "not_inspected": f"“{access.org_code}”不在本年度年检范围内。",
        "no_remediation": f"“{access.org_code}”没有需要验收的补课。",
    }.get(access.refusal, "无法办理，请联系上级工会。")


def access_for(ctx: UserContext, code: str, word: str) -> AssessmentAccess | str:
    """The access the service loaded for ``code``, or the reply that says why there is none."""
    if not code:
        return f"请在“{word}”后写上单位编号，如：{word} XJ-001。发送“进度”查看您负责的单位。"
    access = ctx.assessment
    if access is None or access.org_code.upper() != code.upper():
        return f"没有找到编号为“{code}”的工会，请核对单位编号。"
    if access.view is None:
        return refusal_text(access)
    return access


WORDS = {"assessment": "考评", "re_review": "复查", "sample_check": "抽查"}


def start(ctx: UserContext, code: str, mode: walk.Mode, prefix: str = "") -> Outcome:
    """`考评 C`, `复查 C` or `抽查 C`."""
    access = access_for(ctx, code, WORDS[mode.name])
    if isinstance(access, str):
        return Outcome(Reply(prefix + access), DialogState())
    view = access.view
    assert view is not None
    if not view.editable:
        return Outcome(Reply(prefix + _not_open(mode, access, view)), DialogState())
    return walk.start(mode, view, prefix)


def _not_open(mode: walk.Mode, access: AssessmentAccess, view: WalkView) -> str:
    if mode is SAMPLE_CHECK:
        return f"“{view.org_name}”不在待抽查名单中，或已抽查完毕。"
    if mode is RE_REVIEW:
        return f"“{view.org_name}”目前没有待复查的异议（状态：{view.state_label}）。"
    if InspectionState(access.state).self_check_editable:
        return f"“{view.org_name}”的自评尚未提交（状态：{view.state_label}），暂不能考评。"
    return f"“{view.org_name}”已完成组织评定（状态：{view.state_label}）。"


def handle(mode: walk.Mode, state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    def restart(context: UserContext, prefix: str) -> Outcome:
        code = context.assessment.org_code if context.assessment else ""
        return start(context, code, mode, prefix)

    return walk.handle(mode, state, intent, ctx, restart)


def return_self_check(ctx: UserContext, arg: str, typed: str) -> Outcome:
    """`退回 C 原因`; the reason is kept as typed."""
    code = arg.partition(" ")[0]
    reason = typed.split(None, 1)[1] if len(typed.split(None, 1)) > 1 else ""
    access = access_for(ctx, code, "退回")
    if isinstance(access, str):
        return Outcome(Reply(access), DialogState())
    view = access.view
    assert view is not None
    if not InspectionState(access.state).is_assessable:
        return Outcome(
            Reply(f"只能退回已提交、尚未评定的自评（“{view.org_name}”当前状态：{view.state_label}）。"),
            DialogState(),
        )
    reason = reason.strip()
    if not reason:
        return Outcome(
            Reply(f"请写明退回原因，如：退回 {access.org_code} 第5项缺少佐证材料。"), DialogState()
        )
    return Outcome(
        Reply(
            f"已将“{view.org_name}”的自评退回工会主席修改。原因：{reason[:200]}\n主席将收到通知，修改后重新提交。",
            (Choice("进度", "进度"),),
        ),
        DialogState(),
        (ReturnSelfCheck(view.inspection_id, reason[:500]),),
    )

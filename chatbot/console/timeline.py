"""The audit log of one inspection (办理记录) in words: who (the organisation and role, not `wechat:10`),
what (状态 已提交 → 已评定, 第 35 项 自评 3 → 4 分) and when (Asia/Shanghai, 2026年12月1日 14:05)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection.audit import decode
from chatbot.store.models import AuditEntry, ConsoleUser, Inspection, Organisation, RoleBinding
from chatbot.timeutil import SHANGHAI, as_utc
from dialogs.context import ROLE_LABELS
from rubrics.lifecycle import InspectionState
from rubrics.objections import Outcome, outcome_words
from rubrics.scoring import Stars, format_score

#: Actors that are not a person.
SYSTEM_ACTORS: dict[str, str] = {
    "scheduler": "系统（定时任务）",
    "cli": "管理员（命令行）",
    "demo": "系统（演示数据）",
}


@dataclass(frozen=True)
class Who:
    name: str  # the organisation, or the console account
    role: str  # 工会主席, 考评员, 管理员 …


@dataclass(frozen=True)
class Line:
    """One audit entry as the console shows it."""

    when: str
    who: Who
    what: str
    detail: str
    reason: str


def chinese_time(value: datetime) -> str:
    """A stored time in Asia/Shanghai, written as Chinese readers do: 2026年12月1日 14:05."""
    local = as_utc(value).astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def lines(session: Session, inspection: Inspection) -> list[Line]:
    """The inspection's audit entries, oldest first, in words."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "inspection", AuditEntry.entity_id == inspection.id)
        .order_by(AuditEntry.id)
    ).all()
    people = _people(session, inspection, {entry.actor for entry in entries})
    shown = []
    for entry in entries:
        what, detail = describe(entry.action, decode(entry.before), decode(entry.after))
        who = people.get(entry.actor) or Who(entry.actor, "")
        shown.append(Line(chinese_time(entry.at), who, what, detail, entry.reason or ""))
    return shown


# ---------------------------------------------------------------- who


def _people(session: Session, inspection: Inspection, actors: Iterable[str]) -> dict[str, Who]:
    """Each actor as a person: a WeChat account by its binding nearest to the inspection's union, a
    console account by its federation; system actors by what they are."""
    found = {actor: Who(label, "") for actor, label in SYSTEM_ACTORS.items() if actor in actors}
    accounts = {
        account_id: actor
        for actor in actors
        if actor.startswith("wechat:") and (account_id := _id_of(actor)) is not None
    }
    if accounts:
        chain = _ancestry(inspection.organisation)
        bindings = session.execute(
            select(RoleBinding.account_id, RoleBinding.role, Organisation.id, Organisation.name)
            .join(Organisation, RoleBinding.organisation_id == Organisation.id)
            .where(RoleBinding.account_id.in_(list(accounts)))
        ).all()
        best: dict[int, tuple[int, str, str]] = {}
        for account_id, role, org_id, org_name in bindings:
            rank = _rank(chain, org_id, role)
            if account_id not in best or rank < best[account_id][0]:
                best[account_id] = (rank, org_name, ROLE_LABELS.get(role, role))
        for key, actor in accounts.items():
            if key in best:
                _rank_, org_name, role_label = best[key]
                found[actor] = Who(org_name, role_label)
            else:
                found[actor] = Who("微信用户（已解除绑定）", "")
    usernames = {actor.removeprefix("console:"): actor for actor in actors if actor.startswith("console:")}
    if usernames:
        for username, org_name in session.execute(
            select(ConsoleUser.username, Organisation.name)
            .join(Organisation, ConsoleUser.organisation_id == Organisation.id)
            .where(ConsoleUser.username.in_(list(usernames)))
        ):
            found[usernames[username]] = Who(org_name, f"管理员 {username}")
        for username, actor in usernames.items():
            found.setdefault(actor, Who(f"管理台账号 {username}", "管理员"))
    return found


def people(session: Session, inspection: Inspection, actors: Iterable[str]) -> dict[str, Who]:
    """Each actor (of entries on ``inspection``) as the console shows a person."""
    return _people(session, inspection, set(actors))


def _id_of(actor: str) -> int | None:
    try:
        return int(actor.removeprefix("wechat:"))
    except ValueError:
        return None


def _ancestry(org: Organisation) -> list[int]:
    """The union itself, then its parent union, and so on up to the city federation."""
    chain: list[int] = []
    node: Organisation | None = org
    while node is not None and node.id not in chain:
        chain.append(node.id)
        node = node.parent
    return chain


def _rank(chain: Sequence[int], org_id: int, role: str) -> int:
    """Lower is nearer: the union's own chair, then its members, then the nearest parent's evaluators."""
    if org_id in chain:
        depth = chain.index(org_id)
        return depth * 10 + {"chair": 0, "evaluator": 1, "admin": 2, "member": 3}.get(role, 4)
    return 1000


# ---------------------------------------------------------------- what


def _state(value: Any) -> str:
    try:
        return InspectionState(str(value)).label
    except ValueError:
        return str(value)


def _score(value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        return format_score(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


def _stars(value: Any) -> str:
    try:
        return Stars(int(value)).label
    except (TypeError, ValueError):
        return "—"


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _item(label: str) -> Callable[[Any, Any], str]:
    def detail(before: Any, after: Any) -> str:
        no = _get(after, "item") or _get(before, "item")
        return f"第 {no} 项 {label} {_score(_get(before, 'score'))} → {_score(_get(after, 'score'))} 分"

    return detail


def _transition(before: Any, after: Any) -> str:
    return f"状态 {_state(before)} → {_state(after)}"


def _publish(before: Any, after: Any) -> str:
    text = f"第 {_get(after, 'round') or 1} 轮公示"
    if _get(after, "score") is not None:
        text += f"：{_score(_get(after, 'score'))} 分"
    if _get(after, "stars"):
        text += f"，{_stars(_get(after, 'stars'))}"
    return text


def _assessment(before: Any, after: Any) -> str:
    methods = _get(after, "methods")
    opinion = _get(after, "opinion")
    parts = [f"考评方式：{'、'.join(methods) if methods else '未记录'}"]
    parts.append(f"考评意见：{opinion or '未填写'}")
    return "；".join(parts)


def _paper(before: Any, after: Any) -> str:
    return f"发放 {_get(after, 'distributed')} 份，收回 {_get(after, 'returned')} 份"


def _override(before: Any, after: Any) -> str:
    override = _get(after, "override")
    if override is None and _get(after, "stars") is None:
        return f"撤销调整（原为{_stars(_get(before, 'override'))}）"
    return f"星级 {_stars(_get(before, 'stars'))} → {_stars(override or _get(after, 'stars'))}"


def _sample_check(before: Any, after: Any) -> str:
    return (
        f"县级考评 {_score(_get(before, 'score'))} 分（{_stars(_get(before, 'stars'))}）；"
        f"抽查 {_score(_get(after, 'score'))} 分（{_stars(_get(after, 'stars'))}）"
    )


def _sample_stars(before: Any, after: Any) -> str:
    return f"星级 {_stars(_get(before, 'stars'))} → {_stars(_get(after, 'stars'))}"


def _remediation_open(before: Any, after: Any) -> str:
    return f"补课截止 {_get(after, 'due') or '—'}"


def _remediation_reported(before: Any, after: Any) -> str:
    return str(_get(after, "text") or "")


def _re_review_late(before: Any, after: Any) -> str:
    return f"应于 {_get(after, 'due') or '—'} 前完成"


def _objections_decided(before: Any, after: Any) -> str:
    count = len(_get(after, "objections") or [])
    outcome = Outcome(
        _decimal(_get(before, "score")),
        int(_get(before, "stars") or 0),
        _decimal(_get(after, "score")),
        int(_get(after, "stars") or 0),
    )
    return f"{count} 条异议：{outcome_words(outcome)}"


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None or value == "" else Decimal(str(value))
    except InvalidOperation:
        return None


def _remediation_checked(before: Any, after: Any) -> str:
    return "通过验收" if _get(after, "passed") else "未通过验收"


def _evaluation(before: Any, after: Any) -> str:
    if _get(after, "held") is False:
        return "未开展民主测评"
    code = _get(after, "evaluation")
    return f"测评码 {code}" if code else ""


def _nothing(before: Any, after: Any) -> str:
    return ""


#: action → (what it is called, how its change reads).
ACTIONS: dict[str, tuple[str, Callable[[Any, Any], str]]] = {
    "transition": ("状态变更", _transition),
    "self_score": ("修改自评得分", _item("自评")),
    "assessed_score": ("修改考评得分", _item("考评")),
    "assessment_record": ("考评记录", _assessment),
    "publish": ("公示结果", _publish),
    "finalise": ("公示期满，结果确定", _transition),
    "override": ("调整星级", _override),
    "mark_for_sampling": ("列入抽查", _nothing),
    "sample_check": ("市总工会抽查", _sample_check),
    "sample_stars_changed": ("抽查后调整星级", _sample_stars),
    "waive_evaluation": ("免除民主测评", _evaluation),
    "close_evaluation": ("提前结束民主测评", _evaluation),
    "paper_ballots": ("录入纸质测评表", _paper),
    "remediation_open": ("开始补课", _remediation_open),
    "remediation_reported": ("报告补课完成", _remediation_reported),
    "remediation_checked": ("补课验收", _remediation_checked),
    "remediation_withdrawn": ("撤销补课（结果已达到建设标准）", _nothing),
    "stars_recomputed": ("五星级名额重新确定", _sample_stars),
    "re_review_late": ("复查逾期完成", _re_review_late),
    "objections_decided": ("复查决定异议", _objections_decided),
}


def describe(action: str, before: Any, after: Any) -> tuple[str, str]:
    """What an entry did, and its change in words; an action not listed still reads as words."""
    known = ACTIONS.get(action)
    if known is not None:
        name, detail = known
        return name, detail(before, after)
    return action, _plain(before, after)


def _plain(before: Any, after: Any) -> str:
    """Key：value pairs, never JSON, for an action this module does not know yet."""

    def words(value: Any) -> str:
        if isinstance(value, dict):
            return "，".join(f"{key}：{words(item)}" for key, item in value.items() if item is not None)
        if isinstance(value, list):
            return "、".join(words(item) for item in value)
        return "—" if value is None else str(value)

    if before is None:
        return words(after) if after is not None else ""
    return f"{words(before)} → {words(after)}"

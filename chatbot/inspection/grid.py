"""网格化管理 (grid responsibility): "各级工会要实行网格化管理，将责任层层落实到人，做到全覆盖、不重复、不遗漏",
and "各县（区）…要结合实际，制定本地本系统年检活动的计划和目标".

Each county/zone federation records its plan for a campaign year: its own coverage target (at least
the city's), its own deadlines (never later than the city's; none: the city's) and a short text. Each
union in the year's scope has at most one responsible person (网格员): a console user of its county
federation (of the city, for a city-direct union), or an evaluator binding (a WeChat account) at an
organisation above it within its county. A union with nobody is listed as 未落实; each person's
unions are listed by state, with their overdue steps (self-check, assessment, re-review,
remediation), which the scheduler also tells a WeChat person once each (chatbot.notify.reminders).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, select
from sqlalchemy.orm import Session

from chatbot.inspection import audit, remediation
from chatbot.inspection.coverage import target_of
from chatbot.inspection.errors import AdminError
from chatbot.inspection.hierarchy import Group, OrgTree, load_tree
from chatbot.store.models import (
    Account,
    Base,
    Campaign,
    ConsoleUser,
    CountyPlan,
    GridAssignment,
    Inspection,
    Organisation,
    RoleBinding,
)
from chatbot.store.upsert import insert_for
from chatbot.timeutil import SHANGHAI, as_utc
from rubrics.lifecycle import ASSESSABLE, NOT_SUBMITTED, RE_REVIEWABLE, InspectionState, RemediationStatus
from rubrics.scoring import format_percent

S = InspectionState
Claimed = TypeVar("Claimed", bound=Base)
#: Longest plan text kept: a few paragraphs (the plan itself is a document of its own).
PLAN_MAX_CHARS = 1_000
#: The role a WeChat account needs, at an organisation above the union, to be its responsible person.
EVALUATOR = "evaluator"


class Step(StrEnum):
    """A step of a union's inspection that can be overdue."""

    SELF_CHECK = "self_check"
    REVIEW = "review"
    RE_REVIEW = "re_review"
    REMEDIATION = "remediation"


STEP_LABELS = {
    Step.SELF_CHECK: "自评逾期",
    Step.REVIEW: "考评逾期",
    Step.RE_REVIEW: "复查逾期",
    Step.REMEDIATION: "补课逾期",
}

#: A person's unions by state, as the console and the CLI count them.
BUCKETS: tuple[tuple[str, frozenset[InspectionState]], ...] = (
    ("未提交自评", NOT_SUBMITTED),
    ("待考评", ASSESSABLE),
    ("已评定", frozenset({S.RATED})),
    ("公示中", frozenset({S.PUBLISHED, S.OBJECTED, S.RE_REVIEWING})),
    ("已确定星级", frozenset({S.FINAL})),
)


# ---------------------------------------------------------------- the county's plan


def clean_text(text: str) -> str:
    """A typed text as kept: line ends made plain, trailing spaces and blank edges dropped."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


@dataclass(frozen=True)
class Deadlines:
    """The deadlines a union works to: its county's own where its plan sets them, else the city's."""

    self_check_due: date | None
    review_due: date | None


def _earlier(own: date | None, city: date | None) -> date | None:
    if own is None or city is None:
        return own or city
    return min(own, city)


def is_county(tree: OrgTree, org_id: int) -> bool:
    """A county/zone federation: a child of the city without a rubric."""
    node = tree.nodes.get(org_id)
    return (
        node is not None
        and not node.is_grassroots
        and node.parent_id is not None
        and tree.nodes[node.parent_id].parent_id is None
    )


def plans_of(session: Session, campaign: Campaign) -> dict[int, CountyPlan]:
    """Every county's plan of the campaign, by the county's organisation id (one query)."""
    return {
        plan.organisation_id: plan
        for plan in session.scalars(select(CountyPlan).where(CountyPlan.campaign_id == campaign.id))
    }


def deadlines_of(
    session: Session, campaign: Campaign, tree: OrgTree | None = None
) -> Callable[[int], Deadlines]:
    """A function from a union's id to the deadlines it works to: one query for every union (and the
    tree, read when not given and some county has a plan)."""
    plans = plans_of(session, campaign)
    city = Deadlines(campaign.self_check_due, campaign.review_due)
    if not plans:
        return lambda _org_id: city
    tree = tree or load_tree(session)

    def of(org_id: int) -> Deadlines:
        county = tree.county_of(org_id)
        plan = plans.get(county.id) if county is not None else None
        if plan is None:
            return city
        return Deadlines(
            _earlier(plan.self_check_due, city.self_check_due), _earlier(plan.review_due, city.review_due)
        )

    return of


def save_plan(
    session: Session,
    campaign: Campaign,
    tree: OrgTree,
    county_code: str,
    target: Decimal,
    deadlines: Deadlines,
    text: str,
    actor: str,
    now: datetime,
) -> CountyPlan:
    """Record (or change) a county federation's plan for the year, audited; AdminError in Chinese
    when the target is below the city's, a deadline is later than the city's, or the text too long."""
    county = tree.by_code(county_code)
    if county is None or not is_county(tree, county.id):
        raise AdminError(f"{county_code} 不是县（区）或开发区总工会，年检计划由县（区）、开发区总工会制定。")
    city_target = target_of(campaign)
    if not target.is_finite() or not 0 <= target <= 1 or target != target.quantize(Decimal("0.01")):
        raise AdminError("本地年检目标应为 0% 到 100% 之间的整数百分比，如 75%。")
    if target < city_target:
        raise AdminError(
            f"本地年检目标 {format_percent(target)} 低于全市 {campaign.year} 年度目标 "
            f"{format_percent(city_target)}，应不低于 {format_percent(city_target)}。"
        )
    for own, city, what in (
        (deadlines.self_check_due, campaign.self_check_due, "自评"),
        (deadlines.review_due, campaign.review_due, "考评"),
    ):
        if own is not None and city is not None and own > city:
            raise AdminError(
                f"本地{what}截止日期 {own.isoformat()} 晚于全市的 {city.isoformat()}，应不晚于全市。"
            )
    effective = Deadlines(
        _earlier(deadlines.self_check_due, campaign.self_check_due),
        _earlier(deadlines.review_due, campaign.review_due),
    )
    if effective.self_check_due and effective.review_due and effective.review_due < effective.self_check_due:
        raise AdminError(
            f"考评截止日期 {effective.review_due.isoformat()} 早于自评截止日期 {effective.self_check_due.isoformat()}。"
        )
    kept = clean_text(text)
    if len(kept) > PLAN_MAX_CHARS:
        raise AdminError(f"计划说明最多 {PLAN_MAX_CHARS} 个字，请精简后再保存。")
    values = {"coverage_target": target, "updated_at": now, "updated_by": actor}
    plan, existed = _claim(
        session, CountyPlan, {"campaign_id": campaign.id, "organisation_id": county.id}, values
    )
    before = _plan_record(plan) if existed else None
    plan.coverage_target = target
    plan.self_check_due, plan.review_due = deadlines.self_check_due, deadlines.review_due
    plan.text, plan.updated_at, plan.updated_by = kept, now, actor
    session.flush()
    audit.record(
        session,
        actor,
        "county_plan_saved",
        "organisation",
        county.id,
        before=before,
        after=_plan_record(plan),
        reason=f"{campaign.year}年度年检计划",
    )
    return plan


def _plan_record(plan: CountyPlan) -> dict[str, object]:
    return {
        "target": f"{format_percent(plan.coverage_target)}",
        "self_check_due": plan.self_check_due,
        "review_due": plan.review_due,
        "text": plan.text,
    }


def _claim(
    session: Session, model: type[Claimed], keys: dict[str, int], values: Mapping[str, object]
) -> tuple[Claimed, bool]:
    """The row of ``model`` with these unique ``keys``, locked (FOR UPDATE on PostgreSQL), inserted with
    ``values`` when missing — ON CONFLICT DO NOTHING, so that two admins at once make neither two rows
    nor an error. Returns the row and whether it existed before."""
    query = select(model).filter_by(**keys).with_for_update()
    row = session.scalar(query)
    if row is not None:
        return row, True
    statement = (
        insert_for(session)(model).values(**keys, **values).on_conflict_do_nothing(index_elements=list(keys))
    )
    result = session.execute(statement, execution_options={"preserve_rowcount": True})
    inserted = cast("CursorResult[Any]", result).rowcount == 1
    row = session.scalar(query.execution_options(populate_existing=True))
    assert row is not None
    return row, not inserted


# ---------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    """Someone who can be responsible for unions: a console user (``user:ID``) or an evaluator
    binding (``binding:ID``, a WeChat account)."""

    key: str
    label: str
    org_id: int
    account_id: int | None = None  # the WeChat account a binding's notices go to
    active: bool = True  # False: a console user whose account is disabled

    @property
    def is_wechat(self) -> bool:
        return self.account_id is not None


def _user_person(user: ConsoleUser, org_name: str) -> Person:
    label = f"{user.username}（{org_name} 管理台账号{'，已停用' if user.disabled_at else ''}）"
    return Person(f"user:{user.id}", label, user.organisation_id, None, user.disabled_at is None)


def _binding_person(binding: RoleBinding, openid: str, org_name: str) -> Person:
    # An openid is WeChat's pseudonym of the account; its last characters tell two evaluators apart.
    label = f"{org_name} 考评员（微信 …{openid[-6:]}）"
    return Person(f"binding:{binding.id}", label, binding.organisation_id, binding.account_id)


def responsible_orgs(tree: OrgTree, union_id: int) -> list[int]:
    """The organisations whose people may be responsible for the union, nearest first: those above it
    within its county (the city too for a city-direct union)."""
    above = tree.path(union_id)[1:]
    if tree.county_of(union_id) is not None:
        above = above[:-1]  # not the city: a county's unions are its own responsibility
    return [node.id for node in above]


def group_orgs(tree: OrgTree, group: Group) -> set[int]:
    """The organisations whose people may be responsible for some union of the group."""
    found: set[int] = set()
    for union in group.unions:
        found.update(responsible_orgs(tree, union))
    return found


def people_at(session: Session, org_ids: Iterable[int]) -> list[Person]:
    """Console users and evaluator bindings at these organisations (two queries), in a stable order."""
    ids = sorted(set(org_ids))
    if not ids:
        return []
    people = [
        _user_person(user, name)
        for user, name in session.execute(
            select(ConsoleUser, Organisation.name)
            .join(Organisation, ConsoleUser.organisation_id == Organisation.id)
            .where(ConsoleUser.organisation_id.in_(ids))
            .order_by(ConsoleUser.username)
        )
    ]
    people += [
        _binding_person(binding, openid, name)
        for binding, openid, name in session.execute(
            select(RoleBinding, Account.openid, Organisation.name)
            .join(Account, RoleBinding.account_id == Account.id)
            .join(Organisation, RoleBinding.organisation_id == Organisation.id)
            .where(RoleBinding.organisation_id.in_(ids), RoleBinding.role == EVALUATOR)
            .order_by(Organisation.code, RoleBinding.id)
        )
    ]
    return people


def person_of_key(session: Session, key: str) -> Person | None:
    """The person a form's ``user:ID`` / ``binding:ID`` names, or None (no such person)."""
    kind, _, number = key.partition(":")
    if not number.isascii() or not number.isdigit() or len(number) > 9:
        return None
    if kind == "user":
        user = session.get(ConsoleUser, int(number))
        return None if user is None else _user_person(user, user.organisation.name)
    if kind == "binding":
        binding = session.get(RoleBinding, int(number))
        if binding is None or binding.role != EVALUATOR:
            return None
        return _binding_person(binding, binding.account.openid, binding.organisation.name)
    return None


def person_of_user(session: Session, username: str) -> Person:
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    if user is None:
        raise AdminError(f"没有用户名为 {username} 的管理台账号。")
    return _user_person(user, user.organisation.name)


def person_of_openid(session: Session, tree: OrgTree, union_id: int, openid: str) -> Person:
    """The evaluator binding of the WeChat account ``openid`` nearest above the union."""
    account = session.scalar(select(Account).where(Account.openid == openid))
    union = tree.nodes[union_id]
    if account is None:
        raise AdminError(f"没有 openid 为 {openid} 的微信用户（须先关注公众号并绑定考评员身份）。")
    bindings = {
        binding.organisation_id: binding
        for binding in session.scalars(
            select(RoleBinding).where(RoleBinding.account_id == account.id, RoleBinding.role == EVALUATOR)
        )
    }
    for org_id in responsible_orgs(tree, union_id):
        if org_id in bindings:
            binding = bindings[org_id]
            return _binding_person(binding, openid, tree.nodes[org_id].name)
    raise AdminError(f"该微信用户没有在 {union.name} 的上级工会（本县区内）绑定考评员身份，不能负责该单位。")


# ---------------------------------------------------------------- assignment


def assign(
    session: Session,
    campaign: Campaign,
    tree: OrgTree,
    union_code: str,
    person: Person | None,
    actor: str,
    now: datetime,
) -> GridAssignment | None:
    """Make ``person`` the one responsible for the union this year (None: nobody), replacing whoever
    was; audited. AdminError when the union is not in the year's scope or the person may not be."""
    union = tree.by_code(union_code)
    if union is None or not union.is_grassroots:
        raise AdminError(f"没有编号为 {union_code} 的基层工会。")
    inspected = session.scalar(
        select(Inspection.id).where(
            Inspection.campaign_id == campaign.id, Inspection.organisation_id == union.id
        )
    )
    if inspected is None:
        raise AdminError(f"{union.name}（{union_code}）不在 {campaign.year} 年度年检范围内，无需落实负责人。")
    keys = {"campaign_id": campaign.id, "organisation_id": union.id}
    if person is None:
        row = session.scalar(select(GridAssignment).filter_by(**keys).with_for_update())
        if row is not None:
            gone = _person_label(session, row)
            session.delete(row)
            session.flush()
            audit.record(
                session,
                actor,
                "grid_unassigned",
                "organisation",
                union.id,
                before=gone,
                reason=f"{campaign.year}年度网格负责人",
            )
        return None
    if person.org_id not in responsible_orgs(tree, union.id):
        where = (
            "本县（区）总工会的管理台账号或其考评员"
            if tree.county_of(union.id)
            else "市总工会的管理台账号或考评员"
        )
        raise AdminError(f"{person.label}不能负责{union.name}（{union_code}）：负责人应为{where}。")
    if not person.active:
        raise AdminError(f"{person.label}：该账号已停用，不能负责年检单位。")
    kind, _, number = person.key.partition(":")
    values: dict[str, object] = {
        "console_user_id": int(number) if kind == "user" else None,
        "role_binding_id": int(number) if kind == "binding" else None,
        "assigned_at": now,
        "assigned_by": actor,
    }
    row, existed = _claim(session, GridAssignment, keys, values)
    before = _person_label(session, row) if existed else None
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    if before != person.label:
        audit.record(
            session,
            actor,
            "grid_assigned",
            "organisation",
            union.id,
            before=before,
            after=person.label,
            reason=f"{campaign.year}年度网格负责人",
        )
    return row


def _person_label(session: Session, row: GridAssignment) -> str:
    person = person_of_key(
        session,
        f"user:{row.console_user_id}"
        if row.console_user_id is not None
        else f"binding:{row.role_binding_id}",
    )
    return person.label if person is not None else ""


# ---------------------------------------------------------------- who is responsible, and how far


@dataclass(frozen=True)
class UnionLine:
    """One union of the year's scope: its state, its responsible person and its overdue steps."""

    inspection_id: int
    org_id: int
    code: str
    name: str
    state: InspectionState
    person: Person | None
    overdue: tuple[str, ...] = ()

    @property
    def unassigned(self) -> bool:
        """Nobody (able to act) is responsible: 未落实."""
        return self.person is None or not self.person.active


@dataclass
class Progress:
    """One responsible person's unions, counted by state."""

    person: Person
    lines: list[UnionLine] = field(default_factory=list)

    @property
    def by_bucket(self) -> list[int]:
        counts: Counter[str] = Counter()
        for line in self.lines:
            for name, states in BUCKETS:
                if line.state in states:
                    counts[name] += 1
        return [counts[name] for name, _states in BUCKETS]

    @property
    def overdue(self) -> int:
        return sum(1 for line in self.lines if line.overdue)


@dataclass(frozen=True)
class Grid:
    """A county's (or the city-direct unions') grid for a year."""

    code: str
    name: str
    county_id: int | None  # None: the city-direct unions (the city's own plan is the campaign)
    plan: CountyPlan | None
    lines: list[UnionLine]
    people: list[Person]

    @property
    def unassigned(self) -> list[UnionLine]:
        return [line for line in self.lines if line.unassigned]

    @property
    def progress(self) -> list[Progress]:
        found: dict[str, Progress] = {}
        for line in self.lines:
            if line.person is not None:
                found.setdefault(line.person.key, Progress(line.person)).lines.append(line)
        return sorted(found.values(), key=lambda p: p.person.label)


def overdue_steps(
    state: InspectionState,
    deadlines: Deadlines,
    re_review_due_at: datetime | None,
    pending: tuple[RemediationStatus, date] | None,
    today: date,
    now: datetime,
) -> list[tuple[Step, date]]:
    """The union's steps overdue at ``now``, each with the day it was due."""
    found: list[tuple[Step, date]] = []
    if deadlines.self_check_due and deadlines.self_check_due < today and state in NOT_SUBMITTED:
        found.append((Step.SELF_CHECK, deadlines.self_check_due))
    if deadlines.review_due and deadlines.review_due < today and state in ASSESSABLE:
        found.append((Step.REVIEW, deadlines.review_due))
    if state in RE_REVIEWABLE and re_review_due_at is not None and now > as_utc(re_review_due_at):
        found.append((Step.RE_REVIEW, as_utc(re_review_due_at).astimezone(SHANGHAI).date()))
    if pending is not None and remediation.is_overdue(pending[0], pending[1], today):
        found.append((Step.REMEDIATION, pending[1]))
    return found


def grids(
    session: Session,
    campaign: Campaign,
    tree: OrgTree,
    today: date,
    now: datetime,
    codes: Iterable[str] | None = None,
) -> list[Grid]:
    """The grid of each group (county, then the city-direct unions; only ``codes`` when given): a few
    queries whatever the number of unions."""
    wanted = None if codes is None else set(codes)
    chosen = [group for group in tree.groups() if wanted is None or group.code in wanted]
    if not chosen:
        return []
    deadlines = deadlines_of(session, campaign, tree)
    plans = plans_of(session, campaign)
    inspections = _inspections_of(session, campaign)
    pending = remediation.of_campaign(session, campaign.id, pending=True)
    orgs = {group.code: group_orgs(tree, group) for group in chosen}
    people = people_at(session, set().union(*orgs.values()))
    assigned = _assigned(session, campaign, people)
    facts = _GridFacts(tree, deadlines, inspections, pending, assigned, today, now)
    found = []
    for group in chosen:
        county_id = _county_id(tree, group)
        plan = plans.get(county_id) if county_id is not None else None
        group_people = [p for p in people if p.org_id in orgs[group.code]]
        found.append(Grid(group.code, group.name, county_id, plan, facts.lines(group), group_people))
    return found


def _inspections_of(
    session: Session, campaign: Campaign
) -> dict[int, tuple[int, InspectionState, datetime | None]]:
    """Each union's inspection of the campaign: its id, state and re-review deadline, by union id."""
    return {
        org_id: (inspection_id, S(state), due_at)
        for inspection_id, org_id, state, due_at in session.execute(
            select(
                Inspection.id, Inspection.organisation_id, Inspection.state, Inspection.re_review_due_at
            ).where(Inspection.campaign_id == campaign.id)
        )
    }


def _assigned(session: Session, campaign: Campaign, people: list[Person]) -> dict[int, Person]:
    """Who of ``people`` is responsible for each union this year, by union id."""
    by_key = {person.key: person for person in people}
    assigned: dict[int, Person] = {}
    for org_id, user_id, binding_id in session.execute(
        select(
            GridAssignment.organisation_id, GridAssignment.console_user_id, GridAssignment.role_binding_id
        ).where(GridAssignment.campaign_id == campaign.id)
    ):
        key = f"user:{user_id}" if user_id is not None else f"binding:{binding_id}"
        if key in by_key:
            assigned[org_id] = by_key[key]
    return assigned


def _county_id(tree: OrgTree, group: Group) -> int | None:
    """The group's county, or None for the city-direct unions."""
    county = tree.by_code(group.code)
    return county.id if county is not None and is_county(tree, county.id) else None


@dataclass(frozen=True)
class _GridFacts:
    """What the grids of a campaign are drawn from, read once for all its groups."""

    tree: OrgTree
    deadlines: Callable[[int], Deadlines]
    inspections: dict[int, tuple[int, InspectionState, datetime | None]]
    pending: dict[int, tuple[RemediationStatus, date]]
    assigned: dict[int, Person]
    today: date
    now: datetime

    def lines(self, group: Group) -> list[UnionLine]:
        """The group's inspected unions, each with its responsible person and overdue steps."""
        lines = []
        for union in group.unions:
            if union not in self.inspections:
                continue
            inspection_id, state, due_at = self.inspections[union]
            pending = self.pending.get(inspection_id)
            steps = overdue_steps(state, self.deadlines(union), due_at, pending, self.today, self.now)
            node = self.tree.nodes[union]
            lines.append(
                UnionLine(
                    inspection_id,
                    union,
                    node.code,
                    node.name,
                    state,
                    self.assigned.get(union),
                    tuple(f"{STEP_LABELS[step]}（{due.isoformat()}）" for step, due in steps),
                )
            )
        return lines


def assigned_to_user(
    session: Session, campaign: Campaign, tree: OrgTree, user_id: int, today: date, now: datetime
) -> list[UnionLine]:
    """The unions a console user is responsible for this year, with their overdue steps (their
    dashboard shows them: a console user gets no WeChat notice)."""
    mine = set(
        session.scalars(
            select(GridAssignment.organisation_id).where(
                GridAssignment.campaign_id == campaign.id, GridAssignment.console_user_id == user_id
            )
        )
    )
    if not mine:
        return []
    codes = {tree.group_of(org_id)[0] for org_id in mine if org_id in tree.nodes}
    return [
        line
        for grid in grids(session, campaign, tree, today, now, codes)
        for line in grid.lines
        if line.org_id in mine
    ]

"""Issue 20, points 8 and 9: a yearly share drawn toward the cumulative target, and 网格化 responsibility
— each county's plan for the year, one responsible person per union, the unions with nobody and each
person's progress, and the overdue steps told to the responsible person once. Through the CLI, the
console (Flask's test client) and the reminders' tick, on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.console.access import create_user
from chatbot.inspection import assessment, campaigns, evaluations, organisations, selfcheck
from chatbot.store.models import (
    Account,
    AuditEntry,
    Campaign,
    ConsoleUser,
    Inspection,
    Organisation,
    OutboxMessage,
    Remediation,
    RoleBinding,
)
from chatbot.timeutil import SHANGHAI
from chatbot.wechat.simulator import Simulator
from rubrics import get_rubric
from tests.helpers import deductions
from tests.test_console import Console

User = Callable[..., Simulator]

VILLAGE = get_rubric("village")
#: Three counties of different sizes and the city-direct unions: (code, name, unions).
COUNTIES = (("YZ", "原州区总工会", 10), ("XJ", "西吉县总工会", 7), ("LD", "隆德县总工会", 13))
CITY_DIRECT = 4


def _city(db: Session) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        for code, name, unions in COUNTIES:
            organisations.add_org(db, organisations.OrgRow(code, name, parent="GY"))
            for n in range(1, unions + 1):
                organisations.add_org(
                    db, organisations.OrgRow(f"{code}-{n:02d}", f"{name[:2]}第{n}社区工会", "village", code)
                )
        for n in range(1, CITY_DIRECT + 1):
            organisations.add_org(
                db, organisations.OrgRow(f"GY-{n:02d}", f"市直第{n}单位工会", "agency", "GY")
            )


def _evaluator(db: Session, org_code: str, openid: str) -> int:
    """A WeChat account bound as an evaluator of ``org_code``; its account id."""
    org = db.scalar(select(Organisation).where(Organisation.code == org_code))
    assert org is not None
    account = db.scalar(select(Account).where(Account.openid == openid))
    if account is None:
        account = Account(openid=openid)
        db.add(account)
        db.flush()
    db.add(RoleBinding(account_id=account.id, organisation_id=org.id, role="evaluator"))
    db.flush()
    return account.id


def _record_and_waive(db: Session, inspection: Inspection, account: int, now: datetime) -> None:
    """What an evaluator gives before 提交: the record, and the democratic evaluation waived."""
    assessment.record(db, inspection, ("听汇报",), "台账齐全，制度落实", account, "test")
    evaluation = assessment.evaluation_of(db, inspection)
    evaluations.end(db, inspection, evaluation, "会员分散，无法组织测评", True, "test", now)


def _rate_all(db: Session, config: Config, year: int) -> set[str]:
    """Self-check and assess every inspection of the year (the domain functions the chat calls); the
    codes rated."""
    now = datetime.now(UTC)
    rated = set()
    with db.begin():
        evaluators: dict[int, int] = {}
        inspections = db.scalars(
            select(Inspection).join(Campaign).where(Campaign.year == year).order_by(Inspection.id)
        ).all()
        for inspection in inspections:
            org = inspection.organisation
            parent = org.parent_id
            assert parent is not None
            if parent not in evaluators:
                parent_code = db.get(Organisation, parent).code  # type: ignore[union-attr]
                evaluators[parent] = _evaluator(db, parent_code, f"rater-{parent_code}-{year}")
            rubric = get_rubric(inspection.rubric_key)
            for item in rubric.items:
                selfcheck.save_score(db, inspection, item.no, Decimal(item.points), "test")
            selfcheck.submit(db, inspection, "test", now)
            taken = deductions(15) if rubric.key == "village" else {}
            for item in rubric.items:
                score = Decimal(taken.get(item.no, str(item.points)))
                assessment.save_score(db, inspection, item.no, score, "", evaluators[parent], "test")
            _record_and_waive(db, inspection, evaluators[parent], now)
            assessment.submit(db, inspection, config, "test", now)
            rated.add(org.code)
    return rated


def _scope(db: Session, year: int) -> set[str]:
    codes = set(
        db.scalars(
            select(Organisation.code)
            .join(Inspection, Inspection.organisation_id == Organisation.id)
            .join(Campaign)
            .where(Campaign.year == year)
        )
    )
    db.rollback()
    return codes


def _coverage(cli: Callable[..., str], year: int) -> dict[str, dict[str, str]]:
    lines = cli("coverage", "--year", str(year), "--csv").splitlines()
    header = lines[0].split(",")
    return {row.split(",")[0]: dict(zip(header, row.split(","), strict=True)) for row in lines[1:]}


# ---------------------------------------------------------------- 8 the draw toward the cumulative target


def test_a_yearly_share_draws_the_unions_never_rated_first(app: Flask, db: Session, cli) -> None:
    config = app.extensions["nianjian.config"]
    _city(db)
    out = cli("campaign", "open", "2023", "--share", "0.3", "--seed", "7")
    assert "随机种子 7" in out
    first = _rate_all(db, config, 2023)
    assert len(first) == 3 + 3 + 4 + 2  # 30 % of 10, 7, 13 and 4, each rounded up
    # 2024: the other 40 % — drawn from the unions not yet rated, so every county reaches 70 %.
    out = cli("campaign", "open", "2024", "--share", "0.4", "--seed", "7")
    assert "从未评定过的单位优先" in out and "本次 15 个未评定过、0 个往年已评定" in out, out
    drawn = _scope(db, 2024)
    assert not drawn & first
    again = cli("campaign", "open", "2024", "--share", "0.4", "--seed", "7")  # the same seed, the same draw
    assert _scope(db, 2024) == drawn and "随机种子 7" in again
    _rate_all(db, config, 2024)
    rows = _coverage(cli, 2024)
    for code in ("YZ", "XJ", "LD", "GY"):
        assert rows[code]["target"] == "70%" and rows[code]["on_target"] == "是", rows[code]
    assert rows["YZ"]["cumulative"] == "70%" and rows["YZ"]["ever_rated"] == "7"
    # 2025 (a share above what is left): every union never rated is drawn, then some rated before.
    out = cli("campaign", "open", "2025", "--share", "0.9", "--seed", "3")
    left = {code for code in _all_codes(db)} - first - drawn
    assert left <= _scope(db, 2025)
    assert f"本次 {len(left)} 个未评定过" in out


def _all_codes(db: Session) -> set[str]:
    codes = set(db.scalars(select(Organisation.code).where(Organisation.rubric_key.is_not(None))))
    db.rollback()
    return codes


# ---------------------------------------------------------------- 9 网格化 responsibility


def _grid_city(db: Session, self_check_due: date, review_due: date, target: str = "0.7") -> dict[str, str]:
    """The city, YZ (U01–U04 and the township T1 with its village V1 under it) and XJ (X01), in the
    2026 campaign with the city's deadlines; console users city, yz, yz2 and xj; invitation codes."""
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        for code, name in (("YZ", "原州区总工会"), ("XJ", "西吉县总工会")):
            organisations.add_org(db, organisations.OrgRow(code, name, parent="GY"))
        for n in range(1, 5):
            organisations.add_org(
                db, organisations.OrgRow(f"U{n:02d}", f"第{n}社区工会", "village", "YZ", 30)
            )
        organisations.add_org(db, organisations.OrgRow("T1", "三营镇总工会", "township", "YZ", 60))
        organisations.add_org(db, organisations.OrgRow("V1", "三营镇第1村工会", "village", "T1", 20))
        organisations.add_org(db, organisations.OrgRow("X01", "西吉一社区工会", "village", "XJ", 30))
        campaigns.open_year(
            db, 2026, deadlines=campaigns.Deadlines(self_check_due, review_due, None, Decimal(target))
        )
        for name, org in (("city", "GY"), ("yz", "YZ"), ("yz2", "YZ"), ("xj", "XJ")):
            create_user(db, org, name, f"{name}-password-12")
        codes = {
            f"{org}-evaluator": organisations.create_invitation(db, org, "evaluator", uses=5).code
            for org in ("YZ", "T1", "XJ")
        }
        codes["GY-admin"] = organisations.create_invitation(db, "GY", "admin").code
        codes["YZ-admin"] = organisations.create_invitation(db, "YZ", "admin").code
        for org in ("U01", "U02", "U03", "U04"):
            codes[f"{org}-chair"] = organisations.create_invitation(db, org, "chair").code
    return codes


def _bind(user: User, openid: str, code: str) -> Simulator:
    person = user(openid)
    assert "绑定成功" in person.say(f"绑定 {code}") or "已绑定" in person.say("进度")
    return person


def _binding_key(db: Session, openid: str, org: str) -> str:
    binding = db.scalar(
        select(RoleBinding.id)
        .join(Account, RoleBinding.account_id == Account.id)
        .join(Organisation, RoleBinding.organisation_id == Organisation.id)
        .where(Account.openid == openid, Organisation.code == org, RoleBinding.role == "evaluator")
    )
    db.rollback()
    return f"binding:{binding}"


def _user_key(db: Session, username: str) -> str:
    found = db.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username))
    db.rollback()
    return f"user:{found}"


def _inspection(db: Session, org: str) -> Inspection:
    found = db.scalar(
        select(Inspection)
        .join(Organisation)
        .join(Campaign)
        .where(Organisation.code == org, Campaign.year == 2026)
    )
    assert found is not None
    return found


def _submit(db: Session, orgs: tuple[str, ...], now: datetime) -> None:
    """Each union's chair claims full marks and submits (the domain functions the chat calls)."""
    with db.begin():
        for org in orgs:
            inspection = _inspection(db, org)
            for item in VILLAGE.items:
                selfcheck.save_score(db, inspection, item.no, Decimal(item.points), "test")
            selfcheck.submit(db, inspection, "test", now)


def _assess(
    db: Session, config: Config, orgs: tuple[str, ...], rater: str, score: int, now: datetime
) -> None:
    """The evaluator ``rater`` (an openid) rates each submitted union at ``score``."""
    with db.begin():
        account = db.scalar(select(Account.id).where(Account.openid == rater))
        assert account is not None
        for org in orgs:
            inspection = _inspection(db, org)
            for no, value in ({i.no: str(i.points) for i in VILLAGE.items} | deductions(100 - score)).items():
                assessment.save_score(db, inspection, no, Decimal(value), "", account, "test")
            _record_and_waive(db, inspection, account, now)
            assessment.submit(db, inspection, config, "test", now)


def test_a_county_plans_its_year_and_puts_a_person_on_every_union_in_the_console(
    app: Flask, db: Session, user: User, cli
) -> None:
    today = datetime.now(SHANGHAI).date()
    codes = _grid_city(db, today - timedelta(days=2), today + timedelta(days=20))
    _bind(user, "yz-evaluator", codes["YZ-evaluator"])
    _bind(user, "xj-evaluator", codes["XJ-evaluator"])
    yz = Console(app.test_client())
    yz.login("yz", "yz-password-12")
    page = yz.get("/console/grid")
    assert "尚未制定本年度年检计划" in page and "未落实负责人的单位（6）" in page
    assert "西吉" not in page and "X01" not in page  # another county's unions and people
    # The plan: refused below the city's target or with a deadline after the city's; nothing saved.
    yz.post("/console/grid/2026/plan", {"target": "60"})
    assert "本地年检目标 60% 低于全市 2026 年度目标 70%" in yz.flashes("/console/grid")
    later = (today + timedelta(days=25)).isoformat()
    yz.post("/console/grid/2026/plan", {"target": "80", "review_due": later})
    assert f"本地考评截止日期 {later} 晚于全市的" in yz.flashes("/console/grid")
    assert "尚未制定本年度年检计划" in yz.get("/console/grid")
    own = (today + timedelta(days=10)).isoformat()
    yz.post(
        "/console/grid/2026/plan",
        {"target": "80", "review_due": own, "text": "分片包干：城区、三营片区各由专人负责。"},
    )
    page = yz.get("/console/grid")
    assert "本地目标 <strong>80%</strong>" in page and f"考评截止 {own}" in page
    assert "分片包干" in page
    # The coverage row compares the county's own target too (CLI and dashboard).
    rows = _coverage(cli, 2026)
    assert rows["YZ"]["plan_target"] == "80%" and rows["YZ"]["on_plan"] == "否"
    assert rows["XJ"]["plan_target"] == "" and rows["XJ"]["on_plan"] == ""
    dashboard = yz.get("/console/").split('<td class="name across">原州区总工会</td>')[1].split("</tr>")[0]
    # the county's own target, not reached yet
    assert '<td class="num bad" data-label="本地目标">80%</td>' in dashboard
    # One person per union: a console user of the county, an evaluator binding; one union left.
    yz2, evaluator = _user_key(db, "yz2"), _binding_key(db, "yz-evaluator", "YZ")
    yz.post("/console/grid/2026/assign", {"org": "U01", "person": yz2})
    for org in ("U02", "U03", "T1"):
        yz.post("/console/grid/2026/assign", {"org": org, "person": evaluator})
    assert "U03 第3社区工会 的网格负责人：原州区总工会 考评员" in yz.flashes("/console/grid")
    yz.post("/console/grid/2026/assign", {"org": "U03", "person": yz2})  # replaces: not two people
    page = yz.get("/console/grid")
    unassigned = page.split("未落实负责人的单位（")[1].split("</table>")[0]
    assert unassigned.startswith("2）") and "U04" in unassigned and "V1" in unassigned
    assert "U01" not in unassigned and "U03" not in unassigned
    progress = page.split("负责人进度")[1]
    assert "yz2（原州区总工会 管理台账号）" in progress and "原州区总工会 考评员（微信 …luator）" in progress
    # yz2's two unions have not submitted their self-checks: both count as 未提交自评 and overdue.
    yz2_row = progress.split("yz2（")[1].split("</tr>")[0]
    assert re.findall(r'<td class="num[^"]*">(\d+)</td>', yz2_row) == ["2", "2", "0", "0", "0", "0", "2"]
    # Not another county's person, nor someone who is nobody; another county's union is not reachable.
    yz.post("/console/grid/2026/assign", {"org": "U04", "person": _binding_key(db, "xj-evaluator", "XJ")})
    assert "没有这位负责人" in yz.flashes("/console/grid")
    yz.post("/console/grid/2026/assign", {"org": "U04", "person": "user:999999"})
    assert "没有这位负责人" in yz.flashes("/console/grid")
    yz.post("/console/grid/2026/assign", {"org": "X01", "person": yz2}, status=404)
    yz.post("/console/grid/2026/plan", {"county": "XJ", "target": "90"}, status=404)
    yz.get("/console/grid?county=XJ", status=404)
    # yz2's dashboard shows the unions it is responsible for, with their overdue steps (no WeChat).
    mine = Console(app.test_client())
    mine.login("yz2", "yz2-password-12")
    card = mine.get("/console/").split('id="my-grid"')[1].split("</table>")[0]
    due = (today - timedelta(days=2)).isoformat()
    assert "U01" in card and "U03" in card and f"自评逾期（{due}）" in card and "U02" not in card
    # The city sees every county's plan and what is left, and may act in any county.
    city = Console(app.test_client())
    city.login("city", "city-password-12")
    overview = city.get("/console/grid")
    yz_row = overview.split("原州区总工会")[1].split("</tr>")[0]
    assert "80%" in yz_row and '<td class="num bad">2</td>' in yz_row
    assert "西吉县总工会" in overview and "未制定" in overview
    city.post("/console/grid/2026/assign", {"org": "X01", "person": _binding_key(db, "xj-evaluator", "XJ")})
    assert "X01 西吉一社区工会 的网格负责人" in city.flashes("/console/grid?county=XJ")
    actions = {
        (a.actor, a.action)
        for a in db.scalars(
            select(AuditEntry).where(
                AuditEntry.action.like("grid%") | (AuditEntry.action == "county_plan_saved")
            )
        )
    }
    db.rollback()
    assert actions == {
        ("console:yz", "county_plan_saved"),
        ("console:yz", "grid_assigned"),
        ("console:city", "grid_assigned"),
    }


def test_plans_and_responsible_people_at_the_command_line(
    app: Flask, db: Session, user: User, cli, tmp_path: Path
) -> None:
    today = datetime.now(SHANGHAI).date()
    codes = _grid_city(db, today + timedelta(days=20), today + timedelta(days=30))
    _bind(user, "t1-evaluator", codes["T1-evaluator"])
    both = _bind(user, "both", codes["YZ-evaluator"])  # bound at the county and at the township
    assert "绑定成功" in both.say(f"绑定 {codes['T1-evaluator']}")
    plan = ("grid", "plan", "--county", "YZ", "--year", "2026")
    assert "本地年检目标 60% 低于全市 2026 年度目标 70%，应不低于 70%" in cli.refused(
        *plan, "--target", "0.6"
    )
    late = (today + timedelta(days=21)).isoformat()
    assert "晚于全市" in cli.refused(*plan, "--target", "0.8", "--self-check-due", late)
    assert "整数百分比" in cli.refused(*plan, "--target", "0.755")
    assert "不是县（区）或开发区总工会" in cli.refused(
        "grid", "plan", "--county", "T1", "--year", "2026", "--target", "1"
    )
    own = (today + timedelta(days=10)).isoformat()
    out = cli(*plan, "--target", "0.75", "--self-check-due", own, "--text", "城区、三营片区分片包干")
    assert "目标 75%（全市 70%）" in out and f"自评截止 {own}" in out
    # --openid: the evaluator binding nearest above the union (the township for its village).
    assign = ("grid", "assign", "--year", "2026", "--org")
    assert "三营镇总工会 考评员（微信 …both）" in cli(*assign, "V1", "--openid", "both")
    assert "原州区总工会 考评员（微信 …both）" in cli(*assign, "U01", "--openid", "both")
    assert "yz2（原州区总工会 管理台账号）" in cli(*assign, "U02", "--user", "yz2")
    assert "上级工会（本县区内）绑定考评员身份" in cli.refused(*assign, "U01", "--openid", "t1-evaluator")
    assert "负责人应为本县（区）总工会的管理台账号或其考评员" in cli.refused(*assign, "U03", "--user", "xj")
    assert "负责人应为本县（区）总工会的管理台账号或其考评员" in cli.refused(*assign, "U03", "--user", "city")
    assert "只能选一个" in cli.refused(*assign, "U03", "--user", "yz", "--openid", "both")
    listing = tmp_path / "2027.txt"
    listing.write_text("U01\n", encoding="utf-8")
    cli("campaign", "open", "2027", "--scope-file", str(listing))
    assert "不在 2027 年度年检范围内" in cli.refused(
        "grid", "assign", "--year", "2027", "--org", "U02", "--user", "yz"
    )
    show = cli("grid", "show", "--year", "2026", "--county", "YZ")
    assert "原州区总工会：本地目标 75%（全市 70%）" in show and "计划：城区、三营片区分片包干" in show
    assert "年检单位 6 个，未落实负责人 3 个" in show
    assert "T1 三营镇总工会、U03 第3社区工会、U04 第4社区工会" in show
    people = {line.split()[0]: line.split()[1:] for line in show.splitlines() if "（" in line.split()[0]}
    assert people["yz2（原州区总工会"] == ["管理台账号）", "1", "1", "0", "0", "0", "0", "0"]
    assert cli("grid", "unassign", "--year", "2026", "--org", "U02")
    assert "未落实负责人 4 个" in cli("grid", "show", "--year", "2026", "--county", "YZ")
    everything = cli("grid", "show", "--year", "2026")
    assert "西吉县总工会：尚未制定本年度年检计划" in everything and "市直" not in everything
    # A person whose data is removed on request leaves their unions with nobody (their bindings go).
    cli("member", "remove", "--openid", "both", "--reason", "本人申请", "--yes")
    assert "未落实负责人 6 个" in cli("grid", "show", "--year", "2026", "--county", "YZ")


def test_overdue_steps_reach_the_responsible_person_once(app: Flask, db: Session, user: User, cli) -> None:
    config = app.extensions["nianjian.config"]
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI).date()
    codes = _grid_city(db, today + timedelta(days=20), today + timedelta(days=30))
    person = _bind(user, "grid-person", codes["YZ-evaluator"])
    assert "绑定成功" in person.say(f"绑定 {codes['GY-admin']}")  # also a city admin
    _bind(user, "rater", codes["YZ-evaluator"])
    chairs = {org: _bind(user, f"chair-{org}", codes[f"{org}-chair"]) for org in ("U01", "U03")}
    # YZ's own deadlines, earlier than the city's: they are the ones its unions work to.
    self_due, review_due = today + timedelta(days=3), today + timedelta(days=5)
    cli(
        "grid", "plan", "--county", "YZ", "--year", "2026", "--target", "0.7",
        "--self-check-due", self_due.isoformat(), "--review-due", review_due.isoformat(),
    )  # fmt: skip
    for org in ("U01", "U02", "U03", "U04"):
        cli("grid", "assign", "--year", "2026", "--org", org, "--openid", "grid-person")
    # U01 never submits; U02 is submitted and never assessed; U03 and U04 are rated 50 and published,
    # U03's chair objects (and nobody re-reviews), U04 becomes final and is never remedied.
    _submit(db, ("U02", "U03", "U04"), now)
    _assess(db, config, ("U03", "U04"), "rater", 50, now)
    cli("results", "confirm", "--year", "2026", "--reason", "其余单位稍后评定")
    cli("publish", "--year", "2026")
    assert "异议" in chairs["U03"].say("异议 第5项台账齐全，评分有误")

    def tick(day: date) -> None:
        cli("tick", "--now", f"{day.isoformat()}T09:00")

    def told() -> list[tuple[str, str, str]]:
        rows = db.execute(
            select(OutboxMessage.kind, OutboxMessage.dedup_key, OutboxMessage.text)
            .join(Account, OutboxMessage.account_id == Account.id)
            .where(
                Account.openid == "grid-person", OutboxMessage.kind.in_(["grid_overdue", "re_review_overdue"])
            )
            .order_by(OutboxMessage.id)
        ).all()
        db.rollback()
        return [tuple(row) for row in rows]

    tick(today + timedelta(days=2))  # the county's T-1: its chairs are reminded of its own date
    reminded = db.scalar(
        select(OutboxMessage.text)
        .join(Account, OutboxMessage.account_id == Account.id)
        .where(Account.openid == "chair-U01", OutboxMessage.kind == "self_check_due")
    )
    db.rollback()
    assert reminded is not None and f"将于 {self_due.isoformat()} 截止" in reminded
    assert told() == []  # nothing overdue yet
    tick(today + timedelta(days=8))  # U04's publication ends: final, its remediation opens
    first = told()
    assert [kind for kind, _key, _text in first] == ["grid_overdue", "grid_overdue"]
    assert (
        f"您负责的网格单位第1社区工会（U01） 2026 年度自查自评已于 {self_due.isoformat()} 截止" in first[0][2]
    )
    assert f"第2社区工会（U02）的自评已提交，组织评定已于 {review_due.isoformat()} 截止" in first[1][2]
    tick(today + timedelta(days=8))
    assert told() == first  # once
    due_on = db.scalar(select(Remediation.due_on))
    db.rollback()
    assert due_on is not None
    tick(due_on + timedelta(days=1))  # the re-review's 10 days and the remediation are past
    tick(due_on + timedelta(days=2))
    found = told()
    assert len(found) == 4 and len({key for _kind, key, _text in found}) == 4
    kinds = [kind for kind, _key, _text in found[2:]]
    texts = " ".join(text for _kind, _key, text in found[2:])
    # The re-review: the city admins' notice, which the grid person gets once (not twice as both).
    assert sorted(kinds) == ["grid_overdue", "re_review_overdue"]
    assert "第3社区工会（U03）的年检结果异议已超过 10 日复查期限" in texts
    assert f"您负责的网格单位第4社区工会（U04） 2026 年度年检的补课已于 {due_on.isoformat()} 截止" in texts
    # A union whose responsible person is a console user: no WeChat notice, its dashboard shows it.
    cli("grid", "assign", "--year", "2026", "--org", "U01", "--user", "yz2")
    tick(due_on + timedelta(days=3))
    assert told() == found


def test_a_county_is_warned_before_its_own_deadline_when_below_its_own_target(
    app: Flask, db: Session, user: User, cli
) -> None:
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI).date()
    codes = _grid_city(db, today + timedelta(days=20), today + timedelta(days=30), target="0.3")
    _bind(user, "yz-admin", codes["YZ-admin"])
    _bind(user, "rater", codes["YZ-evaluator"])
    own = today + timedelta(days=10)
    plan = ("grid", "plan", "--county", "YZ", "--year", "2026", "--target", "0.8")
    assert "考评截止日期" in cli.refused(
        *plan, "--review-due", own.isoformat()
    )  # before the city's self-check
    cli(*plan, "--self-check-due", (today + timedelta(days=5)).isoformat(), "--review-due", own.isoformat())
    _submit(db, ("U01", "U02"), now)
    _assess(db, app.extensions["nianjian.config"], ("U01", "U02"), "rater", 85, now)
    rows = _coverage(cli, 2026)
    assert rows["YZ"]["cumulative"] == "33.3%" and rows["YZ"]["on_target"] == "是"
    assert rows["YZ"]["plan_target"] == "80%" and rows["YZ"]["on_plan"] == "否"
    cli("tick", "--now", f"{(own - timedelta(days=7)).isoformat()}T09:00")  # T-7 of the county's date
    warned = db.scalars(
        select(OutboxMessage.text)
        .join(Account, OutboxMessage.account_id == Account.id)
        .where(Account.openid == "yz-admin", OutboxMessage.kind == "coverage_warning")
    ).all()
    db.rollback()
    assert warned == [
        "原州区总工会所属基层工会累计已评定 2/6 个（33.3%），低于本县（区）2026 年度年检计划目标 80%，"
        f"本年度已评定 2 个。组织评定将于 {own.isoformat()} 截止，请加快进度。"
    ]

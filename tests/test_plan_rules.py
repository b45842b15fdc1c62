"""The plan's rules (固工发〔2023〕86号), right in every order of events: one scenario per rule, through the
chat and the CLI, on SQLite and on PostgreSQL + Redis.

1 the five-star quota over the whole scope · 2 the city-direct unions' own scope · 3 the city's re-check
through the quota and a new publication · 4 grassroots parents · 5 the evaluation's electorate · 6 the
evaluation's opening notice · 7 objection and return reasons · 8 remediation · 9 cumulative coverage and
scoped campaigns · 10 the assessment record · 11 the seed's slips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.console.access import create_user
from chatbot.inspection import campaigns, organisations, sampling
from chatbot.store.models import (
    AuditEntry,
    Evaluation,
    EvaluationParticipant,
    Inspection,
    Organisation,
    OutboxMessage,
    QuotaConfirmation,
    Remediation,
)
from chatbot.wechat.simulator import Simulator
from tests.conftest import APP_ID, TOKEN, Backend, make_config, transport_for
from tests.helpers import VILLAGE, complete_record, rate, result_table, self_check, setup_county
from tests.test_console import Console

User = Callable[..., Simulator]


def _inspection(db: Session, code: str, year: int = 2026) -> Inspection:
    db.expire_all()
    found = db.scalar(
        select(Inspection)
        .join(Organisation)
        .where(Organisation.code == code)
        .order_by(Inspection.id.desc())
        .limit(1)
    )
    assert found is not None and found.campaign.year == year
    return found


def _notices(db: Session, kind: str) -> list[OutboxMessage]:
    db.expire_all()
    return list(
        db.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))
    )


def _evaluator(user: User, code: str, openid: str = "evaluator") -> Simulator:
    evaluator = user(openid)
    evaluator.say(f"绑定 {code}")
    return evaluator


# ---------------------------------------------------------------- 1 the quota over the whole scope


def test_the_quota_is_of_the_whole_scope_whatever_the_order(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 6)
    evaluator = _evaluator(user, codes["evaluator"])
    for n in range(1, 7):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
    # The best union is rated first, alone: its stars are provisional and nothing is published.
    assert "评定星级：五星级——预评：" in rate(evaluator, "U01", 95)
    out = cli("publish", "--year", "2026")
    assert "已公示 0 个结果" in out and "预评" in out and "U01" in out.splitlines()[-1]
    table = result_table(cli)
    assert table["U01"]["stars"] == "五星级" and table["U01"]["marks"] == "预评"
    assert _inspection(db, "U01").state == "rated"
    # The others, in another order: the last rating completes the scope, which confirms itself.
    for n, score in ((4, 70), (2, 92), (6, 60), (5, 85), (3, 80)):
        rate(evaluator, f"U0{n}", score)
    table = result_table(cli)
    assert table["U01"]["stars"] == "五星级" and table["U01"]["marks"] == ""
    assert table["U02"]["stars"] == "四星级" and table["U02"]["marks"] == "超出五星级名额"
    reason = _inspection(db, "U02").stars_reason
    assert reason == (
        "全市评定 6 个，五星级名额 1 个（评定数的 20%，向下取整）；本单位得分 92，在 2 个 90 分及以上的单位中排第 2 位，"
        "未进入名额，评为四星级"
    )
    confirmation = db.scalar(select(QuotaConfirmation))
    assert confirmation is not None and confirmation.complete and confirmation.scope == "city:GY"
    assert "已公示 6 个结果" in cli("publish", "--year", "2026")
    assert "星级说明：全市评定 6 个" in user("chair2").say("结果")


def test_an_admin_confirms_an_incomplete_scope_with_a_reason(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 4)
    evaluator = _evaluator(user, codes["evaluator"])
    for n in (1, 2, 3):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
    for n, score in ((1, 95), (2, 93), (3, 91)):
        rate(evaluator, f"U0{n}", score)
    assert "--reason" in cli.refused("results", "confirm", "--year", "2026")
    out = cli("results", "confirm", "--year", "2026", "--reason", "U04 本年度不参加年检")
    assert "评定 3/4 个，五星级名额 0 个，五星级 0 个" in out
    assert "星级有变化的单位：U01 五星级→四星级；U02 五星级→四星级；U03 五星级→四星级。" in out
    reasons = {code: _inspection(db, code).stars_reason for code in ("U01", "U02", "U03")}
    assert (
        reasons["U01"]
        == "全市评定 3 个，五星级名额 0 个（评定数的 20%，向下取整）；本单位得分 95，全市没有五星级名额，评为四星级"
    )
    assert all("第 1 位" not in r and r.count("（") == 1 for r in reasons.values() if r)
    confirmation = db.scalar(select(QuotaConfirmation))
    assert confirmation is not None and not confirmation.complete
    assert confirmation.reason == "U04 本年度不参加年检" and confirmation.actor == "cli"
    assert "已公示 3 个结果" in cli("publish", "--year", "2026")


# ---------------------------------------------------------------- 2 the city-direct unions' own scope


@pytest.fixture
def county_quota(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[User]:
    """Users of a service whose five-star quota is counted per county (the CLI too)."""
    monkeypatch.setenv("FIVE_STAR_QUOTA_SCOPE", "county")
    application: Flask = create_app(
        make_config(backend, tmp_path, FIVE_STAR_QUOTA_SCOPE="county"), **backend.parts()
    )
    client = application.test_client()
    yield lambda openid: Simulator(transport_for(client), openid, TOKEN, APP_ID)
    application.extensions["nianjian.engine"].dispose()


def test_city_direct_unions_share_one_quota_of_their_own(county_quota: User, db: Session, cli) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(db, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("Y01", "原州一社区工会", "village", "YZ"))
        for n in range(1, 6):
            organisations.add_org(db, organisations.OrgRow(f"C0{n}", f"市直第{n}社区工会", "village", "GY"))
        campaigns.open_year(db, 2026)
        city_evaluator = organisations.create_invitation(db, "GY", "evaluator").code
        chairs = {n: organisations.create_invitation(db, f"C0{n}", "chair").code for n in range(1, 6)}
    evaluator = _evaluator(county_quota, city_evaluator)
    for n, score in zip(range(1, 6), (95, 94, 93, 92, 91), strict=True):
        self_check(county_quota(f"c-chair{n}"), chairs[n])
        rate(evaluator, f"C0{n}", score)
    # Five city-direct unions rated: one group, floor(20 % × 5) = 1 place, although Y01 is not rated.
    table = result_table(cli)
    assert table["C01"]["stars"] == "五星级" and table["C01"]["marks"] == ""
    assert {table[f"C0{n}"]["stars"] for n in range(2, 6)} == {"四星级"}
    assert db.scalar(select(QuotaConfirmation.scope)) == "county:GY"
    assert (_inspection(db, "C02").stars_reason or "").startswith("市直基层工会评定 5 个，五星级名额 1 个")
    out = cli("publish", "--year", "2026")
    assert "已公示 5 个结果" in out


# ---------------------------------------------------------------- 3 the city's re-check (抽查)


def test_a_re_check_that_changes_the_stars_is_published_again(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 5)
    with db.begin():
        city_code = organisations.create_invitation(db, "GY", "evaluator").code
    evaluator = _evaluator(user, codes["evaluator"])
    for n, score in zip(range(1, 6), (98, 85, 80, 75, 70), strict=True):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        rate(evaluator, f"U0{n}", score)
    assert "已公示 5 个结果" in cli("publish", "--year", "2026")
    member = user("member1")
    member.say(f"绑定 {codes['member1']}")
    cli("tick", "--now", (datetime.now(UTC) + timedelta(days=8)).isoformat())
    assert _inspection(db, "U01").state == "final"
    # The city draws U01 and finds 75: three stars, not five.
    u01 = _inspection(db, "U01")
    db.rollback()
    with db.begin():
        sampling.mark(db, db.merge(u01), "test")
    city = _evaluator(user, city_code, "city")
    assert "【1/30】" in city.say("抽查 U01")
    for no in range(1, VILLAGE.item_count + 1):
        city.say({1: "0", 2: "0", 5: "0", 10: "0", 11: "0", 13: "1"}.get(no, "同"))
    done = city.say("提交")
    assert "县级考评 98 分（五星级），市级抽查 75 分（三星级）" in done
    u01 = _inspection(db, "U01")
    assert u01.state == "published" and u01.publication_round == 2
    assert u01.stars == 3 and u01.score == 75 and u01.override_stars is None
    republished = [
        n for n in _notices(db, "result_published") if n.dedup_key.startswith(f"published:{u01.id}:2:")
    ]
    assert len(republished) == 2  # the chair and the member
    assert all("经市总工会抽查重新评定" in n.text and "三星级" in n.text for n in republished)
    assert "第 2 轮公示" in member.say("结果") and "三星级" in member.say("结果")
    changes = db.scalars(select(AuditEntry).where(AuditEntry.reason == "市总工会抽查")).all()
    assert len(changes) == 6  # every item the city scored differently, before and after


# ---------------------------------------------------------------- 4 grassroots parents


def test_a_township_union_assesses_the_village_unions_under_it(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    cli("org", "add", "--code", "GY", "--name", "固原市总工会")
    cli("org", "add", "--code", "PY", "--name", "彭阳县总工会", "--parent", "GY")
    cli("org", "add", "--code", "PY-001", "--name", "白阳镇工会", "--rubric", "township", "--parent", "PY")
    cli("org", "add", "--code", "V01", "--name", "陡坡村工会", "--rubric", "village", "--parent", "PY-001")
    listing = tmp_path / "orgs.csv"
    listing.write_text(
        "code,name,rubric,parent,members\nV02,崾岘村工会,village,PY-001,30\n", encoding="utf-8"
    )
    assert "已导入 1 个组织" in cli("org", "import", str(listing))
    cli("campaign", "open", "2026")
    town_evaluator = cli("invite", "create", "--org", "PY-001", "--role", "evaluator").splitlines()[-1]
    county_evaluator = cli("invite", "create", "--org", "PY", "--role", "evaluator").splitlines()[-1]
    town_chair = cli("invite", "create", "--org", "PY-001", "--role", "chair").splitlines()[-1]
    village_chair = cli("invite", "create", "--org", "V01", "--role", "chair").splitlines()[-1]
    # The township's chair is also its evaluator: one person, two roles.
    town = user("town")
    town.say(f"绑定 {town_chair}")
    town.say(f"绑定 {town_evaluator}")
    self_check(user("village"), village_chair)
    assert "V01 陡坡村工会：自评已提交" in town.say("进度")
    assert "组织评定已提交" in rate(town, "V01", 88)
    assert "不是“V01”的上级工会考评员" in _evaluator(user, county_evaluator, "county").say("考评 V01")
    assert "开始" in town.say("自评")  # its own self-check, inspected by the county
    coverage = {
        line.split(",")[0]: line.split(",")
        for line in cli("coverage", "--year", "2026", "--csv").splitlines()
    }
    assert coverage["PY"][2:7] == ["3", "3", "1", "1", "1"]  # PY-001, V01 and V02, once each
    assert coverage[""][2] == "3"


# ---------------------------------------------------------------- 5, 6 the evaluation's electorate


def test_the_electorate_is_invited_and_the_assessors_are_not_in_it(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 1)  # U01: 40 members
    with db.begin():
        committee_code = organisations.create_invitation(db, "YZ", "member", uses=5).code
        admin_code = organisations.create_invitation(db, "YZ", "admin").code
    members = [user(f"m{n}") for n in range(3)]
    for member in members:
        member.say(f"绑定 {codes['member1']}")
    committee = user("committee")
    committee.say(f"绑定 {committee_code}")
    evaluator = _evaluator(user, codes["evaluator"])
    user("county-admin").say(f"绑定 {admin_code}")
    out = cli("evaluation", "open", "--org", "U01", "--open", "1")
    code = out.strip().splitlines()[-1]
    assert "本单位会员 3 人，上级工会委员、代表 1 人" in out and "应参加 5 人" in out
    invited = {n.account_id for n in _notices(db, "evaluation_open")}
    assert len(invited) == 4 and all(f"测评 {code}" in n.text for n in _notices(db, "evaluation_open"))
    # The assessor is not a voter, even with the code.
    assert "不在" in evaluator.say(f"测评 {code}")
    # A member who binds now takes the free open place and is told so: the electorate stays 5.
    late = user("late")
    assert "民主测评正在进行" in late.say(f"绑定 {codes['member1']}")
    for voter in [*members, committee, late]:
        assert "【1/9】" in voter.say("测评")
        for _ in range(8):
            voter.say("1")
        assert "感谢参与" in voter.say("无")
    # Two more parent-union staff bound as evaluators change nothing: they are assessors.
    for n in range(2):
        user(f"staff{n}").say(f"绑定 {codes['evaluator']}")
    self_check(user("chair1"), codes["chair1"])
    summary = evaluator.say("考评 U01")
    assert "【1/30】" in summary
    listing = evaluator.say("查看")
    assert "民主测评：5 票（参与率 100%）" in listing  # 5 of 5: 4 invited + 1 open place (the late member's)
    # The assessment waits for the evaluation unless the evaluator ends it, with a reason.
    evaluator.say("继续")
    for _ in range(30):
        evaluator.say("同")
    held = evaluator.say("提交")
    assert "民主测评仍在进行" in held and "结束测评 原因" in held
    assert "请写明原因" in evaluator.say("结束测评")
    assert "已结束民主测评" in evaluator.say("结束测评 参加人员已全部作答")
    complete_record(evaluator)
    assert "组织评定已提交" in evaluator.say("提交")
    closed = db.scalar(select(AuditEntry).where(AuditEntry.action == "close_evaluation"))
    assert closed is not None and closed.reason == "参加人员已全部作答"
    assert db.scalar(select(func.count()).select_from(EvaluationParticipant)) == 5


def test_a_small_union_counts_every_member_and_paper_forms_add_counts(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 1)
    with db.begin():
        db.execute(update(Organisation).where(Organisation.code == "U01").values(member_count=10))
    voter = user("voter")
    voter.say(f"绑定 {codes['member1']}")
    out = cli("evaluation", "open", "--org", "U01")
    assert "会员全部参加" in out and "应参加 10 人" in out and "纸质测评表 9 份" in out
    voter.say("测评")
    for answer in ("1",) * 7 + ("2", "无"):
        voter.say(answer)
    evaluator = _evaluator(user, codes["evaluator"])
    assert "组织评定期间录入" in evaluator.say("录入测评 U01")  # once the self-check is submitted
    self_check(user("chair1"), codes["chair1"])
    first = evaluator.say("录入测评 U01")
    assert "只录入份数" in first and "发放份数和收回份数" in first and "纸质测评表 9 份" in first
    assert "超过了开启时安排的 9 份" in evaluator.say("10 8")
    assert "不超过发放份数" in evaluator.say("5 8")
    assert "【1/8】工会组织健全" in evaluator.say("8 6")
    assert "超过了收回的 6 份" in evaluator.say("5 2 1")
    for _ in range(8):
        evaluator.say("4 1 1")
    assert "【7/8】总体评价" in evaluator.say("修改 7")
    summary = evaluator.say("3 3 0")
    assert "✓ 第 7 题已修改" in summary and "总体评价：满意 3，基本满意 3，不满意 0" in summary
    assert "已保存" in evaluator.say("提交")
    evaluation = db.scalar(select(Evaluation))
    assert evaluation is not None and evaluation.paper_returned == 6 and evaluation.paper_distributed == 8
    # 1 online ballot + 6 paper forms of the 10 members on the roll: 1 in chat, 9 on paper.
    evaluator.say("考评 U01")
    listing = evaluator.say("查看")
    assert "民主测评：7 票（含纸质 6 份，参与率 70%）" in listing
    ballot_text = user("stranger").say(f"测评 {evaluation.code}")
    assert "不在" in ballot_text


def test_a_person_answering_when_the_open_places_run_out_is_told_so(user: User, db: Session, cli) -> None:
    setup_county(db, 1)
    code = cli("evaluation", "open", "--org", "U01", "--open", "1").strip().splitlines()[-1]
    first, second = user("visitor-1"), user("visitor-2")
    assert "【1/9】" in first.reply_text(*first.scan(f"eval:{code}"))
    first.say("1")
    assert "【1/9】" in second.say(f"测评 {code}")
    for answer in ("1",) * 8 + ("无",):
        second.say(answer)
    reply = first.say("1")
    assert "开放名额已满" in reply and "还没有绑定身份" not in reply


# ---------------------------------------------------------------- 7 reasons reach who must act


def test_objection_and_return_reasons_reach_whoever_acts_on_them(
    user: User, db: Session, cli, client
) -> None:
    codes = setup_county(db, 1)
    evaluator = _evaluator(user, codes["evaluator"])
    chair = user("chair1")
    self_check(chair, codes["chair1"])
    evaluator.say("退回 U01 第3项缺少换届选举的批复文件")
    assert "原因：第3项缺少换届选举的批复文件" in chair.say("自评")
    assert "原因：第3项缺少换届选举的批复文件" in chair.say("进度")
    assert "自评已提交" in chair.say("提交")
    assert "退回" not in chair.say("进度")
    rate(evaluator, "U01", 91)
    cli("publish", "--year", "2026")
    member = user("member")
    member.say(f"绑定 {codes['member1']}")
    member.say("异议 第12项职工书屋并未建立")
    notice = _notices(db, "objection_filed")[0]
    assert "第12项职工书屋并未建立" in notice.text and "复查 U01" in notice.text
    assert "异议：“第12项职工书屋并未建立”" in evaluator.say("进度")
    assert "收到异议 1 条（本单位会员 1 条）：\n1. 【本单位会员】第12项职工书屋并未建立" in evaluator.say(
        "复查 U01"
    )
    db.rollback()
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
    console = Console(client)
    console.login("city", "city-password-1")
    page = console.get(f"/console/inspections/{_inspection(db, 'U01').id}")
    assert "第12项职工书屋并未建立" in page and "待复查" in page


# ---------------------------------------------------------------- 8 remediation (补课)


def test_a_result_below_the_standard_is_remedied_and_re_checked(
    user: User, db: Session, cli, tmp_path
) -> None:
    codes = setup_county(db, 1)
    evaluator = _evaluator(user, codes["evaluator"])
    chair = user("chair1")
    self_check(chair, codes["chair1"])
    rate(evaluator, "U01", 55)
    cli("publish", "--year", "2026")
    table = result_table(cli)
    assert table["U01"]["disqualified"] == "经费支持、职工帮扶、评先选优"
    assert "没有需要补课" in chair.say("补课")
    cli("tick", "--now", (datetime.now(UTC) + timedelta(days=8)).isoformat())
    remediation = db.scalar(select(Remediation))
    assert remediation is not None and remediation.status == "open"
    final = _notices(db, "result_final")[0].text
    assert (
        "须补课，并取消经费支持、职工帮扶、评先选优指标" in final and remediation.due_on.isoformat() in final
    )
    assert "补课截止" in chair.say("补课") and "补课中" in chair.say("进度")
    coverage = cli("coverage", "--year", "2026", "--csv").splitlines()
    yz = dict(zip(coverage[0].split(","), coverage[1].split(","), strict=True))
    assert yz["remediation_open"] == "1" and yz["remediation_overdue"] == "0"  # YZ: one open remediation
    assert "写明补课情况" in chair.say("补课完成")
    assert "已报告补课完成" in chair.say("补课完成 已建立职工书屋并补齐换届台账")
    reported = _notices(db, "remediation_reported")[0].text
    assert "已建立职工书屋" in reported and "补课验收 U01 通过" in reported
    assert "补课验收 U01 通过 说明" in evaluator.say("补课验收 U01")
    assert "补课验收未通过" in evaluator.say("补课验收 U01 未通过 台账仍不完整")
    assert "继续补课" in _notices(db, "remediation_checked")[0].text
    chair.say("补课完成 台账已补齐")
    assert "补课验收通过" in evaluator.say("补课验收 U01 通过 已实地察看")
    db.expire_all()
    assert db.scalar(select(Remediation.status)) == "passed"
    header, first = cli("coverage", "--year", "2026", "--csv").splitlines()[:2]
    assert dict(zip(header.split(","), first.split(","), strict=True))["remediation_open"] == "0"
    out = tmp_path / "results.xlsx"
    cli("export", "results", "--year", "2026", "--out", str(out))
    sheet = load_workbook(out).active
    headers = [c.value for c in sheet[2]]  # under the title row
    assert {"取消的指标", "补课"} <= set(headers)
    assert sheet.cell(row=3, column=headers.index("取消的指标") + 1).value == "经费支持、职工帮扶、评先选优"
    assert sheet.cell(row=3, column=headers.index("补课") + 1).value == "已通过验收"


# ---------------------------------------------------------------- 9 cumulative coverage, scoped years


def test_a_scoped_first_year_and_the_cumulative_share(user: User, db: Session, cli, tmp_path: Path) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(db, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
        for n in range(1, 11):
            organisations.add_org(db, organisations.OrgRow(f"U{n:02d}", f"第{n}社区工会", "village", "YZ"))
        evaluator_code = organisations.create_invitation(db, "YZ", "evaluator", uses=3).code
        city_code = organisations.create_invitation(db, "GY", "evaluator").code
    listing = tmp_path / "2024.txt"
    listing.write_text("U01\n", encoding="utf-8")
    assert "只能选一个" in cli.refused(
        "campaign", "open", "2023", "--share", "0.3", "--scope-file", str(listing)
    )
    out = cli("campaign", "open", "2023", "--share", "0.3", "--seed", "7")
    assert "随机种子 7" in out and "共 3 个基层工会" in out
    chosen = sorted(i.organisation.code for i in db.scalars(select(Inspection)))
    db.rollback()
    assert len(chosen) == 3
    with db.begin():
        chairs = {code: organisations.create_invitation(db, code, "chair").code for code in chosen}
    evaluator = _evaluator(user, evaluator_code)
    for code in chosen:
        self_check(user(f"chair-{code}"), chairs[code])
        rate(evaluator, code, 85)
    # 2024: a list of four, one of them rated in 2023.
    rest = [f"U{n:02d}" for n in range(1, 11) if f"U{n:02d}" not in chosen]
    listing.write_text("\n".join([chosen[0], *rest[:3]]) + "\n", encoding="utf-8")
    assert "共 4 个基层工会" in cli("campaign", "open", "2024", "--scope-file", str(listing))
    with db.begin():
        chairs = {code: organisations.create_invitation(db, code, "chair").code for code in rest[:3]}
    for code in rest[:3]:
        self_check(user(f"chair24-{code}"), chairs[code])
        rate(evaluator, code, 85)
    row = next(
        line.split(",")
        for line in cli("coverage", "--year", "2024", "--csv").splitlines()
        if line.startswith("YZ")
    )
    header = cli("coverage", "--year", "2024", "--csv").splitlines()[0].split(",")
    figures = dict(zip(header, row, strict=True))
    assert figures["rated"] == "3" and figures["share"] == "30%"
    assert figures["ever_rated"] == "6" and figures["cumulative"] == "60%"
    assert figures["target"] == "70%" and figures["on_target"] == "否"
    # 2025: 回头看 — the city draws from unions rated in earlier years too, and re-checks one.
    cli("campaign", "open", "2025", "--scope-file", str(listing))
    drawn = cli("sample", "--year", "2025", "--share", "1", "--seed", "1", "--earlier")
    assert "从 6 个已评定单位中抽取" in drawn
    city = _evaluator(user, city_code, "city")
    assert "【1/30】" in city.say(f"抽查 {chosen[1]}")  # rated in 2023 only


# ---------------------------------------------------------------- 10 the assessment record


def test_the_assessment_record_is_kept_and_printed(user: User, db: Session, cli, tmp_path: Path) -> None:
    codes = setup_county(db, 1)
    evaluator = _evaluator(user, codes["evaluator"])
    self_check(user("chair1"), codes["chair1"])
    evaluator.say("考评 U01")
    assert "1 听汇报" in evaluator.say("方式")
    assert "请发送“方式”加编号" in evaluator.say("方式 9")
    assert "✓ 考评方式：听汇报、查看台账资料、实地察看" in evaluator.say("方式 3 1 2")
    assert "✓ 已记录考评意见" in evaluator.say("意见 台账齐全，职工书屋运行良好")
    summary = evaluator.say("查看")
    assert "考评方式：听汇报、查看台账资料、实地察看" in summary and "考评意见：台账齐全" in summary
    evaluator.say("继续")
    for _ in range(30):
        evaluator.say("同")
    assert "已免除民主测评" in evaluator.say("免除测评 会员分散在外地务工，无法组织测评")
    assert "考评方式：听汇报、查看台账资料、实地察看" in evaluator.say("提交")
    out = tmp_path / "sheet.xlsx"
    cli("export", "sheet", "--org", "U01", "--year", "2026", "--out", str(out))
    cells = [c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row if c]
    assert (
        "考评方式：听汇报、查看台账资料、实地察看" in cells
        and "考评意见：台账齐全，职工书屋运行良好" in cells
    )


# ---------------------------------------------------------------- 11 the seed's slips


def test_the_truncated_item_is_marked_in_chat_and_exports(
    user: User, db: Session, cli, tmp_path: Path
) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(
            db, organisations.OrgRow("GY-001", "市第一人民医院工会", "state_owned", "GY", 800)
        )
        campaigns.open_year(db, 2026)
        chair_code = organisations.create_invitation(db, "GY-001", "chair").code
    chair = user("chair")
    chair.say(f"绑定 {chair_code}")
    chair.say("自评")
    assert "会员代表大会报（原文不完整）" in chair.say("修改 30")
    out = tmp_path / "sheet.xlsx"
    cli("export", "sheet", "--org", "GY-001", "--year", "2026", "--out", str(out))
    texts = [
        c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row if isinstance(c, str)
    ]
    assert any(t.endswith("会员代表大会报（原文不完整）") for t in texts)
    exported = cli("rubrics", "export", "--json")
    assert '"note": "原文不完整"' in exported


def test_the_seeds_decisions_are_documented() -> None:
    docs = Path(__file__).parents[1] / "docs" / "rubrics.md"
    text = docs.read_text(encoding="utf-8")
    for decision in ("原文不完整", "2月30日", "第 27 项", "第 15 项", "102", "99"):
        assert decision in text
    assert "docs/rubrics.md" in (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")

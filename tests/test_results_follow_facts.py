"""Official results right in any order (四、星级确定, 结果运用): the stars of every result of a quota scope are
the quota applied to the scope's current scores and overrides; a change to any fact works the scope out
again and publishes again every published result whose stars change; overrides stay inside the bands;
remediation follows the result. Through the chat and the CLI, on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chatbot.inspection import organisations, results, sampling
from chatbot.store.models import AuditEntry, Inspection, Organisation, OutboxMessage, Remediation
from chatbot.timeutil import as_utc
from chatbot.wechat.simulator import Simulator
from rubrics.scoring import Stars
from tests.helpers import VILLAGE, deductions, rate, result_table, self_check, setup_county

User = Callable[..., Simulator]
#: The issue's ten unions: two five-star places.
SCORES = (95, 94, 93, 92, 91, 70, 65, 62, 61, 60)


def _by_code(db: Session) -> dict[str, Inspection]:
    db.expire_all()
    return {i.organisation.code: i for i in db.scalars(select(Inspection).join(Organisation))}


def _stars(db: Session) -> dict[str, int]:
    return {code: i.stars or 0 for code, i in _by_code(db).items()}


def _notices_of(db: Session, inspection: Inspection, round_no: int) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(
            select(OutboxMessage.text).where(
                OutboxMessage.dedup_key.like(f"published:{inspection.id}:{round_no}:%")
            )
        )
    )


def _evaluator(user: User, codes: dict[str, str]) -> Simulator:
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    return evaluator


def _members(user: User, codes: dict[str, str], unions: int) -> None:
    for n in range(1, unions + 1):
        user(f"member{n}").say(f"绑定 {codes[f'member{n}']}")


def _rate(user: User, evaluator: Simulator, codes: dict[str, str], n: int, score: int) -> str:
    self_check(user(f"chair{n}"), codes[f"chair{n}"])
    return rate(evaluator, f"U{n:02d}", score)


def test_five_rated_and_published_first_then_five_more_keep_the_places_by_score(
    user: User, db: Session, cli
) -> None:
    """Rated all, then published: 95 and 94 five-star. The same facts with five rated, confirmed and
    published first, then the other five: the same stars — the published 91 loses its place to the
    94 and is published again with the reason, its chair and member told, the change audited."""
    codes = setup_county(db, 10)
    _members(user, codes, 10)
    evaluator = _evaluator(user, codes)
    for n in (1, 5, 6, 7, 8):  # 95 91 70 65 62
        _rate(user, evaluator, codes, n, SCORES[n - 1])
    cli("results", "confirm", "--year", "2026", "--reason", "其余单位稍后评定")
    assert "已公示 5 个结果" in cli("publish", "--year", "2026")
    # Five rated: one place, the 95's; the 91 is capped.
    assert _stars(db)["U01"] == 5 and _stars(db)["U05"] == 4
    for n in (2, 3, 4, 9, 10):  # 94 93 92 61 60
        reply = _rate(user, evaluator, codes, n, SCORES[n - 1])
        assert "预评" not in reply  # the scope is confirmed: the reply tells the stars as decided
    stars = _stars(db)
    assert [stars[f"U{n:02d}"] for n in range(1, 11)] == [5, 5, 4, 4, 4, 3, 2, 2, 2, 2]
    rows = result_table(cli)
    assert rows["U02"]["marks"] == "" and {rows[c]["marks"] for c in ("U03", "U04", "U05")} == {
        "超出五星级名额"
    }
    u05 = _by_code(db)["U05"]
    assert u05.stars_reason == (
        "全市评定 10 个，五星级名额 2 个（评定数的 20%，向下取整）；本单位得分 91，在 5 个 90 分及以上的单位中排第 5 位，"
        "未进入名额，评为四星级"
    )
    # The published 91 kept four stars all along (it was capped with five rated, too): no new round.
    assert u05.publication_round == 1
    # Publish the rest: the same published results as rating all first.
    assert "已公示 5 个结果" in cli("publish", "--year", "2026")
    assert _stars(db) == stars


def test_a_late_rating_takes_a_published_place_and_the_loser_is_published_again(
    user: User, db: Session, cli
) -> None:
    codes = setup_county(db, 10)
    _members(user, codes, 10)
    evaluator = _evaluator(user, codes)
    for n in (1, 2, 5, 6, 7, 8, 9, 10):  # 95 94 91 70 65 62 61 60: eight rated, one place
        _rate(user, evaluator, codes, n, SCORES[n - 1])
    cli("results", "confirm", "--year", "2026", "--reason", "U03、U04 稍后评定")
    cli("publish", "--year", "2026")
    assert _stars(db)["U01"] == 5 and _stars(db)["U02"] == 4
    # Ten rated: two places; the published 94 gets the second one and is published again.
    for n in (3, 4):
        _rate(user, evaluator, codes, n, SCORES[n - 1])
    u02 = _by_code(db)["U02"]
    assert u02.stars == 5 and not u02.quota_capped and u02.publication_round == 2
    notices = _notices_of(db, u02, 2)
    assert len(notices) == 2  # its chair and its member
    assert all("因全市新增评定结果，五星级名额重新确定" in t and "五星级" in t for t in notices)
    audit = db.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "stars_recomputed", AuditEntry.entity_id == u02.id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    assert audit is not None and '"stars": 4' in (audit.before or "") and '"stars": 5' in (audit.after or "")
    assert "第 2 轮公示" in user("member2").say("结果") and "五星级" in user("member2").say("结果")


def test_a_re_review_that_lifts_a_capped_result_takes_its_place(user: User, db: Session, cli) -> None:
    """A capped 93 re-reviewed to 97: five stars, above the published 95 and 94; the 94 loses its place
    and is published again; the re-review's reply says what happened."""
    codes = setup_county(db, 10)
    _members(user, codes, 10)
    evaluator = _evaluator(user, codes)
    for n, score in enumerate(SCORES, start=1):
        _rate(user, evaluator, codes, n, score)
    cli("publish", "--year", "2026")
    assert user("member3").say("异议 第1项换届材料已补齐").startswith("您的异议已收到")
    evaluator.say("复查 U03")
    full = {item.no: str(item.points) for item in VILLAGE.items}
    target = full | deductions(3)  # 97
    for no in range(1, VILLAGE.item_count + 1):
        evaluator.say(f"{target[no]} 材料已补齐" if no in deductions(7) else "同")
    done = evaluator.say("提交")
    assert "得分：97 / 100 分" in done and "评定星级：五星级" in done and "第 2 轮" in done
    assert "五星级名额统一确认后公示" not in done and "本范围另有 1 个单位的星级因此调整" in done
    stars = _stars(db)
    assert stars["U03"] == 5 and stars["U01"] == 5 and stars["U02"] == 4
    u02 = _by_code(db)["U02"]
    assert u02.publication_round == 2 and "排第 3 位" in (u02.stars_reason or "")
    assert all("因全市复查结果调整，五星级名额重新确定" in t for t in _notices_of(db, u02, 2))


def test_a_re_check_that_cuts_a_five_star_frees_its_place_for_the_next(user: User, db: Session, cli) -> None:
    """抽查 cuts the five-star 95 to 75: the 93 gets the freed place (published again), and no reason
    text says 超出名额 where it is no longer true."""
    codes = setup_county(db, 10)
    _members(user, codes, 10)
    with db.begin():
        city_code = organisations.create_invitation(db, "GY", "evaluator").code
    evaluator = _evaluator(user, codes)
    for n, score in enumerate(SCORES, start=1):
        _rate(user, evaluator, codes, n, score)
    cli("publish", "--year", "2026")
    assert _stars(db)["U03"] == 4
    db.rollback()
    with db.begin():
        sampling.mark(db, db.get(Inspection, _by_code(db)["U01"].id), "test")
    city = user("city")
    city.say(f"绑定 {city_code}")
    city.say("抽查 U01")
    cut = deductions(25)
    for no in range(1, VILLAGE.item_count + 1):
        city.say(cut.get(no, "同"))
    assert "市级抽查 75 分（三星级）" in city.say("提交")
    found = _by_code(db)
    assert found["U01"].stars == 3 and found["U01"].publication_round == 2
    assert found["U03"].stars == 5 and not found["U03"].quota_capped and found["U03"].publication_round == 2
    assert all("因全市抽查结果调整" in t for t in _notices_of(db, found["U03"], 2))
    for code in ("U04", "U05"):
        assert found[code].stars == 4 and "5 个 90 分及以上" not in (found[code].stars_reason or "")
        assert "在 4 个 90 分及以上的单位中" in (found[code].stars_reason or "")


def test_overrides_stay_inside_the_bands(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 10)
    _members(user, codes, 10)
    evaluator = _evaluator(user, codes)
    for n, score in enumerate((95, 94, 93, 70, 55, 80, 80, 80, 80, 80), start=1):
        _rate(user, evaluator, codes, n, score)
    cli("publish", "--year", "2026")
    year = ("--year", "2026")
    refused = cli.refused(
        "results", "override", "--org", "U05", *year, "--stars", "5", "--reason", "表现突出"
    )
    assert "低于建设标准" in refused and "只能是一星级" in refused
    refused = cli.refused(
        "results", "override", "--org", "U03", *year, "--stars", "5", "--reason", "表现突出"
    )
    assert "只有在名额线上同分并列" in refused
    refused = cli.refused(
        "results", "override", "--org", "U04", *year, "--stars", "1", "--reason", "台账缺失"
    )
    assert "一星级只用于低于建设标准" in refused
    assert "--stars" in cli.refused("results", "override", "--org", "U04", *year, "--reason", "理由")
    assert _stars(db)["U01"] == 5 and _stars(db)["U03"] == 4  # nothing changed
    # Lowering the published 95 frees its place: the 93 is published again as five-star.
    out = cli("results", "override", "--org", "U01", *year, "--stars", "4", "--reason", "实地察看台账不实")
    assert "现为四星级" in out and "重新公示" in out
    found = _by_code(db)
    assert found["U01"].stars == 4 and found["U01"].publication_round == 2
    assert found["U03"].stars == 5 and found["U03"].publication_round == 2
    assert all("因管理员调整全市星级" in t for t in _notices_of(db, found["U03"], 2))
    u05 = found["U05"]
    assert u05.stars == 1 and u05.below_standard and u05.no_funding_support and u05.no_hardship_aid
    assert u05.no_award_eligibility
    # Withdrawn: the 95 takes its place back, the 93 is capped again (round 3 for both).
    cli("results", "override", "--org", "U01", *year, "--clear", "--reason", "复核后撤销")
    found = _by_code(db)
    assert (found["U01"].stars, found["U03"].stars) == (5, 4)
    assert (found["U01"].publication_round, found["U03"].publication_round) == (3, 3)


def test_a_tie_at_the_cut_off_is_settled_by_an_override_whatever_the_order(
    user: User, db: Session, cli
) -> None:
    codes = setup_county(db, 10)
    _members(user, codes, 10)
    evaluator = _evaluator(user, codes)
    for n, score in enumerate((99, 95, 95, 70, 70, 70, 70, 70, 70, 70), start=1):
        _rate(user, evaluator, codes, n, score)
    out = cli("publish", "--year", "2026")
    assert "U02 U03" in out.splitlines()[-1]  # held: tied at the cut-off
    cli("results", "override", "--org", "U03", "--year", "2026", "--stars", "5", "--reason", "台账最完整")
    stars = _stars(db)
    assert (stars["U02"], stars["U03"]) == (4, 5)
    assert "已公示 2 个结果" in cli("publish", "--year", "2026")
    reason = _by_code(db)["U02"].stars_reason or ""
    assert "同分并列第 2 位" in reason and "经管理员裁定未进入名额" in reason


def test_remediation_follows_the_result(user: User, db: Session, cli, tmp_path: Path) -> None:
    """A 55 becomes final with its remediation; a re-check that lifts it to 80 withdraws the
    remediation and its three disqualifications; an overdue remediation is marked; a late re-review is
    recorded on the result."""
    codes = setup_county(db, 2)
    _members(user, codes, 2)
    with db.begin():
        city_code = organisations.create_invitation(db, "GY", "evaluator").code
    evaluator = _evaluator(user, codes)
    _rate(user, evaluator, codes, 1, 55)
    _rate(user, evaluator, codes, 2, 58)
    cli("publish", "--year", "2026")
    cli("tick", "--now", (datetime.now(UTC) + timedelta(days=8)).isoformat())
    assert {r.status for r in db.scalars(select(Remediation))} == {"open"}
    # Overdue: the due dates have passed (set back, as if 90 days had gone by).
    db.rollback()
    with db.begin():
        db.execute(update(Remediation).values(due_on=datetime.now(UTC).date() - timedelta(days=2)))
    rows = result_table(cli)
    assert "补课逾期" in rows["U02"]["marks"] and "逾期" in rows["U02"]["remediation"]
    book = tmp_path / "results.xlsx"  # the workbook names the mark too, never by its key
    cli("export", "results", "--year", "2026", "--out", str(book))
    cells = [str(cell) for row in load_workbook(book).active.iter_rows(values_only=True) for cell in row]
    assert any("补课逾期" in cell for cell in cells) and not any("overdue" in cell for cell in cells)
    coverage = cli("coverage", "--year", "2026", "--csv").splitlines()
    yz = dict(zip(coverage[0].split(","), coverage[1].split(","), strict=True))
    assert (yz["remediation_open"], yz["remediation_overdue"]) == ("2", "2")
    # The city re-checks U01 and finds 80: no longer below the standard.
    db.rollback()
    with db.begin():
        sampling.mark(db, db.get(Inspection, _by_code(db)["U01"].id), "test")
    city = user("city")
    city.say(f"绑定 {city_code}")
    city.say("抽查 U01")
    lifted = deductions(20)
    for no in range(1, VILLAGE.item_count + 1):
        city.say(lifted.get(no, str(next(i.points for i in VILLAGE.items if i.no == no))))
    assert "市级抽查 80 分（四星级）" in city.say("提交")
    u01 = _by_code(db)["U01"]
    assert u01.stars == Stars.FOUR and not u01.below_standard
    assert not (u01.no_funding_support or u01.no_hardship_aid or u01.no_award_eligibility)
    status = db.scalar(select(Remediation.status).where(Remediation.inspection_id == u01.id))
    assert status == "withdrawn"
    assert "补课已撤销" in user("chair1").say("补课")
    coverage = cli("coverage", "--year", "2026", "--csv").splitlines()
    yz = dict(zip(coverage[0].split(","), coverage[1].split(","), strict=True))
    assert (yz["remediation_open"], yz["remediation_overdue"]) == ("1", "1")
    # A re-review submitted after its 10 days is recorded as late on the result.
    assert user("member1").say("异议 第2项材料与实际不符").startswith("您的异议已收到")
    db.rollback()
    with db.begin():
        db.execute(
            update(Inspection)
            .where(Inspection.id == u01.id)
            .values(re_review_due_at=datetime.now(UTC) - timedelta(hours=1))
        )
    evaluator.say("复查 U01")
    for _ in range(VILLAGE.item_count):
        evaluator.say("同")
    assert "复查评定已提交" in evaluator.say("提交")
    u01 = _by_code(db)["U01"]
    assert u01.re_review_late and u01.publication_round == 3
    assert "复查逾期" in result_table(cli)["U01"]["marks"]


def test_one_result_is_published_as_the_rest_are(user: User, db: Session, cli) -> None:
    """Publishing one result (the console's, a re-review's) is `nianjian publish` of one: the same
    round, period, audit entry and notice to its chair and member as a union published with others."""
    codes = setup_county(db, 3)
    _members(user, codes, 3)
    evaluator = _evaluator(user, codes)
    for n in (1, 2, 3):
        _rate(user, evaluator, codes, n, 70)
    cli("results", "confirm", "--year", "2026", "--reason", "三个单位均已评定")
    now = datetime.now(UTC)
    with db.begin():
        results.open_publication(db, _by_code(db)["U01"], now, 7, "cli")
    assert "已公示 2 个结果" in cli("publish", "--year", "2026", "--days", "7")
    found = _by_code(db)
    for code in ("U01", "U02"):
        inspection = found[code]
        assert (inspection.state, inspection.publication_round, inspection.publication_days) == (
            "published",
            1,
            7,
        )
        assert as_utc(inspection.publication_ends_at) - as_utc(inspection.published_at) == timedelta(days=7)
    entries = {
        entry.entity_id: (entry.before, json.loads(entry.after or "{}"))
        for entry in db.scalars(select(AuditEntry).where(AuditEntry.action == "publish"))
    }
    assert (
        entries[found["U01"].id]
        == entries[found["U02"].id]
        == ('"rated"', {"round": 1, "stars": 3, "score": "70.0"})
    )
    one, other = (_notices_of(db, found[code], 1) for code in ("U01", "U02"))
    assert len(one) == len(other) == 2  # the chair and the member
    assert {t.replace("第1社区工会", "N").replace("U01", "C") for t in one} == {
        t.replace("第2社区工会", "N").replace("U02", "C") for t in other
    }

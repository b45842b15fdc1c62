"""The console shows what became of each objection (异议): on the inspection page its outcome once the
re-review decided it — 维持 or 改分, the result before and after, when, by whom and why (the scores the
re-review changed, with their reasons) — and on the dashboard how many of the year's objections wait
and how many were decided. The objector stays as anonymous as before: only where the objection came
from. Through the webhook and the Flask test client, on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.store.models import Account, Inspection, Organisation
from tests.helpers import rate, self_check, setup_county
from tests.test_console import Console


def test_the_console_shows_each_objections_outcome_and_the_years_tally(
    app: Flask, user, db: Session, cli
) -> None:
    codes = setup_county(db, 2)
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "YZ", "yz", "yz-password-12")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n, score in ((1, 85), (2, 75)):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        rate(evaluator, f"U{n:02d}", score)
    member = user("member1")
    member.say(f"绑定 {codes['member1']}")
    cli("publish", "--year", "2026", "--days", "7")
    stranger = user("passer-by")
    assert "异议已收到" in member.say("异议 第1项换届资料其实齐全")
    assert "异议已收到" in stranger.say("异议 U01 第3项职工之家并未挂牌")
    inspection_id = db.scalar(select(Inspection.id).join(Organisation).where(Organisation.code == "U01"))
    openids = {a.openid for a in db.scalars(select(Account))}
    db.rollback()
    city, county = Console(app.test_client()), Console(app.test_client())
    city.login("city", "city-password-1")
    county.login("yz", "yz-password-12")
    page = f"/console/inspections/{inspection_id}"

    waiting = city.get(page)
    assert waiting.count("待复查</td>") == 2 and "已复查" not in waiting
    assert "本年度异议：待复查 2 条，已复查 0 条" in city.get("/console/")

    # The re-review raises item 1 by 3 points (85 → 88) with its reason, item 3 kept.
    evaluator.say("复查 U01")
    evaluator.say("3 换届资料已补齐")
    evaluator.say("同")
    assert "复查评定已提交" in evaluator.say("提交")
    decided = county.get(page)
    assert decided.count("已复查 · 改分") == 2
    assert "复查后结果改为 88 分，四星级（原为 85 分，四星级）" in decided
    assert "原州区总工会 考评员" in decided  # by whom, as the 办理记录 names people
    assert "理由：第 1 项 考评" in decided and "换届资料已补齐" in decided
    assert "复查决定异议" in decided and "2 条异议" in decided  # in the 办理记录 too
    assert not any(openid in decided for openid in openids)  # nothing of who objected
    assert "本年度异议：待复查 0 条，已复查 2 条（维持原结果 0 条，改变结果 2 条）" in county.get("/console/")

    # A second objection in the new round, decided with the result kept: 维持, no score changed.
    assert "异议已收到" in stranger.say("异议 U01 第9项与实际不符")
    evaluator.say("复查 U01")
    evaluator.say("同")
    assert "复查评定已提交" in evaluator.say("提交")
    both = city.get(page)
    assert "已复查 · 维持" in both and "复查后维持原结果 88 分，四星级" in both
    assert "理由：复查未改动子项得分" in both
    assert "已复查 2 条" not in city.get("/console/")
    assert "已复查 3 条（维持原结果 1 条，改变结果 2 条）" in city.get("/console/")

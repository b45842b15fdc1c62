"""An objector follows their objection: `进度` lists each objection they filed with its status, and when
the re-review decides it they are told what it came to — a member of the union and a stranger who
objected with the union's code alike. Through the webhook, on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.store.models import Account, OutboxMessage
from chatbot.wechat.simulator import Simulator
from tests.helpers import rate, self_check, setup_county

User = Callable[..., Simulator]


def _decided(db: Session) -> dict[str, str]:
    """The objection_decided notices by their recipient's openid."""
    db.expire_all()
    rows = db.execute(
        select(Account.openid, OutboxMessage.text)
        .join(Account, OutboxMessage.account_id == Account.id)
        .where(OutboxMessage.kind == "objection_decided")
    )
    return {openid: text for openid, text in rows}


def test_objectors_are_told_the_outcome_and_follow_it_in_progress(user: User, db: Session, cli) -> None:
    codes = setup_county(db, 2)
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n, score in ((1, 85), (2, 75)):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        rate(evaluator, f"U{n:02d}", score)
    member = user("member1")
    member.say(f"绑定 {codes['member1']}")
    cli("publish", "--year", "2026", "--days", "7")
    stranger = user("passer-by")
    assert "您提出的异议" not in stranger.say("进度")
    assert "异议已收到" in member.say("异议 第1项换届资料其实齐全")
    assert "异议已收到" in stranger.say("异议 U01 第3项职工之家并未挂牌")
    # Waiting: each objector's 进度 shows it, a stranger's too (who is bound to nothing).
    waiting = stranger.say("进度")
    assert waiting.count("您还没有绑定身份") == 1 and "您提出的异议：" in waiting  # said once
    assert "第1社区工会（U01）2026 年度" in waiting and "“第3项职工之家并未挂牌”——待上级工会复查" in waiting
    assert "“第1项换届资料其实齐全”——待上级工会复查" in member.say("进度")
    assert _decided(db) == {}
    # The re-review raises item 1 by 3 points: 85 → 88, still four stars.
    assert "【1/30】" in evaluator.say("复查 U01")
    assert "【3/30】" in evaluator.say("3 换届资料已补齐")  # the objected items: 1 and 3
    assert "异议涉及的第 1、3 项已复查" in evaluator.say("同")
    assert "复查评定已提交" in evaluator.say("提交")
    told = _decided(db)
    assert set(told) == {"member1", "passer-by"}
    outcome = "复查后结果改为 88 分，四星级（原为 85 分，四星级）"
    assert (
        "您对第1社区工会（U01）2026 年度年检结果提出的异议“第3项职工之家并未挂牌”已复查" in told["passer-by"]
    )
    assert outcome in told["passer-by"] and "结果再次公示至" in told["passer-by"]
    assert "发送“结果 U01”查看" in told["passer-by"]
    assert "“第1项换届资料其实齐全”已复查" in told["member1"] and outcome in told["member1"]
    decided = stranger.say("进度")
    assert f"“第3项职工之家并未挂牌”——已复查，{outcome}，再次公示至" in decided
    assert f"已复查，{outcome}" in member.say("进度")
    # A second objection in the new round, decided with the result kept: the objector's 进度 lists both.
    assert "异议已收到" in stranger.say("异议 U01 第9项与实际不符")
    assert "【9/30】" in evaluator.say("复查 U01")
    assert "异议涉及的第 9 项已复查" in evaluator.say("同")
    assert "复查评定已提交" in evaluator.say("提交")
    both = stranger.say("进度")
    assert "“第9项与实际不符”——已复查，复查后维持原结果 88 分，四星级" in both
    assert f"“第3项职工之家并未挂牌”——已复查，{outcome}" in both
    assert both.index("第9项") < both.index("第3项")  # newest first


def test_an_objector_is_told_once_the_stars_of_a_re_review_are_decided(user: User, db: Session, cli) -> None:
    """The shrunk example of the stateful search: a re-review that lowers the five-star result (95) to a
    tie at the cut-off (92, with U02) waits for the admin. Telling the objector then said 五星级,
    which the admin's decision made 四星级: the objector is told once the stars are decided and the
    result is published again, with the result as published."""
    codes = setup_county(db, 5)
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n, score in ((1, 95), (2, 92), (3, 85), (4, 80), (5, 75)):  # one five-star place
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        rate(evaluator, f"U{n:02d}", score)
    cli("results", "confirm", "--year", "2026", "--reason", "全部评定")
    cli("publish", "--year", "2026", "--days", "7")
    stranger = user("passer-by")
    assert "异议已收到" in stranger.say("异议 U01 第2项换届资料不全")
    evaluator.say("复查 U01")
    evaluator.say("第2项改为2分 换届资料不全")
    assert "待管理员裁定后再次公示" in evaluator.say("提交")
    assert _decided(db) == {}  # the stars are not decided: nothing told yet
    cli(
        "results",
        "override",
        "--org",
        "U02",
        "--year",
        "2026",
        "--stars",
        "5",
        "--reason",
        "并列时U02台账更完整",
    )
    cli("publish", "--year", "2026", "--days", "7")
    told = _decided(db)
    assert set(told) == {"passer-by"}
    outcome = "复查后结果改为 92 分，四星级（原为 95 分，五星级）"
    assert outcome in told["passer-by"] and "结果再次公示至" in told["passer-by"]
    assert f"已复查，{outcome}" in stranger.say("进度")
    cli("publish", "--year", "2026", "--days", "7")  # nothing more to publish: told once
    assert len(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "objection_decided")).all()) == 1

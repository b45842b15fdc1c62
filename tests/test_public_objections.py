"""Objections from 职工群众 (issue 20, point 7): whoever follows the account objects to a union's result
during its publication with `异议 CODE 理由`, once per round and a few times a day; the union's own chair
and members keep `异议 理由`; the re-reviewer sees where each objection came from. Through the webhook,
the CLI and the console, on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.console.access import create_user
from chatbot.store.engine import alembic_config, make_engine, migrate
from chatbot.store.models import Inspection, Objection, Organisation, OutboxMessage
from chatbot.wechat.simulator import Simulator
from tests.conftest import Backend
from tests.helpers import rate, self_check, setup_county
from tests.test_console import Console

User = Callable[..., Simulator]


def _published(user: User, db: Session, cli, scores: dict[int, int]) -> Simulator:
    """A county whose unions U01… are rated at ``scores`` and published; its evaluator."""
    codes = setup_county(db, len(scores))
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n, score in scores.items():
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        rate(evaluator, f"U{n:02d}", score)
        user(f"member{n}").say(f"绑定 {codes[f'member{n}']}")
    published = cli("publish", "--year", "2026", "--days", "7")
    assert f"已公示 {len(scores)} 个结果" in published and "“异议 单位编号 理由”提出异议" in published
    return evaluator


def _objections(db: Session, code: str) -> list[tuple[str, str]]:
    """(source, text) of the objections to ``code``'s result, oldest first."""
    db.expire_all()
    return [
        (source, text)
        for source, text in db.execute(
            select(Objection.source, Objection.text)
            .join(Inspection, Objection.inspection_id == Inspection.id)
            .join(Organisation, Inspection.organisation_id == Organisation.id)
            .where(Organisation.code == code)
            .order_by(Objection.id)
        )
    ]


def _notices(db: Session, kind: str) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(select(OutboxMessage.text).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))
    )


def test_a_stranger_objects_with_the_code_and_the_re_reviewer_sees_who_objected(
    user: User, db: Session, cli, client: FlaskClient
) -> None:
    evaluator = _published(user, db, cli, {1: 85, 2: 75})
    # The publication carries the union's code and says how the public objects.
    notice = next(t for t in _notices(db, "result_published") if "第1社区工会" in t)
    assert "第1社区工会（U01）" in notice and "异议 U01 理由" in notice
    assert "结果 U01" in user("member1").say("结果")
    # A stranger (never bound) reads the publication by its code, then objects once.
    stranger = user("passer-by")
    shown = stranger.say("结果 U01")
    assert "第1社区工会（U01）" in shown and "四星级" in shown and "公示期至" in shown
    assert "异议 U01 具体理由" in shown
    assert "异议 单位编号 理由" in stranger.say("帮助")
    assert "写明具体理由" in stranger.say("异议 U01")
    received = stranger.say("异议 U01 第3项职工之家并未挂牌")
    assert received.startswith("您对“第1社区工会”（U01）年检结果的异议已收到")
    assert "已对本轮公示结果提出过异议" in stranger.say("异议 U01 再说一次")
    # A wrong code, or a union that is not in publication, says only that: nothing more is told.
    unknown = stranger.say("异议 U99 第3项有问题")
    assert "没有找到编号为 U99 的公示中的年检结果" in unknown
    county = stranger.say("异议 YZ 第3项有问题")
    assert county == unknown.replace("U99", "YZ")
    assert "没有找到编号为 U99 的公示中的年检结果" in stranger.say("结果 U99")
    # Without a code the stranger is told how; a bound member's `异议 理由` still works.
    assert "异议 单位编号 理由" in stranger.say("异议 第3项有问题")
    assert user("member1").say("异议 第5项活动阵地不存在").startswith("您的异议已收到")
    assert user("chair1").say("异议 U01 第7项台账已补齐").startswith("您对“第1社区工会”（U01）")
    # The chair of another union objects as the public; the union's own assessor may not object.
    assert "异议已收到" in user("chair2").say("异议 U01 第9项与实际不符")
    assert "考评员" in evaluator.say("异议 U01 第1项有问题")
    assert _objections(db, "U01") == [
        ("public", "第3项职工之家并未挂牌"),
        ("member", "第5项活动阵地不存在"),
        ("chair", "第7项台账已补齐"),
        ("public", "第9项与实际不符"),
    ]
    # The re-reviewer sees the source in the notices, `进度`, `复查` and the console.
    filed = _notices(db, "objection_filed")
    assert len(filed) == 4
    assert "收到异议（来自未绑定本单位的公众）：“第3项职工之家并未挂牌”" in filed[0]
    assert "（来自本单位会员）" in filed[1] and "（来自本单位工会主席）" in filed[2]
    progress = evaluator.say("进度")
    assert "公众异议：“第3项职工之家并未挂牌”" in progress
    assert "本单位会员异议：“第5项活动阵地不存在”" in progress
    review = evaluator.say("复查 U01")
    assert "收到异议 4 条（公众 2 条，本单位会员 1 条，本单位工会主席 1 条）" in review
    assert "1. 【未绑定本单位的公众】第3项职工之家并未挂牌" in review
    db.rollback()
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
    console = Console(client)
    console.login("city", "city-password-1")
    u01 = db.scalar(select(Inspection.id).join(Organisation).where(Organisation.code == "U01"))
    page = console.get(f"/console/inspections/{u01}")
    assert "<th>来源</th>" in page and "未绑定本单位的公众" in page and "本单位工会主席" in page
    # After the period (U02 final, no objection) the stranger's code is told as a wrong one.
    cli("tick", "--now", (datetime.now(UTC) + timedelta(days=8)).isoformat())
    assert stranger.say("异议 U02 第1项有问题") == unknown.replace("U99", "U02")
    assert _objections(db, "U02") == []


def test_a_sender_objects_a_few_times_a_day_and_evaluators_are_not_flooded(
    user: User, db: Session, cli
) -> None:
    evaluator = _published(user, db, cli, {1: 85, 2: 80, 3: 75, 4: 70})
    stranger = user("busy")
    for n in (1, 2, 3):
        assert "异议已收到" in stranger.say(f"异议 U0{n} 第{n}项与实际不符")
    limited = stranger.say("异议 U04 第4项与实际不符")
    assert "今天已提出 3 条异议" in limited
    assert _objections(db, "U04") == []
    db.expire_all()
    u04 = db.scalar(select(Inspection).join(Organisation).where(Organisation.code == "U04"))
    assert u04 is not None and u04.state == "published"
    # Seven people object to one union: all recorded, the evaluator told of the first five.
    for n in range(7):
        assert "异议已收到" in user(f"neighbour{n}").say(f"异议 U04 第{n + 1}项与实际不符")
    assert len(_objections(db, "U04")) == 7
    about_u04 = [t for t in _notices(db, "objection_filed") if "（U04）" in t]
    assert len(about_u04) == 5 and "不再逐条通知" in about_u04[-1]
    assert "收到异议 7 条（公众 7 条）" in evaluator.say("复查 U04")


def _downgrade(url: str, revision: str) -> None:
    """The schema taken back to ``revision``, as `migrate` takes it forward (SQLite: foreign keys off)."""
    from alembic import command

    engine = make_engine(url)
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if engine.dialect.name == "sqlite" and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    engine.dispose()


def test_objections_filed_before_the_sources_were_recorded_get_theirs(
    user: User, db: Session, cli, backend: Backend
) -> None:
    _published(user, db, cli, {1: 85})
    assert "异议已收到" in user("member1").say("异议 第5项活动阵地不存在")
    assert "异议已收到" in user("chair1").say("异议 第7项台账已补齐")
    db.rollback()
    _downgrade(backend.database_url, "0012")  # the schema before 0014: no source
    engine = make_engine(backend.database_url)
    migrate(engine)
    engine.dispose()
    assert _objections(db, "U01") == [("member", "第5项活动阵地不存在"), ("chair", "第7项台账已补齐")]

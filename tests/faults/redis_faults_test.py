"""Redis lost (issue 14, point 3): the dialog state flushed mid-questionnaire, Redis down or stalled
during a turn, Redis gone between a turn's commit and its state save, Redis back; `serve` refusing to
start several workers without Redis. The database is the truth throughout: nothing lost, nothing
applied twice, a clear Chinese message every time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from cut_proxy import PASS, REFUSE, SWALLOW, CutProxy  # tests/faults is on the path (no package)
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.cli import main
from chatbot.store.models import Ballot, InboundMessage, ItemScore
from chatbot.store.state import REDIS_WORST_CASE_SECONDS, RELEASE_SCRIPT, redis_client
from chatbot.wechat.simulator import Simulator
from tests.conftest import APP_ID, TOKEN, Backend, make_config, service_url, transport_for
from tests.helpers import self_check, setup_county

User = Callable[[str], Simulator]
UNAVAILABLE = "抱歉，系统暂时无法处理消息，您的这条消息没有记录"


def _scores(db: Session, column=ItemScore.self_score) -> dict[int, Decimal]:
    db.expire_all()
    db.rollback()
    return {no: s for no, s in db.execute(select(ItemScore.item_no, column).where(column.is_not(None)))}


# ---------------------------------------------------------------- FLUSHDB mid-questionnaire


def test_flushdb_mid_self_check_resumes_at_the_first_unanswered_item(
    user: User, db: Session, backend: Backend
) -> None:
    codes = setup_county(db, 1)
    chair = user("chair-flush")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    for _ in range(10):
        chair.say("满分")
    last = chair.last
    backend.flush_state()  # FLUSHDB: every dialog state and lock gone
    reply = chair.say("3")
    assert "当前没有进行中的" in reply and "发送“自评”" in reply  # said, not silently dropped
    assert len(_scores(db)) == 10  # and the "3" was not put on some item
    assert last is not None and "【11/30】" in chair.reply_text(*chair.send(*last))  # WeChat's retry: stored
    resumed = chair.say("自评")
    assert "从第 11 项继续" in resumed and "【11/30】" in resumed
    assert "【12/30】" in chair.say("2")
    assert len(_scores(db)) == 11 and _scores(db)[11] == Decimal("2")


def test_flushdb_mid_assessment_resumes_at_the_first_unassessed_item(
    user: User, db: Session, backend: Backend
) -> None:
    codes = setup_county(db, 1)
    self_check(user("chair1"), codes["chair1"])
    evaluator = user("evaluator-flush")
    evaluator.say(f"绑定 {codes['evaluator']}")
    evaluator.say("考评 U01")
    for _ in range(6):
        evaluator.say("同")
    backend.flush_state()
    assert "【7/30】" in evaluator.say("考评 U01")
    evaluator.say("同")
    assert len(_scores(db, ItemScore.assessed_score)) == 7


def test_flushdb_mid_ballot_keeps_it_and_counts_it_once(
    user: User, db: Session, backend: Backend, cli
) -> None:
    codes = setup_county(db, 1)
    member = user("voter-flush")
    member.say(f"绑定 {codes['member1']}")
    cli("evaluation", "open", "--org", "U01")
    member.say("测评")
    for answer in ("1", "2", "1"):
        member.say(answer)  # shown question 4 of 9
    backend.flush_state()
    lost = member.say("2")
    assert "测评" in lost or "帮助" in lost  # no ballot in progress any more: told what to send
    resumed = member.say("测评")
    assert "欢迎回来" in resumed and "【4/9】" in resumed  # the draft in the database kept the 3 answers
    reply = ""
    for _ in range(6):
        reply = member.say("1")
    reply = member.say("无")  # the suggestion
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Ballot)) == 1, reply
    backend.flush_state()
    assert "已参加过" in member.say("测评")  # once per person, whatever Redis forgot
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Ballot)) == 1


# ---------------------------------------------------------------- Redis down, stalled, back


@pytest.fixture
def redis_proxy(backend: Backend) -> Iterator[tuple[CutProxy, int]]:
    """A proxy in front of the test Redis, and the db number the app must use."""
    url = service_url("TEST_REDIS_URL")
    client = redis.Redis.from_url(url or "")
    where = client.connection_pool.connection_kwargs
    proxy = CutProxy((where["host"], where["port"]))
    client.flushdb()
    yield proxy, where.get("db", 0)
    proxy.stop()
    client.flushdb()
    client.close()


@pytest.fixture
def via_proxy(backend: Backend, tmp_path: Path, redis_proxy: tuple[CutProxy, int]) -> Iterator[Flask]:
    """The app with REDIS_URL through the proxy: its own Redis client, as `serve` builds it."""
    proxy, number = redis_proxy
    app = create_app(make_config(backend, tmp_path, REDIS_URL=f"redis://127.0.0.1:{proxy.port}/{number}"))
    yield app
    app.extensions["nianjian.engine"].dispose()


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "chatbot.service.turn" and r.levelno >= logging.WARNING]


def _within_watchdog(call: Callable[[], str]) -> str:
    """Run a turn in a thread: a hang (an unbounded Redis call) fails the test instead of wedging it."""
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert result, "the turn did not come back"
    return result[0]


@pytest.mark.parametrize("failure", [REFUSE, SWALLOW])
def test_redis_down_or_stalled_during_turns_gives_an_apology_then_recovers(
    via_proxy: Flask,
    db: Session,
    redis_proxy: tuple[CutProxy, int],
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    proxy, _ = redis_proxy
    codes = setup_county(db, 1)
    chair = Simulator(transport_for(via_proxy.test_client()), "chair-redis", TOKEN, APP_ID)
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    chair.say("满分")
    chair.say("满分")  # items 1 and 2 recorded; shown item 3
    handled = db.scalar(select(func.count()).select_from(InboundMessage))
    caplog.set_level(logging.INFO, logger="chatbot")
    caplog.clear()
    proxy.set(failure)
    for answer in ("3", "2", "1"):
        reply = _within_watchdog(lambda a=answer: chair.say(a))  # type: ignore[misc]
        assert UNAVAILABLE in reply
    assert len(_scores(db)) == 2  # nothing applied
    db.rollback()
    assert db.scalar(select(func.count()).select_from(InboundMessage)) == handled  # not even marked handled
    lines = _outage_lines(caplog)
    assert [r.levelname for r in lines] == ["ERROR"]  # one line for the burst of three
    assert "Redis unavailable" in lines[0].getMessage() and lines[0].exc_info is None
    proxy.set(PASS)  # Redis is back (with its data: the state still says item 3)
    assert "【4/30】" in chair.say("3")
    assert _scores(db)[3] == Decimal("3") and len(_scores(db)) == 3
    lines = _outage_lines(caplog)
    assert (
        len(lines) == 2 and "available again" in lines[1].getMessage() and "3 turns" in lines[1].getMessage()
    )
    assert REDIS_WORST_CASE_SECONDS < 5  # the bound the client is built with, inside WeChat's deadline


def test_redis_gone_after_the_commit_keeps_the_reply_and_applies_once(
    via_proxy: Flask, db: Session, redis_proxy: tuple[CutProxy, int], caplog: pytest.LogCaptureFixture
) -> None:
    """The answer is committed, then Redis goes before the state is saved and the lock released: the
    reply stands (the answer is in), and the next turn finds the answers in the database."""
    proxy, number = redis_proxy
    codes = setup_county(db, 1)
    chair = Simulator(transport_for(via_proxy.test_client()), "chair-commit", TOKEN, APP_ID)
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    proxy.cut_at(RELEASE_SCRIPT.encode())  # the lock taken, the DB turn committed, then [save, release] cut
    reply = chair.say("4")
    assert "第 1 项记 4 分" in reply and "【2/30】" in reply
    assert _scores(db) == {1: Decimal("4")}
    retry = chair.again()  # WeChat's retry of the same message: the stored reply, applied once
    assert retry[0] == 200
    proxy.set(PASS)
    direct = redis.Redis(port=redis_proxy[0].target[1], host=redis_proxy[0].target[0], db=number)
    for name in direct.scan_iter("nianjian:*:lock"):
        direct.delete(name)  # the lock left behind expires by itself (LOCK_EXPIRE_SECONDS); no waiting here
    resumed = chair.say("自评")
    assert "【2/30】" in resumed
    assert _scores(db) == {1: Decimal("4")}
    db.rollback()
    assert (
        db.scalar(select(func.count()).select_from(ItemScore).where(ItemScore.self_score.is_not(None))) == 1
    )


def test_the_state_client_bounds_every_call() -> None:
    client = redis_client("redis://127.0.0.1:1/0")
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] <= 1 and kwargs["socket_connect_timeout"] <= 1
    assert kwargs["retry"].get_retries() == 1
    with pytest.raises(redis.ConnectionError):
        client.ping()  # a closed port: refused, after one retry, not ten


# ---------------------------------------------------------------- serve without Redis


def test_serve_refuses_several_workers_when_redis_is_unreachable(tmp_path: Path, monkeypatch) -> None:
    closed = CutProxy(("127.0.0.1", 9))
    closed.set(REFUSE)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("NIANJIAN_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("REDIS_URL", f"redis://:secretpw@127.0.0.1:{closed.port}/3")
    try:
        result = CliRunner().invoke(main, ["serve", "--workers", "2", "--port", "0", "--no-scheduler"])
    finally:
        closed.stop()
    assert result.exit_code != 0
    assert "无法连接 Redis" in result.output and f"127.0.0.1:{closed.port}" in result.output
    assert "--workers 1" in result.output and "secretpw" not in result.output

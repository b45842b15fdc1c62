"""The service under contention (chatbot/service/turn.py): a user's lock that cannot be had in time, and
one message delivered twice at once — by WeChat's retries, or to two processes whose locks did not
serialise them. On SQLite + in-process state, and on PostgreSQL + Redis."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, func, insert, select, text

import chatbot.service.turn as turn
from chatbot.app import create_app
from chatbot.service.turn import BUSY, encode_reply
from chatbot.store.models import Evidence, InboundMessage, ItemScore
from chatbot.store.state import MemoryUserLock, StorageKey
from chatbot.wechat.simulator import ACCOUNT, Simulator
from dialogs.engine import Reply
from tests.conftest import APP_ID, TOKEN, Backend, City, make_config, transport_for

User = Callable[..., Simulator]
WAIT = 0.3  # the user's lock is waited for this long in these tests


def push(sim: Simulator, msg_type: str, body: str) -> tuple[dict[str, str], bytes, str]:
    """A signed push with a MsgId of our own, not sent: (params, body, its dedup key)."""
    msg_id = secrets.randbits(62)
    xml = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{sim.openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>{body}<MsgId>{msg_id}</MsgId></xml>"
    )
    params, signed = sim.sign(xml)
    return params, signed, f"msg:{msg_id}"


def text_push(sim: Simulator, content: str) -> tuple[dict[str, str], bytes, str]:
    return push(sim, "text", f"<Content><![CDATA[{content}]]></Content>")


def photo_push(sim: Simulator, media_id: str) -> tuple[dict[str, str], bytes, str]:
    return push(
        sim,
        "image",
        f"<PicUrl><![CDATA[http://mmbiz.qpic.cn/sim/{media_id}.jpg]]></PicUrl>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId>",
    )


def count(engine: Engine, statement) -> int:
    with engine.connect() as conn:
        return conn.execute(statement).scalar() or 0


def handled(engine: Engine, key: str) -> int:
    return count(
        engine, select(func.count()).select_from(InboundMessage).where(InboundMessage.dedup_key == key)
    )


def evidence(engine: Engine) -> int:
    return count(engine, select(func.count()).select_from(Evidence))


def self_scores(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {no: str(score) for no, score in conn.execute(select(ItemScore.item_no, ItemScore.self_score))}


@contextmanager
def held_elsewhere(backend: Backend, openid: str) -> Iterator[None]:
    """The user's lock, held by another thread (a message still being handled) until the block ends."""
    taken, done = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            with backend.lock.hold(StorageKey(openid, APP_ID), wait=5):
                taken.set()
                done.wait(30)
        except BaseException as error:  # noqa: BLE001 — reported to the test below
            failure.append(error)
            taken.set()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10) and not failure, failure
    try:
        yield
    finally:
        done.set()
        thread.join(10)


@pytest.fixture
def engine(app: Flask) -> Engine:
    return app.extensions["nianjian.engine"]


@pytest.fixture
def chair(user: User, city: City) -> Simulator:
    """A chair at item 1 of the self-check."""
    sim = user("chair-race")
    assert "绑定成功" in sim.say(f"绑定 {city.chair_code}")
    assert "【1/43】" in sim.say("自评")
    return sim


# ---------------------------------------------------------------- the lock cannot be had in time


def test_a_message_that_cannot_get_the_lock_is_answered_busy_and_not_recorded(
    backend: Backend, engine: Engine, chair: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(turn, "LOCK_WAIT_SECONDS", WAIT)
    params, body, key = text_push(chair, "4")
    state_before = backend.store.get(StorageKey(chair.openid, APP_ID))
    with held_elsewhere(backend, chair.openid):
        started = time.monotonic()
        reply = chair.reply_text(*chair.send(params, body))
        waited = time.monotonic() - started
    assert reply == BUSY.text
    # It waited for the lock before giving up (redis-py polls every 0.1 s and stops before overrunning).
    assert waited >= WAIT - 0.1
    assert handled(engine, key) == 0  # not recorded: WeChat's retry is handled afresh
    assert self_scores(engine) == {}
    assert backend.store.get(StorageKey(chair.openid, APP_ID)) == state_before
    # The lock is free again: the same message (WeChat's retry) is applied, once.
    first = chair.reply_text(*chair.send(params, body))
    assert "✓ 第 1 项记 4 分" in first and "【2/43】" in first
    assert self_scores(engine) == {1: "4.0"}
    assert handled(engine, key) == 1
    assert chair.reply_text(*chair.send(params, body)) == first
    assert "【3/43】" in chair.say("3")  # the retry did not answer item 2


def test_the_lock_is_waited_for_not_refused_while_it_frees_in_time(
    backend: Backend, engine: Engine, chair: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(turn, "LOCK_WAIT_SECONDS", 5.0)
    params, body, key = text_push(chair, "4")
    replies: list[str] = []
    with held_elsewhere(backend, chair.openid):
        sender = threading.Thread(target=lambda: replies.append(chair.reply_text(*chair.send(params, body))))
        sender.start()
        time.sleep(0.5)
        assert sender.is_alive() and replies == []  # waiting for the lock
    sender.join(10)
    assert len(replies) == 1 and "【2/43】" in replies[0]
    assert handled(engine, key) == 1 and self_scores(engine) == {1: "4.0"}


# ---------------------------------------------------------------- one message, twice at once


def _fire_together(pushes: list[tuple[Flask, dict[str, str], bytes]], openid: str) -> list[str]:
    """Post every push at the same moment, each from its own thread and client; the replies."""
    barrier = threading.Barrier(len(pushes))
    replies: list[str] = []
    errors: list[BaseException] = []

    def fire(app: Flask, params: dict[str, str], body: bytes) -> None:
        sim = Simulator(transport_for(app.test_client()), openid, TOKEN, APP_ID)
        try:
            barrier.wait(10)
            replies.append(sim.reply_text(*sim.send(params, body)))
        except BaseException as error:  # noqa: BLE001 — reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=fire, args=item) for item in pushes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return replies


def test_the_same_message_posted_twice_at_once_is_applied_once(
    app: Flask, engine: Engine, chair: Simulator
) -> None:
    params, body, key = photo_push(chair, "M-twice")
    replies = _fire_together([(app, params, body), (app, params, body)], chair.openid)
    assert len(replies) == 2 and replies[0] == replies[1]
    assert "第 1 项的佐证照片（共 1 张）" in replies[0]
    assert evidence(engine) == 1
    assert handled(engine, key) == 1
    # A retry after both completed: the stored reply, nothing applied.
    assert chair.reply_text(*chair.send(params, body)) == replies[0]
    assert evidence(engine) == 1 and handled(engine, key) == 1


@pytest.fixture
def second_process(backend: Backend, app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Another app on the same database and state, whose user lock is its own: two processes whose
    locks did not serialise one user's messages (a lock that expired, a misconfiguration)."""
    other = create_app(
        make_config(backend, tmp_path), store=backend.store, lock=MemoryUserLock(), counter=backend.counter
    )
    yield other
    other.extensions["nianjian.engine"].dispose()


def test_two_processes_given_the_same_message_apply_it_once(
    app: Flask, second_process: Flask, engine: Engine, chair: Simulator
) -> None:
    for attempt in range(3):
        params, body, key = photo_push(chair, f"M-both-{attempt}")
        replies = _fire_together([(app, params, body), (second_process, params, body)], chair.openid)
        assert len(replies) == 2 and replies[0] == replies[1], replies
        assert f"共 {attempt + 1} 张" in replies[0]
        assert evidence(engine) == attempt + 1
        assert handled(engine, key) == 1


@pytest.fixture
def other_writer(backend: Backend) -> Iterator[Engine]:
    """A connection of 'another process', for a transaction the test holds open."""
    from chatbot.store.engine import make_engine

    engine = make_engine(backend.database_url)
    yield engine
    engine.dispose()


def _wait_until_blocked(conn, backend: Backend, thread: threading.Thread) -> None:
    """Until the turn waits on the open transaction: a lock wait on PostgreSQL; on SQLite, the writer's
    lock (the thread is still alive after it had time to reach its first write)."""
    deadline = time.monotonic() + 10
    if backend.name == "sqlite":
        time.sleep(0.5)
    else:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar()
            if waiting:
                break
            time.sleep(0.02)
    assert thread.is_alive(), "the turn finished without waiting for the other transaction"


def test_a_duplicate_recorded_by_another_process_meanwhile_gets_its_reply(
    backend: Backend, app: Flask, engine: Engine, chair: Simulator, other_writer: Engine
) -> None:
    """The turn found no record of the message, applied it, and could not record it: another process
    had handled the same message meanwhile. The whole turn is undone and answered as the other did."""
    params, body, key = photo_push(chair, "M-elsewhere")
    theirs = Reply("另一进程已处理这条消息。")
    state_key = StorageKey(chair.openid, APP_ID)
    state_before = backend.store.get(state_key)
    replies: list[str] = []
    with other_writer.connect() as conn:
        transaction = conn.begin()
        conn.execute(
            insert(InboundMessage).values(dedup_key=key, openid=chair.openid, reply=encode_reply(theirs))
        )
        sender = threading.Thread(target=lambda: replies.append(chair.reply_text(*chair.send(params, body))))
        sender.start()
        _wait_until_blocked(conn, backend, sender)
        transaction.commit()
    sender.join(30)
    assert replies == [theirs.text]
    assert evidence(engine) == 0  # this turn's photo was rolled back with it
    assert handled(engine, key) == 1
    assert backend.store.get(state_key) == state_before  # the dialog state is the other process's to save
    assert chair.reply_text(*chair.send(params, body)) == theirs.text  # and so is every retry's answer
    assert evidence(engine) == 0


# ---------------------------------------------------------------- a stored state that no longer reads


def test_a_stored_state_that_no_longer_reads_does_not_stall_the_user(
    backend: Backend, user: User, city: City
) -> None:
    member = user("member-stale")
    assert "绑定成功" in member.say(f"绑定 {city.member_code}")
    backend.store.set(
        StorageKey(member.openid, APP_ID), {"dialog": "ballot", "extra": {"evaluation_id": "E1"}}
    )
    first = member.say("帮助")
    second = member.say("帮助")
    assert "抱歉" not in first and "抱歉" not in second, (first, second)

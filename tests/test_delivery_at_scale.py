"""Delivery at scale against the fake WeChat API on loopback: several workers share the outbox and
send each notice once; WeChat's daily quota (45009) pauses a kind until the next day, in order."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from chatbot.config import Config
from chatbot.notify import delivery
from chatbot.notify.delivery import EVERY_KIND, backlog, run_worker
from chatbot.notify.tick import run_due
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import Account, ApiToken, DeliveryPause, OutboxMessage
from chatbot.store.notice_kinds import NoticeKind
from chatbot.store.outbox import enqueue
from chatbot.timeutil import SHANGHAI, as_utc
from chatbot.wechat.api import DAILY_TOKEN_QUOTA, make_client
from chatbot.wechat.fake_api import FakeWeChatServer, Fault
from tests.conftest import APP_ID, Backend, fake_wechat_env

TEMPLATES = {"WECHAT_TEMPLATE_ID": "TPL", "WECHAT_TEMPLATE_ID_RESULT_PUBLISHED": "TPL-PUBLISHED"}


@dataclass
class World:
    env: dict[str, str]
    engine: Engine
    sessions: sessionmaker[Session]
    fake: FakeWeChatServer
    backend: Backend

    def config(self, **extra: str) -> Config:
        return Config.from_env(self.env | extra)

    def client(self, clock: Any = None) -> Any:
        return make_client(self.config(), self.sessions, clock)

    def tick(self, now: datetime, client: Any = None) -> None:
        run_due(self.sessions, self.config(), now, client or self.client(lambda: now.astimezone(UTC)))

    def queue(self, kind: str, count: int, now: datetime, start: int = 0, openids: int = 0) -> list[str]:
        """``count`` notices of ``kind`` due at ``now``, to ``openids`` users (default: one each); their texts."""
        texts = []
        with self.sessions.begin() as session:
            ids: dict[str, int] = {}
            for n in range(start, start + count):
                openid = f"u-{n % openids}" if openids else f"u-{kind}-{n}"
                if openid not in ids:
                    found = session.scalar(select(Account.id).where(Account.openid == openid))
                    if found is None:
                        account = Account(openid=openid)
                        session.add(account)
                        session.flush()
                        found = account.id
                    ids[openid] = found
                text = f"{kind}#{n}"
                enqueue(session, ids[openid], kind, f"{kind}:{n}", text, now.astimezone(UTC))
                texts.append(text)
        return texts

    def sent_texts(self, kind: str | None = None) -> list[str]:
        texts = [c["body"]["data"]["keyword3"]["value"] for c in self.fake.sends()]
        return [t for t in texts if kind is None or t.startswith(kind + "#")]

    def statuses(self) -> Counter[str]:
        with self.sessions() as session:
            return Counter(session.scalars(select(OutboxMessage.status)))


@pytest.fixture
def world(backend: Backend, tmp_path: Path) -> Iterator[World]:
    fake = FakeWeChatServer().start()
    engine = make_engine(backend.database_url)
    migrate(engine)
    env = fake_wechat_env(backend, fake, tmp_path, **TEMPLATES)
    yield World(env, engine, session_factory(engine), fake, backend)
    fake.stop()
    engine.dispose()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def test_deadline_kinds_are_the_due_reminders_and_the_evaluations_closing() -> None:
    assert sorted(delivery.DEADLINE_KINDS) == [
        "evaluation_closing",
        "re_review_due",
        "remediation_due",
        "report_due",
        "review_due",
        "self_check_due",
    ]
    assert not set(delivery.DEADLINE_KINDS) - set(NoticeKind)


def test_due_time_then_deadline_reminders_then_id(world: World) -> None:
    now = datetime.now(UTC)
    later = world.queue("result_final", 2, now - timedelta(minutes=1))
    world.queue("result_published", 2, now - timedelta(minutes=5))
    world.queue("report_due", 2, now - timedelta(minutes=1))
    world.queue("evaluation_closing", 1, now - timedelta(minutes=1))
    world.tick(now)
    assert world.sent_texts() == [
        "result_published#0",
        "result_published#1",  # due first
        "report_due#0",
        "report_due#1",
        "evaluation_closing#0",  # then, at the same due time, deadline reminders by id
        *later,
    ]


def _deliver_process(env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from chatbot.cli import main; main()", "deliver", "--once"]
    command += ["--workers", str(workers)]
    return subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_delivery_workers_in_parallel_send_each_notice_exactly_once(world: World) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    texts = world.queue("result_published", 450, now, openids=150)
    texts += world.queue("report_due", 150, now, openids=150)
    world.fake.state.send_delay = 0.01  # sends overlap between the workers
    # Two `nianjian deliver` commands of two processes each, beside the leader's tick in this one.
    processes = [_deliver_process(world.env, 2) for _ in range(2)]
    deadline = time.monotonic() + 60
    while not world.fake.sends() and time.monotonic() < deadline:
        time.sleep(0.05)
    world.tick(datetime.now(UTC))
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
        outputs.append(out.decode())
    world.tick(datetime.now(UTC))  # whatever a worker left is still sent once
    sent = Counter((c["touser"], c["body"]["data"]["keyword3"]["value"]) for c in world.fake.sends())
    assert len(sent) == 600 and set(sent.values()) == {1}
    assert sorted(text for _, text in sent) == sorted(texts)
    assert world.statuses() == {"sent": 600}
    assert sum("发送进程" in out and "已发送" in out for out in outputs) == 2
    workers_that_sent = sum(
        1
        for out in outputs
        for line in out.splitlines()
        if line.startswith("发送进程") and "已发送 0 条" not in line
    )
    assert workers_that_sent >= 2, outputs  # the work was shared


def test_45009_pauses_a_template_kind_until_the_next_day_in_order(world: World) -> None:
    day = datetime.now(SHANGHAI).date()
    deadline = world.queue("self_check_due", 20, at(day, 9, 59))
    published = world.queue("result_published", 60, at(day, 9, 59))
    final = world.queue("result_final", 40, at(day, 9, 59))
    # Deadline reminders go first; the 31st result_published send meets the day's quota.
    world.fake.state.fail_next.extend([0] * 50 + [45009])
    world.tick(at(day, 10))
    assert world.sent_texts() == deadline + published[:30] + final  # other kinds go on
    with world.sessions() as session:
        pause = session.get(DeliveryPause, "result_published")
        assert pause is not None and pause.until.astimezone(SHANGHAI) == at(day + timedelta(days=1), 0)
        assert pause.sent_today == 50  # the quota as measured: template sends that day
        held = session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id)
        ).all()
        assert [row.text for row in held] == published[30:]
        assert {row.attempts for row in held} == {0}  # the refused send is not counted as an attempt
        assert held[0].last_error and held[0].last_error.startswith("45009")
    late = world.queue("result_final", 3, at(day, 23, 50), start=100)
    world.tick(at(day, 23, 59))
    assert world.sent_texts("result_published") == published[:30]  # still paused
    assert world.sent_texts("result_final") == final + late  # other kinds still go
    world.tick(at(day + timedelta(days=1), 8))
    assert world.sent_texts("result_published") == published  # the rest, in order
    assert world.statuses() == {"sent": 123}
    assert world.sent_texts()[-30:] == published[30:]


def test_a_pause_is_seen_by_every_worker_and_ends_by_itself(world: World, monkeypatch) -> None:
    monkeypatch.setattr(delivery, "BATCH", 25)  # many small batches: the workers interleave
    day = datetime.now(SHANGHAI).date()
    published = world.queue("result_published", 150, at(day, 9, 59))
    final = world.queue("result_final", 150, at(day, 9, 59))
    world.fake.state.send_delay = 0.002
    world.fake.state.fail_next.extend([0] * 40 + [45009])
    clock = [at(day, 10).astimezone(UTC)]
    config, client = world.config(), world.client(lambda: clock[0])

    def work() -> None:
        run_worker(world.sessions, client, config, once=True, clock=lambda: clock[0])

    def four_workers() -> None:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    four_workers()
    first_day = Counter(world.sent_texts("result_published"))
    assert set(first_day.values()) == {1} and len(first_day) < 150
    assert Counter(world.sent_texts("result_final")) == Counter(final)  # the other kind went on
    clock[0] = at(day, 23, 59).astimezone(UTC)
    four_workers()
    assert Counter(world.sent_texts("result_published")) == first_day
    clock[0] = at(day + timedelta(days=1), 0, 1).astimezone(UTC)
    four_workers()
    sent = Counter(world.sent_texts())
    assert sorted(sent) == sorted(published + final) and set(sent.values()) == {1}
    assert world.statuses() == {"sent": 300}


def test_the_token_quota_pauses_every_send_until_the_next_day(world: World) -> None:
    day = datetime.now(SHANGHAI).date()
    texts = world.queue("result_final", 3, at(day, 9)) + world.queue("report_due", 2, at(day, 9))
    if world.backend.redis_client is not None:
        world.backend.redis_client.set(f"nianjian:{APP_ID}:token-fetches:{day}", DAILY_TOKEN_QUOTA)
    else:
        with world.sessions.begin() as session:
            session.add(ApiToken(app_id=APP_ID, token="", day=day.isoformat(), fetches=DAILY_TOKEN_QUOTA))
    world.tick(at(day, 10))
    assert world.fake.state.calls == []  # neither a token fetch nor a send
    with world.sessions() as session:
        pause = session.get(DeliveryPause, EVERY_KIND)
        assert pause is not None and pause.until.astimezone(SHANGHAI) == at(day + timedelta(days=1), 0)
        rows = session.scalars(select(OutboxMessage)).all()
        assert {(row.status, row.attempts) for row in rows} == {("pending", 0)}
    world.tick(at(day, 23, 59))
    assert world.fake.state.calls == []
    world.tick(at(day + timedelta(days=1), 0, 1))  # a new day: a new token, then everything, in order
    assert world.fake.state.token_fetches == 1
    assert world.sent_texts() == texts[3:] + texts[:3]
    assert world.statuses() == {"sent": 5}


def test_a_claim_whose_lease_ran_out_sends_nothing_once_another_took_the_row(world: World) -> None:
    now = datetime.now(UTC)
    world.queue("result_final", 1, now)
    config, client = world.config(), world.client()

    def run(at: datetime) -> delivery._Run:
        quick = world.sessions()
        quick.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return delivery._Run(world.sessions, quick, client, config, at, delivery.DeliveryReport())

    first, second = run(now), run(now + delivery.CLAIM_LEASE + timedelta(minutes=1))
    ((row_id, kind),) = delivery._claim(world.sessions, first.now)
    # The first claimer stalls past its lease; the row goes back to the queue and is claimed again.
    delivery._expire_claims(world.sessions, second.now)
    assert delivery._claim(world.sessions, second.now) == [(row_id, kind)]
    delivery._deliver_one(first, row_id, kind, first.now + delivery.CLAIM_LEASE)  # it wakes up: not its row
    assert world.fake.sends() == [] and world.statuses() == {"claimed": 1}
    delivery._deliver_one(second, row_id, kind, second.now + delivery.CLAIM_LEASE)
    assert len(world.fake.sends()) == 1 and world.statuses() == {"sent": 1}
    first.quick.close()
    second.quick.close()


def test_the_backlog_counts_pending_notices_and_estimates_the_finish(world: World) -> None:
    now = datetime.now(UTC)
    world.queue("result_final", 30, now - timedelta(minutes=30))
    world.tick(now - timedelta(minutes=20))  # 30 sent in the last hour
    world.queue("result_final", 60, now, start=100)
    world.queue("report_due", 10, now)
    world.queue("result_published", 250, now)
    with world.sessions.begin() as session:
        session.add(
            DeliveryPause(
                kind="result_published", until=delivery.next_midnight(now), reason="45009", sent_today=100
            )
        )
    with world.sessions() as session:
        found = backlog(session, now)
    assert [(k.kind, k.pending) for k in found.kinds] == [
        ("report_due", 10),
        ("result_final", 60),
        ("result_published", 250),
    ]
    assert found.sent_last_hour == 30 and found.pending == 320
    assert found.kinds[2].paused_until == delivery.next_midnight(now) and found.kinds[2].quota == 100
    # 250 paused at 100 a day: two days after the pause ends, then 50 at the rate measured: 30 sent over
    # the 20 minutes since the first of them, 90 an hour (not 30 an hour, the whole hour's average).
    expected = delivery.next_midnight(now) + timedelta(days=2, hours=50 / 90)
    assert found.finish is not None and abs(found.finish - expected) < timedelta(seconds=1)
    with world.sessions() as session:
        only_deadlines = backlog(
            session, now, select(Account.id).where(Account.openid.like("u-report_due-%"))
        )
    assert [(k.kind, k.pending) for k in only_deadlines.kinds] == [
        ("report_due", 10),
        ("result_published", 0),
    ]
    # 70 unpaused notices are queued up to them, at 90 an hour.
    assert only_deadlines.finish is not None
    assert abs(only_deadlines.finish - (now + timedelta(hours=70 / 90))) < timedelta(seconds=1)


def test_the_dashboard_shows_the_backlog_scoped_as_the_dashboard_is(app, db: Session) -> None:
    from chatbot.console.access import create_user
    from chatbot.inspection import organisations
    from chatbot.store.models import Organisation, RoleBinding
    from tests.helpers import setup_county
    from tests.test_console import Console

    setup_county(db, 1)
    now = datetime.now(UTC)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("X01", "西吉一社区工会", "village", "XJ"))
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "XJ", "xj", "xj-password-12")
        for code, kind, pending, sent in (("U01", "result_published", 40, 12), ("X01", "report_due", 7, 0)):
            account = Account(openid=f"chair-{code}")
            db.add(account)
            db.flush()
            org = db.scalar(select(Organisation.id).where(Organisation.code == code))
            assert org is not None
            db.add(RoleBinding(account_id=account.id, organisation_id=org, role="chair"))
            for n in range(pending + sent):
                enqueue(db, account.id, kind, f"{code}:{n}", f"通知 {n}", now - timedelta(minutes=10))
            for row in db.scalars(
                select(OutboxMessage).where(OutboxMessage.account_id == account.id).limit(sent)
            ):
                row.status, row.sent_at = "sent", now - timedelta(minutes=5)
        db.add(
            DeliveryPause(
                kind="result_published", until=delivery.next_midnight(now), reason="45009", sent_today=12
            )
        )
    db.rollback()
    city = Console(app.test_client())
    city.login("city", "city-password-1")
    page = city.get("/console/")
    assert "通知发送" in page and "待发送 <strong>47</strong> 条" in page and "近一小时已发送 12 条" in page
    # 12 sent in the 5 minutes since the first of them: 2.4 a minute, not the hour's average (0.2).
    assert "约 2.4 条/分钟" in page and "条/秒" not in page  # under one a second: never "约 0 条/秒"
    midnight = delivery.next_midnight(now).astimezone(SHANGHAI).strftime("%m-%d %H:%M")
    assert f"暂停至 {midnight}" in page and "每日约 12 条" in page
    # 40 paused at 12 a day: three more days after the pause, then 4 at 144 an hour.
    finish = delivery.next_midnight(now) + timedelta(days=3, seconds=100)
    assert f"预计发完：<strong>{finish.astimezone(SHANGHAI):%m-%d %H:%M}</strong>" in page
    # Deadline reminders first, then the other kinds.
    assert page.index("年检工作情况总结上报提醒") < page.index("年检结果公示")
    county = Console(app.test_client())
    county.login("xj", "xj-password-12")
    page = county.get("/console/")
    assert "待发送 <strong>7</strong> 条" in page and "年检工作情况总结上报提醒" in page
    assert "暂停至" in page  # the pause of a kind concerns everyone


# ---------------------------------------------------------------- calls overlapped within a worker


def _workers(world: World, count: int, now: datetime, **env: str) -> list[delivery.DeliveryReport]:
    """``count`` delivery workers (threads of this process, each with its own client) run once at ``now``."""
    config = world.config(**env)
    reports: list[delivery.DeliveryReport] = []

    def work() -> None:
        client = make_client(config, world.sessions, lambda: now)
        reports.append(run_worker(world.sessions, client, config, once=True, clock=lambda: now))

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return reports


def test_overlapped_workers_send_each_notice_exactly_once(world: World) -> None:
    now = datetime.now(UTC)
    texts = world.queue("result_published", 240, now, openids=80) + world.queue("report_due", 60, now)
    world.fake.state.send_delay = 0.02
    reports = _workers(world, 3, now, DELIVERY_CONCURRENCY="8")
    sent = Counter(world.sent_texts())
    assert sorted(sent) == sorted(texts) and set(sent.values()) == {1}
    assert world.statuses() == {"sent": 300}
    assert sum(report.sent for report in reports) == 300
    assert 1 < world.fake.state.most_sends_in_flight <= 3 * 8  # overlapped, and bounded
    assert world.fake.state.token_fetches == 1  # one token, shared by every thread of every worker


def test_the_schedulers_tick_sends_one_call_at_a_time(world: World) -> None:
    now = datetime.now(UTC)
    texts = world.queue("result_final", 6, now)
    world.fake.state.send_delay = 0.01
    world.tick(now)
    assert world.sent_texts() == texts and world.fake.state.most_sends_in_flight == 1


def test_an_overlapped_batchs_busy_answer_is_retried_once_after_its_backoff(world: World) -> None:
    now = datetime.now(UTC)
    texts = world.queue("result_final", 40, now)
    world.fake.state.send_delay = 0.01
    world.fake.state.fail_next.extend([0] * 12 + [-1])  # WeChat busy on the 13th call, mid-batch
    (report,) = _workers(world, 1, now)
    assert (report.sent, report.retried) == (39, 1)
    with world.sessions() as session:
        (waiting,) = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert waiting.attempts == 1 and as_utc(waiting.next_attempt_at) == now + delivery.BACKOFF[0]
    assert _workers(world, 2, now) == [delivery.DeliveryReport(), delivery.DeliveryReport()]  # not yet
    _workers(world, 2, now + delivery.BACKOFF[0] + timedelta(seconds=1))
    sent = Counter(world.sent_texts())
    assert sorted(sent) == sorted(texts) and set(sent.values()) == {1}
    busy = [c for c in world.fake.state.calls if c["errcode"] == -1]
    assert [c["body"]["data"]["keyword3"]["value"] for c in busy] == [waiting.text]
    assert world.statuses() == {"sent": 40}


def test_an_overlapped_call_without_answer_is_never_sent_again(world: World) -> None:
    now = datetime.now(UTC)
    texts = world.queue("result_final", 30, now)
    world.fake.state.send_delay = 0.01
    world.fake.state.faults.append(Fault("message/template/send", 1, hang=5.0))
    (report,) = _workers(world, 1, now, WECHAT_API_TIMEOUT="3,2.5")
    assert (report.sent, report.unconfirmed) == (29, 1)
    _workers(world, 2, now + timedelta(hours=2))
    deadline = time.monotonic() + 20
    while len(world.fake.sends()) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)  # the fake answers the hung call late, then records it
    sent = Counter(world.sent_texts())  # it took the hung call too: once, like the rest
    assert sorted(sent) == sorted(texts) and set(sent.values()) == {1}
    assert world.statuses() == {"sent": 29, "unconfirmed": 1}


def test_a_worker_killed_with_calls_in_flight_neither_loses_nor_repeats_a_notice(world: World) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    texts = world.queue("result_published", 200, now)
    world.fake.state.send_delay = 0.1
    worker = _deliver_process(world.env | {"DELIVERY_CONCURRENCY": "8"}, 1)
    deadline = time.monotonic() + 60
    while len(world.fake.sends()) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.kill()  # mid-batch: rows claimed, some `sending` with their calls in flight
    worker.communicate(timeout=30)
    statuses = world.statuses()
    assert statuses["claimed"] > 0 and 0 < statuses["sending"] <= 8, statuses
    world.fake.state.send_delay = 0.0
    deadline = time.monotonic() + 20
    while world.fake.state.sends_in_flight and time.monotonic() < deadline:
        time.sleep(0.02)  # the calls the dead worker had in flight are answered and recorded
    assert world.fake.state.sends_in_flight == 0
    _workers(world, 2, datetime.now(UTC) + delivery.CLAIM_LEASE + timedelta(minutes=1))
    after = world.statuses()
    assert set(after) == {"sent", "unconfirmed"} and after["unconfirmed"] == statuses["sending"]
    sent = Counter(world.sent_texts())
    assert set(sent.values()) == {1} and len(sent) >= after["sent"]
    with world.sessions() as session:
        delivered = set(session.scalars(select(OutboxMessage.text).where(OutboxMessage.status == "sent")))
    assert delivered <= set(sent) and set(sent) <= set(texts)

"""Objection outcome notices over random orders of events (Hypothesis stateful testing), through the
public surfaces: members and strangers filing objections in chat (`异议`), the evaluator re-reviewing
in chat (`复查`, a score kept or changed), the result published again round after round, and the
scheduler's tick delivering the notices to a fake WeChat API on loopback that fails some sends (the
notices retried later). After every step: each decided objection has exactly one `objection_decided`
notice, to its objector, none to anybody else and none before the decision; and what reached WeChat
matches: never before the decision, never twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from chatbot.store.models import Account, Objection, OutboxMessage
from chatbot.wechat.simulator import Simulator
from tests.conftest import Backend
from tests.console_helpers import WeChatConsole, wechat_console_for
from tests.helpers import rate, self_check, setup_county
from tests.stateful_world import World, world_for

UNIONS = ("U01", "U02")
#: Who may object: a member of each union, and two people bound to nothing (with the union's code).
OBJECTORS = ("member1", "member2", "passer-a", "passer-b")
KIND = "objection_decided"


@dataclass
class Filed:
    """One objection as the test filed it: its words are unique, so a notice quoting them is its."""

    openid: str
    union: str
    text: str
    decided: bool = False


@dataclass
class Model:
    filed: list[Filed] = field(default_factory=list)
    offset: timedelta = timedelta(0)  # the scheduler's clock ahead of the real one


class ObjectionsMachine(RuleBasedStateMachine):
    world: World  # set by the test
    wechat: WeChatConsole

    @initialize()
    def county(self) -> None:
        w = self.world
        w.wipe()
        self.wechat.fake.state.fail_next.clear()
        self.mark = len(self.wechat.fake.state.calls)
        self.m = Model()
        self.n = 0
        codes = setup_county(w.db, 2)
        self.evaluator = w.user("evaluator")
        self.evaluator.say(f"绑定 {codes['evaluator']}")
        for n, score in ((1, 85), (2, 75)):
            self_check(w.user(f"chair{n}"), codes[f"chair{n}"])
            rate(self.evaluator, f"U{n:02d}", score)
        self.users: dict[str, Simulator] = {openid: w.user(openid) for openid in OBJECTORS}
        self.users["member1"].say(f"绑定 {codes['member1']}")
        self.users["member2"].say(f"绑定 {codes['member2']}")
        for openid in OBJECTORS[2:]:
            self.users[openid].say("你好")  # within WeChat's 48-hour window, as anybody who writes
        w.cli("publish", "--year", "2026", "--days", "7")

    # ------------------------------------------------------------ the events

    @precondition(lambda self: hasattr(self, "m"))
    @rule(who=st.sampled_from(OBJECTORS), union=st.sampled_from(UNIONS), item=st.integers(1, 30))
    def file(self, who: str, union: str, item: int) -> None:
        self.n += 1
        text = f"第{item}项与实际不符{self.n}号"
        own = {"member1": "U01", "member2": "U02"}.get(who)
        reply = self.users[who].say(f"异议 {text}" if own == union else f"异议 {union} {text}")
        if "异议已收到" in reply:
            self.m.filed.append(Filed(who, union, text))

    @precondition(lambda self: hasattr(self, "m") and any(not f.decided for f in self.m.filed))
    @rule(pick=st.integers(0, 99), change=st.sampled_from(["同", "同", "0 复查后扣分", "2 材料已补齐"]))
    def re_review(self, pick: int, change: str) -> None:
        waiting = sorted({f.union for f in self.m.filed if not f.decided})
        union = waiting[pick % len(waiting)]
        started = self.evaluator.say(f"复查 {union}")
        assert "【" in started, started
        self.evaluator.say(change)
        reply = self.evaluator.say("提交")
        assert "复查评定已提交" in reply, reply
        for objection in self.m.filed:
            if objection.union == union:
                objection.decided = True

    @precondition(lambda self: hasattr(self, "m"))
    @rule(failures=st.integers(0, 2), advance=st.sampled_from([0, 2, 20, 70]))
    def deliver(self, failures: int, advance: int) -> None:
        """The scheduler's tick, ``advance`` minutes later, with WeChat busy for the first sends."""
        if self.m.offset < timedelta(hours=12):
            self.m.offset += timedelta(minutes=advance)
        self.wechat.fail_next(-1, failures)
        self.wechat.tick(datetime.now(UTC) + self.m.offset)
        self.wechat.fake.state.fail_next.clear()

    # ------------------------------------------------------------ invariants

    def _delivered(self) -> list[tuple[str, str]]:
        """The objection outcome notices WeChat took: (openid, text)."""
        found = []
        for call in self.wechat.fake.state.calls[self.mark :]:
            if call.get("errcode") != 0 or not str(call.get("api", "")).startswith("message/"):
                continue
            body = json.dumps(call.get("body"), ensure_ascii=False)
            if "提出的异议" in body and "已复查" in body:
                found.append((str(call.get("touser")), body))
        return found

    @invariant()
    def each_decided_objection_tells_its_objector_once(self) -> None:
        if not hasattr(self, "m"):
            return
        db = self.world.fresh()
        rows = db.execute(
            select(Account.openid, OutboxMessage.text, OutboxMessage.status)
            .join(Account, OutboxMessage.account_id == Account.id)
            .where(OutboxMessage.kind == KIND)
        ).all()
        stored = db.execute(select(Objection.text, Objection.resolved_at)).all()
        db.rollback()
        assert {text: at is not None for text, at in stored} == {f.text: f.decided for f in self.m.filed}
        delivered = self._delivered()
        for objection in self.m.filed:
            mine = [(openid, status) for openid, text, status in rows if f"“{objection.text}”" in text]
            sent = [openid for openid, body in delivered if f"“{objection.text}”" in body]
            if not objection.decided:
                assert mine == [] and sent == [], (objection, mine, sent)
                continue
            assert [openid for openid, _status in mine] == [objection.openid], (objection, mine)
            status = mine[0][1]
            assert sent == ([objection.openid] if status == "sent" else []) or (
                status == "unconfirmed" and len(sent) <= 1
            ), (objection, status, sent)
        assert len(rows) == sum(1 for f in self.m.filed if f.decided)


@pytest.fixture
def wechat(backend: Backend, tmp_path: Path) -> Iterator[WeChatConsole]:
    with wechat_console_for(backend, tmp_path) as console:
        yield console


def test_objection_outcomes_are_told_once_to_their_objector_in_any_order(
    wechat: WeChatConsole, backend: Backend, cli: Any, tmp_path: Path
) -> None:
    for world in world_for(wechat.app, backend, cli, tmp_path):
        ObjectionsMachine.world, ObjectionsMachine.wechat = world, wechat
        run_state_machine_as_test(
            ObjectionsMachine,
            settings=settings(
                max_examples=6,
                stateful_step_count=12,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            ),
        )

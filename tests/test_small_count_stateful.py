"""The small-count rule over random orders of events (Hypothesis stateful testing), through the public
surfaces: the democratic evaluation opened from the CLI (with open places or not), members answering
it in chat, the evaluator ending or waiving it, the assessment, the quota confirmed and the result
published, objections filed and re-reviewed — and, at random moments, everybody looking: the chair's,
the members' and the evaluator's chat, the county's and the city's console pages, the score sheet and
results workbooks, the county's report and every notice written. After every step: no surface shows a
satisfaction rate, a democratic score or a suggestion unless the evaluation is closed with at least
``EVALUATION_MIN_BALLOTS_SHOWN`` ballots; closed with fewer, the withheld text says why."""

from __future__ import annotations

from dataclasses import dataclass, field

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

from chatbot.console.access import create_user
from chatbot.store.models import Ballot, Evaluation, Inspection, OutboxMessage
from chatbot.wechat.simulator import Simulator
from rubrics.democratic import MIN_BALLOTS_SHOWN
from tests.helpers import WAIVER, complete_record, csv_results, self_check, setup_county
from tests.stateful_world import World, world  # noqa: F401  (the fixture)
from tests.test_console import Console
from tests.test_small_count_rule import FIGURE, WITHHELD, Onlookers

MEMBERS = 5
GUESTS = 2
ANSWERS = st.tuples(*[st.integers(1, 3)] * 8)


def secret(n: int) -> str:
    """Member ``n``'s suggestion: a voter's own words, shown only with the figures."""
    return f"只有第{n}位会员知道的意见"


@dataclass
class Model:
    opened: bool = False
    places: int = 0  # open places: unbound people who vote with the evaluation's code
    voted: set[int] = field(default_factory=set)  # members 0 … MEMBERS - 1, then the guests
    closed: bool = False
    waived: bool = False
    rated: bool = False
    published: bool = False
    objected: bool = False

    @property
    def disclosed(self) -> bool:
        return self.closed and not self.waived and len(self.voted) >= MIN_BALLOTS_SHOWN

    @property
    def withheld(self) -> bool:
        return self.closed and not self.waived and 0 < len(self.voted) < MIN_BALLOTS_SHOWN


class SmallCountMachine(RuleBasedStateMachine):
    world: World  # set by the test

    @initialize()
    def county(self) -> None:
        w = self.world
        w.wipe()
        self.m = Model()
        codes = setup_county(w.db, 1)
        with w.db.begin():
            create_user(w.db, "YZ", "yz", "yz-password-12")
            create_user(w.db, "GY", "city", "city-password-1")
        self.chair = w.user("chair1")
        self_check(self.chair, codes["chair1"])
        self.evaluator = w.user("evaluator")
        self.evaluator.say(f"绑定 {codes['evaluator']}")
        self.members: list[Simulator] = [w.user(f"member-{n}") for n in range(MEMBERS)]
        for member in self.members:
            member.say(f"绑定 {codes['member1']}")
        self.guests: list[Simulator] = [w.user(f"guest-{n}") for n in range(GUESTS)]
        self.code = ""
        inspection_id = w.db.scalar(select(Inspection.id))
        w.db.rollback()
        county, city = Console(w.app.test_client()), Console(w.app.test_client())
        county.login("yz", "yz-password-12")
        city.login("city", "city-password-1")
        self.onlookers = Onlookers(self.chair, self.evaluator, county, city, w.cli, inspection_id)

    # ------------------------------------------------------------ the events

    @precondition(lambda self: hasattr(self, "m") and not self.m.opened and not self.m.waived)
    @rule(places=st.integers(0, 2))
    def open_evaluation(self, places: int) -> None:
        args = ["evaluation", "open", "--org", "U01"] + (["--open", str(places)] if places else [])
        self.code = self.world.cli(*args).strip().splitlines()[-1].strip()
        self.m.opened, self.m.places = True, places

    @precondition(lambda self: hasattr(self, "m") and self.m.opened)
    @rule(n=st.integers(0, MEMBERS + GUESTS - 1), answers=ANSWERS)
    def vote(self, n: int, answers: tuple[int, ...]) -> None:
        """A member (invited) answers with `测评`; a guest, bound to nothing, with `测评 测评码`."""
        guest = n >= MEMBERS
        member = self.guests[n - MEMBERS] if guest else self.members[n]
        reply = member.say(f"测评 {self.code}" if guest else "测评")
        guests = sum(1 for v in self.m.voted if v >= MEMBERS)
        if n in self.m.voted or self.m.closed or self.m.waived or (guest and guests >= self.m.places):
            assert "【1/9】" not in reply, reply
            return
        assert "【1/9】" in reply, reply
        for answer in answers:
            member.say(str(answer))
        assert "感谢参与" in member.say(secret(n))
        self.m.voted.add(n)

    @precondition(lambda self: hasattr(self, "m") and not self.m.rated)
    @rule(waive=st.booleans())
    def end_evaluation(self, waive: bool) -> None:
        """The evaluator, in the assessment, ends the evaluation (once a ballot is in) or waives it
        with a reason."""
        self.evaluator.say("考评 U01")
        if waive and not self.m.closed and not self.m.waived:
            reply = self.evaluator.say(f"免除测评 {WAIVER}")
            self.evaluator.say("暂停")
            assert "免除" in reply and not FIGURE.search(reply), reply
            self.m.waived = True
            return
        reply = self.evaluator.say("结束测评 参加人员已全部作答")
        self.evaluator.say("暂停")
        if self.m.opened and self.m.voted and not self.m.closed and not self.m.waived:
            assert "已结束民主测评" in reply, reply
            self.m.closed = True
            if self.m.withheld:
                assert f"票数少于 {MIN_BALLOTS_SHOWN} 张，{WITHHELD}" in reply, reply
        assert bool(FIGURE.search(reply)) == self.m.disclosed or not self.m.closed, reply

    @precondition(lambda self: hasattr(self, "m") and not self.m.rated)
    @rule()
    def rate(self) -> None:
        if "【1/30】" in self.evaluator.say("考评 U01"):  # else: back at the summary of a walk done
            for _ in range(30):
                self.evaluator.say("同")
            complete_record(self.evaluator)
        reply = self.evaluator.say("提交")
        if self.m.closed or self.m.waived:
            assert "已提交" in reply, reply
            self.m.rated = True
        self.evaluator.say("暂停")
        self._no_figure_unless_disclosed("提交", reply)

    @precondition(lambda self: hasattr(self, "m") and self.m.rated and not self.m.published)
    @rule()
    def publish(self) -> None:
        self.world.cli("results", "confirm", "--year", "2026", "--reason", "本县仅一个单位参加年检")
        assert "已公示 1 个结果" in self.world.cli("publish", "--year", "2026", "--days", "7")
        self.m.published = True

    @precondition(lambda self: hasattr(self, "m") and self.m.published and not self.m.objected)
    @rule(n=st.integers(0, MEMBERS - 1))
    def object(self, n: int) -> None:
        assert "异议已收到" in self.members[n].say("异议 第1项与实际不符")
        self.m.objected = True

    @precondition(lambda self: hasattr(self, "m") and self.m.objected)
    @rule()
    def re_review(self) -> None:
        assert "【1/30】" in self.evaluator.say("复查 U01")
        for _ in range(30):
            self.evaluator.say("同")
        reply = self.evaluator.say("提交")
        assert "复查评定已提交" in reply, reply
        self._no_figure_unless_disclosed("复查", reply)
        self.m.objected = False

    @precondition(lambda self: hasattr(self, "m"))
    @rule(n=st.integers(0, MEMBERS - 1))
    def everybody_looks(self, n: int) -> None:
        """Every surface, each role's: nothing disclosed before its time; the reason when withheld."""
        seen = self.onlookers.look(report=self.m.published)
        member = self.members[n]
        seen["member 进度"] = member.say("进度")
        seen["member 结果"] = member.say("结果")
        for surface, text in seen.items():
            self._no_figure_unless_disclosed(surface, text)
        column = seen["democratic_score column"]
        if self.m.disclosed:
            assert column != "" and FIGURE.search(seen["evaluator 查看"]), seen["evaluator 查看"]
        else:
            assert column == "", column
        if self.m.withheld:
            assert WITHHELD in seen["evaluator 查看"], seen["evaluator 查看"]
            assert WITHHELD in seen["county inspection"] and WITHHELD in seen["city inspection"]
            if self.m.published:
                assert WITHHELD in seen["chair 结果"], seen["chair 结果"]

    def _no_figure_unless_disclosed(self, surface: str, text: str) -> None:
        if self.m.disclosed:
            return
        assert not FIGURE.search(text), (surface, FIGURE.search(text), self.m)
        for n in range(MEMBERS + GUESTS):
            assert secret(n) not in text, (surface, n, self.m)

    # ------------------------------------------------------------ invariants

    @invariant()
    def the_facts_are_the_models_and_no_notice_tells_a_figure(self) -> None:
        if not hasattr(self, "m"):
            return
        db = self.world.fresh()
        evaluation = db.scalar(select(Evaluation))
        assert (evaluation is not None) == (self.m.opened or self.m.waived)  # waived: also unopened
        ballots = len(db.scalars(select(Ballot)).all())
        assert ballots == len(self.m.voted)
        inspection = db.scalar(select(Inspection))
        assert inspection is not None
        if not self.m.disclosed:
            assert inspection.democratic_score is None, self.m
        for message in db.scalars(select(OutboxMessage)):
            self._no_figure_unless_disclosed(f"notice {message.kind}", message.text)
            self._no_figure_unless_disclosed(f"notice facts {message.kind}", str(message.facts or ""))
        db.rollback()
        table = csv_results(self.world.cli("results", "--year", "2026", "--csv"))["U01"]
        assert (table["democratic_score"] != "") == self.m.disclosed, (table, self.m)


def test_no_surface_shows_a_figure_of_too_few_ballots_in_any_order(world: World) -> None:  # noqa: F811
    SmallCountMachine.world = world
    run_state_machine_as_test(
        SmallCountMachine,
        settings=settings(
            max_examples=6,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )

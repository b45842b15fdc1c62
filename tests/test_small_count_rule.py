"""The small-count rule (rubrics/democratic.py), tested as an attacker would: a chair, an evaluator or a
federation who looks at every surface after each vote must learn nothing of a ballot's answers — not
from one or two ballots, not from the difference between two looks with one vote in between. The
satisfaction rate and the score appear once the evaluation is closed with at least the minimum.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.config import Config, ConfigError
from chatbot.console.access import create_user
from chatbot.inspection.evaluations import tally
from chatbot.store.engine import make_engine, session_factory
from chatbot.store.models import Evaluation, Inspection, Organisation
from chatbot.wechat.simulator import Simulator
from dialogs.walk import democratic_text
from rubrics.democratic import MIN_BALLOTS_SHOWN, DemocraticFigures, figures_phrase
from rubrics.scoring import format_score
from tests.conftest import APP_ID, TOKEN, Backend, make_config, transport_for
from tests.helpers import complete_record, csv_results, self_check, setup_county
from tests.test_console import Console

User = Callable[..., Simulator]

#: A figure with its label, as any surface would print it.
FIGURE = re.compile(r"满意率\s*[\d.]+\s*%|民主测评得分\s*[\d.]+|得分\s*[\d.]+\s*分?\s*（?进行中")
#: The two U01 ballots: the first dissatisfied overall (a lone ballot's answers), the second not.
FIRST = (1, 2, 1, 2, 1, 2, 3, 1)  # alone: satisfaction 0%, score 72.5
SECOND = (2, 2, 2, 2, 2, 2, 1, 1)  # with the first: 50%, 71.3
#: The scores and suggestions one or two ballots would give away, never to be seen anywhere.
SECRETS = ("72.5", "71.3", "只有我知道的意见一", "只有我知道的意见二")
WITHHELD = "为保护投票人匿名，不公布满意率和得分"


def vote(member: Simulator, answers: tuple[int, ...], suggestion: str) -> None:
    assert "【1/9】" in member.say("测评")
    for answer in answers:
        member.say(str(answer))
    assert "感谢参与" in member.say(suggestion)


def cells(book: bytes) -> str:
    """Every cell of every sheet of a workbook, one text."""
    workbook = openpyxl.load_workbook(io.BytesIO(book))
    return "\n".join(
        str(cell.value)
        for sheet in workbook
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    )


@dataclass
class Onlookers:
    """Everyone who may look at U01's figures: its chair, the county's evaluator in chat, the county's
    and the city's console, the CLI."""

    chair: Simulator
    evaluator: Simulator
    county: Console
    city: Console
    cli: Callable[..., str]
    inspection_id: int

    def look(self, report: bool = False) -> dict[str, str]:
        """What each surface shows now, by surface."""
        seen = {
            "chair 结果": self.chair.say("结果"),
            "chair 进度": self.chair.say("进度"),
            "evaluator 进度": self.evaluator.say("进度"),
            "evaluator 结果": self.evaluator.say("结果 U01"),
        }
        seen["evaluator 查看"] = self.evaluator.say("考评 U01") + self.evaluator.say("查看")
        self.evaluator.say("暂停")
        csv = self.cli("results", "--year", "2026", "--csv")
        seen["cli results"] = csv
        seen["democratic_score column"] = csv_results(csv)["U01"]["democratic_score"]
        for who, console in (("county", self.county), ("city", self.city)):
            seen[f"{who} inspection"] = console.get(f"/console/inspections/{self.inspection_id}")
            seen[f"{who} list"] = console.get("/console/inspections")
            seen[f"{who} dashboard"] = console.get("/console/")
            seen[f"{who} results.xlsx"] = cells(
                console.client.get("/console/campaigns/2026/results.xlsx").data
            )
            sheet = console.client.get(f"/console/inspections/{self.inspection_id}/sheet.xlsx").data
            seen[f"{who} sheet.xlsx"] = cells(sheet)
        if report:
            body = self.city.client.get("/console/campaigns/2026/report.docx?county=YZ").data
            seen["county report"] = "\n".join(p.text for p in docx.Document(io.BytesIO(body)).paragraphs)
        return seen


def assert_no_figures(seen: dict[str, str]) -> None:
    for surface, text in seen.items():
        assert not FIGURE.search(text), (surface, FIGURE.search(text))
        for secret in SECRETS:
            assert secret not in text, (surface, secret)
    assert seen["democratic_score column"] == ""


def test_one_and_two_ballots_show_no_figure_anywhere(
    user: User, db: Session, cli, client: FlaskClient
) -> None:
    codes = setup_county(db, 2)
    with db.begin():
        create_user(db, "YZ", "yz", "yz-password-12")
        create_user(db, "GY", "city", "city-password-1")
    chair = user("chair1")
    self_check(chair, codes["chair1"])
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    members = [user(f"member-{n}") for n in range(5)]
    for member in members:
        member.say(f"绑定 {codes['member1']}")
    cli("evaluation", "open", "--org", "U01")
    inspection_id = db.scalar(select(Inspection.id).join(Organisation).where(Organisation.code == "U01"))
    db.rollback()
    county, city = Console(client), Console(client.application.test_client())
    county.login("yz", "yz-password-12")
    city.login("city", "city-password-1")
    onlookers = Onlookers(chair, evaluator, county, city, cli, inspection_id)

    before = onlookers.look()
    vote(members[0], FIRST, SECRETS[2])
    one = onlookers.look()
    vote(members[1], SECOND, SECRETS[3])
    two = onlookers.look()
    for seen in (before, one, two):
        assert_no_figures(seen)
    # While open the evaluator and the federations see the count and turnout, nothing else.
    assert "民主测评：1 票（参与率 20%），满意率和得分在测评结束后公布（进行中）" in one["evaluator 查看"]
    assert "民主测评：2 票（参与率 40%），满意率和得分在测评结束后公布（进行中）" in two["evaluator 查看"]
    assert (
        "有效票 2 张" in two["county inspection"] and "满意率和得分在测评结束后公布" in two["city inspection"]
    )

    # Closed with two ballots: still nothing, and the reason said; the assessment goes on.
    evaluator.say("考评 U01")
    for _ in range(30):
        evaluator.say("同")
    complete_record(evaluator)
    ended = evaluator.say("结束测评 参加人员已全部作答")
    assert "已结束民主测评" in ended and "票数少于 3 张，" + WITHHELD in ended
    rated = evaluator.say("提交")
    assert "票数少于 3 张，" + WITHHELD in rated and not FIGURE.search(rated)
    cli("results", "confirm", "--year", "2026", "--reason", "U02 本年度不参加年检")
    assert "已公示 1 个结果" in cli("publish", "--year", "2026", "--days", "7")
    closed = onlookers.look(report=True)
    assert_no_figures(closed)
    assert "票数少于 3 张，" + WITHHELD in closed["chair 结果"]
    assert WITHHELD in closed["county inspection"] and WITHHELD in closed["city inspection"]
    assert WITHHELD in closed["city sheet.xlsx"]


def test_three_ballots_closed_show_the_figures(user: User, db: Session, cli, client: FlaskClient) -> None:
    codes = setup_county(db, 1)
    self_check(user("chair1"), codes["chair1"])
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    members = [user(f"member-{n}") for n in range(4)]
    for member in members:
        member.say(f"绑定 {codes['member1']}")
    cli("evaluation", "open", "--org", "U01")
    for member, answers in zip(members, (FIRST, SECOND, (1,) * 8), strict=False):
        vote(member, answers, "无")
    evaluator.say("考评 U01")
    open_three = evaluator.say("查看")
    assert "3 票" in open_three and not FIGURE.search(open_three)  # open: not yet
    assert csv_results(cli("results", "--year", "2026", "--csv"))["U01"]["democratic_score"] == ""
    evaluator.say("结束测评 参加人员已全部作答")
    shown = evaluator.say("查看")
    # (580 + 560 + 800) / 24 = 80.8; two of three satisfied overall
    assert "民主测评：3 票（参与率 75%），满意率 66.7%，民主测评得分 80.8" in shown
    assert csv_results(cli("results", "--year", "2026", "--csv"))["U01"]["democratic_score"] == "80.8"
    assert "【1/30】" in evaluator.say("考评 U01")
    for _ in range(30):
        evaluator.say("同")
    complete_record(evaluator)
    assert "满意率 66.7%" in evaluator.say("提交")


# ---------------------------------------------------------------- the difference attack, by property

ANSWERS = st.tuples(*[st.integers(1, 3)] * 8)


@dataclass(frozen=True)
class Look:
    """What every surface decides to show of the figures: the chat's line, the console's and the
    documents' phrase, the results' score cell."""

    chat: str
    phrase: str
    cell: str

    @classmethod
    def of(cls, figures: DemocraticFigures) -> Look:
        cell = figures.shown_score
        return cls(
            democratic_text(figures), figures_phrase(figures), format_score(cell) if cell is not None else ""
        )


def looks(
    ballots: list[tuple[int, ...]], looked: list[bool], paper: list[list[int]] | None, returned: int
) -> list[Look]:
    """Cast the ballots in turn, looking after those marked; close (entering the paper forms) and look
    once more."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    evaluation = Evaluation(closes_at=now + timedelta(days=1), paper_returned=0, min_ballots_shown=None)
    seen: list[Look] = [Look.of(tally(evaluation, [], 5 + len(ballots), now))]
    for n, look in enumerate(looked, start=1):
        if look:
            seen.append(Look.of(tally(evaluation, ballots[:n], 5 + len(ballots), now)))
    evaluation.closes_at = now - timedelta(minutes=1)
    evaluation.paper_counts, evaluation.paper_returned = paper, returned
    seen.append(Look.of(tally(evaluation, ballots, 5 + len(ballots), now)))
    return seen


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(ANSWERS, ANSWERS, st.booleans()), min_size=1, max_size=7),
    st.integers(0, 4),
    st.data(),
)
def test_looks_between_votes_tell_only_the_count(
    casts: list[tuple[tuple[int, ...], tuple[int, ...], bool]], returned: int, data: st.DataObject
) -> None:
    """Two worlds cast the same number of ballots with different answers and look at the same moments:
    while open every look reads the same in both (so two consecutive looks differ by the count alone);
    closed, they read the same unless the figures are disclosed — which needs the minimum."""
    paper = (
        [list(data.draw(st.tuples(*[st.integers(0, returned)] * 3))) for _ in range(8)] if returned else None
    )
    mine = [a for a, _, _ in casts]
    theirs = [b for _, b, _ in casts]
    looked = [look for _, _, look in casts]
    seen, other = looks(mine, looked, paper, returned), looks(theirs, looked, paper, returned)
    assert seen[:-1] == other[:-1]
    assert all(not FIGURE.search(look.chat) and not look.cell for look in seen[:-1])
    last = seen[-1]
    enough = len(mine) + returned >= MIN_BALLOTS_SHOWN and len(mine) >= MIN_BALLOTS_SHOWN
    if enough:
        assert FIGURE.search(last.chat) and last.cell
    else:
        assert last == other[-1] and not FIGURE.search(last.chat) and not last.cell
        assert WITHHELD in last.chat


# ---------------------------------------------------------------- the minimum's setting and the blend


@pytest.fixture
def weighted(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    """The app with half of the final score from the democratic evaluation."""
    application = create_app(make_config(backend, tmp_path, DEMOCRATIC_WEIGHT="0.5"), **backend.parts())
    yield application
    application.extensions["nianjian.engine"].dispose()


def test_a_score_too_few_to_show_is_not_blended_and_the_minimum_is_fixed_at_opening(
    weighted: Flask, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With DEMOCRATIC_WEIGHT > 0 the final score would give a withheld democratic score away: it is
    left out of the blend (U01: 3 ballots under a minimum of 4 set when it opened); U02, opened under
    the default minimum of 3, is blended with its 3 ballots."""
    client = weighted.test_client()

    def user(openid: str) -> Simulator:
        return Simulator(transport_for(client), openid, TOKEN, APP_ID)

    engine = make_engine(weighted.extensions["nianjian.config"].database_url)
    with session_factory(engine)() as db:
        codes = setup_county(db, 2)
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    for n, code in ((1, "U01"), (2, "U02")):
        self_check(user(f"chair{n}"), codes[f"chair{n}"])
        members = [user(f"member-{n}-{m}") for m in range(3)]
        for member in members:
            member.say(f"绑定 {codes[f'member{n}']}")
        if code == "U01":
            monkeypatch.setenv("EVALUATION_MIN_BALLOTS_SHOWN", "4")
        else:
            monkeypatch.delenv("EVALUATION_MIN_BALLOTS_SHOWN")
        cli("evaluation", "open", "--org", code)
        for member, answers in zip(members, (FIRST, SECOND, (1,) * 8), strict=True):
            vote(member, answers, "无")
        assert "【1/30】" in evaluator.say(f"考评 {code}")
        for _ in range(30):
            evaluator.say("同")
        complete_record(evaluator)
        evaluator.say("结束测评 参加人员已全部作答")
        rated = evaluator.say("提交")
        if code == "U01":
            assert "票数少于 4 张，" + WITHHELD in rated and not FIGURE.search(rated)
        else:
            assert "满意率 66.7%，民主测评得分 80.8" in rated
    with session_factory(engine)() as db:
        found = {
            org.code: (inspection.score, inspection.democratic_score)
            for inspection, org in db.execute(select(Inspection, Organisation).join(Organisation))
        }
    engine.dispose()
    assert found["U01"] == (Decimal("100.0"), None)  # the assessed score alone
    assert found["U02"] == (Decimal("90.4"), Decimal("80.8"))  # 100 × 0.5 + 80.8 × 0.5


def test_the_minimum_may_not_let_one_ballot_through(tmp_path: Path) -> None:
    env = {"NIANJIAN_INSTANCE": str(tmp_path)}
    with pytest.raises(ConfigError):
        Config.from_env(env | {"EVALUATION_MIN_BALLOTS_SHOWN": "1"})
    assert Config.from_env(env).evaluation_min_ballots_shown == MIN_BALLOTS_SHOWN == 3
    assert Config.from_env(env | {"EVALUATION_MIN_BALLOTS_SHOWN": "2"}).evaluation_min_ballots_shown == 2

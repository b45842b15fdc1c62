"""Every refusal of the Applier (chatbot/service/apply.py), checked against the stored truth.

The dialogs refuse most of these first, with words of their own, from the context they are shown; the
Applier is the last word, against the rows it locks. So most refusals are driven here by calling the
Applier directly on the test database, as the service does (one ``sessions.begin()``), with commands a
dialog would not send; two are driven through the real webhook: a submission of the city's re-check
of a result with an objection waiting (the walk lets it through), and, on PostgreSQL, a self-check
answer that waited for the inspection's row while a submission was committed.

Each refusal is asserted with the message the user reads and with the whole database unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.orm import Session

from chatbot.inspection import organisations
from chatbot.inspection.errors import Refused
from chatbot.service.apply import Applier
from chatbot.store.models import (
    Account,
    AuditEntry,
    BallotDraft,
    Base,
    Evaluation,
    Evidence,
    InboundMessage,
    Inspection,
    ItemScore,
    Objection,
    Organisation,
    SampledInspection,
)
from chatbot.timeutil import as_utc
from chatbot.wechat.simulator import Simulator
from dialogs.assessment import (
    ReturnSelfCheck,
    SaveAssessedScore,
    SaveCityScore,
    StartAssessment,
    StartReReview,
    StartSampleCheck,
    SubmitAssessment,
    SubmitReReview,
    SubmitSampleCheck,
)
from dialogs.ballot import CastBallot, SaveBallotDraft
from dialogs.commands import AddEvidence, CloseEvaluation, Command, SaveAssessmentRecord, WaiveEvaluation
from dialogs.paper import SavePaperTally
from dialogs.publication import FileObjection
from dialogs.remediation import CheckRemediation, ReportRemediation
from dialogs.selfcheck import SaveSelfScore, StartSelfCheck, SubmitSelfCheck
from tests.conftest import APP_ID, TOKEN, Backend, transport_for
from tests.helpers import VILLAGE, assess, rate, self_check, setup_county

User = Callable[..., Simulator]
D = Decimal
UNKNOWN = 999_999
FIRST_TWENTY = "、".join(str(n) for n in range(1, 21))
#: A village sheet has six dimensions: a ballot answers each, then overall satisfaction and trust.
FULL_BALLOT = (1,) * (len(VILLAGE.dimensions) + 2)
NOT_FOUND = "没有找到这项年检任务，请联系上级工会。"
CHAIR_ONLY = "只有本单位工会主席可以填写自评。"
EVALUATOR_ONLY = "只有上级工会考评员可以进行考评或复查。"
LOCKED = "自评已提交，答案已锁定{}，本次操作未生效。"
NOT_NOW = "“{}”当前状态为“{}”，本次操作未生效。"
CLOSED = "这次民主测评已经结束，您的答卷未能提交。"
VOTED = "您已参加过这次民主测评，每人限投一次。"
NOT_ELIGIBLE = "您不在这次民主测评的参加人员范围内。如有疑问请联系上级工会。"
FULL = "这次民主测评的开放名额已满，您的答卷未能提交，感谢关注。"
INCOMPLETE = "测评答案不完整，请重新开始测评。"
CITY_ONLY = "抽查由市总工会考评员办理。"
NOT_DRAWN = "“{}”不在待抽查名单中，或已抽查完毕。"
OUT_OF_PERIOD = "该结果不在公示期内，无法提出异议。"
OBJECTED_ONCE = "您已对本轮公示结果提出过异议。"
U01, U02 = "第1社区工会", "第2社区工会"


# ---------------------------------------------------------------- the database, whole


def snapshot(engine: Engine, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as text, in a stable order."""
    with engine.connect() as conn:
        return {
            table.name: sorted(tuple(repr(cell) for cell in row) for row in conn.execute(select(table)))
            for table in Base.metadata.sorted_tables
            if table.name not in skip
        }


@dataclass
class Direct:
    """The Applier, called as the service calls it: one account, one transaction."""

    app: Flask

    @property
    def engine(self) -> Engine:
        return self.app.extensions["nianjian.engine"]

    def _apply(self, openid: str, command: Command, now: datetime | None) -> None:
        sessions = self.app.extensions["nianjian.sessions"]
        with sessions.begin() as session:
            account = session.scalar(select(Account).where(Account.openid == openid))
            if account is None:
                raise LookupError(f"no account {openid}")
            Applier(
                session,
                account,
                self.app.extensions["nianjian.config"],
                now or datetime.now(UTC),
                self.app.extensions["nianjian.counter"],
            ).apply(command)

    def refused(self, openid: str, command: Command, now: datetime | None = None) -> str:
        """The refusal's message; the database must be exactly as it was."""
        before = snapshot(self.engine)
        with pytest.raises(Refused) as caught:
            self._apply(openid, command, now)
        assert snapshot(self.engine) == before, f"{command} by {openid} left a change behind"
        return caught.value.message

    def applied(self, openid: str, command: Command, now: datetime | None = None) -> None:
        self._apply(openid, command, now)

    def scalar(self, statement):
        with self.engine.connect() as conn:
            return conn.execute(statement).scalar()

    def inspection(self, code: str) -> int:
        found = self.scalar(
            select(Inspection.id).join(Organisation).where(Organisation.code == code).order_by(Inspection.id)
        )
        assert found is not None, code
        return found

    def state(self, code: str) -> str:
        return self.scalar(select(Inspection.state).where(Inspection.id == self.inspection(code)))

    def evaluation(self, code: str) -> int:
        found = self.scalar(select(Evaluation.id).where(Evaluation.inspection_id == self.inspection(code)))
        assert found is not None, code
        return found


@pytest.fixture
def direct(app: Flask) -> Direct:
    return Direct(app)


@dataclass
class County:
    """YZ with two village unions (U01, U02); a second county XJ with its own evaluator; the city's
    evaluator. Everyone is bound through the webhook."""

    codes: dict[str, str]
    people: dict[str, Simulator]

    def __getitem__(self, openid: str) -> Simulator:
        return self.people[openid]


@pytest.fixture
def county(user: User, db: Session) -> County:
    codes = setup_county(db, 2)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        codes["other-evaluator"] = organisations.create_invitation(db, "XJ", "evaluator").code
        codes["city"] = organisations.create_invitation(db, "GY", "evaluator").code
    bindings = {
        "chair1": codes["chair1"],
        "chair2": codes["chair2"],
        "member1": codes["member1"],
        "evaluator": codes["evaluator"],
        "other-evaluator": codes["other-evaluator"],
        "city": codes["city"],
    }
    people = {}
    for openid, code in bindings.items():
        people[openid] = user(openid)
        assert "绑定成功" in people[openid].say(f"绑定 {code}")
    people["stranger"] = user("stranger")
    people["stranger"].say("帮助")  # an account, bound to nothing
    return County(codes, people)


def _submitted(county: County) -> None:
    assert "自评已提交" in self_check(county["chair1"], county.codes["chair1"])


def _rated(county: County, score: int = 100) -> None:
    _submitted(county)
    assert "组织评定已提交" in rate(county["evaluator"], "U01", score)


def _published(county: County, cli) -> None:
    """U01 rated and published; U02 left out of the year with a reason."""
    _rated(county)
    cli("results", "confirm", "--year", "2026", "--reason", "U02 本年度不参加年检")
    assert "已公示 1 个结果" in cli("publish", "--year", "2026", "--days", "7")


def _open_evaluation(cli, org: str, open_slots: int = 0, paper: int = 0) -> str:
    opened = cli("evaluation", "open", "--org", org, "--open", str(open_slots), "--paper", str(paper))
    return opened.strip().splitlines()[-1]


# ---------------------------------------------------------------- the chair's commands


def test_a_submitted_self_check_takes_no_more_writes(county: County, direct: Direct) -> None:
    _submitted(county)
    i = direct.inspection("U01")
    writes = [
        SaveSelfScore(i, 1, D("3")),
        AddEvidence(i, 1, "M-late", "http://mmbiz.qpic.cn/late.jpg"),
        SubmitSelfCheck(i),
    ]
    for command in writes:
        assert direct.refused("chair1", command) == LOCKED.format(""), command
    assert "组织评定已提交" in assess(county["evaluator"], "U01", {})
    for command in writes:
        assert direct.refused("chair1", command) == LOCKED.format("（当前状态：已评定）"), command
    # Opening the self-check again changes nothing and is not refused.
    direct.applied("chair1", StartSelfCheck(i))
    assert direct.state("U01") == "rated"


def test_a_refused_submission_undoes_its_first_steps(county: County, direct: Direct) -> None:
    i = direct.inspection("U01")
    assert direct.state("U01") == "not_started"
    # Submitting starts the self-check before it counts the answers: the refusal undoes the start.
    assert (
        direct.refused("chair1", SubmitSelfCheck(i))
        == f"还有 30 项未作答（第 {FIRST_TWENTY} 项），未能提交。"
    )
    assert direct.state("U01") == "not_started"
    for score in (D("5.5"), D("0.3"), D("-1")):
        assert direct.refused("chair1", SaveSelfScore(i, 1, score)) == (
            "本项分值为 5 分，请输入 0 到 5 分，可以是整数或半分（如 4 或 4.5）。"
        ), score
    assert direct.state("U01") == "not_started"
    direct.applied("chair1", SaveSelfScore(i, 1, D("4.5")))
    assert direct.state("U01") == "self_checking"


@pytest.mark.parametrize("openid", ["member1", "chair2", "evaluator", "city", "stranger"])
def test_only_the_unions_chair_gives_the_chairs_commands(county: County, direct: Direct, openid: str) -> None:
    i = direct.inspection("U01")
    commands = [
        StartSelfCheck(i),
        SaveSelfScore(i, 1, D("5")),
        AddEvidence(i, 1, "M1", "http://mmbiz.qpic.cn/1.jpg"),
        SubmitSelfCheck(i),
    ]
    for command in commands:
        assert direct.refused(openid, command) == CHAIR_ONLY, command
    assert (
        direct.refused(openid, ReportRemediation(i, "已建立职工书屋"))
        == "只有本单位工会主席可以报告补课完成。"
    )
    direct.applied("chair1", StartSelfCheck(i))
    assert direct.state("U01") == "self_checking"


# ---------------------------------------------------------------- the evaluator's commands


def _evaluator_commands(i: int) -> list[Command]:
    return [
        StartAssessment(i),
        SaveAssessedScore(i, 1, D("4")),
        SaveAssessmentRecord(i, methods=("听汇报",), opinion="台账齐全"),
        SubmitAssessment(i),
        ReturnSelfCheck(i, "第3项缺少佐证"),
        StartReReview(i),
        SubmitReReview(i),
        CloseEvaluation(i, "参加人员已全部作答"),
        WaiveEvaluation(i, "参加人员不足"),
        SavePaperTally(i, 10, 8, ((8, 0, 0),) * 8),
    ]


@pytest.mark.parametrize("openid", ["chair1", "member1", "other-evaluator", "city", "stranger"])
def test_only_the_parent_unions_evaluator_gives_the_evaluators_commands(
    county: County, direct: Direct, openid: str
) -> None:
    _submitted(county)
    i = direct.inspection("U01")
    for command in _evaluator_commands(i):
        assert direct.refused(openid, command) == EVALUATOR_ONLY, command
    direct.applied("evaluator", StartAssessment(i))
    assert direct.state("U01") == "reviewing"


def test_an_evaluators_command_on_an_inspection_in_the_wrong_state(county: County, direct: Direct) -> None:
    u02 = direct.inspection("U02")  # never started
    for command in _evaluator_commands(u02):
        assert direct.refused("evaluator", command) == NOT_NOW.format(U02, "未开始"), command
    _rated(county)
    u01 = direct.inspection("U01")
    for command in _evaluator_commands(u01):
        assert direct.refused("evaluator", command) == NOT_NOW.format(U01, "已评定"), command


def test_an_assessment_is_refused_until_complete_and_a_return_needs_its_reason(
    county: County, direct: Direct
) -> None:
    _submitted(county)
    i = direct.inspection("U01")
    assert direct.refused("evaluator", SubmitAssessment(i)) == (
        f"还有 30 项未考评（第 {FIRST_TWENTY} 项），未能提交。"
    )
    # A score out of range is refused after the assessment was opened: both are undone.
    assert direct.refused("evaluator", SaveAssessedScore(i, 6, D("2.5"))) == (
        "本项分值为 2 分，请输入 0 到 2 分，可以是整数或半分（如 1 或 1.5）。"
    )
    assert direct.state("U01") == "self_submitted"
    assert direct.refused("evaluator", ReturnSelfCheck(i, "  ")) == "退回须写明原因。"
    for no in range(1, 30):
        direct.applied("evaluator", SaveAssessedScore(i, no, D("1")))
    assert direct.refused("evaluator", SubmitAssessment(i)) == "还有 1 项未考评（第 30 项），未能提交。"
    assert direct.state("U01") == "reviewing"


def test_the_democratic_evaluations_decisions_are_refused_when_they_cannot_apply(
    county: County, direct: Direct, cli
) -> None:
    _submitted(county)
    i = direct.inspection("U01")
    assert direct.refused("evaluator", CloseEvaluation(i, "参加人员已全部作答")) == (
        f"“{U01}”没有开展民主测评，无需结束；如确实无法开展，请发送“免除测评 原因”。"
    )
    assert direct.refused("evaluator", WaiveEvaluation(i, "不足")) == (
        "免除测评的原因至少 4 个字，如：免除测评 会员分散在外地务工，无法组织测评。"
    )
    assert direct.refused("evaluator", SavePaperTally(i, 10, 8, ((8, 0, 0),) * 8)) == (
        f"“{U01}”没有开展民主测评，无法录入纸质测评表。"
    )
    _open_evaluation(cli, "U01", paper=10)
    for no in range(1, VILLAGE.item_count + 1):
        direct.applied("evaluator", SaveAssessedScore(i, no, D("2")))
    refusal = direct.refused("evaluator", SubmitAssessment(i))
    assert refusal.startswith("还不能提交组织评定：\n· 考评方式未记录") and refusal.endswith(
        "· 民主测评仍在进行：测评结束后才能提交；如需提前结束，请发送“结束测评 原因”，"
        "如不计入测评结果，请发送“免除测评 原因”"
    )
    assert (
        direct.refused("evaluator", CloseEvaluation(i, " "))
        == "请写明原因，如：结束测评 参加人员已全部作答。"
    )
    assert direct.refused("evaluator", CloseEvaluation(i, "参加人员已全部作答")) == (
        "民主测评还没有收到任何答卷，不能结束：请等待参加人员作答，"
        "或录入收回的纸质测评表（录入测评 U01），或发送“免除测评 原因”。"
    )
    assert direct.refused("evaluator", SavePaperTally(i, 11, 8, ((8, 0, 0),) * 8)) == (
        "纸质测评表在开启测评时安排了 10 份，发放 11 份超出了，未能保存。"
    )
    inconsistent = [
        SavePaperTally(i, 8, 10, ((8, 0, 0),) * 8),  # more returned than handed out
        SavePaperTally(i, 10, 0, ((0, 0, 0),) * 8),  # none returned
        SavePaperTally(i, 10, 8, ((8, 0, 0),) * 7),  # a question short
        SavePaperTally(i, 10, 8, ((5, 4, 0),) * 8),  # more answers than forms
        SavePaperTally(i, 10, 8, ((9, -1, 0),) * 8),  # a negative count
    ]
    for command in inconsistent:
        assert direct.refused("evaluator", command) == "纸质测评表的份数不一致，未能保存，请重新录入。", (
            command
        )
    later = datetime.now(UTC) + timedelta(days=30)  # after the closing day
    assert (
        direct.refused("evaluator", CloseEvaluation(i, "参加人员已全部作答"), later)
        == "这次民主测评已经结束。"
    )
    direct.applied("evaluator", WaiveEvaluation(i, "参加人员不足"))
    for command in (CloseEvaluation(i, "参加人员已全部作答"), WaiveEvaluation(i, "再次免除")):
        assert direct.refused("evaluator", command) == "这次民主测评已免除。", command


# ---------------------------------------------------------------- ballots


def test_a_ballot_on_a_closed_evaluation(county: County, direct: Direct, cli) -> None:
    _open_evaluation(cli, "U01")
    e = direct.evaluation("U01")
    closes = direct.scalar(select(Evaluation.closes_at).where(Evaluation.id == e))
    after = as_utc(closes) + timedelta(minutes=1)
    assert direct.refused("member1", SaveBallotDraft(e, (1, 2)), after) == CLOSED
    assert direct.refused("member1", CastBallot(e, FULL_BALLOT, ""), after) == CLOSED
    direct.applied("member1", SaveBallotDraft(e, (1, 2)))  # before the closing time: kept
    assert direct.scalar(select(func.count()).select_from(BallotDraft)) == 1


def test_a_second_ballot_by_the_same_voter(county: County, direct: Direct, cli) -> None:
    _open_evaluation(cli, "U01")
    e = direct.evaluation("U01")
    member = county["member1"]
    assert "【1/9】" in member.say("测评")
    for _ in FULL_BALLOT:
        member.say("1")
    assert "感谢参与" in member.say("无")
    assert direct.refused("member1", CastBallot(e, FULL_BALLOT, "")) == VOTED
    assert direct.refused("member1", SaveBallotDraft(e, (2,))) == VOTED


def test_a_ballot_by_someone_not_invited_without_open_places(
    county: County, direct: Direct, cli, user: User
) -> None:
    _open_evaluation(cli, "U01", open_slots=0)
    e = direct.evaluation("U01")
    # Not invited (a stranger, another union's chair) or an assessor of the union: no place to vote on.
    for openid in ("stranger", "chair2", "evaluator"):
        assert direct.refused(openid, SaveBallotDraft(e, (1,))) == NOT_ELIGIBLE, openid
        assert direct.refused(openid, CastBallot(e, FULL_BALLOT, "")) == NOT_ELIGIBLE, openid
    # One open place: the first visitor takes it, the second finds it taken.
    _open_evaluation(cli, "U02", open_slots=1)
    e2 = direct.evaluation("U02")
    for openid in ("visitor-1", "visitor-2"):
        user(openid).say("帮助")
    direct.applied("visitor-1", CastBallot(e2, FULL_BALLOT, ""))
    assert direct.refused("visitor-2", SaveBallotDraft(e2, (1,))) == FULL
    assert direct.refused("visitor-2", CastBallot(e2, FULL_BALLOT, "")) == FULL


def test_incomplete_or_invalid_ballot_answers(county: County, direct: Direct, cli) -> None:
    _open_evaluation(cli, "U01")
    e = direct.evaluation("U01")
    for answers in (FULL_BALLOT[:-1], FULL_BALLOT + (1,), (), (4,) + FULL_BALLOT[1:], (0,) + FULL_BALLOT[1:]):
        assert direct.refused("member1", CastBallot(e, answers, "")) == INCOMPLETE, answers
    for answers in (FULL_BALLOT + (1,), (1, 5), (0,)):
        assert direct.refused("member1", SaveBallotDraft(e, answers)) == INCOMPLETE, answers
    assert direct.refused("member1", CastBallot(UNKNOWN, FULL_BALLOT, "")) == "没有找到这次民主测评。"
    assert direct.refused("member1", SaveBallotDraft(UNKNOWN, (1,))) == "没有找到这次民主测评。"
    direct.applied("member1", CastBallot(e, FULL_BALLOT, "无"))


# ---------------------------------------------------------------- the city's re-check (抽查)


def test_the_re_check_is_the_citys_and_only_of_a_drawn_inspection(
    county: County, direct: Direct, cli
) -> None:
    _rated(county)
    i = direct.inspection("U01")
    city_commands = [StartSampleCheck(i), SaveCityScore(i, 1, D("4")), SubmitSampleCheck(i)]
    for command in city_commands:
        assert direct.refused("city", command) == NOT_DRAWN.format(U01), command
    cli("sample", "--year", "2026", "--share", "1", "--seed", "3")
    for openid in ("evaluator", "other-evaluator", "chair1", "stranger"):
        for command in city_commands:
            assert direct.refused(openid, command) == CITY_ONLY, (openid, command)
    assert direct.refused("city", SubmitSampleCheck(i)) == "还有 30 项未抽查评分，未能提交。"
    assert direct.refused("city", SaveCityScore(i, 1, D("7"))) == (
        "本项分值为 5 分，请输入 0 到 5 分，可以是整数或半分（如 4 或 4.5）。"
    )
    city = county["city"]
    assert "【1/30】" in city.say("抽查 U01")
    for _ in range(VILLAGE.item_count):
        city.say("同")
    assert "抽查评定已提交" in city.say("提交")
    for command in city_commands:
        assert direct.refused("city", command) == NOT_DRAWN.format(U01), command


def test_a_re_check_waits_for_the_re_review_of_an_objection(
    county: County, direct: Direct, cli, db: Session
) -> None:
    """Through the webhook: the city's walk lets "提交" through; the Applier refuses it."""
    _published(county, cli)
    cli("sample", "--year", "2026", "--share", "1", "--seed", "3")
    assert "异议已收到" in county["member1"].say("异议 第1项换届情况与实际不符")
    city = county["city"]
    assert "【1/30】" in city.say("抽查 U01")
    for _ in range(VILLAGE.item_count):
        city.say("同")
    # A refused message still opens WeChat's customer-service window (accounts); nothing else changes.
    untouched = ("inbound_messages", "accounts")
    before = snapshot(direct.engine, skip=untouched)
    handled = direct.scalar(select(func.count()).select_from(InboundMessage))
    refusal = f"“{U01}”的结果有待复查的异议，请在复查完成后再提交抽查。"
    window = select(Account.last_message_at).where(Account.openid == city.openid)
    opened = direct.scalar(window)
    assert city.say("提交") == refusal
    assert snapshot(direct.engine, skip=untouched) == before
    assert direct.scalar(window) > opened
    assert direct.scalar(select(func.count()).select_from(InboundMessage)) == handled + 1
    assert city.reply_text(*city.again()) == refusal  # WeChat's retry: the same answer, nothing applied
    assert snapshot(direct.engine, skip=untouched) == before
    assert direct.scalar(select(SampledInspection.checked_at)) is None
    assert direct.state("U01") == "objected"


# ---------------------------------------------------------------- remediation (补课)


def test_remediation_refusals(county: County, direct: Direct, cli) -> None:
    _rated(county, 55)
    i = direct.inspection("U01")
    assert (
        direct.refused("chair1", ReportRemediation(i, "已建立职工书屋")) == "本单位没有需要补课的年检结果。"
    )
    assert (
        direct.refused("evaluator", CheckRemediation(i, True, "已实地察看")) == f"“{U01}”没有需要验收的补课。"
    )
    cli("results", "confirm", "--year", "2026", "--reason", "U02 本年度不参加年检")
    cli("publish", "--year", "2026")
    cli("tick", "--now", (datetime.now(UTC) + timedelta(days=8)).isoformat())
    assert direct.state("U01") == "final"
    for openid in ("chair1", "member1", "other-evaluator", "city", "stranger"):
        for passed in (True, False):
            assert direct.refused(openid, CheckRemediation(i, passed, "已实地察看")) == (
                "只有上级工会考评员可以验收补课。"
            ), openid
    for openid in ("member1", "chair2", "evaluator"):
        assert (
            direct.refused(openid, ReportRemediation(i, "已建立职工书屋"))
            == "只有本单位工会主席可以报告补课完成。"
        ), openid
    assert "已报告补课完成" in county["chair1"].say("补课完成 已建立职工书屋并补齐换届台账")
    assert "补课验收通过" in county["evaluator"].say("补课验收 U01 通过 已实地察看")
    assert direct.refused("chair1", ReportRemediation(i, "再次报告")) == "补课已通过验收，无需再次报告。"
    for passed in (True, False):
        assert (
            direct.refused("evaluator", CheckRemediation(i, passed, "再次验收"))
            == f"“{U01}”的补课已通过验收。"
        )


# ---------------------------------------------------------------- objections (异议) and the re-review


def test_objections_in_the_period_once_a_round_from_anyone_but_the_assessors(
    county: County, direct: Direct, cli
) -> None:
    _rated(county)
    i = direct.inspection("U01")
    assert direct.refused("member1", FileObjection(i, "第1项换届情况与实际不符")) == OUT_OF_PERIOD  # not yet
    cli("results", "confirm", "--year", "2026", "--reason", "U02 本年度不参加年检")
    cli("publish", "--year", "2026", "--days", "7")
    assert direct.refused("evaluator", FileObjection(i, "第1项换届情况与实际不符")) == (
        "您是该单位上级工会的考评员或管理员，由您复查评定，不能对其公示结果提出异议。"
    )
    assert "异议已收到" in county["member1"].say("异议 第1项换届情况与实际不符")
    assert direct.refused("member1", FileObjection(i, "再说一次")) == OBJECTED_ONCE
    for openid in ("chair2", "city", "stranger"):  # not bound to U01: the public
        direct.applied(openid, FileObjection(i, "第3项与实际不符"))
        assert direct.refused(openid, FileObjection(i, "再说一次")) == OBJECTED_ONCE
    sources = select(Objection.source).where(Objection.inspection_id == i).order_by(Objection.id)
    with direct.engine.connect() as conn:
        assert list(conn.scalars(sources)) == ["member", "public", "public", "public"]
    after = datetime.now(UTC) + timedelta(days=8)  # the publication period is over
    assert direct.refused("chair1", FileObjection(i, "第2项也有问题"), after) == OUT_OF_PERIOD
    direct.applied("chair1", FileObjection(i, "第2项也有问题"))  # within the period: the chair's own
    # The re-review: a changed score needs its reason; the refusal also undoes the re-review's start.
    assert direct.state("U01") == "objected"
    assert direct.refused("evaluator", SaveAssessedScore(i, 1, D("3"))) == "复查改分须说明原因。"
    assert direct.state("U01") == "objected"
    direct.applied("evaluator", SaveAssessedScore(i, 1, D("3"), "换届资料不全"))
    assert direct.state("U01") == "re_reviewing"


# ---------------------------------------------------------------- an inspection that does not exist


@pytest.mark.parametrize(
    ("openid", "command"),
    [
        ("chair1", StartSelfCheck(UNKNOWN)),
        ("chair1", SaveSelfScore(UNKNOWN, 1, D("5"))),
        ("chair1", AddEvidence(UNKNOWN, 1, "M1", "http://mmbiz.qpic.cn/1.jpg")),
        ("chair1", SubmitSelfCheck(UNKNOWN)),
        ("chair1", ReportRemediation(UNKNOWN, "已建立职工书屋")),
        ("member1", FileObjection(UNKNOWN, "第1项与实际不符")),
        ("evaluator", StartAssessment(UNKNOWN)),
        ("evaluator", SaveAssessedScore(UNKNOWN, 1, D("4"))),
        ("evaluator", SaveAssessmentRecord(UNKNOWN, opinion="台账齐全")),
        ("evaluator", SubmitAssessment(UNKNOWN)),
        ("evaluator", ReturnSelfCheck(UNKNOWN, "缺少佐证")),
        ("evaluator", StartReReview(UNKNOWN)),
        ("evaluator", SubmitReReview(UNKNOWN)),
        ("evaluator", CloseEvaluation(UNKNOWN, "参加人员已全部作答")),
        ("evaluator", WaiveEvaluation(UNKNOWN, "参加人员不足")),
        ("evaluator", SavePaperTally(UNKNOWN, 10, 8, ((8, 0, 0),) * 8)),
        ("evaluator", CheckRemediation(UNKNOWN, True, "已实地察看")),
        ("city", StartSampleCheck(UNKNOWN)),
        ("city", SaveCityScore(UNKNOWN, 1, D("4"))),
        ("city", SubmitSampleCheck(UNKNOWN)),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else value,
)
def test_an_unknown_inspection_is_refused(
    county: County, direct: Direct, openid: str, command: Command
) -> None:
    assert direct.refused(openid, command) == NOT_FOUND


# ---------------------------------------------------------------- a race, through the webhook


@pytest.fixture
def postgres_only(backend: Backend) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite has no row locks: SELECT … FOR UPDATE is what this race is about")


def _wait_for_a_lock_wait(conn, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the turn never waited for the inspection's row")


@pytest.fixture
def locker(backend: Backend) -> Iterator[Engine]:
    engine = create_engine(backend.database_url)
    yield engine
    engine.dispose()


def test_an_answer_that_waited_for_a_submission_is_refused(
    postgres_only: None, app: Flask, county: County, direct: Direct, locker: Engine
) -> None:
    """While the chair's answer waited for the inspection's row, a submission was committed: the turn
    reads the row it locked, sees the submission, and applies nothing."""
    chair = county["chair1"]
    assert "【1/30】" in chair.say("自评")
    assert "【2/30】" in chair.say("4")
    i = direct.inspection("U01")
    with locker.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("SELECT id FROM inspections WHERE id = :i FOR UPDATE"), {"i": i})
        replies: list[str] = []
        racer = Simulator(transport_for(app.test_client()), "chair1", TOKEN, APP_ID)
        params, body = racer.prepare_text("3")
        thread = threading.Thread(target=lambda: replies.append(racer.reply_text(*racer.send(params, body))))
        thread.start()
        _wait_for_a_lock_wait(conn)
        conn.execute(
            update(Inspection)
            .where(Inspection.id == i)
            .values(state="self_submitted", self_submitted_at=datetime.now(UTC))
        )
        # read inside: not yet committed; a refused message still opens WeChat's window (accounts)
        before = snapshot(direct.engine, skip=("inbound_messages", "accounts"))
        transaction.commit()
        thread.join(timeout=30)
    # The turn reads the inspection locked, so it waited and saw the submission: the self-check is
    # shown as locked (had the dialog let the answer through, the Applier would refuse it, as above).
    (refusal,) = replies
    assert refusal.startswith("您的自评已提交，答案已锁定") and "【2/30】" not in refusal
    after = snapshot(direct.engine, skip=("inbound_messages", "inspections", "accounts"))
    assert after == {name: rows for name, rows in before.items() if name != "inspections"}
    assert direct.scalar(select(func.count()).select_from(ItemScore).where(ItemScore.item_no == 2)) == 0
    assert direct.scalar(select(func.count()).select_from(Evidence)) == 0
    # The refusal is recorded: WeChat's retry of the same message gets it again, applies nothing.
    assert racer.reply_text(*racer.send(params, body)) == refusal
    assert direct.scalar(select(func.count()).select_from(ItemScore).where(ItemScore.item_no == 2)) == 0
    assert (
        direct.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "self_score"))
        == 0
    )


def test_the_applier_checks_the_row_it_locked_even_when_the_session_holds_it(
    county: County, direct: Direct, app: Flask
) -> None:
    chair = county["chair1"]
    chair.say("自评")
    chair.say("4")
    i = direct.inspection("U01")
    sessions = app.extensions["nianjian.sessions"]
    with pytest.raises(Refused) as caught, sessions.begin() as session:
        account = session.scalar(select(Account).where(Account.openid == "chair1"))
        assert account is not None
        held = session.get(Inspection, i)  # as the turn's context read it
        assert held is not None and held.state == "self_checking"
        with direct.engine.begin() as other:  # meanwhile, another turn submits
            other.execute(update(Inspection).where(Inspection.id == i).values(state="self_submitted"))
        Applier(
            session,
            account,
            app.extensions["nianjian.config"],
            datetime.now(UTC),
            app.extensions["nianjian.counter"],
        ).apply(SaveSelfScore(i, 2, D("3")))
    assert caught.value.message == LOCKED.format("")

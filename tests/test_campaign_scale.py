"""Campaign work is set-based: every operation runs the same number of SQL statements for a small and a
larger campaign (3 and 40 unions, 2 and 12 bound members each) — counts, never times (the times are
the benchmark's, tests/bench/bench_campaign.py). And the listing's figures agree with the per-union
functions it replaced."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import campaigns, results
from chatbot.inspection.evaluations import figures, voter_hash
from chatbot.inspection.listing import result_rows
from chatbot.notify import reminders
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import (
    Account,
    AuditEntry,
    Ballot,
    Campaign,
    CountyReport,
    Evaluation,
    EvaluationParticipant,
    EvaluationVoter,
    Inspection,
    ItemScore,
    Objection,
    Organisation,
    OutboxMessage,
    Remediation,
    RoleBinding,
)
from chatbot.timeutil import SHANGHAI, end_of_day
from rubrics import get_rubric
from rubrics.lifecycle import InspectionState
from tests.conftest import Backend, make_config, reset_postgres
from tests.helpers import deductions
from tests.statements import counting

S = InspectionState
VILLAGE = get_rubric("village")
#: Scores cycled over the unions: five stars (ties at the cut-off too), below the standard, the rest.
SCORES = (95, 50, 85, 92, 61, 95, 78, 45, 99)
COUNTIES = ("YZ", "XJ", "GY")  # union n belongs to COUNTIES[n % 3]; GY: a city-direct union
SIZES = ((3, 2), (40, 12))  # (unions, bound members of each)


@dataclass
class World:
    """A city of ``unions`` village unions in two counties and the city-direct group, with bound chairs,
    members, evaluators and admins, in a fresh database."""

    backend: Backend
    tmp_path: Path
    cli: Any
    unions: int
    members: int
    engine: Engine = field(init=False)
    config: Config = field(init=False)

    def __post_init__(self) -> None:
        if self.backend.name == "sqlite":
            path = Path(self.backend.database_url.removeprefix("sqlite:///"))
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
        else:
            reset_postgres(self.backend.database_url)
        self.config = make_config(self.backend, self.tmp_path, FIVE_STAR_QUOTA_SCOPE="county")
        self.engine = make_engine(self.backend.database_url)
        migrate(self.engine)

    def session(self) -> Session:
        return session_factory(self.engine)()

    def counted(self, *args: str) -> int:
        """The statements of one CLI command."""
        with counting() as counter:
            self.cli(*args)
        return counter.count

    def codes(self) -> list[str]:
        return [f"U{n:03d}" for n in range(1, self.unions + 1)]

    def import_orgs(self) -> None:
        """The city through `nianjian org import`, as the federations load it."""
        lines = [
            "code,name,rubric,parent,members",
            "GY,固原市总工会,,,",
            "YZ,原州区总工会,,GY,",
            "XJ,西吉县总工会,,GY,",
        ]
        lines += [
            f"{code},第{n}社区工会,village,{COUNTIES[n % 3]},{20 if n % 2 else 40}"
            for n, code in enumerate(self.codes(), start=1)
        ]
        path = self.tmp_path / f"orgs-{self.unions}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.cli("org", "import", str(path))

    def bind(self) -> None:
        """Accounts bound as chairs and members of every union, evaluators and admins of every county
        and of the city (directly: bindings come from WeChat)."""
        with self.session() as db, db.begin():
            orgs = dict(db.execute(select(Organisation.code, Organisation.id)).all())
            people: list[tuple[str, str, str]] = []
            for code in self.codes():
                people.append((f"chair-{code}", code, "chair"))
                people += [(f"member-{code}-{k}", code, "member") for k in range(self.members)]
            for code in ("GY", *COUNTIES[:2]):
                people += [(f"evaluator-{code}", code, "evaluator"), (f"admin-{code}", code, "admin")]
                people.append((f"committee-{code}", code, "member"))
            for openid, code, role in people:
                account = Account(openid=openid)
                db.add(account)
                db.flush()
                db.add(RoleBinding(account_id=account.id, organisation_id=orgs[code], role=role))

    def rate_all(self, now: datetime) -> None:
        """Every union self-checked at full marks and assessed to its score; every other one with a
        democratic evaluation (ballots, paper forms, an evaluator among the invited); then rated
        through results.rate."""
        with self.session() as db, db.begin():
            inspections = db.scalars(select(Inspection).order_by(Inspection.id)).all()
            for inspection in inspections:
                n = int(inspection.organisation.code.removeprefix("U"))
                assessed = deductions(100 - SCORES[n % len(SCORES)])
                for item in VILLAGE.items:
                    db.add(
                        ItemScore(
                            inspection_id=inspection.id,
                            item_no=item.no,
                            self_score=item.points,
                            assessed_score=assessed.get(item.no, str(item.points)),
                        )
                    )
                if n % 2:
                    self._evaluation(db, inspection, n, now)
                inspection.state = S.RATED.value
                db.flush()
                results.rate(db, inspection, self.config, now)

    def _evaluation(self, db: Session, inspection: Inspection, n: int, now: datetime) -> None:
        org = inspection.organisation
        evaluation = Evaluation(
            inspection_id=inspection.id,
            code=f"EV{inspection.id}",
            opened_at=now - timedelta(days=8),
            closes_at=now - timedelta(days=1),
            open_slots=n % 3,
            all_members=org.member_count if (org.member_count or 0) <= 25 else None,
            paper_distributed=10 if n % 4 == 1 else 0,
            paper_returned=8 if n % 4 == 1 else 0,
            paper_counts=[[5, 2, 1]] * (len(VILLAGE.dimensions) + 2) if n % 4 == 1 else None,
        )
        db.add(evaluation)
        db.flush()
        invited = db.execute(
            select(RoleBinding.account_id, RoleBinding.organisation_id).where(
                RoleBinding.organisation_id.in_([org.id, org.parent_id]),
                RoleBinding.role.in_(("member", "evaluator")),
            )
        ).all()
        # The parent's evaluator too (open_evaluation never invites one): in the electorate fixed at
        # the opening, never a voter.
        for account_id, org_id in invited:
            source = "member" if org_id == org.id else "committee"
            db.add(EvaluationParticipant(evaluation_id=evaluation.id, account_id=account_id, source=source))
        for k in range(min(self.members, 3)):
            answers = [1 + (k + d) % 3 for d in range(len(VILLAGE.dimensions) + 2)]
            db.add(Ballot(id=f"b{inspection.id}-{k}", evaluation_id=evaluation.id, answers=answers))


@pytest.fixture
def worlds(backend: Backend, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("FIVE_STAR_QUOTA_SCOPE", "county")
    made: list[World] = []

    def make(unions: int, members: int) -> World:
        for old in made:
            old.engine.dispose()
        made.append(World(backend, tmp_path, cli, unions, members))
        return made[-1]

    yield make
    for world in made:
        world.engine.dispose()


def _same(counts: dict[int, dict[str, int]]) -> None:
    small, large = counts.values()
    print(f"statements: {small}")  # shown with -s
    assert small == large, f"statements grow with the unions: {small} vs {large}"


def test_a_campaign_runs_the_same_statements_for_3_and_40_unions(worlds) -> None:
    counts: dict[int, dict[str, int]] = {}
    for unions, members in SIZES:
        world = worlds(unions, members)
        counts[unions] = _campaign(world, unions, members)
    _same(counts)


def _campaign(world: World, unions: int, members: int) -> dict[str, int]:
    today = datetime.now(SHANGHAI).date()
    count: dict[str, int] = {}
    world.import_orgs()
    world.bind()
    due = (today + timedelta(days=7)).isoformat()
    count["campaign open"] = world.counted(
        "campaign", "open", "2026", "--self-check-due", due, "--review-due", due
    )
    with world.session() as db:
        assert db.scalar(select(func.count()).select_from(Inspection)) == unions
    count["tick (self-check reminders)"] = world.counted("tick", "--now", f"{today.isoformat()}T09:00")
    with world.session() as db:
        assert _queued(db, "self_check_due") == unions
    world.rate_all(datetime.now(UTC))
    count["results confirm"] = world.counted("results", "confirm", "--year", "2026")
    count["results"] = world.counted("results", "--year", "2026", "--csv")
    count["export results"] = world.counted(
        "export", "results", "--year", "2026", "--out", str(world.tmp_path / f"results-{unions}.xlsx")
    )
    count["coverage"] = world.counted("coverage", "--year", "2026")
    count["publish"] = world.counted("publish", "--year", "2026")
    with world.session() as db:
        published = db.scalar(
            select(func.count()).select_from(Inspection).where(Inspection.state == "published")
        )
        assert published and _queued(db, "result_published") == published * (1 + members)
    later = datetime.now(SHANGHAI) + timedelta(days=8)
    count["tick (finalise)"] = world.counted("tick", "--now", later.strftime("%Y-%m-%dT%H:%M"))
    with world.session() as db:
        assert (
            db.scalar(select(func.count()).select_from(Inspection).where(Inspection.state == "final"))
            == published
        )
        assert db.scalar(select(func.count()).select_from(Remediation))
        assert _queued(db, "result_final") == published
    return count


def _queued(db: Session, kind: str) -> int:
    return db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)) or 0


def test_the_functions_behind_the_commands_run_the_same_statements_for_3_and_40_unions(worlds) -> None:
    counts: dict[int, dict[str, int]] = {}
    for unions, members in SIZES:
        world = worlds(unions, members)
        world.import_orgs()
        world.bind()
        count: dict[str, int] = {}
        now = datetime.now(UTC)
        with world.session() as db, db.begin():
            with counting() as counter:
                campaigns.open_year(db, 2026)
            count["open_year"] = counter.count
        world.rate_all(now)
        config = world.config
        with world.session() as db, db.begin():
            campaign = campaigns.campaign_of_year(db, 2026)
            steps: dict[str, tuple[Any, tuple[Any, ...]]] = {
                "scope_statuses": (results.scope_statuses, (db, campaign, config)),
                "provisional_ids": (results.provisional_ids, (db, campaign, config)),
                "recompute": (results.recompute, (db, campaign, config, now, results.Cause.CONFIRMATION)),
                "recompute again": (
                    results.recompute,
                    (db, campaign, config, now, results.Cause.CONFIRMATION),
                ),
                "result_rows": (result_rows, (db, campaign, config)),
                "publish": (results.publish, (db, campaign, config, now, 7)),
                "finalise_due": (results.finalise_due, (db, config, now + timedelta(days=8))),
            }
            for name, (function, args) in steps.items():
                with counting() as counter:
                    function(*args)
                count[name] = counter.count
        counts[unions] = count
    _same(counts)


def test_one_union_is_published_in_the_same_statements_whatever_its_members(worlds) -> None:
    counts: dict[int, dict[str, int]] = {}
    for unions, members in SIZES:
        world = worlds(unions, members)
        world.import_orgs()
        world.bind()
        world.cli("campaign", "open", "2026")
        now = datetime.now(UTC)
        world.rate_all(now)
        with world.session() as db, db.begin():
            campaign = campaigns.campaign_of_year(db, 2026)
            results.confirm_scope(db, campaign, world.config, None, "test", "全部已评定", now)
            inspection = db.scalars(
                select(Inspection).where(Inspection.stars < 5).order_by(Inspection.id)
            ).first()
            assert inspection is not None
            with counting() as counter:
                results.recompute(
                    db,
                    campaign,
                    world.config,
                    now,
                    results.Cause.RE_REVIEW,
                    only={inspection.id},
                    publishing=frozenset({inspection.id}),
                )
                results.open_publication(db, inspection, now, 7, "test")
            assert _queued(db, "result_published") == 1 + members
        counts[unions] = {"recompute + open_publication": counter.count}
    _same(counts)


def test_a_scoped_campaign_opens_in_the_same_statements_for_3_and_40_unions(worlds) -> None:
    counts: dict[int, dict[str, int]] = {}
    for unions, members in SIZES:
        world = worlds(unions, members)
        world.import_orgs()
        listing = world.tmp_path / f"scope-{unions}.txt"
        listing.write_text("\n".join(world.codes()[::2]) + "\n", encoding="utf-8")
        counts[unions] = {
            "campaign open --share": world.counted(
                "campaign", "open", "2026", "--share", "0.5", "--seed", "7"
            ),
            "campaign open --scope-file": world.counted(
                "campaign", "open", "2026", "--scope-file", str(listing)
            ),
        }
        with world.session() as db:
            assert db.scalar(select(func.count()).select_from(Inspection)) == len(world.codes()[::2])
    _same(counts)


# ---------------------------------------------------------------- the reminders


#: The reminders' instant, and the deadlines that fall due then (T-7, T-3, T-1, T-14, overdue).
TICK = datetime(2027, 1, 10, 9, 0, tzinfo=SHANGHAI)
DUE = date(2027, 1, 17)


def test_every_reminder_is_selected_and_queued_in_the_same_statements_for_6_and_40_unions(worlds) -> None:
    counts: dict[int, dict[str, int]] = {}
    queued: dict[int, dict[str, int]] = {}
    for unions, members in ((6, 2), (40, 12)):
        world = worlds(unions, members)
        world.import_orgs()
        world.bind()
        _every_stage(world)
        with world.session() as db, db.begin():
            with counting() as counter:
                new = reminders.enqueue_due(db, world.config, TICK.astimezone(UTC))
            counts[unions] = {"enqueue_due": counter.count}
            kinds = dict(
                db.execute(select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)).all()
            )
            assert new == sum(kinds.values())
            queued[unions] = kinds
        with world.session() as db, db.begin():
            assert reminders.enqueue_due(db, world.config, TICK.astimezone(UTC)) == 0  # once per offset
    _same(counts)
    expected = {
        "self_check_due",
        "review_due",
        "evaluation_closing",
        "re_review_due",
        "re_review_overdue",
        "remediation_due",
        "report_due",
        "coverage_warning",
    }
    assert set(queued[6]) == set(queued[40]) == expected
    assert queued[40]["self_check_due"] > queued[6]["self_check_due"]


def _every_stage(world: World) -> None:
    """Unions at every stage a reminder is about, in turn: not submitted, waiting for the evaluator, an
    evaluation closing tomorrow (one member voted), an objection due for re-review in 3 days, one
    overdue, a remediation due in 14 days."""
    world.cli(
        "campaign", "open", "2026", "--self-check-due", DUE.isoformat(), "--review-due", DUE.isoformat()
    )
    world.cli("campaign", "open", "2026", "--report-due", DUE.strftime("%m-%d"))
    with world.session() as db, db.begin():
        campaign = db.scalar(select(Campaign))
        assert campaign is not None and campaign.year == 2026
        inspections = db.scalars(select(Inspection).order_by(Inspection.id)).all()
        accounts = dict(db.execute(select(Account.openid, Account.id)).all())
        for n, inspection in enumerate(inspections):
            stage = n % 6
            code = inspection.organisation.code
            if stage == 0 and n % 12 == 0:
                db.add(ItemScore(inspection_id=inspection.id, item_no=1, self_score=5))
            elif stage == 1:
                inspection.state = S.SELF_SUBMITTED.value
            elif stage == 2:
                inspection.state = S.SELF_SUBMITTED.value
                evaluation = Evaluation(
                    inspection_id=inspection.id,
                    code=f"EV{inspection.id}",
                    closes_at=end_of_day(date(2027, 1, 11)),
                )
                db.add(evaluation)
                db.flush()
                for k in range(world.members):
                    account = accounts[f"member-{code}-{k}"]
                    db.add(
                        EvaluationParticipant(
                            evaluation_id=evaluation.id, account_id=account, source="member"
                        )
                    )
                voter = voter_hash(world.config.secret_key, evaluation.id, f"member-{code}-0")
                db.add(EvaluationVoter(evaluation_id=evaluation.id, voter_hash=voter))
            elif stage in (3, 4):
                inspection.state = S.OBJECTED.value
                inspection.publication_round = 1
                days = 3 if stage == 3 else -1
                inspection.re_review_due_at = TICK.astimezone(UTC) + timedelta(days=days)
                db.add(
                    Objection(
                        inspection_id=inspection.id,
                        publication_round=1,
                        account_id=accounts[f"member-{code}-0"],
                        text="异议",
                    )
                )
            elif stage == 5:
                inspection.state = S.FINAL.value
                db.flush()
                db.add(Remediation(inspection_id=inspection.id, due_on=date(2027, 1, 24), status="open"))
        county = db.scalar(select(Organisation).where(Organisation.code == "XJ"))
        assert county is not None
        db.add(CountyReport(campaign_id=campaign.id, organisation_id=county.id, electronic_received_at=TICK))


# ---------------------------------------------------------------- the listing's figures


def test_the_listing_shows_what_the_per_union_functions_compute(worlds) -> None:
    world = worlds(12, 4)
    world.import_orgs()
    world.bind()
    world.cli("campaign", "open", "2026")
    now = datetime.now(UTC)
    world.rate_all(now)
    with world.session() as db:
        campaign = campaigns.campaign_of_year(db, 2026)
        rows = {row["code"]: row for row in result_rows(db, campaign, world.config)}
        inspections = db.scalars(select(Inspection)).all()
        assert len(rows) == len(inspections) == 12
        shown = 0
        for inspection in inspections:
            row = rows[inspection.organisation.code]
            democratic = figures(db, inspection, now)
            if democratic is None:
                assert row["democratic_score"] == row["turnout"] == ""
                continue
            shown += 1
            assert democratic.score is not None and democratic.turnout is not None
            assert row["democratic_score"] == f"{democratic.score.normalize():f}"
            assert row["turnout"] == f"{democratic.turnout.normalize():f}%"
            assert row["assessed_score"] == f"{inspection.score.normalize():f}"
            assert row["self_score"] == "100"
        assert shown == 6
        evaluator = db.scalar(select(Account.id).where(Account.openid == "evaluator-YZ"))
        assert db.scalar(
            select(func.count())
            .select_from(EvaluationParticipant)
            .where(EvaluationParticipant.account_id == evaluator)
        ), "an evaluator is among the invited: counted alike by both"
        assert db.scalar(select(func.count()).select_from(AuditEntry))

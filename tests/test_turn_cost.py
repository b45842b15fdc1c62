"""What an answering turn costs the database: at most five SQL statements and one commit, for each kind
of answer — a chair's self-check item, a member's ballot question, an evaluator's assessment item —
with the answer stored by the time the reply is back. Counted through the signed webhook, on each
backend (the benchmark `tests/bench/turn_cost.py` prints the same figures with CPU time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from chatbot.inspection import evaluations
from chatbot.store.models import BallotDraft, Inspection, ItemScore, Organisation
from tests.helpers import VILLAGE, self_check, setup_county
from tests.statements import StatementCounter

MAX_STATEMENTS = 5


@contextmanager
def turn_cost() -> Iterator[tuple[StatementCounter, list[int]]]:
    """The statements and commits of every engine while the block runs."""
    counter = StatementCounter()
    commits: list[int] = []

    def committed(_conn: object) -> None:
        commits.append(1)

    event.listen(Engine, "before_cursor_execute", counter)
    event.listen(Engine, "commit", committed)
    try:
        yield counter, commits
    finally:
        event.remove(Engine, "before_cursor_execute", counter)
        event.remove(Engine, "commit", committed)


def scores_of(db: Session, code: str) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    db.expire_all()
    rows = db.execute(
        select(ItemScore.item_no, ItemScore.self_score, ItemScore.assessed_score)
        .join(Inspection, ItemScore.inspection_id == Inspection.id)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Organisation.code == code)
    )
    return {no: (own, assessed) for no, own, assessed in rows}


def test_a_self_check_answer_is_five_statements_and_one_commit(db, user):
    codes = setup_county(db, 1)
    chair = user("cost-chair")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    chair.say("满分")  # the first answer warms the process's caches
    with turn_cost() as (counter, commits):
        reply = chair.say("2.5")
    assert counter.count <= MAX_STATEMENTS, str(counter)
    assert len(commits) == 1
    assert "【3/30】" in reply, reply
    assert scores_of(db, "U01")[2] == (Decimal("2.5"), None)


def test_a_ballot_answer_is_five_statements_and_one_commit(db, user):
    codes = setup_county(db, 1)
    member = user("cost-member")
    member.say(f"绑定 {codes['member1']}")
    with db.begin():
        evaluations.open_evaluation(db, "U01", None, 0, datetime.now(UTC))
    member.say("测评")
    member.say("1")
    with turn_cost() as (counter, commits):
        member.say("2")
    assert counter.count <= MAX_STATEMENTS, str(counter)
    assert len(commits) == 1
    db.expire_all()
    assert [list(draft.answers) for draft in db.scalars(select(BallotDraft))] == [[1, 2]]


def test_an_assessment_answer_is_five_statements_and_one_commit(db, user):
    codes = setup_county(db, 1)
    self_check(user("cost-chair"), codes["chair1"])
    evaluator = user("cost-evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    evaluator.say("考评 U01")
    evaluator.say("同")
    with turn_cost() as (counter, commits):
        reply = evaluator.say("4")
    assert counter.count <= MAX_STATEMENTS, str(counter)
    assert len(commits) == 1
    assert "【3/30】" in reply, reply
    full = VILLAGE.items[1].points
    assert scores_of(db, "U01")[2] == (Decimal(full), Decimal(4))


@contextmanager
def objects_loaded() -> Iterator[list[str]]:
    """The inspections and item scores built as ORM objects while the block runs."""
    loaded: list[str] = []

    def load(target: object, _context: object) -> None:
        loaded.append(type(target).__name__)

    for model in (Inspection, ItemScore):
        event.listen(model, "load", load)
    try:
        yield loaded
    finally:
        for model in (Inspection, ItemScore):
            event.remove(model, "load", load)


def test_a_self_check_answer_builds_no_inspection_or_score_objects(db, user):
    """The chair's inspection is read as Core rows and the score saved by one upsert (issue 23)."""
    codes = setup_county(db, 1)
    chair = user("rows-chair")
    chair.say(f"绑定 {codes['chair1']}")
    chair.say("自评")
    chair.say("满分")  # the first answer starts the self-check (a state change, through the ORM)
    with objects_loaded() as loaded:
        reply = chair.say("2.5")
    assert loaded == []
    assert "【3/30】" in reply, reply
    assert scores_of(db, "U01")[2] == (Decimal("2.5"), None)


def test_an_assessment_answer_builds_no_inspection_or_score_objects(db, user):
    codes = setup_county(db, 1)
    self_check(user("rows-chair"), codes["chair1"])
    evaluator = user("rows-evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    evaluator.say("考评 U01")
    evaluator.say("同")  # the first answer starts the assessment (through the ORM)
    with objects_loaded() as loaded:
        reply = evaluator.say("4")
    assert loaded == []
    assert "【3/30】" in reply, reply
    assert scores_of(db, "U01")[2][1] == Decimal(4)

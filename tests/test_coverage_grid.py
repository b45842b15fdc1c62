"""Issue 20, points 8 and 9: a yearly share drawn toward the cumulative target, and 网格化 responsibility
— each county's plan for the year, one responsible person per union, the unions with nobody and each
person's progress, and the overdue steps told to the responsible person once. Through the CLI, the
console (Flask's test client) and the reminders' tick, on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.config import Config
from chatbot.inspection import assessment, organisations, selfcheck
from chatbot.store.models import Account, Campaign, Inspection, Organisation, RoleBinding
from rubrics import get_rubric
from tests.helpers import deductions

VILLAGE = get_rubric("village")
#: Three counties of different sizes and the city-direct unions: (code, name, unions).
COUNTIES = (("YZ", "原州区总工会", 10), ("XJ", "西吉县总工会", 7), ("LD", "隆德县总工会", 13))
CITY_DIRECT = 4


def _city(db: Session) -> None:
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        for code, name, unions in COUNTIES:
            organisations.add_org(db, organisations.OrgRow(code, name, parent="GY"))
            for n in range(1, unions + 1):
                organisations.add_org(
                    db, organisations.OrgRow(f"{code}-{n:02d}", f"{name[:2]}第{n}社区工会", "village", code)
                )
        for n in range(1, CITY_DIRECT + 1):
            organisations.add_org(
                db, organisations.OrgRow(f"GY-{n:02d}", f"市直第{n}单位工会", "agency", "GY")
            )


def _evaluator(db: Session, org_code: str, openid: str) -> int:
    """A WeChat account bound as an evaluator of ``org_code``; its account id."""
    org = db.scalar(select(Organisation).where(Organisation.code == org_code))
    assert org is not None
    account = db.scalar(select(Account).where(Account.openid == openid))
    if account is None:
        account = Account(openid=openid)
        db.add(account)
        db.flush()
    db.add(RoleBinding(account_id=account.id, organisation_id=org.id, role="evaluator"))
    db.flush()
    return account.id


def _rate_all(db: Session, config: Config, year: int) -> set[str]:
    """Self-check and assess every inspection of the year (the domain functions the chat calls); the
    codes rated."""
    now = datetime.now(UTC)
    rated = set()
    with db.begin():
        evaluators: dict[int, int] = {}
        inspections = db.scalars(
            select(Inspection).join(Campaign).where(Campaign.year == year).order_by(Inspection.id)
        ).all()
        for inspection in inspections:
            org = inspection.organisation
            parent = org.parent_id
            assert parent is not None
            if parent not in evaluators:
                parent_code = db.get(Organisation, parent).code  # type: ignore[union-attr]
                evaluators[parent] = _evaluator(db, parent_code, f"rater-{parent_code}-{year}")
            rubric = get_rubric(inspection.rubric_key)
            for item in rubric.items:
                selfcheck.save_score(db, inspection, item.no, Decimal(item.points), "test")
            selfcheck.submit(db, inspection, "test", now)
            taken = deductions(15) if rubric.key == "village" else {}
            for item in rubric.items:
                score = Decimal(taken.get(item.no, str(item.points)))
                assessment.save_score(db, inspection, item.no, score, "", evaluators[parent], "test")
            assessment.submit(db, inspection, config, "test", now)
            rated.add(org.code)
    return rated


def _scope(db: Session, year: int) -> set[str]:
    codes = set(
        db.scalars(
            select(Organisation.code)
            .join(Inspection, Inspection.organisation_id == Organisation.id)
            .join(Campaign)
            .where(Campaign.year == year)
        )
    )
    db.rollback()
    return codes


def _coverage(cli: Callable[..., str], year: int) -> dict[str, dict[str, str]]:
    lines = cli("coverage", "--year", str(year), "--csv").splitlines()
    header = lines[0].split(",")
    return {row.split(",")[0]: dict(zip(header, row.split(","), strict=True)) for row in lines[1:]}


# ---------------------------------------------------------------- 8 the draw toward the cumulative target


def test_a_yearly_share_draws_the_unions_never_rated_first(app: Flask, db: Session, cli) -> None:
    config = app.extensions["nianjian.config"]
    _city(db)
    out = cli("campaign", "open", "2023", "--share", "0.3", "--seed", "7")
    assert "随机种子 7" in out
    first = _rate_all(db, config, 2023)
    assert len(first) == 3 + 3 + 4 + 2  # 30 % of 10, 7, 13 and 4, each rounded up
    # 2024: the other 40 % — drawn from the unions not yet rated, so every county reaches 70 %.
    out = cli("campaign", "open", "2024", "--share", "0.4", "--seed", "7")
    assert "从未评定过的单位优先" in out and "本次 15 个未评定过、0 个往年已评定" in out, out
    drawn = _scope(db, 2024)
    assert not drawn & first
    again = cli("campaign", "open", "2024", "--share", "0.4", "--seed", "7")  # the same seed, the same draw
    assert _scope(db, 2024) == drawn and "随机种子 7" in again
    _rate_all(db, config, 2024)
    rows = _coverage(cli, 2024)
    for code in ("YZ", "XJ", "LD", "GY"):
        assert rows[code]["target"] == "70%" and rows[code]["on_target"] == "yes", rows[code]
    assert rows["YZ"]["cumulative"] == "70%" and rows["YZ"]["ever_rated"] == "7"
    # 2025 (a share above what is left): every union never rated is drawn, then some rated before.
    out = cli("campaign", "open", "2025", "--share", "0.9", "--seed", "3")
    left = {code for code in _all_codes(db)} - first - drawn
    assert left <= _scope(db, 2025)
    assert f"本次 {len(left)} 个未评定过" in out


def _all_codes(db: Session) -> set[str]:
    codes = set(db.scalars(select(Organisation.code).where(Organisation.rubric_key.is_not(None))))
    db.rollback()
    return codes

"""Personal data (个人信息保护法, issue 14 point 8): phones encrypted at rest and found by a keyed hash,
evaluations sealed once closed, a person removed on request, personal data purged after retention —
through the CLI and the webhook, on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from chatbot.config import Config, ConfigError
from chatbot.inspection import evaluations
from chatbot.inspection.evaluations import voter_hash
from chatbot.inspection.privacy import PURGED_OBJECTION, REMOVED_PREFIX, seal_due
from chatbot.store.engine import make_engine, migrate
from chatbot.store.models import (
    Account,
    AuditEntry,
    Ballot,
    BallotDraft,
    Campaign,
    Evaluation,
    EvaluationParticipant,
    EvaluationVoter,
    InboundMessage,
    Inspection,
    Member,
    Objection,
    Organisation,
    OutboxMessage,
    RoleBinding,
)
from chatbot.store.personal import KeyedSha256, PersonalDataKey, mask_phone, normalise_phone
from chatbot.timeutil import SHANGHAI
from tests.conftest import Backend
from tests.helpers import self_check, setup_county

KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
SECRET = "test-secret"  # the conftest's SECRET_KEY: voters' dedup tokens are keyed with it
VILLAGE_ANSWERS = 8  # six dimensions, overall, trust


@pytest.fixture
def keyed(cli, monkeypatch: pytest.MonkeyPatch):
    """The CLI with a PERSONAL_DATA_KEY of the test's own."""
    monkeypatch.setenv("PERSONAL_DATA_KEY", KEY)
    return cli


def roll_file(tmp_path: Path, rows: list[tuple[str, str, str]], name: str = "roll.csv") -> Path:
    path = tmp_path / name
    path.write_text("name,phone,organisation\n" + "".join(f"{n},{p},{o}\n" for n, p, o in rows), "utf-8")
    return path


# ---------------------------------------------------------------- encryption at rest


def test_phones_are_encrypted_at_rest_found_by_keyed_hash_and_shown_masked(
    keyed, db: Session, tmp_path: Path
) -> None:
    setup_county(db, 2)
    rows = [("张三", "13812345678", "U01"), ("李四", "139 8765 4321", "U01"), ("张三", "13812345678", "U02")]
    assert "已导入 3 名会员" in keyed("member", "import", str(roll_file(tmp_path, rows)))
    stored = db.execute(select(Member.name, Member.phone_cipher, Member.phone_hash)).all()
    db.rollback()
    assert len(stored) == 3
    columns = {c["name"] for c in db.connection().dialect.get_columns(db.connection(), "members")}
    assert "phone" not in columns  # no plaintext column left
    for _name, cipher, digest in stored:
        assert "1381234" not in cipher and "13987654321" not in cipher and len(digest) == 64
    key = PersonalDataKey(KEY)
    assert {key.decrypt(c) for _n, c, _d in stored} == {"13812345678", "13987654321"}
    # The same number in two rolls: equal hashes, different ciphertexts (a fresh IV each).
    zhang = [(c, d) for n, c, d in stored if n == "张三"]
    assert zhang[0][1] == zhang[1][1] and zhang[0][0] != zhang[1][0]

    listed = keyed("member", "list", "--org", "U01")
    assert "138****5678" in listed and "139****4321" in listed and "13812345678" not in listed
    assert "13987654321" in keyed("member", "list", "--org", "U01", "--reveal")

    # Importing the roll again refreshes it: nobody is added twice.
    again = keyed("member", "import", str(roll_file(tmp_path, [("张三丰", "138-1234-5678", "U01")], "b.csv")))
    assert "已导入 0 名会员；1 名已在名册中，信息已更新" in again
    assert db.scalar(select(func.count()).select_from(Member)) == 3
    assert db.scalar(select(Member.name).where(Member.phone_hash == key.phone_hash("13812345678")).limit(1))
    db.rollback()
    # One number twice in one organisation of one file: refused with both lines, nothing imported.
    twice = roll_file(tmp_path, [("王五", "13700000001", "U01"), ("王六", "13700000001", "U01")], "c.csv")
    refused = keyed.refused("member", "import", str(twice))
    assert "137****0001" in refused and "第 2 行" in refused and "13700000001" not in refused


def test_another_key_cannot_read_the_phones(keyed, db: Session, tmp_path: Path, monkeypatch) -> None:
    setup_county(db, 1)
    keyed("member", "import", str(roll_file(tmp_path, [("张三", "13812345678", "U01")])))
    monkeypatch.setenv("PERSONAL_DATA_KEY", base64.urlsafe_b64encode(b"x" * 32).decode())
    assert "无法解密个人信息" in keyed.refused("member", "list", "--org", "U01")


def test_the_key_comes_from_the_environment_and_production_requires_it(tmp_path: Path) -> None:
    base = {"NIANJIAN_INSTANCE": str(tmp_path)}
    generated = Config.from_env(base).personal_data_key  # development: generated once, kept
    assert Config.from_env(base).personal_data_key == generated
    assert (tmp_path / "personal_data_key").stat().st_mode & 0o777 == 0o600
    assert Config.from_env(base | {"PERSONAL_DATA_KEY": KEY}).personal_data_key == KEY
    with pytest.raises(ConfigError, match="必须设置 PERSONAL_DATA_KEY"):
        Config.from_env(base | {"NIANJIAN_ENV": "production"})
    for bad in ("short", base64.urlsafe_b64encode(b"k" * 16).decode(), "不是密钥"):
        with pytest.raises(ConfigError, match="PERSONAL_DATA_KEY"):
            Config.from_env(base | {"PERSONAL_DATA_KEY": bad})
    production = {"NIANJIAN_ENV": "production", "PERSONAL_DATA_KEY": KEY, "WECHAT_ALLOW_PLAINTEXT": "1"}
    assert Config.from_env(base | production)


def test_keygen_prints_a_usable_key(cli) -> None:
    key = cli("privacy", "keygen").strip()
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert PersonalDataKey(key).decrypt(PersonalDataKey(key).encrypt("13812345678")) == "13812345678"


def test_migration_0010_encrypts_the_phones_already_stored(
    backend: Backend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PERSONAL_DATA_KEY", KEY)
    engine = make_engine(backend.database_url)
    migrate(engine, "0009")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'GY', '市总', :t)"),
            {"t": "2025-01-01 00:00:00"},
        )
        for member_id, name, phone in (
            (1, "张三", "13812345678"),
            (2, "李四", "0954-2012345"),
            (3, "张三", "13812345678"),
        ):
            connection.execute(
                text(
                    "INSERT INTO members (id, organisation_id, name, phone, created_at) "
                    "VALUES (:id, 1, :name, :phone, :t)"
                ),
                {"id": member_id, "name": name, "phone": phone, "t": "2025-01-01 00:00:00"},
            )
    migrate(engine)
    key = PersonalDataKey(KEY)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT id, phone_cipher, phone_hash, imported_at FROM members ORDER BY id")
        ).all()
    engine.dispose()
    assert [row[0] for row in found] == [1, 2]  # the same number twice in one roll: one person
    assert [key.decrypt(row[1]) for row in found] == ["13812345678", "09542012345"]
    assert [row[2] for row in found] == [key.phone_hash("13812345678"), key.phone_hash("0954-2012345")]
    assert all(row[3] is not None for row in found)


# ---------------------------------------------------------------- sealing, removal and purge


def _vote(member, answers: str = "1") -> str:
    member.say("测评")
    for _ in range(VILLAGE_ANSWERS):
        member.say(answers)
    return member.say("无")


def _evaluation(db: Session) -> Evaluation:
    db.rollback()
    found = db.scalar(select(Evaluation))
    assert found is not None
    return found


def _open_vote(user, db: Session, cli, voters: int) -> tuple[list, str, dict[str, str]]:
    codes = setup_county(db, 1)
    self_check(user("chair"), codes["chair1"])
    members = [user(f"member-{n}") for n in range(voters)]
    for member in members:  # bound before the opening: invited in chat
        member.say(f"绑定 {codes['member1']}")
    code = cli("evaluation", "open", "--org", "U01").strip().splitlines()[-1]
    for n, member in enumerate(members):
        if n < voters - 1:  # the last one only starts
            assert "感谢参与" in _vote(member, "2" if n % 2 else "1")
    members[-1].say("测评")
    members[-1].say("1")  # a draft
    return members, code, codes


def test_a_closed_evaluation_is_sealed_so_no_one_can_tie_voters_to_openids_or_ballots(
    user, db: Session, cli
) -> None:
    members, code, _codes = _open_vote(user, db, cli, 4)
    evaluation = _evaluation(db)
    tokens = {voter_hash(SECRET, evaluation.id, f"member-{n}") for n in range(3)}
    assert set(db.scalars(select(EvaluationVoter.voter_hash))) == tokens  # while open: dedup works
    ballots_before = sorted((b.id, tuple(b.answers)) for b in db.scalars(select(Ballot)))
    figures_before = evaluations.figures(db, evaluation.inspection, datetime.now(UTC))
    assert db.scalar(select(func.count()).select_from(BallotDraft)) == 1
    db.rollback()

    now = datetime.now(UTC)
    with db.begin():  # the evaluation closed a while ago
        db.execute(update(Evaluation).values(closes_at=now - timedelta(minutes=1)))
    with db.begin():
        assert seal_due(db, now) == 0  # within the grace for a turn in flight
    with db.begin():
        assert seal_due(db, now + timedelta(minutes=5)) == 1
    with db.begin():
        assert seal_due(db, now + timedelta(minutes=6)) == 0  # once

    sealed = _evaluation(db)
    assert sealed.sealed_at is not None
    stored = set(db.scalars(select(EvaluationVoter.voter_hash)))
    assert len(stored) == 3 and not stored & tokens  # counted, but the server secret finds no one
    ballots_after = sorted((b.id, tuple(b.answers)) for b in db.scalars(select(Ballot)))
    assert Counter(a for _i, a in ballots_after) == Counter(a for _i, a in ballots_before)
    assert not {i for i, _a in ballots_after} & {i for i, _a in ballots_before}  # new random ids
    assert db.scalar(select(func.count()).select_from(BallotDraft)) == 0
    figures_after = evaluations.figures(db, sealed.inspection, now + timedelta(minutes=6))
    assert (figures_after.ballots, figures_after.invited, figures_after.satisfied, figures_after.score) == (
        figures_before.ballots,
        figures_before.invited,
        figures_before.satisfied,
        figures_before.score,
    )
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.action == "seal_evaluation"))
    db.rollback()
    assert "已经结束" in members[0].say(f"测评 {code}")  # nobody votes after the close, again or anew


def test_member_remove_takes_a_persons_data_and_keeps_ballots_and_the_audit_trail(
    user, db: Session, cli, keyed, tmp_path: Path
) -> None:
    members, code, codes = _open_vote(user, db, cli, 3)
    keyed(
        "member",
        "import",
        str(roll_file(tmp_path, [("张三", "13812345678", "U01"), ("李四", "13900000000", "U01")])),
    )
    evaluation = _evaluation(db)
    figures_before = evaluations.figures(db, evaluation.inspection, datetime.now(UTC))
    account = db.scalar(select(Account).where(Account.openid == "member-0"))
    assert account is not None
    account_id = account.id
    audit_before = db.scalar(select(func.count()).select_from(AuditEntry))
    db.rollback()

    out = keyed(
        "member",
        "remove",
        "--openid",
        "member-0",
        "--phone",
        "138 1234 5678",
        "--reason",
        "本人申请",
        "--yes",
    )
    assert "已从会员名册删除 1 条记录（U01）" in out and "匿名编号" in out

    db.rollback()
    gone = db.get(Account, account_id)
    assert gone is not None and gone.openid.startswith(REMOVED_PREFIX) and not gone.subscribed
    assert db.scalar(select(func.count()).where(RoleBinding.account_id == account_id)) == 0
    assert db.scalar(select(func.count()).where(OutboxMessage.account_id == account_id)) == 0
    assert db.scalar(select(func.count()).where(InboundMessage.openid == "member-0")) == 0
    assert [m for m in db.scalars(select(Member.name))] == ["李四"]
    figures_after = evaluations.figures(db, evaluation.inspection, datetime.now(UTC))
    assert (figures_after.ballots, figures_after.invited) == (figures_before.ballots, figures_before.invited)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "remove_personal_data"))
    assert entry is not None and entry.reason == "本人申请" and entry.entity_id == account_id
    audit_text = " ".join(str(v) for v in db.execute(select(AuditEntry.actor, AuditEntry.after)).all())
    assert "member-0" not in audit_text and "13812345678" not in audit_text
    # The removal added its entry; nothing was taken from the trail.
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == audit_before + 1
    db.rollback()

    # The person comes back: a stranger to the service, who still cannot vote twice in the open evaluation.
    assert "绑定" in members[0].say("帮助")
    members[0].say(f"绑定 {codes['member1']}")
    assert "已参加过" in members[0].say(f"测评 {code}")
    # The one whose ballot was unfinished: the draft goes with the person.
    keyed("member", "remove", "--openid", "member-2", "--reason", "本人申请", "--yes")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(BallotDraft)) == 0


def test_member_remove_refuses_vague_requests_and_says_when_no_one_is_found(keyed, db: Session) -> None:
    setup_county(db, 1)
    assert "--phone" in keyed.refused("member", "remove", "--reason", "本人申请", "--yes")
    assert "--org" in keyed.refused("member", "remove", "--name", "张三", "--reason", "本人申请", "--yes")
    assert "--reason" in keyed.refused("member", "remove", "--phone", "13812345678", "--reason", " ", "--yes")
    assert "没有找到" in keyed("member", "remove", "--phone", "13812345678", "--reason", "本人申请", "--yes")
    assert "没有编号为 NOPE" in keyed.refused(
        "member", "remove", "--name", "张三", "--org", "NOPE", "--reason", "本人申请", "--yes"
    )


def _old_campaign(db: Session) -> dict[str, int]:
    """A 2022 campaign with an evaluation (two invited, one ballot), an objection; accounts, a roll
    entry and notices last used in 2022 — beside this year's, which stay."""
    old = datetime(2022, 6, 1, tzinfo=UTC)
    key = PersonalDataKey(KEY)
    with db.begin():
        org = db.scalar(select(Organisation).where(Organisation.code == "U01"))
        assert org is not None
        campaign = Campaign(year=2022, opened_at=old)
        db.add(campaign)
        db.flush()
        inspection = Inspection(
            campaign_id=campaign.id, organisation_id=org.id, rubric_key="village", rubric_version="1"
        )
        db.add(inspection)
        db.flush()
        evaluation = Evaluation(
            inspection_id=inspection.id, code="OLD22", opened_at=old, closes_at=old + timedelta(days=7)
        )
        silent = [Account(openid=f"old-{n}", created_at=old, last_message_at=old) for n in range(2)]
        db.add_all([evaluation, *silent])
        db.flush()
        db.add_all(
            [
                EvaluationParticipant(evaluation_id=evaluation.id, account_id=a.id, source="member")
                for a in silent
            ]
        )
        db.add(
            EvaluationVoter(
                evaluation_id=evaluation.id, voter_hash=voter_hash(SECRET, evaluation.id, "old-0")
            )
        )
        db.add(Ballot(id=secrets.token_hex(16), evaluation_id=evaluation.id, answers=[1] * VILLAGE_ANSWERS))
        db.add(
            Objection(
                inspection_id=inspection.id,
                publication_round=1,
                account_id=silent[0].id,
                text="我是王五，电话13700000000",
            )
        )
        db.add(
            Member(
                organisation_id=org.id,
                name="旧会员",
                phone_cipher=key.encrypt("13700000000"),
                phone_hash=key.phone_hash("13700000000"),
                created_at=old,
                imported_at=old,
            )
        )
        db.add(
            OutboxMessage(
                dedup_key="old:1",
                account_id=silent[1].id,
                kind="result_final",
                subject="旧",
                text="旧通知",
                status="sent",
                created_at=old,
                next_attempt_at=old,
            )
        )
    return {"evaluation": evaluation.id, "inspection": inspection.id, "old0": silent[0].id}


def test_purge_removes_personal_data_past_retention_and_keeps_the_results(
    user, db: Session, keyed, tmp_path: Path
) -> None:
    codes = setup_county(db, 1)
    user("member-now").say(f"绑定 {codes['member1']}")
    keyed("member", "import", str(roll_file(tmp_path, [("新会员", "13812345678", "U01")])))
    ids = _old_campaign(db)
    old_eval = db.get(Evaluation, ids["evaluation"])
    assert old_eval is not None
    before = evaluations.figures(db, old_eval.inspection, datetime.now(UTC))
    db.rollback()

    this_year = datetime.now(SHANGHAI).year  # the year purge counts in, not UTC's (New Year's Eve 16:00)
    refused = keyed.refused("purge", "--before", str(this_year - 1))
    assert "保存期限 3 年" in refused and f"--before 最大为 {this_year - 3}" in refused
    dry = keyed("purge", "--before", str(this_year - 3), "--dry-run")
    assert "试运行" in dry and "2022" in dry
    db.rollback()
    assert db.scalar(select(func.count()).select_from(EvaluationParticipant)) == 2  # nothing changed

    out = keyed("purge", "--before", str(this_year - 3))
    assert "年度：2022" in out and "匿名化长期未使用的微信账号 2 个" in out
    db.rollback()
    sealed = db.get(Evaluation, ids["evaluation"])
    assert sealed is not None and sealed.sealed_at is not None and sealed.invited_frozen == 2
    assert db.scalar(select(func.count()).select_from(EvaluationParticipant)) == 0
    after = evaluations.figures(db, sealed.inspection, datetime.now(UTC))
    assert (after.ballots, after.invited, after.score) == (before.ballots, before.invited, before.score)
    assert db.scalar(select(Objection.text)) == PURGED_OBJECTION
    openids = set(db.scalars(select(Account.openid)))
    assert "member-now" in openids and not {"old-0", "old-1"} & openids
    assert list(db.scalars(select(Member.name))) == ["新会员"]
    assert db.scalar(select(func.count()).where(OutboxMessage.dedup_key == "old:1")) == 0
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.action == "purge_personal_data"))
    db.rollback()
    again = keyed("purge", "--before", str(this_year - 3))
    assert "匿名化长期未使用的微信账号 0 个" in again  # nothing left to do


def test_phones_are_masked_in_every_listing() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0954-2012345") == "095****2345"
    assert mask_phone("12345") == "****"


@settings(max_examples=50, deadline=None)
@given(key=st.binary(min_size=1, max_size=100), message=st.binary(max_size=200))
def test_the_keyed_hash_is_hmac_sha256(key: bytes, message: bytes) -> None:
    mac = KeyedSha256(key)
    assert mac.digest(message) == hmac.new(key, message, hashlib.sha256).digest()
    assert mac.hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.text(max_size=40), max_size=20))
def test_values_encrypted_together_decrypt_one_by_one(values: list[str]) -> None:
    key = PersonalDataKey(KEY)
    tokens = key.encrypt_many(values)
    assert [key.decrypt(token) for token in tokens] == values
    assert len(set(tokens)) == len(tokens)
    assert key.phone_hashes([normalise_phone(v) for v in values]) == [key.phone_hash(v) for v in values]

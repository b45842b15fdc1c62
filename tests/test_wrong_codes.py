"""Codes cannot be guessed across openids (issue 19, point 4), through the webhook on both backends: a
limit on wrong codes for the whole account (every code waits once it trips, a line on the console's
dashboard), `测评 CODE` limited per sender like `绑定`, and no union named to someone outside its
electorate."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.console.access import create_user
from chatbot.service.codes import LOCKED
from chatbot.store.models import Account, AuditEntry, RoleBinding
from chatbot.wechat.simulator import Simulator
from tests.conftest import APP_ID, TOKEN, Backend, City, make_config, transport_for

UNION = "宏达"  # in the name of the city's union, XJ-001
TRY_LATER = "请稍后再试"
WRONG = ("邀请码不正确", "测评码不正确")


@pytest.fixture
def strict(backend: Backend, tmp_path: Path, city: City) -> Flask:
    """The service with a limit of 10 wrong codes a minute for the whole account."""
    app = create_app(make_config(backend, tmp_path, WRONG_CODES_PER_MINUTE="10"), **backend.parts())
    yield app
    app.extensions["nianjian.engine"].dispose()


def _phone(app: Flask, openid: str) -> Simulator:
    return Simulator(transport_for(app.test_client()), openid, TOKEN, APP_ID)


def _scan(phone: Simulator, scene: str) -> str:
    return phone.reply_text(*phone.scan(scene))


def _open(cli, open_slots: int = 0) -> str:
    return cli("evaluation", "open", "--org", "XJ-001", "--open", str(open_slots)).strip().splitlines()[-1]


def _bindings(db: Session, openid_prefix: str) -> int:
    db.rollback()
    return db.scalar(
        select(func.count())
        .select_from(RoleBinding)
        .join(Account, Account.id == RoleBinding.account_id)
        .where(Account.openid.startswith(openid_prefix))
    )


def test_a_script_changing_openids_trips_the_limit_for_everyone(
    strict: Flask, city: City, db: Session, cli, caplog: pytest.LogCaptureFixture
) -> None:
    code = _open(cli, open_slots=5)
    told_wrong = locked = 0
    caplog.set_level(logging.WARNING, "chatbot.service.codes")
    for n in range(8):  # a new openid every 4 guesses: under the 5 a sender may get wrong in an hour
        guesser = _phone(strict, f"guesser-{n}")
        for k in range(4):
            word = "绑定" if k % 2 else "测评"
            reply = guesser.say(f"{word} ZZ{n:03d}{k:03d}")
            assert UNION not in reply
            if any(text in reply for text in WRONG):
                told_wrong += 1
            else:
                assert TRY_LATER in reply, reply
                locked += 1
    assert (told_wrong, locked) == (10, 22)
    # A person with real codes, during the lockout: asked to try again shortly, and nothing changed.
    member = _phone(strict, "real-member")
    assert TRY_LATER in member.say(f"绑定 {city.member_code}")
    assert TRY_LATER in member.say(f"测评 {code}")
    assert TRY_LATER in _scan(member, f"inv:{city.member_code}")
    assert _bindings(db, "real-member") == 0
    assert "您还没有绑定身份" in member.say("帮助")  # everything but codes answers as before
    # One audit entry for the window, one log line for the burst.
    assert db.scalar(select(func.count()).where(AuditEntry.action == LOCKED)) == 1
    db.rollback()
    lines = [r.getMessage() for r in caplog.records if "wrong codes" in r.getMessage()]
    assert len(lines) == 1 and "10 wrong codes within 60 s" in lines[0]
    # The console's dashboard says when it tripped and how many wrong codes.
    with db.begin():
        create_user(db, "GY", "city", "city-password-1")
    browser = strict.test_client()
    page = browser.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"username": "city", "password": "city-password-1", "csrf_token": token.group(1)}
    assert browser.post("/console/login", data=form).status_code == 302
    dashboard = browser.get("/console/").get_data(as_text=True)
    assert 'id="wrong-codes"' in dashboard and "共输错邀请码、测评码 10 次" in dashboard
    assert "近 24 小时共触发 1 次" in dashboard


def test_evaluation_codes_are_limited_per_sender(user, city: City, cli) -> None:
    code = _open(cli, open_slots=5)
    guesser = user("eval-guesser")
    for n in range(5):
        assert "测评码不正确" in guesser.say(f"测评 ZZ00{n:04d}")
    limited = guesser.say(f"测评 {code}")  # the sixth, right or wrong, is not looked up
    assert "测评码错误次数过多" in limited and UNION not in limited
    assert "测评码错误次数过多" in _scan(guesser, f"eval:{code}")
    assert UNION in user("eval-visitor").say(f"测评 {code}")  # another sender, on an open place


def test_malformed_evaluation_codes_are_not_counted(user, city: City, cli) -> None:
    code = _open(cli, open_slots=5)
    typist = user("eval-typist")
    for text in ("测评 一下", "测评 %00", "测评 A", "测评 " + "X" * 40, "测评 1.5", "测评 一下"):
        assert "测评码不正确" in typist.say(text)
    assert UNION in typist.say(f"测评 {code}")


def test_no_union_is_named_to_someone_outside_its_electorate(user, city: City, cli) -> None:
    member = user("invited-member")
    member.say(f"绑定 {city.member_code}")
    evaluator = user("its-evaluator")
    evaluator.say(f"绑定 {city.evaluator_code}")
    code = _open(cli, open_slots=0)
    unknown = user("stranger-0").say("测评 ZZ999999")
    assert "测评码不正确" in unknown
    for openid in ("stranger-1", "its-evaluator"):  # not invited, no open place; its assessor
        assert user(openid).say(f"测评 {code}") == unknown, openid
    assert UNION in member.say(f"测评 {code}")  # invited: the union is named


def test_a_full_evaluation_names_no_union(user, city: City, cli) -> None:
    code = _open(cli, open_slots=1)
    visitor = user("visitor-1")
    reply = visitor.say(f"测评 {code}")
    while "意见或建议" not in reply:
        reply = visitor.say("1")
    assert "已匿名提交" in visitor.say("无")
    late = user("visitor-2").say(f"测评 {code}")
    assert "开放名额已满" in late and UNION not in late
    assert UNION in visitor.say(f"测评 {code}")  # who voted was in the electorate

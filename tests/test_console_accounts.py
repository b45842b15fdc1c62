"""Console accounts held against someone who tries: a password reset and a disabled account end every
open session at once; `nianjian admin disable|enable` (audited, Chinese); the sign-in limits hold
against many parallel wrong passwords (counted and decided in one atomic step); a failed sign-in with
an unknown username keeps nothing of what was typed — on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.cli import main
from chatbot.console.access import MAX_ADDRESS_FAILURES, MAX_LOGIN_FAILURES
from chatbot.store.models import AuditEntry, ConsoleUser
from tests import test_console_security as security
from tests.conftest import Backend
from tests.test_console_security import Browser

#: The scope walk's fixtures: three accounts (city, YZ's "yz", XJ's "xj") in an open campaign.
accounts = security.accounts
#: Parallel sign-ins in the race tests.
PARALLEL = 40


def run(cli: Any, *args: str, stdin: str | None = None) -> str:
    """A `nianjian` command on the test database (the ``cli`` fixture's environment)."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def signed_in(browser: Browser) -> bool:
    response = browser.get("/console/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/console/login")
        return False
    assert response.status_code == 200
    return True


def audit(db: Session, action: str | None = None) -> list[AuditEntry]:
    db.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    entries = list(db.scalars(query))
    db.rollback()
    return entries


def test_a_password_reset_ends_every_open_session_of_the_account(
    app: Flask, accounts: dict[str, str], cli: Any
) -> None:
    desk, phone, other = Browser(app), Browser(app), Browser(app)
    for browser, name in ((desk, "yz"), (phone, "yz"), (other, "xj")):
        assert browser.login(name, f"{name}-password-12").status_code == 302
    copied = Browser(app)  # a copy of the desk's cookie, as a thief would hold it
    copied.client.set_cookie(app.config["SESSION_COOKIE_NAME"], desk.cookie())
    assert signed_in(copied)

    said = run(cli, "admin", "passwd", "--username", "yz", "--password-stdin", stdin="yz-new-password\n")
    assert "已登录的会话全部结束" in said
    assert not signed_in(desk) and not signed_in(phone) and not signed_in(copied)
    assert signed_in(other)  # another account's session is untouched
    assert desk.login("yz", "yz-password-12").status_code == 401
    assert desk.login("yz", "yz-new-password").status_code == 302 and signed_in(desk)


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(
    app: Flask, accounts: dict[str, str], cli: Any, db: Session
) -> None:
    yz, xj = Browser(app), Browser(app)
    assert yz.login("yz", "yz-password-12").status_code == 302
    assert xj.login("xj", "xj-password-12").status_code == 302

    said = run(cli, "admin", "disable", "--username", "yz")
    assert "管理台账号 yz 已停用" in said and "nianjian admin enable --username yz" in said
    assert not signed_in(yz) and signed_in(xj)
    refused = Browser(app).login("yz", "yz-password-12")
    assert refused.status_code == 403 and "该账号已停用" in refused.get_data(as_text=True)
    wrong = Browser(app).login("yz", "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.get_data(as_text=True)
    assert "已经停用，未作更改" in run(cli, "admin", "disable", "--username", "yz")

    assert "管理台账号 yz 已恢复" in run(cli, "admin", "enable", "--username", "yz")
    assert not signed_in(yz)  # enabling again does not revive the sessions it ended
    assert yz.login("yz", "yz-password-12").status_code == 302 and signed_in(yz)
    assert "没有停用，未作更改" in run(cli, "admin", "enable", "--username", "yz")
    assert "没有管理台账号 nobody。" in cli.refused("admin", "disable", "--username", "nobody")
    assert "没有管理台账号 nobody。" in cli.refused("admin", "enable", "--username", "nobody")

    yz_id = db.scalar(select(ConsoleUser.id).where(ConsoleUser.username == "yz"))
    of_yz = [e for e in audit(db) if (e.entity, e.entity_id) == ("console_user", yz_id)]
    assert [(e.actor, e.action) for e in of_yz if e.actor == "cli"] == [("cli", "disable"), ("cli", "enable")]
    assert [e.reason for e in audit(db, "login_disabled")] == ["127.0.0.1"]


def parallel_sign_ins(app: Flask, attempts: list[tuple[str, str, str]]) -> list[int]:
    """Each (username, password, address) posted at the same instant, from its own browser with its
    own CSRF token: the statuses."""
    browsers = [Browser(app, address=address) for _name, _password, address in attempts]
    for browser in browsers:
        browser.get("/console/login")
    start = threading.Barrier(len(attempts))
    statuses: list[int] = [0] * len(attempts)

    def attempt(index: int) -> None:
        name, password, _address = attempts[index]
        start.wait()
        form = {"username": name, "password": password}
        statuses[index] = browsers[index].post("/console/login", form).status_code

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_parallel_wrong_passwords_to_one_account_are_checked_at_most_the_limit(
    app: Flask, accounts: dict[str, str], db: Session
) -> None:
    attempts = [("yz", f"guess-{n}", f"127.0.6.{n}") for n in range(PARALLEL)]
    statuses = parallel_sign_ins(app, attempts)
    checked = audit(db, "login_failed")
    assert len(checked) == MAX_LOGIN_FAILURES, sorted(statuses)
    assert sorted(statuses) == [401] * MAX_LOGIN_FAILURES + [429] * (PARALLEL - MAX_LOGIN_FAILURES)
    locked = Browser(app, address="127.0.7.1").login("yz", "yz-password-12")
    assert locked.status_code == 429 and "该账号登录失败次数过多" in locked.get_data(as_text=True)


def test_parallel_wrong_passwords_from_one_address_are_checked_at_most_the_limit(
    app: Flask, accounts: dict[str, str], db: Session
) -> None:
    attempts = [(f"guess{n}", "password-guess", "127.0.8.1") for n in range(PARALLEL)]
    statuses = parallel_sign_ins(app, attempts)
    assert len(audit(db, "login_failed")) == MAX_ADDRESS_FAILURES, sorted(statuses)
    assert statuses.count(401) == MAX_ADDRESS_FAILURES
    assert Browser(app, address="127.0.8.1").login("xj", "xj-password-12").status_code == 429
    assert Browser(app, address="127.0.8.2").login("xj", "xj-password-12").status_code == 302


def test_a_success_is_not_counted_against_the_limits(app: Flask, accounts: dict[str, str]) -> None:
    for _ in range(MAX_LOGIN_FAILURES + 2):
        assert Browser(app).login("xj", "xj-password-12").status_code == 302
    for _ in range(MAX_LOGIN_FAILURES - 1):
        assert Browser(app).login("xj", "wrong-password").status_code == 401
    assert Browser(app).login("xj", "xj-password-12").status_code == 302


@pytest.mark.parametrize("typed", ["Xj-password-12", "我的密码是 hunter2-长城"])
def test_an_unknown_username_is_not_stored_as_typed(
    app: Flask, accounts: dict[str, str], db: Session, backend: Backend, typed: str
) -> None:
    """People type their password into the username box: the audit log and the counters keep only a
    short keyed hash of it, enough to see one name tried again and again."""
    for _ in range(2):
        assert Browser(app, address="127.0.9.1").login(typed, "xj-password-12").status_code == 401
    assert Browser(app, address="127.0.9.1").login("someone-else", "x").status_code == 401
    failures = audit(db, "login_failed")
    assert len(failures) == 3
    stored = " ".join(f"{e.actor} {e.before} {e.after} {e.reason}" for e in failures)
    assert typed not in stored and typed.lower() not in stored and "someone-else" not in stored
    assert {e.actor for e in failures} == {"console:未知用户名"}
    hashes = [e.after for e in failures]
    assert hashes[0] == hashes[1] != hashes[2]  # the same name tried twice is seen as the same
    if backend.redis_client is not None:
        keys = " ".join(key.decode("utf-8", "replace") for key in backend.redis_client.scan_iter())
        assert typed.lower() not in keys and "someone-else" not in keys
    known = Browser(app, address="127.0.9.2").login("xj", "wrong-password")  # a real account: named
    assert known.status_code == 401 and audit(db, "login_failed")[-1].actor == "console:xj"

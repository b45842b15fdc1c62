"""Who is looking: console users, their scope (a city admin sees everything, a county admin its
county), the sign-in rate limits, the session's start and end, and the decorator every page uses."""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from chatbot.inspection.queries import descendants
from chatbot.store.counters import RateCounter
from chatbot.store.models import ConsoleUser, Organisation

#: Failed sign-ins within the window that lock an account, and that lock an address (any accounts).
MAX_LOGIN_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
LOGIN_WINDOW_SECONDS = 15 * 60
#: The longest a username can be (ConsoleUser.username); longer input is never a user.
USERNAME_MAX = 60
#: The session's keys: the user, the session's own id (ended at sign-out), when it was signed in.
SESSION_USER = "console_user"
SESSION_ID = "console_session"
SESSION_SINCE = "console_since"
#: However active, a session ends this long after its sign-in (the cookie itself lapses after 8 idle hours).
SESSION_MAX_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Viewer:
    """The signed-in console user and what they may see."""

    user_id: int
    username: str
    org_id: int
    org_code: str
    org_name: str
    is_city: bool
    visible: frozenset[int]

    @property
    def actor(self) -> str:
        return f"console:{self.username}"

    def sees(self, org_id: int) -> bool:
        return org_id in self.visible


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_user(db: Session, org_code: str, username: str, password: str) -> ConsoleUser:
    org = db.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise ValueError(f"organisation {org_code} does not exist")
    if org.is_grassroots:
        raise ValueError(
            f"{org_code} is a grassroots union; console users belong to the city or a county federation"
        )
    if db.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
        raise ValueError(f"user {username} already exists")
    if len(password) < 10:
        raise ValueError("the password needs at least 10 characters")
    user = ConsoleUser(username=username, password_hash=hash_password(password), organisation_id=org.id)
    db.add(user)
    db.flush()
    return user


def _counter() -> RateCounter:
    return current_app.extensions["nianjian.counter"]


def _account_key(username: str) -> str:
    return f"console-login-failures:{username[:USERNAME_MAX].lower()}"


def _address_key(address: str) -> str:
    return f"console-login-failures-from:{address}"


def client_address() -> str:
    """The visitor's address (the socket's, or the one PROXY_HOPS trusted proxies forwarded)."""
    return request.remote_addr or "unknown"


def login_blocked(username: str, address: str) -> str | None:
    """Why signing in is refused for now (Chinese), or None: too many failures for this account
    (whoever tried) or from this address (whichever accounts it tried)."""
    counter = _counter()
    if counter.count(_account_key(username), LOGIN_WINDOW_SECONDS) >= MAX_LOGIN_FAILURES:
        return f"该账号登录失败次数过多，请 {LOGIN_WINDOW_SECONDS // 60} 分钟后再试。"
    if counter.count(_address_key(address), LOGIN_WINDOW_SECONDS) >= MAX_ADDRESS_FAILURES:
        return f"本机所在网络地址登录失败次数过多，请 {LOGIN_WINDOW_SECONDS // 60} 分钟后再试。"
    return None


@functools.cache
def _decoy_hash() -> str:
    """A hash to check unknown usernames against, so that they take as long as a wrong password."""
    return hash_password(secrets.token_hex(16))


def authenticate(db: Session, username: str, password: str, address: str) -> ConsoleUser | None:
    """The user when the password is right; a failure counts for the account and for the address."""
    user = db.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    if check_password_hash(user.password_hash if user else _decoy_hash(), password) and user is not None:
        return user
    counter = _counter()
    counter.hit(_account_key(username), LOGIN_WINDOW_SECONDS)
    counter.hit(_address_key(address), LOGIN_WINDOW_SECONDS)
    return None


def _ended_key(session_id: str) -> str:
    return f"console-session-ended:{session_id}"


def start_session(user: ConsoleUser) -> None:
    """Sign ``user`` in on a new session: whatever the visitor's cookie held before (its CSRF token
    included) is dropped, so a session planted before sign-in never becomes a signed-in one."""
    session.clear()
    session[SESSION_USER] = user.id
    session[SESSION_ID] = secrets.token_urlsafe(18)
    session[SESSION_SINCE] = int(time.time())
    session.permanent = True


def end_session() -> None:
    """Sign out: the cookie is emptied, and its session id is remembered as ended (in Redis when
    configured) for as long as a copy of the old cookie could still be presented."""
    session_id = session.get(SESSION_ID)
    if isinstance(session_id, str):
        _counter().hit(_ended_key(session_id), SESSION_MAX_SECONDS)
    session.clear()


def session_user_id() -> int | None:
    """The signed-in user's id, or None: no sign-in, signed out, or signed in too long ago."""
    user_id, session_id, since = (session.get(k) for k in (SESSION_USER, SESSION_ID, SESSION_SINCE))
    if not isinstance(user_id, int) or not isinstance(session_id, str) or not isinstance(since, int):
        return None
    if time.time() - since > SESSION_MAX_SECONDS or _counter().count(_ended_key(session_id), 1) > 0:
        return None
    return user_id


def viewer_for(db: Session, user: ConsoleUser) -> Viewer:
    org = user.organisation
    return Viewer(
        user.id,
        user.username,
        org.id,
        org.code,
        org.name,
        org.parent_id is None,
        frozenset(descendants(db, org.id)),
    )


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The page needs a signed-in user: ``g.viewer`` and ``g.db`` are set for it."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user_id = session_user_id()
        if user_id is None:
            if SESSION_USER in session:
                session.clear()  # ended, expired or stale: nothing of it is kept
            return redirect(url_for("console.login", next=request.path))
        user = g.db.get(ConsoleUser, user_id)
        if user is None:
            session.clear()
            return redirect(url_for("console.login"))
        g.viewer = viewer_for(g.db, user)
        return view(*args, **kwargs)

    return wrapper


def city_only() -> None:
    if not g.viewer.is_city:
        abort(403)


def visible_or_404(org_id: int) -> None:
    if not g.viewer.sees(org_id):
        abort(404)

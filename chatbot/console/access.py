"""Who is looking: console users, their scope (a city admin sees everything, a county admin its
county), the sign-in rate limits, the session's start and end, and the decorator every page uses."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from chatbot.inspection import audit
from chatbot.inspection.queries import subtree
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
SESSION_GENERATION = "console_generation"
#: However active, a session ends this long after its sign-in (the cookie itself lapses after 8 idle hours).
SESSION_MAX_SECONDS = 12 * 3600
#: What the audit log says for a failed sign-in whose username names no account, and how many hex
#: characters of the typed name's keyed hash it keeps (enough to see one name tried again and again).
UNKNOWN_USERNAME = "未知用户名"
UNKNOWN_HASH_CHARS = 8
DISABLED = "该账号已停用，不能登录；如需恢复，请联系市总工会组织部。"


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


#: Letters and digits of generated passwords: no look-alikes (l I 1, O o 0), easy to copy from print.
PASSWORD_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
GENERATED_PASSWORD_LENGTH = 12


def new_password() -> str:
    """A generated console password: 12 characters of ``PASSWORD_ALPHABET`` (about 70 bits)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))


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


def _keyed_hash(text: str, purpose: str) -> str:
    """HMAC-SHA256 of ``text`` under the service's SECRET_KEY: what was typed is never kept as typed."""
    secret = current_app.extensions["nianjian.config"].secret_key.encode()
    return hmac.new(secret, f"{purpose}\n{text}".encode(), hashlib.sha256).hexdigest()


def _account_key(username: str) -> str:
    return f"console-login-failures:{_keyed_hash(username[:USERNAME_MAX].lower(), 'account')[:32]}"


def _address_key(address: str) -> str:
    return f"console-login-failures-from:{address}"


def client_address() -> str:
    """The visitor's address (the socket's, or the one PROXY_HOPS trusted proxies forwarded)."""
    return request.remote_addr or "unknown"


class SignInRefused(Exception):
    """A sign-in that did not succeed: the Chinese message and the page's status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _admitted(counter: RateCounter, key: str, limit: int) -> bool:
    """Count this attempt and decide on the new count, in one atomic step: of any number of parallel
    attempts at most ``limit`` are admitted within a window. An attempt not admitted is taken back."""
    if counter.hit(key, LOGIN_WINDOW_SECONDS) <= limit:
        return True
    counter.take_back(key)
    return False


@functools.cache
def _decoy_hash() -> str:
    """A hash to check unknown usernames against, so that they take as long as a wrong password."""
    return hash_password(secrets.token_hex(16))


def sign_in(db: Session, username: str, password: str, address: str) -> ConsoleUser:
    """The user, when the password is right and the account enabled; else SignInRefused. Each attempt
    is counted for its address and its account before the password is checked (an attempt past a
    limit is refused unchecked); a success is taken back from both counts, a failure stays in them
    and in the audit log — under the account's name, or "未知用户名" and a short keyed hash for a
    username that names no account (people type passwords into that box)."""
    counter = _counter()
    account, origin = _account_key(username), _address_key(address)
    minutes = LOGIN_WINDOW_SECONDS // 60
    if not _admitted(counter, origin, MAX_ADDRESS_FAILURES):
        raise SignInRefused(f"本机所在网络地址登录失败次数过多，请 {minutes} 分钟后再试。", 429)
    if not _admitted(counter, account, MAX_LOGIN_FAILURES):
        counter.take_back(origin)
        raise SignInRefused(f"该账号登录失败次数过多，请 {minutes} 分钟后再试。", 429)
    user = db.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    if check_password_hash(user.password_hash if user else _decoy_hash(), password) and user is not None:
        counter.take_back(account)
        counter.take_back(origin)
        if user.disabled_at is not None:
            audit.record(
                db, f"console:{user.username}", "login_disabled", "console_user", user.id, reason=address
            )
            raise SignInRefused(DISABLED, 403)
        return user
    if user is not None:
        audit.record(db, f"console:{user.username}", "login_failed", "console_user", user.id, reason=address)
    else:
        typed = {"username_hash": _keyed_hash(username, "unknown-username")[:UNKNOWN_HASH_CHARS]}
        audit.record(
            db,
            f"console:{UNKNOWN_USERNAME}",
            "login_failed",
            "console_user",
            None,
            after=typed,
            reason=address,
        )
    raise SignInRefused("用户名或密码不正确。", 401)


def _ended_key(session_id: str) -> str:
    return f"console-session-ended:{session_id}"


def start_session(user: ConsoleUser) -> None:
    """Sign ``user`` in on a new session: whatever the visitor's cookie held before (its CSRF token
    included) is dropped, so a session planted before sign-in never becomes a signed-in one."""
    session.clear()
    session[SESSION_USER] = user.id
    session[SESSION_ID] = secrets.token_urlsafe(18)
    session[SESSION_SINCE] = int(time.time())
    session[SESSION_GENERATION] = user.session_generation
    session.permanent = True


def end_all_sessions(user: ConsoleUser) -> None:
    """End every open session of ``user`` (a password reset, a disabled account): each carries the
    generation it was signed in under, and from the caller's commit on that is no longer current."""
    user.session_generation = ConsoleUser.session_generation + 1  # one UPDATE: two resets both count


def session_is_current(user: ConsoleUser) -> bool:
    """Whether this session of ``user`` still holds: the account enabled, and neither its password
    reset nor the account disabled since the sign-in."""
    return user.disabled_at is None and session.get(SESSION_GENERATION, 0) == user.session_generation


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
        frozenset(subtree(db, org.id)),
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
        if user is None or not session_is_current(user):
            session.clear()  # the account is gone or disabled, or its password was reset
            return redirect(url_for("console.login", next=request.path))
        g.viewer = viewer_for(g.db, user)
        return view(*args, **kwargs)

    return wrapper


def city_only() -> None:
    if not g.viewer.is_city:
        abort(403)


def visible_or_404(org_id: int) -> None:
    if not g.viewer.sees(org_id):
        abort(404)

"""Who is looking: console users, their scope (a city admin sees everything, a county admin its
county), the login rate limit, and the decorator every page uses."""

from __future__ import annotations

import functools
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

MAX_LOGIN_FAILURES = 5
LOGIN_WINDOW_SECONDS = 15 * 60


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


def _key(username: str) -> str:
    return f"console-login-failures:{username.lower()}"


def login_blocked(username: str) -> bool:
    return _counter().count(_key(username), LOGIN_WINDOW_SECONDS) >= MAX_LOGIN_FAILURES


def authenticate(db: Session, username: str, password: str) -> ConsoleUser | None:
    """The user when the password is right; a failure counts towards the rate limit."""
    user = db.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    if user is not None and check_password_hash(user.password_hash, password):
        return user
    _counter().hit(_key(username), LOGIN_WINDOW_SECONDS)
    return None


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
        user_id = session.get("console_user")
        if user_id is None:
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

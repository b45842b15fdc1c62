"""The console's input checked once, at the edge, before any page reads it: integers in a path within
PostgreSQL's ``integer`` (an id or a year of 2^31 is no record: 404), no NUL in the path, a query
value or a form field (PostgreSQL refuses NUL in text: 400), a year asked for in a query within the
years a campaign may have, and a sign-in's ``next`` that stays inside the console."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, request
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import IntegerConverter, Map

#: The largest value of PostgreSQL's ``integer``, the type of every id and year column.
INT_MAX = 2**31 - 1
#: The years a campaign may have (the campaign form's bounds).
YEAR_MIN, YEAR_MAX = 2000, 2100
#: Where a sign-in may lead: a path inside the console, made of URL characters only (no CR/LF,
#: backslash, space or control character; no scheme or host, so never another site).
SAFE_NEXT = re.compile(r"/console/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*")
NEXT_MAX = 2000


class StoredInteger(IntegerConverter):
    """``<int:…>`` in a console path: 0 … 2^31 − 1, what an id or a year column holds; anything
    longer or larger is no record (404), not a database error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def use_stored_integers(state: BlueprintSetupState) -> None:
    """Make ``<int:…>`` the bounded converter for the routes registered after it (the console's)."""
    state.app.url_map.converters["int"] = StoredInteger


def _has_nul(pairs: Any) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs.items(multi=True))


def refuse_nul() -> None:
    """A NUL anywhere in the request's path, query or form is refused (400) before a page runs."""
    if "\x00" in request.path or _has_nul(request.args):
        abort(400)
    if request.method == "POST" and _has_nul(request.form):  # a body over the limit: 413 here
        abort(400)


def requested_year() -> int | None:
    """The ``year`` asked for in the query: None when absent or not a number (the page shows the open
    campaign); a number outside the years a campaign may have is no page (404)."""
    raw = request.args.get("year", "").strip()
    if not raw.isascii() or not raw.isdigit():
        return None
    if len(raw) > 4 or not YEAR_MIN <= int(raw) <= YEAR_MAX:
        abort(404)
    return int(raw)


def safe_next(target: str, fallback: str) -> str:
    """``target`` when it is a plain path inside the console, else ``fallback``: a sign-in never
    leads to another site, and never puts a line break into a header."""
    if len(target) <= NEXT_MAX and SAFE_NEXT.fullmatch(target) and "/../" not in target + "/":
        return target
    return fallback

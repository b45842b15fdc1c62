"""Odd input never breaks the console: a NUL in any form field or query value, ids and years of 2^31
and beyond (or negative, or thousands of digits), CR/LF, long texts, a 100 KB form field, and a sign-in
``next`` that leads elsewhere. Every route of ``app.url_map`` is walked (so a route added later is
walked too), signed in as the city, as a county account and signed out, GET and POST with the
session's CSRF token so that the input reaches the handler: every answer is below 500, and an error
is the console's Chinese page — on SQLite and on PostgreSQL (which refuses NUL and integers ≥ 2^31)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from chatbot.store.models import AuditEntry
from tests import test_console_security as security
from tests.test_console_security import CJK, FOREIGN_FORM, PUBLIC, Browser, foreign_url, walked_rules

#: The scope walk's fixtures: three accounts (city, YZ, XJ), and YZ's records under way.
accounts = security.accounts
counties = security.counties

CONSOLE = Path(__file__).parent.parent / "chatbot" / "console"
#: Values that PostgreSQL or the code could choke on, sent in path parameters, queries and forms.
ODD_VALUES = (
    "a\x00b",
    "2147483648",
    "-2147483649",
    "9" * 400,
    "-1",
    "x\r\ny",
    "//evil.example/",
    "长" * 150,  # longer than most columns; in every field at once (9 bytes each, encoded) still under 64 KiB
)
#: Sent one field at a time (a NUL is refused wherever it is, so it is sent in all fields at once):
#: numbers a field may parse, and 18 KB of UTF-8 — under the request limit, over every column.
ALONE_VALUES = ("2147483648", "9" * 400, "-1", "长" * 6000)
#: What an integer in a path can be instead of an id or a year.
ODD_IDS = ("2147483648", "9" * 400, "9" * 5000, "-1", "0")
#: A form field this long is over the limit of a whole request.
HUGE_FIELD = "x" * 100_000
#: English words of werkzeug's own error pages, and of a traceback: never shown.
ENGLISH = ("Traceback", "Bad Request", "Not Found", "Request Entity Too Large", "Internal Server Error")


def names_in_source() -> tuple[set[str], set[str]]:
    """The query and form names the console reads (its code) or sends (its templates)."""
    code = " ".join(path.read_text(encoding="utf-8") for path in CONSOLE.glob("*.py"))
    pages = " ".join(path.read_text(encoding="utf-8") for path in CONSOLE.rglob("*.html"))
    query = set(re.findall(r'request\.args(?:\.get\(|\[)\s*"(\w+)"', code))
    form = set(re.findall(r'request\.form(?:\.get\(|\[)\s*"(\w+)"', code))
    form |= set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="(\w+)"', pages))
    return query | {"year", "next"}, form - {"csrf_token"}


def fields_shown(page: str) -> set[str]:
    """The names of a rendered page's form fields."""
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="(\w+)"', page)) - {"csrf_token"}


#: The error page's mark of each blueprint's HTML pages: the console's, and the public notice page's
#: (/n/<token>, opened by members from a notice, not behind the console's sign-in).
ERROR_PAGE_MARKS = {"console": "年检助手管理台", "notice": "· 年检助手</title>"}


def error_page_mark(endpoint: str) -> str:
    """What the error page of ``endpoint``'s blueprint shows (the console's for a route of none)."""
    blueprint = endpoint.partition(".")[0] if "." in endpoint else "console"
    return ERROR_PAGE_MARKS[blueprint]


def check(response: Any, where: str, endpoint: str = "console.login") -> None:
    """Below 500; an error page in Chinese, with nothing of werkzeug's English or a traceback; an HTML
    one is the error page of the blueprint ``endpoint`` belongs to."""
    assert response.status_code < 500, where
    shown = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
    assert not any(word in shown for word in ENGLISH), (where, shown[:300])
    if response.status_code >= 400:
        assert CJK.search(shown), (where, shown[:300])
        if response.mimetype == "text/html":
            assert error_page_mark(endpoint) in shown, where


def real_values(rule: Rule, ids: dict[str, int]) -> dict[str, str]:
    """A value for each of the rule's parameters naming a real record (as the scope walk names them)."""
    url = foreign_url(rule, ids)
    return dict(zip(rule.rule.split("/"), url.split("/"), strict=True))


def urls_of(rule: Rule, ids: dict[str, int]) -> list[str]:
    """The rule's URL with real values, then with each odd id in each integer parameter in turn."""
    real = real_values(rule, ids)
    urls = ["/".join(real.values())]
    for part in real:
        if part.startswith("<") and "int:" in part:
            urls += ["/".join(odd if p == part else v for p, v in real.items()) for odd in ODD_IDS]
    return urls


def send(browser: Browser, method: str, url: str, query: dict[str, str], form: dict[str, str]) -> Any:
    if method == "GET":
        return browser.get(url, query_string=query)
    return browser.post(url, form, query_string=query)


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


VALID_QUERY = {"year": "2026"}


def walk(app: Flask, browser: Browser, ids: dict[str, int], who: str) -> int:
    """Every route and method: odd ids in the path; then each odd value in every query value and
    form field at once. Returns the number of requests."""
    query_names, form_names = names_in_source()
    sent = 0
    for rule in walked_rules(app):
        if rule.endpoint == "console.login" and who != "visitor":
            continue  # signing in again would replace the walker's session (the visitor walks it)
        for method in methods(rule):
            for url in urls_of(rule, ids):
                response = send(browser, method, url, VALID_QUERY, dict(FOREIGN_FORM))
                check(response, f"{who} {method} {url}", rule.endpoint)
                sent += 1
            url = urls_of(rule, ids)[0]
            for odd in ODD_VALUES:
                query = dict.fromkeys(query_names, odd)
                form = dict.fromkeys(form_names, odd)
                response = send(browser, method, url, query, form)
                check(response, f"{who} {method} {url} all={odd[:20]!r}", rule.endpoint)
                sent += 1
    return sent


def test_odd_input_anywhere_gets_a_chinese_page_never_a_500(app: Flask, counties: dict[str, int]) -> None:
    visitor = Browser(app)
    visitor.get("/console/login")
    sent = walk(app, visitor, counties, "visitor")
    county = Browser(app, address="127.0.5.1")
    assert county.login("xj", "xj-password-12").status_code == 302
    sent += walk(app, county, counties, "county")
    city = Browser(app, address="127.0.5.2")
    assert city.login("city", "city-password-1").status_code == 302
    sent += walk(app, city, counties, "city")
    assert sent > 500
    assert city.get("/console/").status_code == 200  # the walk never lost the city's session


def test_each_odd_value_in_each_field_alone_as_the_city(app: Flask, counties: dict[str, int]) -> None:
    """One field at a time, the others valid, so that each reaches the handler past the others' checks."""
    query_names, form_names = names_in_source()
    city = Browser(app, address="127.0.5.3")
    assert city.login("city", "city-password-1").status_code == 302
    for rule in walked_rules(app):
        if rule.endpoint in PUBLIC:
            continue
        url = urls_of(rule, counties)[0]
        for method in methods(rule):
            page = send(city, "GET", url, VALID_QUERY, {}) if method == "GET" else None
            html = page is not None and page.mimetype == "text/html"
            names = fields_shown(page.get_data(as_text=True)) if html else set()
            for name in sorted((query_names if method == "GET" else form_names) | names):
                for odd in ALONE_VALUES:
                    if method == "GET":
                        response = send(city, method, url, VALID_QUERY | {name: odd}, {})
                    else:
                        response = send(city, method, url, VALID_QUERY, FOREIGN_FORM | {name: odd})
                    check(response, f"{method} {url} {name}={odd[:20]!r}", rule.endpoint)
    assert city.get("/console/").status_code == 200


def test_a_form_field_of_100_kb_gets_the_chinese_413_page(app: Flask, counties: dict[str, int]) -> None:
    visitor = Browser(app)
    visitor.get("/console/login")
    refused = visitor.post("/console/login", {"username": HUGE_FIELD, "password": "x"})
    assert refused.status_code == 413
    check(refused, "login")
    city = Browser(app)
    city.login("city", "city-password-1")
    for rule in walked_rules(app):
        if "POST" in methods(rule) and rule.endpoint != "console.login":
            url = urls_of(rule, counties)[0]
            response = city.post(url, FOREIGN_FORM | {"reason": HUGE_FIELD})
            assert response.status_code == 413, url
            check(response, url, rule.endpoint)


@pytest.mark.parametrize(
    "target",
    [
        "/console/\r\nSet-Cookie: planted=1",
        "/console/\n",
        "//evil.example/console/",
        "https://evil.example/console/",
        "/console/\\evil.example",
        "/console/../../evil",
        "/\\evil.example/console/",
        "javascript:alert(1)",
        "/console/" + "x" * 5000,
        "/console/a\x00b",
    ],
)
def test_sign_in_never_leads_elsewhere_nor_fails_on_its_next(
    app: Flask, accounts: dict[str, str], target: str
) -> None:
    browser = Browser(app)
    browser.get("/console/login")
    response = browser.post(
        "/console/login", {"username": "xj", "password": "xj-password-12"}, query_string={"next": target}
    )
    assert response.status_code in (302, 400), response.status_code
    check(response, target)
    if response.status_code == 302:
        location = response.headers["Location"]
        assert location.startswith("/console/") and "\n" not in location and "\\" not in location
        assert location in ("/console/", target), location


def test_a_next_within_the_console_is_kept(app: Flask, accounts: dict[str, str]) -> None:
    browser = Browser(app)
    response = browser.get("/console/inspections", query_string={"year": "2026"})
    assert response.status_code == 302 and "next=" in response.headers["Location"]
    browser.get(response.headers["Location"])
    signed = browser.post(response.headers["Location"], {"username": "xj", "password": "xj-password-12"})
    assert signed.status_code == 302 and signed.headers["Location"] == "/console/inspections"


def test_a_nul_in_the_username_is_refused_and_not_counted(
    app: Flask, accounts: dict[str, str], db: Session
) -> None:
    browser = Browser(app)
    browser.get("/console/login")
    response = browser.post("/console/login", {"username": "xj\x00", "password": "xj-password-12"})
    assert response.status_code == 400
    check(response, "nul")
    assert browser.login("xj", "xj-password-12").status_code == 302
    assert db.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed")).all() == []

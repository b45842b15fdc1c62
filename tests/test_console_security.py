"""The console's protections through Flask's test client, on SQLite and on PostgreSQL + Redis: security
headers on every response, the session cookie's attributes, a new session at sign-in and a dead one
after sign-out, sign-in limits per account and per address, CSRF on every form, and a walk over every
route of the app as a county account against another county's records."""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from chatbot.app import create_app
from chatbot.console import access
from chatbot.console.access import MAX_ADDRESS_FAILURES, SESSION_MAX_SECONDS, create_user
from chatbot.inspection import organisations
from chatbot.store.models import (
    AuditEntry,
    Evidence,
    Inspection,
    ItemScore,
    Objection,
    Organisation,
    Remediation,
    SampledInspection,
)
from chatbot.wechat.simulator import Simulator
from tests.conftest import Backend, make_config
from tests.helpers import VILLAGE, assess, self_check, setup_county

User = Callable[..., Simulator]
TEMPLATES = Path(__file__).parent.parent / "chatbot" / "console" / "templates"
#: What another county's records would show if any leaked: its name, its unions' names and codes.
FOREIGN_MARKERS = ("原州区", "第1社区工会", "第2社区工会", "第3社区工会", "U01", "U02", "U03")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Endpoints anyone may reach, signed in or not; the walk still reads what they answer.
PUBLIC = {"console.login", "console.static", "static", "home", "healthz", "notice.show"}
#: Not walked: sign-out ends the walker's session; the webhook is authenticated by WeChat's signature
#: (tests/test_webhook.py), not by the console's session.
NOT_WALKED_BLUEPRINTS = {"wechat"}
NOT_WALKED = {"console.logout"}


class Browser:
    """A console session: keeps the cookie, sends the current CSRF token with every form."""

    def __init__(self, app: Flask, address: str = "127.0.0.1", base_url: str = "http://localhost") -> None:
        self.client: FlaskClient = app.test_client()
        self.address = address
        self.base_url = base_url
        self.token = ""

    def request(self, method: str, url: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
        environ = {"REMOTE_ADDR": self.address}
        if method == "POST" and self.base_url.startswith("https:"):
            # Over HTTPS, Flask-WTF also wants a same-origin Referer, as browsers send under our policy.
            kw["headers"] = {"Referer": f"{self.base_url}/console/"} | kw.get("headers", {})
        response = self.client.open(
            url, method=method, data=data, environ_base=environ, base_url=self.base_url, **kw
        )
        page = response.get_data().decode("utf-8", "replace") if response.mimetype == "text/html" else ""
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if found:
            self.token = found.group(1)
        return response

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, data: dict[str, str] | None = None, token: bool = True, **kw: Any) -> Any:
        form = dict(data or {})
        if token:
            form["csrf_token"] = self.token
        return self.request("POST", url, form, **kw)

    def login(self, username: str, password: str, **kw: Any) -> Any:
        self.get("/console/login", **kw)
        response = self.post("/console/login", {"username": username, "password": password}, **kw)
        if response.status_code == 302:
            self.get("/console/", **kw)  # a signed-in page carries the new session's token
        return response

    def cookie(self) -> str:
        """The session cookie's value as the browser holds it now."""
        name = self.client.application.config["SESSION_COOKIE_NAME"]
        found = self.client.get_cookie(name)
        assert found is not None, name
        return found.value


@pytest.fixture
def accounts(db: Session) -> dict[str, str]:
    """Two counties, YZ with three unions and XJ with one, in an open campaign; console users: the
    city, YZ's and XJ's. Invitation codes by name."""
    codes = setup_county(db, 3)
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("X01", "西吉一社区工会", "village", "XJ"))
        create_user(db, "GY", "city", "city-password-1")
        create_user(db, "YZ", "yz", "yz-password-12")
        create_user(db, "XJ", "xj", "xj-password-12")
    return codes


def record_ids(db: Session) -> dict[str, int]:
    """Each inspection's id by its union's code; a photo's id; YZ's id."""
    ids = {org.code: i.id for i, org in db.execute(select(Inspection, Organisation).join(Organisation)).all()}
    ids["evidence"] = db.scalar(select(Evidence.id)) or 0
    ids["YZ"] = db.scalar(select(Organisation.id).where(Organisation.code == "YZ")) or 0
    db.rollback()
    return ids


@pytest.fixture
def counties(user: User, db: Session, accounts: dict[str, str]) -> dict[str, int]:
    """YZ's work under way: U01 self-checked with a photo and assessed, U02 submitted, U03 untouched;
    XJ's union untouched. Record ids by name."""
    chair = user("chair1")
    chair.say(f"绑定 {accounts['chair1']}")
    chair.say("自评")
    chair.photo("MEDIA-1")
    for _ in range(VILLAGE.item_count):
        chair.say("满分")
    assert "已提交" in chair.say("提交")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {accounts['evaluator']}")
    assess(evaluator, "U01", {5: "3"})
    self_check(user("chair2"), accounts["chair2"])
    ids = record_ids(db)
    assert ids["evidence"] and ids["YZ"]
    return ids


def foreign_state(db: Session, ids: dict[str, int]) -> list[tuple[str, ...]]:
    """Every row about YZ's unions that an action could change, as text."""
    db.expire_all()
    foreign = [ids["U01"], ids["U02"], ids["U03"]]
    rows: list[tuple[str, ...]] = []
    for model in (Inspection, ItemScore, Evidence, Objection, Remediation, SampledInspection):
        column = model.id if model is Inspection else model.inspection_id  # type: ignore[attr-defined]
        for row in db.scalars(select(model).where(column.in_(foreign)).order_by(model.id)):
            rows.append((model.__name__, *(repr(getattr(row, c.key)) for c in model.__table__.columns)))
    for org in db.scalars(select(Organisation).where(Organisation.code.in_(["YZ", "U01", "U02", "U03"]))):
        rows.append(("Organisation", *(repr(getattr(org, c.key)) for c in Organisation.__table__.columns)))
    db.rollback()
    return rows


def text_of(response: Any) -> str:
    """What a response shows: its text, or the text inside an xlsx/docx (zip) download."""
    data: bytes = response.data
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return data.decode("utf-8", "replace")


def walked_rules(app: Flask) -> Iterator[Rule]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in NOT_WALKED or rule.endpoint.split(".")[0] in NOT_WALKED_BLUEPRINTS:
            continue
        yield rule


def foreign_url(rule: Rule, ids: dict[str, int]) -> str:
    """The rule's URL with every argument naming one of YZ's records (or 2026 for a year)."""
    values: dict[str, Any] = {}
    for argument in rule.arguments:
        if argument == "year":
            values[argument] = 2026
        elif argument == "inspection_id":
            values[argument] = ids["U01"]
        elif argument in ("evidence_id", "photo_id"):
            values[argument] = ids["evidence"]
        elif argument in ("org_id", "organisation_id", "county_id"):
            values[argument] = ids["YZ"]
        elif argument in ("county", "county_code"):
            values[argument] = "YZ"
        elif argument in ("code", "org", "org_code"):
            values[argument] = "U01"
        elif argument == "filename" and rule.endpoint in PUBLIC:
            values[argument] = "console.css"
        elif argument == "key":  # a rubric sheet: the city's standard, the same for every county
            values[argument] = "village"
        elif argument == "version":  # a rubric sheet's version: the same for every county
            values[argument] = "2023.1"
        elif argument == "token" and rule.endpoint == "notice.show":
            values[argument] = "1.AAAAAAAAAAAAAAAAAAAAAA"  # a notice's link: a token the service did not make
        else:
            pytest.fail(f"{rule.rule} takes <{argument}>: give the walk another county's value for it")
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), url)
    return url


#: Arguments that name nothing of a county's own: a year, a rubric sheet and its version.
SHARED_ARGUMENTS = {"year", "key", "version"}

#: Sent with every walked request: each parameter a page or form reads, naming YZ's records.
FOREIGN_QUERY = {"county": "YZ", "scope": "YZ", "org": "U01", "code": "U01", "year": "2026"}
FOREIGN_FORM = FOREIGN_QUERY | {
    "days": "7",
    "reason": "越权测试",
    "stars": "5",
    "percent": "100",
    "seed": "1",
    "copy": "paper",
    "inspection": "U01",
}


def test_a_county_account_reaches_no_record_of_another_county(
    app: Flask, counties: dict[str, int], db: Session
) -> None:
    browser = Browser(app)
    assert browser.login("xj", "xj-password-12").status_code == 302
    before = foreign_state(db, counties)
    walked = 0
    for rule in walked_rules(app):
        url = foreign_url(rule, counties)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = browser.get(url, query_string=FOREIGN_QUERY)
            else:
                response = browser.post(url, FOREIGN_FORM, query_string=FOREIGN_QUERY)
            walked += 1
            where = f"{method} {url} ({rule.endpoint}) → {response.status_code}"
            shown = text_of(response)
            if rule.endpoint in PUBLIC:
                pass  # the sign-in page, the health check, static files: open to all, showing nothing of YZ
            elif response.status_code in (403, 404):
                assert CJK.search(shown) and "Not Found" not in shown and "Forbidden" not in shown, where
            elif response.status_code in (200, 302) and rule.arguments <= SHARED_ARGUMENTS:
                if response.status_code == 302:  # where it leads, and what that page says
                    shown += text_of(browser.get(response.headers["Location"]))
            else:
                pytest.fail(f"{where}: a record of another county was reached")
            leaked = [marker for marker in FOREIGN_MARKERS if marker in shown]
            assert not leaked, f"{where} shows {leaked}"
    assert walked >= 20
    assert foreign_state(db, counties) == before
    changed = db.scalars(
        select(AuditEntry).where(AuditEntry.actor == "console:xj", AuditEntry.action != "login")
    ).all()
    assert not changed, [(a.action, a.entity, a.entity_id) for a in changed]
    city = Browser(app)  # the city sees YZ: the markers are found where they are (inside downloads too)
    city.login("city", "city-password-1")
    assert "U01" in text_of(city.get("/console/campaigns/2026/results.xlsx"))
    assert "第1社区工会" in text_of(city.get(f"/console/inspections/{counties['U01']}"))


def test_every_route_but_sign_in_needs_a_session(app: Flask, counties: dict[str, int], db: Session) -> None:
    visitor = Browser(app)
    visitor.get("/console/login")  # a token, so that forms reach the sign-in check
    before = foreign_state(db, counties)
    for rule in walked_rules(app):
        if rule.endpoint in PUBLIC:
            continue
        url = foreign_url(rule, counties)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = visitor.get(url) if method == "GET" else visitor.post(url, FOREIGN_FORM)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/console/login"), (method, url)
    assert foreign_state(db, counties) == before


def test_every_form_needs_its_sessions_csrf_token(app: Flask, counties: dict[str, int], db: Session) -> None:
    city = Browser(app)
    city.login("city", "city-password-1")
    other = Browser(app)
    other.login("yz", "yz-password-12")
    before = foreign_state(db, counties)
    posts = [r for r in walked_rules(app) if "POST" in (r.methods or set()) and r.endpoint != "console.login"]
    assert len(posts) >= 8
    for rule in posts:
        url = foreign_url(rule, counties)
        for token in ("", other.token):
            form = FOREIGN_FORM | {"csrf_token": token}
            response = city.request("POST", url, form)
            assert response.status_code == 400, (url, token, response.status_code)
            assert "页面已过期，操作未执行" in response.get_data(as_text=True), url
    assert foreign_state(db, counties) == before
    assert city.get("/console/").status_code == 200  # the refusals did not end the session


def test_every_response_carries_the_security_headers_and_no_inline_code(
    app: Flask, counties: dict[str, int]
) -> None:
    city = Browser(app)
    responses = [city.get("/console/login"), city.get("/healthz"), city.get("/console/nowhere")]
    city.login("city", "city-password-1")
    for rule in walked_rules(app):
        if "GET" not in (rule.methods or set()):
            continue
        url = foreign_url(rule, counties)  # the city sees YZ: every page renders in full
        responses.append(city.get(url, query_string={"year": "2026"}))
    responses.append(city.post("/console/inspections/0/publish", token=False))  # a refused form, 400
    for response in responses:
        where = (response.request.path, response.status_code)
        csp = response.headers.get("Content-Security-Policy", "")
        assert (
            "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
        ), where
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
        assert response.headers.get("X-Content-Type-Options") == "nosniff", where
        assert response.headers.get("Referrer-Policy") == "same-origin", where
        assert response.headers.get("X-Frame-Options") == "DENY", where
        assert "Strict-Transport-Security" not in response.headers, where  # plain HTTP here
        if response.request.path.startswith("/console/") and "/static/" not in response.request.path:
            assert response.headers.get("Cache-Control") == "no-store", where
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), where  # no inline script
            assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", page, re.IGNORECASE), where


def test_templates_hold_no_inline_script_style_or_handlers() -> None:
    """CSP forbids them, so a template that had one would break in the browser: none may."""
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates
    for template in templates:
        source = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), template.name
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", source, re.IGNORECASE), (
            template.name
        )


def session_cookie_header(browser: Browser, response: Any) -> str:
    name = browser.client.application.config["SESSION_COOKIE_NAME"]
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, response.headers
    return headers[-1]


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(
    backend: Backend, tmp_path: Path, accounts: dict[str, str], db: Session, app: Flask
) -> None:
    plain = Browser(app)
    plain.get("/console/login")
    header = session_cookie_header(
        plain, plain.post("/console/login", {"username": "xj", "password": "xj-password-12"})
    )
    assert header.startswith("nianjian_console=") and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header and "Path=/" in header

    config = make_config(backend, tmp_path, CONSOLE_SECURE_COOKIES="1")
    secure_app = create_app(config, **backend.parts())
    try:
        secure = Browser(secure_app, base_url="https://localhost")
        first = secure.get("/console/login")
        assert first.headers["Strict-Transport-Security"] == "max-age=31536000"
        signed = secure.post("/console/login", {"username": "xj", "password": "xj-password-12"})
        header = session_cookie_header(secure, signed)
        assert header.startswith("__Host-nianjian_console=") and "Secure" in header and "HttpOnly" in header
        assert "SameSite=Lax" in header and "Path=/" in header and "Domain" not in header
        assert secure.get("/console/").status_code == 200
        cross_site = secure.post(
            f"/console/inspections/{record_ids(db)['X01']}/return",
            {"reason": "x"},
            headers={"Referer": "https://example.com/"},
        )
        assert cross_site.status_code == 400 and "页面已过期，操作未执行" in cross_site.get_data(as_text=True)
    finally:
        secure_app.extensions["nianjian.engine"].dispose()


def test_sign_in_starts_a_new_session_and_sign_out_ends_it(
    app: Flask, accounts: dict[str, str], db: Session
) -> None:
    victim = Browser(app)
    victim.get("/console/login")
    planted, planted_token = victim.cookie(), victim.token  # what an attacker could have set beforehand
    victim.login("xj", "xj-password-12")
    signed_in = victim.cookie()
    assert signed_in != planted and victim.token != planted_token
    attacker = Browser(app)
    attacker.client.set_cookie(app.config["SESSION_COOKIE_NAME"], planted)
    assert attacker.get("/console/").status_code == 302  # the planted session never signed in
    attacker.token = planted_token
    assert (
        attacker.post(f"/console/inspections/{record_ids(db)['X01']}/return", {"reason": "x"}).status_code
        == 302
    )
    assert attacker.get("/console/").headers["Location"].startswith("/console/login")

    copy = Browser(app)  # a copy of the signed-in cookie works until sign-out …
    copy.client.set_cookie(app.config["SESSION_COOKIE_NAME"], signed_in)
    assert copy.get("/console/").status_code == 200
    assert victim.post("/console/logout").status_code == 302
    assert victim.get("/console/").status_code == 302
    # … and not after it, though its signature is still valid: the session itself has ended.
    again = copy.get("/console/")
    assert again.status_code == 302 and again.headers["Location"].startswith("/console/login")


def test_a_session_ends_twelve_hours_after_sign_in_however_active(
    app: Flask, accounts: dict[str, str]
) -> None:
    browser = Browser(app)
    browser.login("xj", "xj-password-12")
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    session = serializer.loads(browser.cookie())
    session["console_since"] = int(time.time()) - SESSION_MAX_SECONDS - 60
    browser.client.set_cookie(app.config["SESSION_COOKIE_NAME"], serializer.dumps(session))
    assert browser.get("/console/").headers["Location"].startswith("/console/login")


def test_sign_in_is_limited_per_account_and_per_address(
    backend: Backend, tmp_path: Path, app: Flask, accounts: dict[str, str], db: Session
) -> None:
    # Per address: failures against any accounts from one address lock that address, not the accounts.
    spray = Browser(app, address="127.0.0.7")
    for n in range(MAX_ADDRESS_FAILURES):
        assert spray.login(f"guess{n}", "password-guess").status_code == 401
    blocked = spray.login("city", "city-password-1")
    assert blocked.status_code == 429 and "网络地址登录失败次数过多" in blocked.get_data(as_text=True)
    assert Browser(app, address="127.0.0.8").login("city", "city-password-1").status_code == 302
    # Per account: failures from many addresses lock the account, for every address.
    for n in range(5):
        assert Browser(app, address=f"127.0.1.{n}").login("yz", "wrong-password").status_code == 401
    locked = Browser(app, address="127.0.2.1").login("yz", "yz-password-12")
    assert locked.status_code == 429 and "该账号登录失败次数过多" in locked.get_data(as_text=True)
    assert Browser(app, address="127.0.2.1").login("xj", "xj-password-12").status_code == 302
    # Without trusted proxies a forged X-Forwarded-For changes nothing: the socket's address counts.
    forged = Browser(app, address="127.0.0.7")
    response = forged.login("city", "city-password-1", headers={"X-Forwarded-For": "127.9.9.9"})
    assert response.status_code == 429
    # Every failure is in the audit log with its address; an over-long name is refused, not an error.
    assert Browser(app).login("x" * 500, "p" * 5000).status_code == 401
    failures = db.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed")).all()
    assert len(failures) == MAX_ADDRESS_FAILURES + 5 + 1
    assert {"127.0.0.7", "127.0.1.4"} <= {f.reason for f in failures}
    # Another process shares the counts when they are in Redis (each process counts alone without it).
    other = create_app(make_config(backend, tmp_path), **backend.fresh_parts())
    try:
        elsewhere = Browser(other, address="127.0.0.7").login("city", "city-password-1").status_code
        assert elsewhere == (429 if backend.redis_client is not None else 302)
    finally:
        other.extensions["nianjian.engine"].dispose()


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    backend: Backend, tmp_path: Path, accounts: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access, "MAX_ADDRESS_FAILURES", 3)  # the limit's size is tested above
    proxied = create_app(make_config(backend, tmp_path, PROXY_HOPS="1"), **backend.parts())
    try:
        for n in range(3):
            response = Browser(proxied).login(f"guess{n}", "x", headers={"X-Forwarded-For": "127.0.3.1"})
            assert response.status_code == 401
        assert (
            Browser(proxied)
            .login("xj", "xj-password-12", headers={"X-Forwarded-For": "127.0.3.1"})
            .status_code
            == 429
        )
        assert (
            Browser(proxied)
            .login("xj", "xj-password-12", headers={"X-Forwarded-For": "127.0.3.2"})
            .status_code
            == 302
        )
    finally:
        proxied.extensions["nianjian.engine"].dispose()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Headless Chromium through Selenium, logging what the page's console reports."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CI") == "true":
            pytest.fail(
                "chromium and chromium-driver must be installed under CI=true (.ci/run installs them)"
            )
        pytest.skip("chromium / chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


def test_the_console_works_in_chromium_under_its_content_security_policy(
    app: Flask, counties: dict[str, int], chromium: Any
) -> None:
    """The policy is enforced by a real browser: every page styled, the chart shown, nothing refused."""
    from selenium.webdriver.common.by import By

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        chromium.get(f"{base}/console/login")
        chromium.find_element(By.NAME, "username").send_keys("city")
        chromium.find_element(By.NAME, "password").send_keys("city-password-1")
        chromium.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        for path in (
            "/console/",
            f"/console/inspections/{counties['U01']}",
            "/console/inspections",
            "/console/campaigns",
        ):
            chromium.get(base + path)
            assert chromium.find_elements(By.CSS_SELECTOR, "header"), path  # signed in
            colour = chromium.execute_script(
                "return getComputedStyle(document.querySelector('header')).backgroundColor"
            )
            assert colour == "rgb(179, 38, 30)", (path, colour)  # the stylesheet applies
        chromium.get(base + "/console/")
        shown = chromium.execute_script(
            "return [...document.images].filter(i => i.src.startsWith('data:image/png')).map(i => i.naturalWidth)"
        )
        assert shown and all(width > 0 for width in shown), shown  # the chart, a data: URL, is drawn
        refused = [
            e["message"] for e in chromium.get_log("browser") if "Content Security Policy" in e["message"]
        ]
        assert not refused, refused
    finally:
        server.shutdown()
        thread.join(timeout=5)

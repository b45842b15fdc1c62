"""The hostile-input corpus (tests/corpus/cases.py) against the webhook through a real HTTP server on
loopback, in plaintext mode and in safe mode (AES), on SQLite with in-process state and on PostgreSQL +
Redis. Every answer: no 5xx, nothing logged with a traceback or at ERROR, a refusal short and plain, a
reply well-formed XML for the sender (in safe mode encrypted and signed) whose text fits WeChat's 2048
bytes. After the corpus a normal turn still works, and what was refused left nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import redis
import requests
import xmltodict
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.crypto import WeChatCrypto
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from chatbot.app import create_app
from chatbot.config import Config
from chatbot.inspection import campaigns, organisations
from chatbot.store.counters import MemoryRateCounter, RedisRateCounter
from chatbot.store.engine import make_engine, session_factory
from chatbot.store.models import Account, InboundMessage, Inspection, ItemScore, Organisation
from chatbot.store.state import MemoryStateStore, MemoryUserLock, RedisStateStore, RedisUserLock
from chatbot.wechat.protocol import REASONS, signature
from dialogs.engine import MAX_REPLY_BYTES
from tests.conftest import AES_KEY, APP_ID, TOKEN, reset_postgres, service_url
from tests.corpus import cases
from tests.corpus.cases import AES, PLAIN, Keys
from tests.corpus.loopback import Loopback, Quiet, serve

KEYS = Keys(TOKEN, APP_ID, AES_KEY)
#: Each text case is typed by the chair of a union of its own, in each mode.
TEXT_UNIONS = [(text.name, mode) for text in cases.TEXTS for mode in (PLAIN, AES)]


@dataclass
class Site:
    """The service on loopback: /wechat in safe mode that also takes plaintext pushes
    (WECHAT_ALLOW_PLAINTEXT, as while an account switches modes) and /plain/wechat configured for
    plaintext only; one database behind both."""

    loopback: Loopback
    sessions: sessionmaker[Session]
    chair_codes: dict[tuple[str, str], str]
    http: requests.Session
    #: Senders of the requests refused: none of them may have left an account behind.
    refused: set[str] = field(default_factory=set)

    def post(self, params: dict[str, str], body: bytes, path: str = "/wechat") -> requests.Response:
        return self.http.post(
            self.loopback.url + path,
            params=params,
            data=body,
            headers={"Content-Type": "text/xml"},
            timeout=30,
        )


def _config(database_url: str, instance: Path, redis_url: str | None, aes: bool) -> Config:
    env = {
        "DATABASE_URL": database_url,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "NIANJIAN_INSTANCE": str(instance),
        "SECRET_KEY": "corpus-secret",
    }
    if aes:
        env["WECHAT_ENCODING_AES_KEY"] = AES_KEY
        env["WECHAT_ALLOW_PLAINTEXT"] = "1"
    if redis_url:
        env["REDIS_URL"] = redis_url
    return Config.from_env(env)


def _seed(sessions: sessionmaker[Session]) -> dict[tuple[str, str], str]:
    """The city, a county, a union (non-public sheet: 43 items, 102 points) for each text case and
    mode, the campaign open, a chair's invitation for each."""
    codes: dict[tuple[str, str], str] = {}
    with sessions.begin() as session:
        organisations.add_org(session, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(session, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        for n, _ in enumerate(TEXT_UNIONS, start=1):
            organisations.add_org(
                session, organisations.OrgRow(f"C{n:03d}", f"语料第{n}工会", "non_public", "XJ", 30)
            )
        for code in ("REPLAY-PLAIN", "REPLAY-AES", "AFTER"):
            organisations.add_org(session, organisations.OrgRow(code, f"{code}工会", "non_public", "XJ", 30))
        campaigns.open_year(session, 2026)
        for n, key in enumerate(TEXT_UNIONS, start=1):
            codes[key] = organisations.create_invitation(session, f"C{n:03d}", "chair").code
        for code in ("REPLAY-PLAIN", "REPLAY-AES", "AFTER"):
            codes[(code, "")] = organisations.create_invitation(session, code, "chair").code
    return codes


@pytest.fixture(scope="module", params=["sqlite", "postgres+redis"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp(f"corpus-{request.param}")
    redis_url = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp / 'corpus.db'}"
    else:
        database_url = Config.from_env({"DATABASE_URL": service_url("TEST_DATABASE_URL") or ""}).database_url
        redis_url = service_url("TEST_REDIS_URL")
        reset_postgres(database_url)
        redis.Redis.from_url(redis_url or "").flushdb()

    def parts() -> dict[str, object]:
        if redis_url is None:
            return {"store": MemoryStateStore(), "lock": MemoryUserLock(), "counter": MemoryRateCounter()}
        client = redis.Redis.from_url(redis_url)
        return {
            "store": RedisStateStore(client),
            "lock": RedisUserLock(client),
            "counter": RedisRateCounter(client),
        }

    safe = create_app(_config(database_url, tmp / "instance", redis_url, aes=True), **parts())
    plain = create_app(
        _config(database_url, tmp / "instance", redis_url, aes=False), run_migrations=False, **parts()
    )
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    codes = _seed(sessions)
    with Quiet(), serve(DispatcherMiddleware(safe.wsgi_app, {"/plain": plain.wsgi_app})) as loopback:
        yield Site(loopback, sessions, codes, requests.Session())
    for app in (safe, plain):
        app.extensions["nianjian.engine"].dispose()
    engine.dispose()


@pytest.fixture(autouse=True)
def no_problems(site: Site) -> Iterator[None]:
    """Nothing the server side logged with a traceback or at ERROR, during this case."""
    site.loopback.problems.take()
    yield
    time.sleep(0)  # let the server thread finish logging its answer
    assert site.loopback.problems.take() == []


def _reply(response: requests.Response, mode: str, openid: str, site: Site | None = None) -> str:
    """The checks every answer passes; the reply's text ('' for a refusal or 'success')."""
    assert response.status_code < 500, response.text
    body = response.content
    if response.status_code != 200:
        assert body.decode() in REASONS, body  # short, fixed: never an exception's text
        if site is not None:
            site.refused.add(openid)
        return ""
    if body == b"success":
        return ""
    assert b"<!DOCTYPE" not in body.upper()
    data = xmltodict.parse(body)["xml"]  # well-formed, with the <xml> root
    if mode == AES:
        assert set(data) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
        assert data["MsgSignature"] == signature(TOKEN, data["TimeStamp"], data["Nonce"], data["Encrypt"])
        inner = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(
            body, data["MsgSignature"], data["TimeStamp"], data["Nonce"]
        )
        data = xmltodict.parse(inner)["xml"]
    assert data["MsgType"] == "text"
    assert data["ToUserName"] == openid and data["FromUserName"] == cases.ACCOUNT
    text = data.get("Content") or ""
    assert 0 < len(text.encode("utf-8")) <= MAX_REPLY_BYTES
    return text


def _item_scores(site: Site, union: str) -> dict[int, Decimal]:
    with site.sessions.begin() as session:
        rows = session.execute(
            select(ItemScore.item_no, ItemScore.self_score)
            .join(Inspection, Inspection.id == ItemScore.inspection_id)
            .join(Organisation, Organisation.id == Inspection.organisation_id)
            .where(Organisation.code == union, ItemScore.self_score.is_not(None))
        )
        return {no: score for no, score in rows}


def _ids(items: list, modes: tuple[str, ...] | None = None) -> list:
    return [
        pytest.param(item, mode, id=f"{item.name}-{mode}") for item in items for mode in (modes or item.modes)
    ]


@pytest.mark.parametrize(("case", "mode"), _ids(cases.ENVELOPES))
def test_envelope(site: Site, case: cases.Envelope, mode: str) -> None:
    openid = f"env-{case.name}-{mode}"[:64]
    params, body = case.build(KEYS, mode, openid)
    response = site.post(params, body)
    assert response.status_code == case.status, response.text
    text = _reply(response, mode, openid, site)
    assert (text != "") == (case.status == 200)


@pytest.mark.parametrize(("case", "mode"), _ids(cases.BODIES))
def test_body(site: Site, case: cases.Body, mode: str) -> None:
    openid = f"body-{case.name}-{mode}"[:64]
    params, body = cases.seal(KEYS, mode, case.xml(openid))
    response = site.post(params, body)
    if case.status:
        assert response.status_code == case.status, response.text
    _reply(response, mode, openid, site)


@pytest.mark.parametrize(("case", "mode"), _ids(cases.TEXTS, (PLAIN, AES)))
def test_text(site: Site, case: cases.Text, mode: str) -> None:
    openid = f"text-{case.name}-{mode}"[:64]
    union = f"C{TEXT_UNIONS.index((case.name, mode)) + 1:03d}"

    def say(content: str) -> str:
        params, body = cases.seal(KEYS, mode, cases.envelope(openid, "text", cases.cdata("Content", content)))
        return _reply(site.post(params, body), mode, openid)

    assert "绑定成功" in say(f"绑定 {site.chair_codes[(case.name, mode)]}")
    assert "【1/43】" in say("自评")
    reply = say(case.content)
    assert case.shows in reply, reply
    expected = {} if case.score is None else {1: case.score}
    assert _item_scores(site, union) == expected


@pytest.mark.parametrize(("case", "mode"), _ids(cases.KINDS))
def test_kind(site: Site, case: cases.Kind, mode: str) -> None:
    openid = f"kind-{case.name}-{mode}"[:64]
    params, body = cases.seal(KEYS, mode, case.xml(openid))
    response = site.post(params, body)
    assert response.status_code == 200, response.text
    text = _reply(response, mode, openid)
    assert (text != "") == case.reply


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in cases.SEALED])
def test_sealed(site: Site, case: cases.Sealed) -> None:
    openid = f"sealed-{case.name}"[:64]
    params, body = case.build(KEYS, openid)
    response = site.post(params, body)
    assert response.status_code == case.status, response.text
    _reply(response, AES, openid, site)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in cases.SIZES])
def test_size(site: Site, case: cases.Size) -> None:
    """Over the limit: refused on what was sent first — the rest is sent only after the answer came, so
    an answer at all shows the body was not read whole."""
    head, first, rest = case.head(KEYS, site.loopback.port)
    status, body = site.loopback.raw(head + first, then=rest)
    assert status in case.status, body
    assert len(body) <= 200 and b"Traceback" not in body
    assert status != 413 or body == b"body too large"


@pytest.mark.parametrize("mode", [PLAIN, AES])
def test_a_plaintext_only_service_refuses_what_claims_safe_mode(site: Site, mode: str) -> None:
    openid = f"plain-only-{mode}"
    params, body = cases.seal(KEYS, mode, cases.envelope(openid, "text", cases.cdata("Content", "帮助")))
    response = site.post(params, body, path="/plain/wechat")
    assert response.status_code == (200 if mode == PLAIN else 400)
    assert _reply(response, mode, openid) or mode == AES


@pytest.mark.parametrize("mode", [PLAIN, AES])
def test_a_replayed_request_is_answered_again_and_applied_once(site: Site, mode: str) -> None:
    """WeChat's retry, or a replay within the five minutes: the same answer, recorded once; the same
    request after the window is refused."""
    openid = f"replay-{mode}"
    union = f"REPLAY-{mode.upper()}"
    code = site.chair_codes[(union, "")]
    for content in (f"绑定 {code}", "自评"):
        params, body = cases.seal(KEYS, mode, cases.envelope(openid, "text", cases.cdata("Content", content)))
        _reply(site.post(params, body), mode, openid)
    xml = cases.envelope(openid, "text", cases.cdata("Content", "0.5"))
    params, body = cases.seal(KEYS, mode, xml)
    first = _reply(site.post(params, body), mode, openid)
    again = [_reply(site.post(params, body), mode, openid) for _ in range(3)]
    assert again == [first] * 3
    with site.sessions.begin() as session:
        key = "msg:" + xmltodict.parse(xml)["xml"]["MsgId"]
        assert session.scalar(select(func.count()).where(InboundMessage.dedup_key == key)) == 1
    assert _item_scores(site, union) == {1: Decimal("0.5")}
    late = str(int(time.time()) - 400)  # the same push, replayed after the five minutes
    params, body = cases.seal_encrypt(KEYS, "x", late) if mode == AES else (cases.signed(KEYS, late), body)
    assert site.post(params, body).status_code == 403


@pytest.mark.parametrize(
    ("path", "mode"), [("/plain/wechat", PLAIN), ("/wechat", PLAIN), ("/wechat", AES)], ids=str
)
def test_a_signed_query_carries_one_body(site: Site, path: str, mode: str) -> None:
    """The query of a push answered once: under it, other senders' bodies are refused (read as
    plaintext, which the signature does not cover), while the first body again gets its reply."""
    openid = f"one-body{path.replace('/', '-')}-{mode}"
    params, body = cases.seal(KEYS, mode, cases.envelope(openid, "text", cases.cdata("Content", "帮助")))
    first = _reply(site.post(params, body, path), mode, openid)
    assert first
    query = {name: params[name] for name in ("signature", "timestamp", "nonce")}
    for n in range(5):
        other = cases.envelope(f"{openid}-{n}", "text", cases.cdata("Content", "绑定 ABCD2345"))
        response = site.post(query, other.encode(), path)
        assert (response.status_code, response.text) == (403, "signature reused")
        site.refused.add(f"{openid}-{n}")
    assert _reply(site.post(params, body, path), mode, openid) == first


def test_after_the_corpus_a_normal_turn_works_and_nothing_refused_was_kept(site: Site) -> None:
    openid = "after-corpus"
    code = site.chair_codes[("AFTER", "")]
    for mode, content, expected in (
        (PLAIN, f"绑定 {code}", "绑定成功"),
        (AES, "自评", "【1/43】"),
        (PLAIN, "4", "【2/43】"),
        (AES, "满分", "【3/43】"),
    ):
        params, body = cases.seal(KEYS, mode, cases.envelope(openid, "text", cases.cdata("Content", content)))
        assert expected in _reply(site.post(params, body), mode, openid)
    assert _item_scores(site, "AFTER") == {1: Decimal("4"), 2: Decimal("5")}
    with site.sessions.begin() as session:
        openids = set(session.scalars(select(Account.openid)))
    # Refused requests left nothing behind: no account for their senders.
    assert site.refused and not site.refused & openids
    assert all(len(o) <= 64 for o in openids)


def test_the_corpus_holds_at_least_200_cases() -> None:
    """Counted per database: each case once per mode it runs in."""
    total = (
        sum(len(c.modes) for c in cases.ENVELOPES)
        + sum(len(c.modes) for c in cases.BODIES)
        + len(cases.TEXTS) * 2
        + sum(len(c.modes) for c in cases.KINDS)
        + len(cases.SEALED)
        + len(cases.SIZES)
    )
    assert total >= 200

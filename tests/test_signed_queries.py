"""A signed query string carries one body (issue 19, point 3), through raw signed requests to the webhook
on both backends: WeChat's retry of the same body is answered from the dedup, another body under the
same query — another sender the plaintext signature never covered — is refused. Safe mode takes no
plaintext unless allowed, and production refuses to start in plaintext mode unless allowed."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.config import Config, ConfigError
from chatbot.store.models import Account, InboundMessage, RoleBinding
from chatbot.wechat.protocol import REPLAY_WINDOW_SECONDS, kept_for, signature, signed_query_key
from chatbot.wechat.simulator import Simulator
from tests.conftest import AES_KEY, APP_ID, TOKEN, Backend, City, make_config, transport_for
from tests.corpus import cases

KEYS = cases.Keys(TOKEN, APP_ID, AES_KEY)


def _text(openid: str, content: str) -> bytes:
    return cases.envelope(openid, "text", cases.cdata("Content", content)).encode()


def _without_time(reply: str) -> str:
    """A passive reply without its CreateTime, which is the second it was written."""
    return re.sub(r"<CreateTime>\d+</CreateTime>", "", reply)


def _post(client: FlaskClient, params: dict[str, str], body: bytes) -> tuple[int, str]:
    response = client.post("/wechat", query_string=params, data=body, content_type="text/xml")
    return response.status_code, response.get_data(as_text=True)


def _query(params: dict[str, str]) -> dict[str, str]:
    """The part of a query string the plaintext signature covers."""
    return {name: params[name] for name in ("signature", "timestamp", "nonce")}


def _accounts(db: Session, prefix: str) -> int:
    db.rollback()
    return db.scalar(select(func.count()).where(Account.openid.startswith(prefix))) or 0


def test_one_signed_query_answers_one_sender_and_refuses_thirty_invented_ones(
    client: FlaskClient, db: Session, city: City
) -> None:
    params, body = cases.seal(KEYS, cases.PLAIN, _text("replay-a", "帮助"))
    status, first = _post(client, params, body)
    assert status == 200 and "<Content>" in first
    for n in range(30):  # the attack: bind an invented sender, then vote as it, under one query
        for content in (f"绑定 {city.member_code}", "测评", "1"):
            assert _post(client, params, _text(f"invented-{n}", content)) == (403, "signature reused")
    # WeChat's retry of the first body: the stored reply (its CreateTime is the second it is sent),
    # recorded once.
    status, again = _post(client, params, body)
    assert (status, _without_time(again)) == (200, _without_time(first))
    db.rollback()
    assert db.scalar(select(func.count()).select_from(InboundMessage)) == 1
    assert _accounts(db, "invented-") == 0
    assert db.scalar(select(func.count()).select_from(RoleBinding)) == 0


def test_a_url_check_query_cannot_carry_a_message(client: FlaskClient, db: Session) -> None:
    params = cases.signed(KEYS) | {"echostr": "echo-1"}
    assert client.get("/wechat", query_string=params).get_data(as_text=True) == "echo-1"
    assert client.get("/wechat", query_string=params).get_data(as_text=True) == "echo-1"  # checked again
    assert _post(client, _query(params), _text("after-url-check", "帮助")) == (403, "signature reused")
    assert _accounts(db, "after-url-check") == 0


def test_safe_mode_takes_no_plaintext_and_remembers_no_query(
    backend: Backend, tmp_path: Path, db: Session
) -> None:
    app = create_app(make_config(backend, tmp_path, WECHAT_ENCODING_AES_KEY=AES_KEY), **backend.parts())
    client = app.test_client()
    params, body = cases.seal(KEYS, cases.AES, _text("safe-a", "帮助"))
    status, first = _post(client, params, body)
    assert status == 200 and "<Encrypt>" in first
    # Pure safe mode: msg_signature covers the encrypted body, so nothing is asked of Redis for the query.
    key = signed_query_key(params["signature"], params["timestamp"], params["nonce"])
    assert backend.counter.remember(key, "probe", 1) == ("probe", True)
    # A plaintext body, under that query or a fresh one: WeChat's safe and compatible modes never send one.
    assert _post(client, _query(params), _text("safe-b", "帮助")) == (403, "plaintext not accepted")
    fresh, plain = cases.seal(KEYS, cases.PLAIN, _text("safe-c", "帮助"))
    assert _post(client, fresh, plain) == (403, "plaintext not accepted")
    assert _accounts(db, "safe-b") == _accounts(db, "safe-c") == 0
    status, again = _post(client, params, body)  # the retry: the same reply, decrypted
    assert status == 200
    reader = Simulator(transport_for(client), "safe-a", TOKEN, APP_ID, AES_KEY)
    assert reader.reply_text(status, again) == reader.reply_text(200, first)
    app.extensions["nianjian.engine"].dispose()


def test_safe_mode_that_also_takes_plaintext_guards_the_encrypted_pushes_query(
    backend: Backend, tmp_path: Path, db: Session
) -> None:
    config = make_config(backend, tmp_path, WECHAT_ENCODING_AES_KEY=AES_KEY, WECHAT_ALLOW_PLAINTEXT="1")
    app = create_app(config, **backend.parts())
    client = app.test_client()
    params, body = cases.seal(KEYS, cases.AES, _text("mixed-a", "帮助"))
    assert _post(client, params, body)[0] == 200
    assert _post(client, _query(params), _text("mixed-b", "帮助")) == (403, "signature reused")
    assert _post(client, params, body)[0] == 200  # the retry goes on
    fresh, plain = cases.seal(KEYS, cases.PLAIN, _text("mixed-c", "帮助"))
    assert _post(client, fresh, plain)[0] == 200  # allowed: a plaintext push under its own query
    assert _accounts(db, "mixed-b") == 0 and _accounts(db, "mixed-c") == 1
    app.extensions["nianjian.engine"].dispose()


def test_a_query_is_remembered_as_long_as_its_timestamp_is_fresh() -> None:
    now = time.time()
    # A timestamp four minutes ahead stays fresh for nine more minutes: remembered at least that long.
    assert kept_for(int(now) + 240, now) >= 240 + REPLAY_WINDOW_SECONDS
    assert kept_for(int(now) - REPLAY_WINDOW_SECONDS, now) >= 1
    assert signature(TOKEN, "1", "n") != signature(TOKEN, "1", "m")


PRODUCTION_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def test_production_refuses_plaintext_mode_unless_allowed(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NIANJIAN_ENV", "production")
    monkeypatch.setenv("PERSONAL_DATA_KEY", PRODUCTION_KEY)
    monkeypatch.delenv("WECHAT_ENCODING_AES_KEY", raising=False)
    monkeypatch.delenv("WECHAT_ALLOW_PLAINTEXT", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    # Two workers without Redis: were the configuration taken, serve would still stop before starting.
    said = cli.refused("serve", "--workers", "2")
    assert "不能以明文模式运行" in said and "签名" in said and "不覆盖消息内容" in said
    assert "WECHAT_ENCODING_AES_KEY" in said and "WECHAT_ALLOW_PLAINTEXT=1" in said
    base = {
        "NIANJIAN_ENV": "production",
        "PERSONAL_DATA_KEY": PRODUCTION_KEY,
        "NIANJIAN_INSTANCE": str(tmp_path),
    }
    with pytest.raises(ConfigError, match="明文模式"):
        Config.from_env(base)
    assert Config.from_env(base | {"WECHAT_ALLOW_PLAINTEXT": "1"}).accepts_plaintext
    safe = Config.from_env(base | {"WECHAT_ENCODING_AES_KEY": AES_KEY, "WECHAT_APP_ID": APP_ID})
    assert safe.safe_mode and not safe.accepts_plaintext
    assert Config.from_env({"NIANJIAN_INSTANCE": str(tmp_path)}).accepts_plaintext  # development

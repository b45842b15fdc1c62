"""The webhook's protocol edge: signatures, replay, hostile XML, safe mode, key rotation, CDATA."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
import xmltodict
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.store.models import InboundMessage
from chatbot.wechat.protocol import Crypto, ProtocolError, links_of, render_text, signature
from chatbot.wechat.simulator import Simulator
from dialogs.context import WalkView
from dialogs.engine import Choice, Reply
from dialogs.selfcheck import MODE
from dialogs.walk import question
from rubrics import all_rubrics
from tests.conftest import AES_KEY, APP_ID, OTHER_AES_KEY, TOKEN, Backend, City, make_config, transport_for

SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2L"
    "dJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6u"
    "x5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJ"
    "pXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCz"
    "pu9GhglF2PE="
)
SAMPLE_BODY = f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"


def signed(token: str = TOKEN, timestamp: str | None = None, nonce: str = "12345") -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def text_xml(openid: str, content: str, msg_id: int = 1) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def post(client: FlaskClient, body: str | bytes, params: dict[str, str] | None = None):
    return client.post(
        "/wechat", query_string=signed() if params is None else params, data=body, content_type="text/xml"
    )


def test_the_official_encryption_sample_decrypts() -> None:
    crypto = Crypto("spamtest", "wx2c2769f8efd9abc2", ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",))
    plain = crypto.decrypt(
        SAMPLE_BODY.encode(), "5d197aaffba7e9b25a30732f161a50dee96bd5fa", "1409735669", "1320562132"
    )
    message = xmltodict.parse(plain)["xml"]
    assert message["Content"] == "abcdteT" and message["FromUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"


def test_the_official_sample_with_a_wrong_msg_signature_is_refused() -> None:
    crypto = Crypto("spamtest", "wx2c2769f8efd9abc2", ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",))
    with pytest.raises(ProtocolError) as error:
        crypto.decrypt(
            SAMPLE_BODY.encode(), "5d197aaffba7e9b25a30732f161a50dee96bd5fb", "1409735669", "1320562132"
        )
    assert error.value.status == 403


def test_url_verification(client: FlaskClient) -> None:
    good = client.get("/wechat", query_string=signed() | {"echostr": "shr5ch"})
    assert (good.status_code, good.get_data(as_text=True)) == (200, "shr5ch")
    bad = client.get("/wechat", query_string=signed(token="other") | {"echostr": "shr5ch"})
    assert bad.status_code == 403 and "shr5ch" not in bad.get_data(as_text=True)


def test_bad_signature_is_403(client: FlaskClient) -> None:
    assert post(client, text_xml("u1", "帮助"), signed(token="forged")).status_code == 403
    params = signed()
    params["signature"] = params["signature"][:-1] + ("0" if params["signature"][-1] != "0" else "1")
    assert post(client, text_xml("u1", "帮助"), params).status_code == 403
    assert post(client, text_xml("u1", "帮助"), {}).status_code == 403


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_timestamp_out_of_the_five_minute_window_is_refused(client: FlaskClient, offset: int) -> None:
    params = signed(timestamp=str(int(time.time()) + offset))
    assert post(client, text_xml("u1", "帮助"), params).status_code == 403


def test_a_timestamp_inside_the_window_is_accepted(client: FlaskClient) -> None:
    response = post(client, text_xml("u1", "帮助"), signed(timestamp=str(int(time.time()) - 290)))
    assert response.status_code == 200 and "绑定" in xmltodict.parse(response.data)["xml"]["Content"]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<xml><ToUserName>a</ToUserName><FromUserName>u1</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>"""
XXE = """<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><FromUserName>u1</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        XXE,
        "<xml><FromUserName>u1</FromUserName>",  # truncated
        "not xml at all",
        "<xml></xml>",  # no MsgType, no sender
        "<other><MsgType>text</MsgType></other>",  # no <xml> root
        "<xml><MsgType>text</MsgType><Content>hi</Content></xml>",  # no sender
        "",
    ],
)
def test_hostile_or_malformed_bodies_are_400(client: FlaskClient, body: str) -> None:
    response = post(client, body)
    assert response.status_code == 400


def test_a_body_over_64_kib_is_413(client: FlaskClient) -> None:
    body = text_xml("u1", "字" * 23000)
    assert len(body.encode()) > 64 * 1024
    assert post(client, body).status_code == 413


def test_safe_mode_round_trip_and_key_rotation(backend: Backend, tmp_path: Path, city: City) -> None:
    # The account rotated its key: the new one is current, the old one still accepted.
    config = make_config(
        backend, tmp_path, WECHAT_ENCODING_AES_KEY=OTHER_AES_KEY, WECHAT_ENCODING_AES_KEY_PREVIOUS=AES_KEY
    )
    app = create_app(config, **backend.parts())
    client = app.test_client()
    with_new_key = Simulator(transport_for(client), "safe-1", TOKEN, APP_ID, OTHER_AES_KEY)
    assert "绑定成功" in with_new_key.say(f"绑定 {city.chair_code}")
    with_old_key = Simulator(transport_for(client), "safe-2", TOKEN, APP_ID, AES_KEY)
    status, body = with_old_key.text(f"绑定 {city.chair_code}")
    assert status == 200 and "<Encrypt>" in body  # the reply is encrypted with the current key
    assert "绑定成功" in Simulator(transport_for(client), "safe-2", TOKEN, APP_ID, OTHER_AES_KEY).reply_text(
        status, body
    )
    stranger = Simulator(
        transport_for(client), "safe-3", TOKEN, APP_ID, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
    )
    assert stranger.text("帮助")[0] == 400
    app.extensions["nianjian.engine"].dispose()


def test_plaintext_post_without_safe_mode_configured_cannot_claim_aes(client: FlaskClient) -> None:
    params = signed() | {"encrypt_type": "aes", "msg_signature": "x"}
    assert post(client, SAMPLE_BODY, params).status_code == 400


def test_user_text_with_cdata_terminator_is_echoed_safely(user, city: City) -> None:
    chair = user("u-cdata")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    reply = chair.say("]]><MsgType>x")
    assert "没有看懂“]]＞＜MsgType＞x”" in reply and "【1/43】" in reply  # echoed as text, not markup


def test_unsubscribe_answers_success(client: FlaskClient, user) -> None:
    status, body = user("u-unsub").event("unsubscribe")
    assert (status, body) == (200, "success")


def test_an_internal_failure_answers_with_an_apology_not_a_500(user, db: Session, city: City) -> None:
    chair = user("chair-fail")
    chair.say(f"绑定 {city.chair_code}")
    chair.say("自评")
    with db.begin():
        handled = db.scalar(select(func.count()).select_from(InboundMessage))
        db.execute(text("DROP TABLE evidence"))
    status, body = chair.photo()
    assert status == 200
    assert "抱歉，系统暂时出了点问题" in chair.reply_text(status, body)
    # The failed turn was rolled back whole: not even marked as handled, so WeChat's retry is not lost.
    with db.begin():
        assert db.scalar(select(func.count()).select_from(InboundMessage)) == handled


def test_every_reply_carries_tap_links_for_the_likely_answers(user, city: City) -> None:
    chair = user("chair-links")
    chair.say(f"绑定 {city.chair_code}")
    labels = [label for label, _ in links_of(chair.say("自评"))]  # item 1 is worth 5 points
    assert labels == ["0", "2", "3", "4", "满分", "跳过"]


@pytest.mark.parametrize("rubric", all_rubrics(), ids=lambda r: r.key)
def test_every_rendered_question_keeps_its_links_within_2048_bytes(rubric) -> None:
    view = WalkView(
        1,
        "某某有限公司工会",
        2026,
        rubric.key,
        rubric.version,
        "自评中",
        True,
        scores={i.no: Decimal("0.5") for i in rubric.items},
        evidence={i.no: 9 for i in rubric.items},
    )
    for item in rubric.items:
        rendered = render_text(
            question(MODE, view, rubric, item.no, prefix="本项分值为 5 分，请输入 0 到 5 分。\n")
        )
        assert len(rendered.encode()) <= 2048, item.no
        assert ("满分", "满分") in links_of(rendered), item.no


def test_an_oversized_reply_is_cut_to_2048_bytes() -> None:
    rendered = render_text(Reply("字" * 1000, (Choice("满分", "满分"),)))
    assert len(rendered.encode()) <= 2048 and rendered.endswith("…")

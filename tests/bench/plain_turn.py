"""The reference of the wrk bench: what an answering turn must do, written plainly (issue 23).

wechatpy's signature check, parse and passive reply; ONE Redis pipeline remembering the signed query,
taking the user's lock and reading their state, ONE saving the state and releasing the lock; ONE
transaction through SQLAlchemy Core on the project's schema: the account upserted, the bindings read,
the inspection and its scores read and locked (a ballot: the evaluation read), the answer upserted,
the message recorded with ON CONFLICT, commit. A chair scores self-check items, an evaluator assessment
items (its union in the state), a member answers ballot questions; ``上一项`` steps back and writes
nothing but the message. Run by bench_wrk.py under gunicorn; never by pytest.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Flask, Response, request
from sqlalchemy import Connection, and_, create_engine, func, select
from sqlalchemy.dialects.postgresql import insert
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from chatbot.store.models import Base
from rubrics.loader import all_rubrics

TOKEN = os.environ.get("WECHAT_TOKEN", "benchtoken")
T = Base.metadata.tables
accounts, bindings, orgs, campaigns = T["accounts"], T["role_bindings"], T["organisations"], T["campaigns"]
inspections, scores, evaluations = T["inspections"], T["item_scores"], T["evaluations"]
drafts, inbound = T["ballot_drafts"], T["inbound_messages"]
ITEMS = {rubric.key: rubric.items for rubric in all_rubrics()}
QUESTIONS = 9
LABELS = {"满意": 1, "基本满意": 2, "不满意": 3, "1": 1, "2": 2, "3": 3}
BUSY = "您的上一条消息还在处理中，请稍候几秒再发送。"
POLL = (0.005, 0.01, 0.02, 0.05)
UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

engine = create_engine(os.environ["DATABASE_URL"], pool_size=2)
cache = redis.Redis.from_url(os.environ["REDIS_URL"])
app = Flask(__name__)
open_year = select(func.max(campaigns.c.year)).where(campaigns.c.closed_at.is_(None)).scalar_subquery()
inspection_of = (
    select(inspections.c.id, inspections.c.rubric_key, scores.c.item_no, scores.c.self_score)
    .join(campaigns, campaigns.c.id == inspections.c.campaign_id)
    .outerjoin(scores, scores.c.inspection_id == inspections.c.id)
    .where(campaigns.c.year == open_year)
    .order_by(scores.c.item_no)
    .with_for_update(of=inspections)
)


class Handled(Exception):
    """The message was handled before (WeChat's retry): its transaction rolls back."""


def lock_and_state(openid: str, query_key: str, message_id: str) -> tuple[str, dict[str, Any]] | None:
    """One round trip a try: the signed query remembered, the lock taken, the state read; None when
    the user's previous message holds the lock longer than the service waits (4 s)."""
    token, lock, deadline = secrets.token_hex(8), f"plain:{openid}:lock", time.monotonic() + 4.0
    attempt = 0
    while True:
        pipe = cache.pipeline(transaction=False)
        pipe.set(query_key, message_id, nx=True, ex=600).set(lock, token, nx=True, px=10_000)
        pipe.get(f"plain:{openid}:state")
        _, taken, raw = pipe.execute()
        if taken:
            return token, json.loads(raw or "{}")
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL[min(attempt, len(POLL) - 1)])
        attempt += 1


def save_and_unlock(openid: str, token: str, state: dict[str, Any] | None) -> None:
    """The new state saved (None: left as it was) and the lock released, in one round trip."""
    pipe = cache.pipeline(transaction=False)
    if state is not None:
        pipe.set(f"plain:{openid}:state", json.dumps(state), ex=30 * 24 * 3600)
    pipe.eval(UNLOCK, 1, f"plain:{openid}:lock", token)
    pipe.execute()


def score_item(conn: Connection, org_id: int, state: dict[str, Any], column: str, back: bool) -> str:
    """A chair's or an evaluator's item: full marks and the next item, or the previous item."""
    rows = conn.execute(inspection_of.where(inspections.c.organisation_id == org_id)).all()
    items, no = ITEMS[rows[0].rubric_key], state.get("item", 1)
    if back:
        no = state["item"] = max(1, no - 1)
        return f"【{no}/{len(items)}】{items[no - 1].text}\n请回复得分 0–{items[no - 1].points} 分"
    points = items[no - 1].points
    values = {"inspection_id": rows[0].id, "item_no": no, column: points, "updated_at": datetime.now(UTC)}
    upsert = insert(scores).values(**values)
    conn.execute(upsert.on_conflict_do_update(index_elements=["inspection_id", "item_no"], set_=values))
    state["item"] = no % len(items) + 1
    nxt = items[state["item"] - 1]
    return f"✓ 第 {no} 项记 {points} 分。\n【{state['item']}/{len(items)}】{nxt.text}\n请回复得分 0–{nxt.points} 分"


def answer_question(conn: Connection, org_id: int, openid: str, state: dict[str, Any], content: str) -> str:
    """A member's ballot question: the answer kept in the draft and the next question, or the previous."""
    evaluation = conn.execute(
        select(evaluations.c.id)
        .join(inspections, inspections.c.id == evaluations.c.inspection_id)
        .join(campaigns, and_(campaigns.c.id == inspections.c.campaign_id, campaigns.c.year == open_year))
        .where(inspections.c.organisation_id == org_id)
    ).scalar_one()
    no = state.get("item", 1)
    if content not in LABELS:
        no = state["item"] = max(1, no - 1)
        return (
            f"【{no}/{QUESTIONS}】您对本单位工会的工作是否满意？\n请点选或回复：1 满意　2 基本满意　3 不满意"
        )
    answers = state.setdefault("answers", [])[: no - 1] + [LABELS[content]]
    state["answers"], state["item"] = answers, no % QUESTIONS + 1
    voter = hashlib.sha256(f"bench:{evaluation}:{openid}".encode()).hexdigest()
    values = {"evaluation_id": evaluation, "voter_hash": voter, "answers": answers}
    upsert = insert(drafts).values(**values)
    conn.execute(upsert.on_conflict_do_update(index_elements=["evaluation_id", "voter_hash"], set_=values))
    return f"✓ {content}\n【{state['item']}/{QUESTIONS}】您对本单位工会的工作是否满意？\n请点选或回复：1 满意"


def apply(openid: str, message_id: str, content: str, state: dict[str, Any]) -> str:
    """The turn's transaction and its reply; Handled when the message was handled before."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        account = conn.execute(
            insert(accounts)
            .values(openid=openid, created_at=now, last_message_at=now, cs_since_message=0)
            .on_conflict_do_update(
                index_elements=["openid"], set_={"last_message_at": now, "cs_since_message": 0}
            )
            .returning(accounts.c.id)
        ).scalar_one()
        role, org_id = conn.execute(
            select(bindings.c.role, orgs.c.id)
            .join(orgs, orgs.c.id == bindings.c.organisation_id)
            .where(bindings.c.account_id == account)
            .order_by(bindings.c.id)
        ).first()
        if role == "member":
            text = answer_question(conn, org_id, openid, state, content)
        else:
            target = state["org"] if role == "evaluator" else org_id
            column = "assessed_score" if role == "evaluator" else "self_score"
            text = score_item(conn, target, state, column, back=content == "上一项")
        recorded = conn.execute(
            insert(inbound)
            .values(dedup_key=f"msg:{message_id}", openid=openid, reply=text, created_at=now)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(inbound.c.id)
        ).first()
        if recorded is None:
            raise Handled(message_id)
    return text


@app.post("/wechat")
def turn() -> Response:
    args = request.args
    signature, timestamp, nonce = args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
    try:
        check_signature(TOKEN, signature, timestamp, nonce)
    except InvalidSignatureException:
        return Response("bad signature", status=403)
    message = parse_message(request.get_data())
    query_key = "plain:signed:" + hashlib.sha256(f"{timestamp}\n{nonce}\n{signature}".encode()).hexdigest()
    held = lock_and_state(message.source, query_key, str(message.id))
    if held is None:
        text = BUSY
    else:
        token, state = held
        try:
            text = apply(message.source, str(message.id), message.content.strip(), state)
        except Handled:
            save_and_unlock(message.source, token, None)
            return Response("success", mimetype="text/plain")
        except BaseException:
            save_and_unlock(message.source, token, None)
            raise
        save_and_unlock(message.source, token, state)
    return Response(TextReply(message=message, content=text).render(), mimetype="application/xml")

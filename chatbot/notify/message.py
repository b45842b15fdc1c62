"""What one notice's template message carries: its fields composed to fit (chatbot.notify.compose) from
the notice's facts, and the link to its full text (``/n/<token>``).

The link's token is unguessable without the service's SECRET_KEY: the notice's id and an HMAC-SHA256
of it (128 bits), so nothing more is written when a notice is sent. It expires with the notice's
purpose: ``LINK_GRACE_DAYS`` after the deadline (or the end of the publication period) it names, else
``LINK_DAYS`` after it was queued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chatbot.notify.compose import NONE, FieldType, Moment, fit, fit_moment
from chatbot.notify.templates import Template, TemplateField
from chatbot.notify.texts import READ_MORE, send_in_chat
from chatbot.timeutil import SHANGHAI, as_utc

#: A link lives this long after the deadline its notice names.
LINK_GRACE_DAYS = 7
#: A link of a notice with no deadline lives this long after it was queued.
LINK_DAYS = 30
#: The instruction a notice gives (发送“结果”…): the first quoted command of its text.
SEND_WORD = re.compile(r"发送“([^”]+)”")
TOKEN = re.compile(r"^([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{22})$")


@dataclass(frozen=True)
class NoticeFacts:
    """One outbox row as a template is filled from it."""

    id: int
    kind: str
    subject: str
    due: str
    text: str
    facts: str
    created_at: datetime


@dataclass(frozen=True)
class TemplateMessage:
    template_id: str
    data: dict[str, dict[str, str]]
    url: str


def send_word(text: str) -> str:
    """What the notice asks to send in the chat (``结果``, ``测评 ABC123``), or ""."""
    found = SEND_WORD.search(text)
    return found.group(1) if found else ""


def due_day(due: str) -> date | None:
    """The notice's deadline when its ``due`` is an ISO date (or date and time)."""
    try:
        return date.fromisoformat(due[:10]) if due else None
    except ValueError:
        return None


def facts_of(notice: NoticeFacts) -> dict[str, str]:
    try:
        found = json.loads(notice.facts) if notice.facts else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def value_of(field: TemplateField, notice: NoticeFacts, facts: dict[str, str], now: datetime) -> str:
    """The field's value for this notice (``facts``: its facts, read once), composed to fit its type."""
    source, kind = field.source, field.type
    if source in ("deadline", "period", "sent"):
        moment = _moment(source, notice, now)
        if moment is None and kind in (FieldType.TIME, FieldType.DATE):
            # No deadline to name (or one that is not a date): a typed field takes no "—", WeChat
            # would refuse the whole send; the time it was sent is a value it takes.
            moment = _moment("sent", notice, now)
        return fit_moment(kind, moment) if moment is not None else fit(kind, NONE)
    if source == "subject":
        return fit(kind, notice.subject)
    if source == "action":
        word = send_word(notice.text)
        return fit(kind, send_in_chat(word) if word and len(word) <= 16 else READ_MORE)
    if source == "summary":
        return fit(kind, notice.text)
    if source == "round":
        return fit(kind, f"第 {facts['round']} 轮" if "round" in facts else NONE)
    if source == "score" and kind is FieldType.NUMBER:
        return fit(kind, facts.get("score", "0"))
    if source == "score":
        return fit(kind, f"{facts['score']} 分" if "score" in facts else NONE)
    return fit(kind, facts.get(source, NONE))


def _moment(source: str, notice: NoticeFacts, now: datetime) -> Moment | None:
    if source == "sent":
        local = now.astimezone(SHANGHAI)
        return Moment(local.date(), local.replace(tzinfo=None))
    day = due_day(notice.due)
    if day is None:
        return None
    if source == "period":
        start = as_utc(notice.created_at).astimezone(SHANGHAI).date()
        return Moment(start, until=day)
    return Moment(day)


def compose(template: Template, notice: NoticeFacts, now: datetime) -> dict[str, dict[str, str]]:
    """The template's ``data``: each field's value for this notice."""
    facts = facts_of(notice)
    return {field.key: {"value": value_of(field, notice, facts, now)} for field in template.fields}


# ---------------------------------------------------------------- the link to the full text


def link_token(secret: str, notice_id: int) -> str:
    """The token of a notice's page: its id and a keyed hash only the service can make."""
    mac = hmac.new(secret.encode(), f"notice-link:{notice_id}".encode(), hashlib.sha256).digest()[:16]
    return f"{notice_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def token_notice(secret: str, token: str) -> int | None:
    """The notice a token is for, or None for a token the service did not make."""
    found = TOKEN.match(token)
    if found is None:
        return None
    notice_id = int(found.group(1))
    if not hmac.compare_digest(link_token(secret, notice_id), token):
        return None
    return notice_id


def link_expires(due: str, created_at: datetime) -> datetime:
    """When a notice's link stops working: the end of its deadline's day (Asia/Shanghai) plus
    ``LINK_GRACE_DAYS``, else ``LINK_DAYS`` after it was queued."""
    day = due_day(due)
    if day is None:
        return as_utc(created_at) + timedelta(days=LINK_DAYS)
    end = datetime.combine(day + timedelta(days=LINK_GRACE_DAYS + 1), time(0), SHANGHAI)
    return end.astimezone(UTC)


def link_url(base: str, secret: str, notice_id: int) -> str:
    """The notice's page under the public base URL; "" when no base URL is set."""
    return f"{base.rstrip('/')}/n/{link_token(secret, notice_id)}" if base else ""


def template_message(
    template: Template, notice: NoticeFacts, now: datetime, base_url: str, secret: str
) -> TemplateMessage:
    """Everything a template send carries for this notice."""
    return TemplateMessage(template.id, compose(template, notice, now), link_url(base_url, secret, notice.id))

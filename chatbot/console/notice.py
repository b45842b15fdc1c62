"""The full text of a template notice, one tap away (``/n/<token>``): a read-only page for a phone.

WeChat shows a template message's fields cut to 20 characters; the message links here. The token is
the notice's own (chatbot.notify.message: unguessable without the service's secret) and works until
the notice's purpose has passed; an unknown token answers 404 and an expired one 410, each a page
that says nothing about the notice. The page shows the notice as its recipient was sent it — its
subject, its full text and the word to send in the chat — with any mobile number masked; nothing else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, current_app, make_response, render_template

from chatbot.notify.message import link_expires, send_word, token_notice
from chatbot.store.models import OutboxMessage
from chatbot.timeutil import SHANGHAI, as_utc

bp = Blueprint("notice", __name__, url_prefix="/n")
#: A mainland mobile number in a notice's text (an objection may quote one): masked on the page, however
#: it is written — with +86 or 86 before it, in groups (138 1234 5678, 138-1234-5678), in full-width
#: digits (``\d`` is any decimal digit).
MOBILE = re.compile(
    r"(?<!\d)((?:[+＋]?[8８][6６][ \-－]?)?[1１][3-9３-９]\d)[ \-－]?\d{4}[ \-－]?(\d{4})(?!\d)"
)
#: A resident identity card number (18 characters, the last a digit or X): masked but its first 6 and
#: last 4, as a mobile number is.
ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
#: Every answer of this page (beside the app's security headers): never cached, never indexed.
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def masked(text: str) -> str:
    """``text`` with each mobile number as 138****1234 (+86138****1234, 138****1234 …) and each identity
    card number as 640422********123X."""
    return MOBILE.sub(r"\1****\2", ID_CARD.sub(r"\1********\2", text))


def _answer(body: str, status: int) -> Response:
    response = make_response(body, status)
    response.headers.update(HEADERS)
    return response


def _gone(status: int) -> Response:
    """404 (no such link) or 410 (the link has expired): the template's page, saying nothing more."""
    return _answer(render_template("console/notice.html", status=status, notice=None), status)


@bp.get("/<token>")
def show(token: str) -> Response:
    config = current_app.extensions["nianjian.config"]
    notice_id = token_notice(config.secret_key, token)
    if notice_id is None:
        return _gone(404)
    with current_app.extensions["nianjian.sessions"]() as session:
        row = session.get(OutboxMessage, notice_id)
        if row is None:
            return _gone(404)
        expires = link_expires(row.due, row.created_at)
        if datetime.now(UTC) >= expires:
            return _gone(410)
        page = render_template(
            "console/notice.html",
            status=200,
            title=row.subject,
            notice=masked(row.text).splitlines(),
            word=send_word(row.text),
            sent=_shown(as_utc(row.created_at)),
            # The last minute it opens: a link that ends at midnight is valid to 23:59 of the day before.
            expires=_shown(expires - timedelta(minutes=1)),
        )
    return _answer(page, 200)


def _shown(moment: datetime) -> str:
    """A moment as the page shows it, in Shanghai time: 2026年12月6日 09:05."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"

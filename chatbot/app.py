"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, Response, redirect, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from chatbot.config import Config
from chatbot.console import bp as console
from chatbot.console import security
from chatbot.console.notice import bp as notice_page
from chatbot.service.turn import ChatService
from chatbot.store.counters import RateCounter
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.notice_kinds import NoticeKind
from chatbot.store.state import StateStore, UserLock, conversations, make_state
from chatbot.wechat.admission import Shedding
from chatbot.wechat.api import make_client
from chatbot.wechat.protocol import MAX_BODY_BYTES, Crypto
from chatbot.wechat.webhook import bp

log = logging.getLogger(__name__)


def create_app(
    config: Config | None = None,
    *,
    store: StateStore | None = None,
    lock: UserLock | None = None,
    counter: RateCounter | None = None,
    run_migrations: bool = True,
) -> Flask:
    """Build the app: validate config, migrate the database, wire state, crypto and the service."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config.update(
        WECHAT_TOKEN=config.wechat_token,
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    if config.uses_default_token:
        log.warning("未设置 WECHAT_TOKEN：使用开发用的令牌（nianjian chat 可用；接入公众号前请设置）")
    if not config.public_base_url and any(config.template_of(kind) for kind in NoticeKind):
        log.warning("未设置 PUBLIC_BASE_URL：模板消息不带全文链接，成员只能看到各字段（每项最多 20 字）")
    engine = make_engine(config.database_url)
    if run_migrations:
        migrate(engine)
    if store is None or lock is None or counter is None:
        store, lock, counter = make_state(config.redis_url)
    crypto = None
    if config.wechat_aes_key:
        keys = tuple(k for k in (config.wechat_aes_key, config.wechat_aes_key_previous) if k)
        crypto = Crypto(config.wechat_token, config.wechat_app_id, keys)
    sessions = session_factory(engine)
    app.extensions["nianjian.config"] = config
    app.extensions["nianjian.engine"] = engine
    app.extensions["nianjian.crypto"] = crypto
    app.extensions["nianjian.service"] = ChatService(
        sessions, conversations(store, lock, counter), counter, config
    )
    app.extensions["nianjian.sessions"] = sessions
    app.extensions["nianjian.counter"] = counter
    app.extensions["nianjian.shedding"] = Shedding()
    app.extensions["nianjian.api"] = make_client(config, sessions) if config.api_configured else None
    app.register_blueprint(bp)
    app.register_blueprint(console)
    app.register_blueprint(notice_page)  # /n/<token>: a template notice's full text
    security.install(app, config, csrf_exempt=(bp.name,))  # the webhook is signed instead of a CSRF token

    @app.get("/")
    def home() -> WerkzeugResponse:  # flask.redirect makes werkzeug's Response, not flask's subclass
        return redirect(url_for("console.dashboard"))

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    return app

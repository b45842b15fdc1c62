"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, Response

from chatbot.config import Config
from chatbot.db import make_engine, migrate, session_factory
from chatbot.service import ChatService
from chatbot.state import StateStore, UserLock, make_state
from chatbot.webhook import bp
from chatbot.wechat import MAX_BODY_BYTES, Crypto

log = logging.getLogger(__name__)


def create_app(
    config: Config | None = None,
    *,
    store: StateStore | None = None,
    lock: UserLock | None = None,
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
        log.warning("WECHAT_TOKEN is not set: using the development token (fine for `nianjian chat`)")
    engine = make_engine(config.database_url)
    if run_migrations:
        migrate(engine)
    if store is None or lock is None:
        store, lock = make_state(config.redis_url)
    crypto = None
    if config.wechat_aes_key:
        keys = tuple(k for k in (config.wechat_aes_key, config.wechat_aes_key_previous) if k)
        crypto = Crypto(config.wechat_token, config.wechat_app_id, keys)
    sessions = session_factory(engine)
    app.extensions["nianjian.config"] = config
    app.extensions["nianjian.engine"] = engine
    app.extensions["nianjian.crypto"] = crypto
    app.extensions["nianjian.service"] = ChatService(sessions, store, lock, config)
    app.register_blueprint(bp)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    return app

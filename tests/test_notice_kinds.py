"""Every kind of notice is declared once (chatbot/store/notice_kinds.py): the outbox queues nothing
else, the delivery order and the template settings read the declaration."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chatbot.config import Config
from chatbot.store.engine import make_engine, migrate, session_factory
from chatbot.store.models import Account, OutboxMessage
from chatbot.store.notice_kinds import NoticeKind, label_of, notice_kind
from chatbot.store.outbox import Notice, enqueue, enqueue_many, enqueue_to_roles

NOW = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)


def test_an_undeclared_kind_is_not_queued(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kinds.db'}")
    migrate(engine)
    with session_factory(engine)() as session, session.begin():
        account = Account(openid="u-1")
        session.add(account)
        session.flush()
        for queue in (
            lambda kind: enqueue(session, account.id, kind, "k:1", "通知", NOW),
            lambda kind: enqueue_many(session, kind, [(Notice("k:2:", "通知"), [account.id])], NOW),
            lambda kind: enqueue_many(session, kind, [], NOW),  # refused even with nothing to queue
            lambda kind: enqueue_to_roles(session, kind, [(Notice("k:3:", "通知"), 1)], ("chair",), NOW),
        ):
            with pytest.raises(ValueError, match="unknown notice kind"):
                queue("result_publish")  # a typo of result_published
        assert enqueue(session, account.id, NoticeKind.RESULT_PUBLISHED, "k:4", "通知", NOW)
        assert enqueue(
            session, account.id, "result_final", "k:5", "通知", NOW
        )  # a stored name reads as its kind
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.subject).order_by(OutboxMessage.id)
        ).all()
        assert [tuple(row) for row in rows] == [
            ("result_published", "年检结果公示"),
            ("result_final", "年检结果已确定"),
        ]
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_each_kind_declares_its_label_and_its_template_setting() -> None:
    for kind in NoticeKind:
        assert notice_kind(kind.value) is kind
        assert re.fullmatch(r"[\u4e00-\u9fff，、]+", kind.label), kind
        config = Config.from_env({kind.template_setting: f"TPL-{kind.value}", "WECHAT_TEMPLATE_ID": "TPL"})
        assert config.template_for(kind) == f"TPL-{kind.value}"
    assert label_of("a_kind_of_older_rows") == "a_kind_of_older_rows"

"""The schema comes from the migrations and matches the models; configuration is checked at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from chatbot.config import Config, ConfigError
from chatbot.store.engine import make_engine, migrate
from chatbot.store.models import Base
from tests.conftest import AES_KEY, Backend


def test_migrations_produce_exactly_the_models(backend: Backend) -> None:
    engine = make_engine(backend.database_url)
    migrate(engine)
    migrate(engine)  # a second start changes nothing
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrading_a_database_that_holds_data(backend: Backend) -> None:
    engine = make_engine(backend.database_url)
    migrate(engine, "0002")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'GY', '市总', :t)"),
            {"t": "2026-01-01 00:00:00"},
        )
        connection.execute(
            text("INSERT INTO accounts (id, openid, created_at) VALUES (1, 'o1', :t)"),
            {"t": "2026-01-01 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO role_bindings (id, account_id, organisation_id, role, created_at) "
                "VALUES (1, 1, 1, 'admin', :t)"
            ),
            {"t": "2026-01-01 00:00:00"},
        )
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(
            text("SELECT openid, subscribed, cs_since_message FROM accounts")
        ).one() == ("o1", True, 0)
        assert connection.execute(text("SELECT count(*) FROM role_bindings")).scalar() == 1
        if engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    engine.dispose()


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    config = Config.from_env({"NIANJIAN_INSTANCE": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path / 'nianjian.db'}"
    assert config.redis_url is None and not config.safe_mode and config.uses_default_token
    assert len(config.secret_key) == 64
    assert Config.from_env({"NIANJIAN_INSTANCE": str(tmp_path)}).secret_key == config.secret_key


def test_postgres_urls_use_psycopg(tmp_path: Path) -> None:
    config = Config.from_env({"NIANJIAN_INSTANCE": str(tmp_path), "DATABASE_URL": "postgres://u@h/db"})
    assert config.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WECHAT_ENCODING_AES_KEY": "short"}, "43 位"),
        ({"WECHAT_ENCODING_AES_KEY": "!" * 43, "WECHAT_APP_ID": "wx1"}, "不是有效的 base64"),
        ({"WECHAT_ENCODING_AES_KEY": AES_KEY}, "还须设置 WECHAT_APP_ID"),
        ({"WECHAT_ENCODING_AES_KEY_PREVIOUS": AES_KEY}, "还须设置 WECHAT_ENCODING_AES_KEY。"),
        ({"WECHAT_TOKEN": "has space"}, "WECHAT_TOKEN"),
    ],
)
def test_bad_configuration_is_refused_at_start(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Config.from_env({"NIANJIAN_INSTANCE": str(tmp_path), "SECRET_KEY": "x"} | env)
    assert message in str(error.value)


def test_the_newest_migration_is_read_without_alembic(backend: Backend) -> None:
    from alembic.script import ScriptDirectory

    from chatbot.store.engine import alembic_config, head_revision, is_current

    script = ScriptDirectory.from_config(alembic_config(backend.database_url))
    assert [head_revision()] == script.get_heads()
    engine = make_engine(backend.database_url)
    assert not is_current(engine)  # an empty database
    migrate(engine)
    assert is_current(engine)
    engine.dispose()

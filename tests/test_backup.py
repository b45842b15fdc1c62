"""`nianjian backup` and `nianjian restore` through the CLI, on SQLite and on PostgreSQL: a restore into
an empty database holds every row the backup was taken from (answers, ballots, the audit log, every
other table), the service goes on with it, and nothing is overwritten without --force."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, insert, select, text
from sqlalchemy.orm import Session

from chatbot.app import create_app
from chatbot.store.engine import head_revision, make_engine
from chatbot.store.models import AuditEntry
from chatbot.wechat.simulator import Simulator
from tests.conftest import APP_ID, TOKEN, Backend, make_config, reset_postgres, transport_for
from tests.helpers import assess, self_check, setup_county

User = Callable[..., Simulator]
#: Every table's rows, as sortable text, by table name.
Snapshot = dict[str, list[tuple[str, ...]]]


def snapshot(url: str) -> Snapshot:
    """Every row of every table of the database at ``url`` (reflected, not taken from the models)."""
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted(tuple(repr(value) for value in row) for row in connection.execute(select(table)))
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def an_inspection_in_progress(user: User, db: Session, cli) -> dict[str, str]:
    """Two unions: one self-checked, evaluated by three members and assessed; the other untouched."""
    codes = setup_county(db, 2)
    self_check(user("chair1"), codes["chair1"], {3: "2", 7: "2.5"})
    members = [user(f"member-{n}") for n in range(3)]
    for member in members:  # bound before the opening: invited in chat
        member.say(f"绑定 {codes['member1']}")
    evaluation = cli("evaluation", "open", "--org", "U01", "--open", "2").strip().splitlines()[-1]
    assert evaluation
    for member in members:
        assert "【1/9】" in member.say("测评")
        for _ in range(8):
            member.say("1")
        assert "感谢参与" in member.say("希望多组织文体活动")
    evaluator = user("evaluator")
    evaluator.say(f"绑定 {codes['evaluator']}")
    assert "组织评定已提交" in assess(evaluator, "U01", {5: "3"})  # the evaluation ended first
    return codes


def counts(data: Snapshot) -> tuple[int, int, int]:
    return len(data["item_scores"]), len(data["ballots"]), len(data["audit_log"])


def restored_target(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: Session) -> str:
    """An empty database to restore into: a new SQLite file, or the PostgreSQL test database wiped."""
    db.close()
    if backend.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'restored' / 'nianjian.db'}"
    else:
        url = backend.database_url
        reset_postgres(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_a_backup_restores_every_row_into_an_empty_database(
    backend: Backend, user: User, db: Session, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app
) -> None:
    codes = an_inspection_in_progress(user, db, cli)
    before = snapshot(backend.database_url)
    answers, ballots, audit_rows = counts(before)
    assert answers == 30 and ballots == 3 and audit_rows > 10  # 30 items, self and assessed scores
    file = tmp_path / ("nianjian.db" if backend.name == "sqlite" else "nianjian.dump")
    made = cli("backup", "--out", str(file))
    assert f"已备份到 {file}" in made and "逐项评分 30 条、测评选票 3 张" in made, made
    assert "证据照片目录" in made and "个人信息密钥" in made  # what the database does not hold
    assert file.stat().st_size > 0

    app.extensions["nianjian.engine"].dispose()
    target = restored_target(backend, tmp_path, monkeypatch, db)
    done = cli("restore", str(file))
    assert f"迁移版本 {head_revision()}" in done and "测评选票 3 张" in done and "请重新启动服务" in done, (
        done
    )
    assert snapshot(target) == before

    # The service goes on with the restored database: ids continue, the untouched chair can start.
    config = make_config(backend, tmp_path, DATABASE_URL=target)
    restored = create_app(config, **backend.fresh_parts())
    try:
        chair = Simulator(transport_for(restored.test_client()), "chair2", TOKEN, APP_ID)
        chair.say(f"绑定 {codes['chair2']}")
        assert "【1/30】" in chair.say("自评")
        assert "【2/30】" in chair.say("满分")
    finally:
        restored.extensions["nianjian.engine"].dispose()
    assert counts(snapshot(target))[0] == 31


def test_a_database_with_data_is_replaced_only_with_force(
    backend: Backend, user: User, db: Session, cli, tmp_path: Path
) -> None:
    codes = an_inspection_in_progress(user, db, cli)
    db.close()
    backed_up = snapshot(backend.database_url)
    file = tmp_path / "backup.bin"
    cli("backup", "--out", str(file))
    self_check(user("chair2"), codes["chair2"])  # work done after the backup
    current = snapshot(backend.database_url)
    assert counts(current)[0] == 60

    refused = cli.refused("restore", str(file))
    assert "目标数据库不是空的" in refused and "未做任何更改" in refused and "--force" in refused, refused
    assert snapshot(backend.database_url) == current
    assert "已存在" in cli.refused("backup", "--out", str(file))

    cli("restore", str(file), "--force")
    assert snapshot(backend.database_url) == backed_up


def test_a_migrated_but_unused_database_counts_as_empty(
    backend: Backend, user: User, db: Session, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    an_inspection_in_progress(user, db, cli)
    db.close()
    before = snapshot(backend.database_url)
    file = tmp_path / "backup.bin"
    cli("backup", "--out", str(file))
    if backend.name == "sqlite":
        target = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        reset_postgres(backend.database_url)
        target = backend.database_url
    fresh = create_app(make_config(backend, tmp_path, DATABASE_URL=target), **backend.fresh_parts())
    fresh.extensions["nianjian.engine"].dispose()  # the schema exists, no row in it
    assert counts(snapshot(target)) == (0, 0, 0)
    monkeypatch.setenv("DATABASE_URL", target)
    cli("restore", str(file))
    assert snapshot(target) == before


def test_the_backup_is_a_snapshot_of_what_was_committed(
    backend: Backend, user: User, db: Session, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app
) -> None:
    """Online: a transaction still open while the backup runs is neither waited for nor included."""
    an_inspection_in_progress(user, db, cli)
    db.close()
    committed = snapshot(backend.database_url)
    engine: Engine = app.extensions["nianjian.engine"]
    file = tmp_path / "online.bin"
    with engine.connect() as writer:
        writer.execute(insert(AuditEntry).values(actor="test", action="in_flight", entity="test"))
        cli("backup", "--out", str(file))  # the writer's transaction is open meanwhile
        writer.commit()
    engine.dispose()
    target = restored_target(backend, tmp_path, monkeypatch, db)
    cli("restore", str(file))
    restored = snapshot(target)
    assert restored == committed
    assert not any("'in_flight'" in row for row in restored["audit_log"])


def test_backups_in_a_folder_keep_the_newest(backend: Backend, db: Session, cli, tmp_path: Path) -> None:
    setup_county(db, 1)
    db.close()
    folder = tmp_path / "nightly"
    folder.mkdir()
    suffix = "db" if backend.name == "sqlite" else "dump"
    old = [folder / f"nianjian-2025010{n}-020000.{suffix}" for n in range(1, 4)]
    for path in old:
        path.write_bytes(b"an older backup")
    other = folder / "notes.txt"
    other.write_text("not a backup")
    made = cli("backup", "--dir", str(folder), "--keep", "2")
    assert "删除了 2 个较早的备份" in made, made
    kept = sorted(p.name for p in folder.iterdir())
    assert kept[0] == old[-1].name and kept[1].startswith("nianjian-20") and kept[2] == "notes.txt", kept
    assert len(kept) == 3 and other.read_text() == "not a backup"


def test_bad_backups_and_bad_commands_are_refused_in_chinese(
    backend: Backend, db: Session, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_county(db, 1)
    db.close()
    assert "--out" in cli.refused("backup")
    assert "--keep 只能与 --dir 一起使用" in cli.refused(
        "backup", "--out", str(tmp_path / "x"), "--keep", "3"
    )
    assert "不存在" in cli.refused("restore", str(tmp_path / "missing.db"))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello, not a database")
    assert "不是年检助手的备份文件" in cli.refused("restore", str(junk))
    if backend.name == "sqlite":
        newer = tmp_path / "newer.db"
        cli("backup", "--out", str(newer))
        with sqlite3.connect(newer) as connection:
            connection.execute("UPDATE alembic_version SET version_num = '9999'")
        connection.close()
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
        assert "更新版本" in cli.refused("restore", str(newer))
        foreign = tmp_path / "foreign.db"
        with sqlite3.connect(foreign) as connection:
            connection.execute("CREATE TABLE t (x)")
        connection.close()
        assert "不是年检助手的备份" in cli.refused("restore", str(foreign))
        fake_dump = tmp_path / "fake.dump"
        fake_dump.write_bytes(b"PGDMP\x01\x0e\x00")
        assert "这是 PostgreSQL 的备份" in cli.refused("restore", str(fake_dump))
        assert not (tmp_path / "empty.db").exists() or counts(
            snapshot(f"sqlite:///{tmp_path / 'empty.db'}")
        ) == (
            0,
            0,
            0,
        )
    else:
        sqlite_file = tmp_path / "sqlite.db"
        sqlite3.connect(sqlite_file).close()
        sqlite_file.write_bytes(b"SQLite format 3\x00" + bytes(100))
        assert "这是 SQLite 的备份" in cli.refused("restore", str(sqlite_file))
        monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no pg_dump on PATH
        refused = cli.refused("backup", "--out", str(tmp_path / "x.dump"))
        assert "未找到 pg_dump" in refused and "postgresql-client" in refused and "pg_dump -Fc" in refused, (
            refused
        )
        with make_engine(backend.database_url).connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM organisations")).scalar() == 3

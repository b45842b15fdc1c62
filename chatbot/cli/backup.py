"""``nianjian backup`` and ``nianjian restore``: the whole database to one file and back (备份与恢复)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import click

from chatbot.cli.common import load_config
from chatbot.store.backup import BackupError, backup, is_sqlite, restore
from chatbot.timeutil import SHANGHAI
from rubrics.scoring import format_score

#: The files ``backup --dir`` writes, and the only ones its ``--keep`` ever deletes.
DATED_NAME = re.compile(r"^nianjian-\d{8}-\d{6}\.(db|dump)$")


def _dated_file(folder: Path, url: str, now: datetime) -> Path:
    """``nianjian-20261124-020000.db`` (SQLite) or ``.dump`` (PostgreSQL), Asia/Shanghai time."""
    stamp = now.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    return folder / f"nianjian-{stamp}.{'db' if is_sqlite(url) else 'dump'}"


def _prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest dated backups in ``folder``; the deleted files."""
    dated = sorted(path for path in folder.iterdir() if path.is_file() and DATED_NAME.match(path.name))
    old = dated[:-keep]
    for path in old:
        path.unlink()
    return old


def _size(path: Path) -> str:
    return f"{format_score(Decimal(path.stat().st_size) / (1024 * 1024))} MB"


@click.command("backup")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="要写入的备份文件。")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="存放按时间命名的备份的目录（nianjian-年月日-时分秒.db 或 .dump）。",
)
@click.option("--keep", type=click.IntRange(min=1), help="与 --dir 同用：只保留最新的 N 份备份。")
@click.option("--force", is_flag=True, help="--out 指定的文件已存在时覆盖它。")
def backup_command(out: Path | None, folder: Path | None, keep: int | None, force: bool) -> None:
    """服务运行时把整个数据库备份到一个文件。

    SQLite 用在线备份接口；PostgreSQL 用 pg_dump -Fc（需要安装 PostgreSQL 客户端）。"""
    if (out is None) == (folder is None):
        raise click.UsageError("请给出 --out 备份文件，或 --dir 备份目录（二者选一）。")
    if keep is not None and folder is None:
        raise click.UsageError("--keep 只能与 --dir 一起使用。")
    config = load_config()
    url = config.database_url
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        out = _dated_file(folder, url, datetime.now(UTC))
    assert out is not None
    if out.exists() and not force:
        raise click.ClickException(f"文件 {out} 已存在，未覆盖：换一个文件名，或加 --force 覆盖。")
    try:
        held = backup(url, out)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已备份到 {out}（{_size(out)}）：{held.describe()}。")
    click.echo(
        f"数据库之外另须保存：证据照片目录 {config.evidence_path}，以及个人信息密钥"
        "（PERSONAL_DATA_KEY，未设置时为 instance 目录下的 personal_data_key）——恢复时须用同一密钥，否则会员手机号无法解密。"
    )
    if folder is not None and keep is not None:
        removed = _prune(folder, keep)
        if removed:
            click.echo(
                f"按 --keep {keep} 删除了 {len(removed)} 个较早的备份：{'、'.join(p.name for p in removed)}。"
            )


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path), metavar="备份文件")
@click.option("--force", is_flag=True, help="覆盖已有数据的数据库。")
def restore_command(source: Path, force: bool) -> None:
    """把备份恢复到所配置的数据库（须为空库，除非用 --force），然后迁移到最新结构。

    请先停止服务，恢复完成后再启动。"""
    url = load_config().database_url
    try:
        held = restore(url, source, force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已从 {source} 恢复：{held.describe()}。请重新启动服务。")

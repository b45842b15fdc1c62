"""evidence photos kept by the service: each photo's file in the evidence directory, and its download

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _columns() -> tuple[sa.Column[object], ...]:
    """The new columns of ``evidence`` (fresh objects: a Column belongs to one table)."""
    return (
        sa.Column("file_status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("file_path", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=40), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("fetch_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetch_error", sa.Text(), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
    )


def upgrade() -> None:
    # Photos sent before this revision start as pending: the next tick tries them once, and one that
    # WeChat no longer keeps (older than 3 days) is marked failed with the reason.
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        for column in _columns():
            batch_op.add_column(column)
        batch_op.create_index(batch_op.f("ix_evidence_file_status"), ["file_status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_file_status"))
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)

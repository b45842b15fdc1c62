"""Rubric sheets' versions imported by a federation, and the versions a campaign year pins

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rubric_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rubric_key", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("sheet", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("origin", sa.String(length=200), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_versions")),
        sa.UniqueConstraint("rubric_key", "version", name=op.f("uq_rubric_versions_rubric_key")),
    )
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("rubric_versions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("rubric_versions")
    op.drop_table("rubric_versions")

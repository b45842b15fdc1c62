"""objection outcome: the result before and after the re-review that decided an objection, which its
objector is told and sees in `进度`

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prior_score", sa.Numeric(precision=4, scale=1), nullable=True))
        batch_op.add_column(sa.Column("prior_stars", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_score", sa.Numeric(precision=4, scale=1), nullable=True))
        batch_op.add_column(sa.Column("decided_stars", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_column("decided_stars")
        batch_op.drop_column("decided_score")
        batch_op.drop_column("prior_stars")
        batch_op.drop_column("prior_score")

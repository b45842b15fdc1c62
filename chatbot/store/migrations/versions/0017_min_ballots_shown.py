"""the small-count rule's minimum fixed on each evaluation when it opens

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        # NULL on the evaluations opened before: the default minimum (rubrics.democratic) applies.
        batch_op.add_column(sa.Column("min_ballots_shown", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("min_ballots_shown")

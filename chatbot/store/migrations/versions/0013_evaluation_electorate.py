"""the evaluation's electorate fixed when it opens: the paper part, open places taken by later members

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        # NULL on the evaluations opened before: their electorate is counted as it was.
        batch_op.add_column(sa.Column("paper_places", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("open_joined", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("open_joined")
        batch_op.drop_column("paper_places")

"""an index on item_scores.updated_at: the latest score change is read at once (the weakness figures'
cache is keyed on it)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_scores_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("item_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_scores_updated_at"))

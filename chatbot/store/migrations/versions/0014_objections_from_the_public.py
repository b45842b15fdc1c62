"""objections from the public: where each objection came from (the union's chair or member, or the
public with the union's code), and the objections of one account found by its id

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=8), server_default="member", nullable=False))
        batch_op.create_index(batch_op.f("ix_objections_account_id"), ["account_id"], unique=False)
    # Until now only the union's chair and members could object: a chair's objection says so.
    op.execute(
        "UPDATE objections SET source = 'chair' WHERE EXISTS (SELECT 1 FROM role_bindings b "
        "JOIN inspections i ON i.organisation_id = b.organisation_id WHERE i.id = objections.inspection_id "
        "AND b.account_id = objections.account_id AND b.role = 'chair')"
    )


def downgrade() -> None:
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_account_id"))
        batch_op.drop_column("source")

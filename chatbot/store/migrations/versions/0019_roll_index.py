"""The member roll's unique index leads with the phone hash: one index finds a number in every
organisation and keeps it once per organisation, so the separate phone-hash index goes (an import
writes three indexes a member, not four, and adds its members in the hash's order)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_members_phone_hash"), ["phone_hash", "organisation_id"]
        )
        batch_op.drop_constraint(batch_op.f("uq_members_organisation_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_members_phone_hash"))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_phone_hash"), ["phone_hash"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_members_organisation_id"), ["organisation_id", "phone_hash"]
        )
        batch_op.drop_constraint(batch_op.f("uq_members_phone_hash"), type_="unique")

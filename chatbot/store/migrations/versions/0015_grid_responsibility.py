"""网格化管理: each county federation's plan for a year, and one responsible person per union and year

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "county_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("coverage_target", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("self_check_due", sa.Date(), nullable=True),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_county_plans_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_county_plans_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_county_plans")),
        sa.UniqueConstraint("campaign_id", "organisation_id", name=op.f("uq_county_plans_campaign_id")),
    )
    op.create_table(
        "grid_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("console_user_id", sa.Integer(), nullable=True),
        sa.Column("role_binding_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint(
            "(console_user_id IS NULL) <> (role_binding_id IS NULL)",
            name=op.f("ck_grid_assignments_one_person"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_grid_assignments_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["console_user_id"],
            ["console_users.id"],
            name=op.f("fk_grid_assignments_console_user_id_console_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_grid_assignments_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["role_binding_id"],
            ["role_bindings.id"],
            name=op.f("fk_grid_assignments_role_binding_id_role_bindings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_assignments")),
        sa.UniqueConstraint("campaign_id", "organisation_id", name=op.f("uq_grid_assignments_campaign_id")),
    )
    with op.batch_alter_table("grid_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grid_assignments_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grid_assignments_console_user_id"), ["console_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grid_assignments_role_binding_id"), ["role_binding_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("grid_assignments")
    op.drop_table("county_plans")

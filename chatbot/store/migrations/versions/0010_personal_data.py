"""personal data: members' phones encrypted with a keyed lookup hash, evaluations sealed at close

Every member's plaintext phone becomes ``phone_cipher`` (Fernet, PERSONAL_DATA_KEY) and ``phone_hash``
(HMAC-SHA256), and the plaintext column is dropped. Entries of one organisation's roll with the same
number (the import did not check before) are one person: the first is kept. The key is read from the
environment (PERSONAL_DATA_KEY, else the development key under NIANJIAN_INSTANCE), as the service
reads it — only when there are rows to convert.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 00:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _key():  # -> PersonalDataKey; imported here so that the migration chain loads without it
    from chatbot.config import Config
    from chatbot.store.personal import personal_data_key

    alembic_config = op.get_context().config
    configured = alembic_config.attributes.get("personal_data_key") if alembic_config is not None else None
    return personal_data_key(configured or Config.from_env().personal_data_key)


def upgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("invited_frozen", sa.Integer(), nullable=True))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_cipher", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True))
    _encrypt_phones()
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.alter_column("phone_cipher", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("phone_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("imported_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_column("phone")
        batch_op.create_index(batch_op.f("ix_members_phone_hash"), ["phone_hash"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_members_organisation_id"), ["organisation_id", "phone_hash"]
        )


def _encrypt_phones() -> None:
    """Each plaintext phone encrypted and hashed; a number twice in one roll kept once."""
    bind = op.get_bind()
    members = sa.table(
        "members",
        sa.column("id", sa.Integer),
        sa.column("organisation_id", sa.Integer),
        sa.column("phone", sa.String),
        sa.column("phone_cipher", sa.Text),
        sa.column("phone_hash", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("imported_at", sa.DateTime(timezone=True)),
    )
    rows = bind.execute(
        sa.select(members.c.id, members.c.organisation_id, members.c.phone, members.c.created_at).order_by(
            members.c.id
        )
    ).all()
    if not rows:
        return
    from chatbot.store.personal import normalise_phone

    key = _key()
    seen: set[tuple[int, str]] = set()
    duplicates: list[int] = []
    for row in rows:
        member_id, org_id, phone, created_at = int(row[0]), int(row[1]), str(row[2]), row[3]
        digest = key.phone_hash(phone)
        if (org_id, digest) in seen:
            duplicates.append(member_id)
            continue
        seen.add((org_id, digest))
        bind.execute(
            sa.update(members)
            .where(members.c.id == member_id)
            .values(
                phone_cipher=key.encrypt(normalise_phone(phone)),
                phone_hash=digest,
                imported_at=created_at or datetime.now(UTC),
            )
        )
    for start in range(0, len(duplicates), 500):
        bind.execute(sa.delete(members).where(members.c.id.in_(duplicates[start : start + 500])))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
    bind = op.get_bind()
    members = sa.table(
        "members",
        sa.column("id", sa.Integer),
        sa.column("phone", sa.String),
        sa.column("phone_cipher", sa.Text),
    )
    rows = bind.execute(sa.select(members.c.id, members.c.phone_cipher)).all()
    if rows:
        key = _key()
        for member_id, cipher in rows:
            bind.execute(
                sa.update(members).where(members.c.id == member_id).values(phone=key.decrypt(cipher))
            )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_members_organisation_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_members_phone_hash"))
        batch_op.drop_column("imported_at")
        batch_op.drop_column("phone_hash")
        batch_op.drop_column("phone_cipher")
        batch_op.alter_column("phone", existing_type=sa.String(length=20), nullable=False)

    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("invited_frozen")
        batch_op.drop_column("sealed_at")

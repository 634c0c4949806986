"""translations and their certification

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:03:48.050666
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "translations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("translator", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.String(length=30), nullable=False),
        sa.Column("machine", sa.Integer(), nullable=False),
        sa.Column("certified_by", sa.String(length=100), nullable=True),
        sa.Column("certified_at", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("translations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_translations_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("translations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translations_message_id"))

    op.drop_table("translations")

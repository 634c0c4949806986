"""messages held for a second approval (two-person rule for FLASH)

Revision ID: 0004_held
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_held"
down_revision = "0002"
branch_labels = ("held",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("precedence", sa.String(length=10), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("client_ref", sa.String(length=100), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_ref"),
    )
    op.create_index(
        "ix_held_messages_state", "held_messages", ["state", "requested_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_held_messages_state", table_name="held_messages")
    op.drop_table("held_messages")

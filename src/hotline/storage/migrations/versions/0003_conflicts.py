"""conflicts between declared volumes

Revision ID: 0003_conflicts
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_conflicts"
down_revision = "0002"
branch_labels = ("conflicts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("a_message", sa.String(length=36), nullable=False),
        sa.Column("a_volume", sa.String(length=80), nullable=False),
        sa.Column("a_party", sa.String(length=32), nullable=False),
        sa.Column("b_message", sa.String(length=36), nullable=False),
        sa.Column("b_volume", sa.String(length=80), nullable=False),
        sa.Column("b_party", sa.String(length=32), nullable=False),
        sa.Column("start", sa.String(length=30), nullable=False),
        sa.Column("end", sa.String(length=30), nullable=False),
        sa.Column("horizontal_m", sa.Float(), nullable=False),
        sa.Column("vertical_m", sa.Float(), nullable=False),
        sa.Column("detected_at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_conflicts_messages", "conflicts", ["a_message", "b_message"])


def downgrade() -> None:
    op.drop_index("ix_conflicts_messages", table_name="conflicts")
    op.drop_table("conflicts")

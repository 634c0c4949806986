"""sessions generation: one counter every process of a node reads to keep its token cache
true (bumped by every logout, revocation, disable and password change)

Revision ID: 0006_sessions_gen
Revises: 0005_operators
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sessions_gen"
down_revision = "0005_operators"
branch_labels = ("sessions_gen",)
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "sessions_gen",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    op.drop_table("sessions_gen")

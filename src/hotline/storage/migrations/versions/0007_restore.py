"""retired_cosigned: co-signed checkpoints of a peer's log set aside when the peer proved
it was restored from a backup and recovered

Revision ID: 0007_restore
Revises: 0006_states

A node restored from a backup holds a shorter log than its peer co-signed. Once it has
recovered what the peer holds and recorded the rollback as a signed entry of its log, the
peer moves its co-signatures of the lost part here (kept for ever, as evidence) and judges
the new log from the last checkpoint both still agree on (``docs/evidence.md``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_restore"
down_revision = "0006_states"
branch_labels = ("restore",)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("retired_cosigned"):
        return  # run again after its version row was removed (tests of 0006_states)
    op.create_table(
        "retired_cosigned",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("log", sa.String(length=32), nullable=False),
        sa.Column("cosigner", sa.String(length=32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.String(length=30), nullable=False),
        sa.Column("retired_at", sa.String(length=30), nullable=False),
        sa.Column("recovery", sa.Integer(), nullable=True),
    )
    op.create_index("ix_retired_cosigned_log", "retired_cosigned", ["log"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_retired_cosigned_log", table_name="retired_cosigned")
    op.drop_table("retired_cosigned")

"""conflicts that close: when and why a conflict ended, and which message raised its alarm

Revision ID: 0007_volumes
Revises: 0006_states, 0003_conflicts (the branch of the table it changes)

Conflicts recorded before this revision stay open until the node next reconciles them
with the volumes in force (on the next notice, or its first tick), which closes the ones
no longer true with their reason, e.g. a "conflict" with a volume quoted in a request.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_volumes"
down_revision = ("0006_states", "0003_conflicts")
branch_labels = ("volumes",)
depends_on = None

COLUMNS = ("raised_by", "closed_at", "closed_reason", "closed_detail", "closed_by")


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("conflicts")}
    if set(COLUMNS) <= have:
        return  # run again after its version row was removed (tests of 0006_states)
    op.add_column("conflicts", sa.Column("raised_by", sa.String(length=36), nullable=True))
    op.add_column("conflicts", sa.Column("closed_at", sa.String(length=30), nullable=True))
    op.add_column("conflicts", sa.Column("closed_reason", sa.String(length=16), nullable=True))
    op.add_column("conflicts", sa.Column("closed_detail", sa.Text(), nullable=True))
    op.add_column("conflicts", sa.Column("closed_by", sa.String(length=36), nullable=True))
    op.create_index("ix_conflicts_closed", "conflicts", ["closed_at"])


def downgrade() -> None:
    op.drop_index("ix_conflicts_closed", table_name="conflicts")
    for name in reversed(COLUMNS):
        # plain ALTER TABLE (SQLite 3.35 and later has it), as 0006_due_at does
        op.execute(f"ALTER TABLE conflicts DROP COLUMN {name}")

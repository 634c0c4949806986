"""watch handovers: the outgoing and incoming officers' notes and sign-offs

Revision ID: 0009_handover
Revises: 0006_states

One table, ``handovers``. Idempotent like the 0007_* revisions: a table already there is
left as found (the tests of 0006_states run the revisions after it again).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_handover"
down_revision = "0006_states"
branch_labels = ("handover",)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("handovers"):
        return  # run again after its version row was removed (tests of 0006_states)
    op.create_table(
        "handovers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("outgoing", sa.String(length=100), nullable=False),
        sa.Column("outgoing_note", sa.Text(), nullable=False),
        sa.Column("outgoing_at", sa.String(length=30), nullable=False),
        sa.Column("incoming", sa.String(length=100), nullable=True),
        sa.Column("incoming_note", sa.Text(), nullable=True),
        sa.Column("incoming_at", sa.String(length=30), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handovers_outgoing_at", "handovers", ["outgoing_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_handovers_outgoing_at", table_name="handovers")
    op.drop_table("handovers")

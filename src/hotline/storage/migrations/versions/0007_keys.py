"""key history: every party's signing keys, rotations and revocations

Revision ID: 0007_keys
Revises: 0006_states
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_keys"
down_revision = "0006_states"
branch_labels = ("keys",)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("key_history"):
        return  # run again after a test put the version table back (test_states.py)
    op.create_table(
        "key_history",
        sa.Column("party", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("valid_from", sa.String(length=30), nullable=True),
        sa.Column("valid_to", sa.String(length=30), nullable=True),
        sa.Column("revoked_from", sa.String(length=30), nullable=True),
        sa.Column("change", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("party", "fingerprint", name="pk_key_history"),
    )


def downgrade() -> None:
    op.drop_table("key_history")

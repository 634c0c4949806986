"""pre-authorised safety warnings: sent FLASH without a second person, each use recorded

Revision ID: 0007_safety
Revises: 0006_states
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_safety"
down_revision = "0006_states"
branch_labels = ("safety",)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("safety_preauth"):
        return  # run again after its version row was removed (tests of 0006_states)
    op.create_table(
        "safety_preauth",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("aircraft", sa.String(length=48), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.String(length=30), nullable=False),
        sa.Column("valid_until", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("authorised_by", sa.String(length=100), nullable=False),
        sa.Column("authorised_at", sa.String(length=30), nullable=False),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("revoked_at", sa.String(length=30), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "safety_uses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("preauth_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("used_by", sa.String(length=100), nullable=False),
        sa.Column("used_at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_safety_uses_preauth", "safety_uses", ["preauth_id", "used_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_safety_uses_preauth", table_name="safety_uses")
    op.drop_table("safety_uses")
    op.drop_table("safety_preauth")

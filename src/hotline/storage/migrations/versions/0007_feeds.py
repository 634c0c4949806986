"""track feeds (ADS-B, AIS, Cursor-on-Target) and their health

Revision ID: 0007_feeds
Revises: 0006_states
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_feeds"
down_revision = "0006_states"
branch_labels = ("feeds",)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("feeds"):
        return  # run again after its version row was removed (tests of 0006_states)
    op.create_table(
        "feeds",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("udp", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=32), nullable=False),
        sa.Column("stale_s", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("added_at", sa.String(length=30), nullable=False),
        sa.Column("generation", sa.String(length=36), nullable=False),
        sa.Column("health", sa.Text(), nullable=True),
        sa.Column("health_at", sa.String(length=30), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("feeds")

"""link tests, alarms, escalations

Revision ID: 0003_links
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_links"
down_revision = "0002"
branch_labels = ("links",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_tests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("sent_at", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reply_at", sa.String(length=30), nullable=True),
        sa.Column("rtt_ms", sa.Integer(), nullable=True),
        sa.Column("failed_at", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_link_tests_peer_sent", "link_tests", ["peer", "sent_at"])
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("raised_at", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("cleared_at", sa.String(length=30), nullable=True),
        sa.Column("cleared_by", sa.String(length=100), nullable=True),
        sa.Column("clear_reason", sa.Text(), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alarms_open", "alarms", ["state", "kind", "subject"])
    op.create_table(
        "escalations",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("escalation_message_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "step"),
    )


def downgrade() -> None:
    op.drop_table("escalations")
    op.drop_index("ix_alarms_open", table_name="alarms")
    op.drop_table("alarms")
    op.drop_index("ix_link_tests_peer_sent", table_name="link_tests")
    op.drop_table("link_tests")

"""link state per peer and route (outage detection from every signal); operator tests

Revision ID: 0007_outage
Revises: 0006_states

One row per peer and route, fed by failed and passed deliveries, checkpoint exchanges and
link tests (``services/line/linkstate.py``). A node without rows starts with every link
``unknown``: nothing is carried over. ``operator_tests``: the tests a person must answer,
ours and the peers'. Downgrade drops both tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_outage"
down_revision = "0006_states"
branch_labels = ("outage",)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("link_state"):
        return  # run again after its version row was removed (tests of 0006_states)
    op.create_table(
        "link_state",
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("route", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("first_failure_at", sa.String(length=30), nullable=True),
        sa.Column("last_failure_at", sa.String(length=30), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("last_success_at", sa.String(length=30), nullable=True),
        sa.Column("changed_at", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("peer", "route"),
    )
    op.create_table(
        "operator_tests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("sent_at", sa.String(length=30), nullable=False),
        sa.Column("answer_by", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.String(length=30), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("answer_message_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_operator_tests_state", "operator_tests", ["direction", "state"])


def downgrade() -> None:
    op.drop_table("operator_tests")
    op.drop_table("link_state")

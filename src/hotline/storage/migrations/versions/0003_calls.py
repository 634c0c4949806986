"""calls between leaders, readouts and watch levels

Revision ID: 0003_calls
Revises: 0002
Create Date: 2026-11-22 09:00:00.000000

A branch of its own beside the other capabilities' revisions; ``Database.migrate()``
upgrades every head. Keep it equal to ``storage/tables/calls.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_calls"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.String(length=30)


def upgrade() -> None:
    _call_requests()
    _call_events()
    _calls()
    _call_readouts()
    _watch_tables()


def _call_requests() -> None:
    op.create_table(
        "call_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("requester_party", sa.String(length=32), nullable=False),
        sa.Column("requester", sa.String(length=32), nullable=False),
        sa.Column("counterpart_party", sa.String(length=32), nullable=False),
        sa.Column("counterpart", sa.String(length=32), nullable=False),
        sa.Column("principals", sa.Text(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("precedence", sa.String(length=10), nullable=False),
        sa.Column("slots", sa.Text(), nullable=False),
        sa.Column("answer_by", TIME, nullable=False),
        sa.Column("awaiting", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("accepted_slot", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("internal_note", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_call_requests_open", "call_requests", ["state", "answer_by"])
    op.create_index(
        "ix_call_requests_pair",
        "call_requests",
        ["requester_party", "requester", "counterpart_party", "counterpart"],
    )


def _call_events() -> None:
    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("party", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("user", sa.String(length=100), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["call_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_call_events_request_id", "call_events", ["request_id"])


def _calls() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("held_at", TIME, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("interpreters", sa.Text(), nullable=False),
        sa.Column("recorded_by_party", sa.String(length=32), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=True),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.Column("private_parties", sa.String(length=200), nullable=False),
        sa.Column("internal_note", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["call_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _call_readouts() -> None:
    op.create_table(
        "call_readouts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("party", sa.String(length=32), nullable=False),
        sa.Column("visibility", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=True),
        sa.Column("written_by", sa.String(length=100), nullable=True),
        sa.Column("written_at", TIME, nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_at", TIME, nullable=True),
        sa.Column("published_at", TIME, nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_call_readouts_call_id", "call_readouts", ["call_id"])


def _watch_tables() -> None:
    op.create_table(
        "watch_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("from_level", sa.String(length=32), nullable=False),
        sa.Column("to_level", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("notify_peer", sa.String(length=32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", TIME, nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", TIME, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_watch_changes_state", "watch_changes", ["state"])
    op.create_table(
        "peer_watch_levels",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("effective_at", TIME, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_peer_watch_levels_peer", "peer_watch_levels", ["peer", "effective_at"])


def downgrade() -> None:
    op.drop_index("ix_peer_watch_levels_peer", table_name="peer_watch_levels")
    op.drop_table("peer_watch_levels")
    op.drop_index("ix_watch_changes_state", table_name="watch_changes")
    op.drop_table("watch_changes")
    op.drop_index("ix_call_readouts_call_id", table_name="call_readouts")
    op.drop_table("call_readouts")
    op.drop_table("calls")
    op.drop_index("ix_call_events_request_id", table_name="call_events")
    op.drop_table("call_events")
    op.drop_index("ix_call_requests_pair", table_name="call_requests")
    op.drop_index("ix_call_requests_open", table_name="call_requests")
    op.drop_table("call_requests")

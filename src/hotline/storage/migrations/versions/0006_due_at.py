"""messages.due_at: when the deadline service must next look at a message, indexed, so a
tick reads what is due instead of every unacknowledged message

Revision ID: 0006_due_at
Revises: 0005_operators

Backfilled for every outbound message a person acknowledges that is still open: its
signed ``ack_by``, or its ``created`` time for an envelope from before that field (the next
tick then looks at it once and moves it to its real deadline, with this node's allowance).
A message already escalated gets its first deadline here too, and the tick moves it on to
its next rung the same way.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006_due_at"
down_revision = "0005_operators"
branch_labels = ("due_at",)
depends_on = None

#: What the deadline service looked at before this revision (``OPEN_STATES``).
OPEN_STATES = ("queued", "sent", "delivered")


def upgrade() -> None:
    from hotline.domain.bodies import NO_ACK_TYPES

    op.add_column("messages", sa.Column("due_at", sa.String(length=30), nullable=True))
    op.create_index("ix_messages_due", "messages", ["due_at"], unique=False)
    messages = sa.table(
        "messages",
        sa.column("id", sa.String),
        sa.column("direction", sa.String),
        sa.column("state", sa.String),
        sa.column("type", sa.String),
        sa.column("created", sa.String),
        sa.column("envelope", sa.Text),
        sa.column("acked_at", sa.String),
        sa.column("due_at", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(messages.c.id, messages.c.created, messages.c.envelope).where(
            messages.c.direction == "out",
            messages.c.state.in_(OPEN_STATES),
            messages.c.type.not_in(sorted(NO_ACK_TYPES)),
            messages.c.acked_at.is_(None),
        )
    ).all()
    due = [
        {"i": mid, "d": json.loads(envelope).get("ack_by") or created}
        for mid, created, envelope in rows
    ]
    if due:
        conn.execute(
            sa.update(messages)
            .where(messages.c.id == sa.bindparam("i"))
            .values(due_at=sa.bindparam("d")),
            due,
        )


def downgrade() -> None:
    op.drop_index("ix_messages_due", table_name="messages")
    # plain ALTER TABLE (SQLite 3.35 and later has it): a batch copy of ``messages`` would
    # trip the foreign keys of its trail
    op.execute("ALTER TABLE messages DROP COLUMN due_at")

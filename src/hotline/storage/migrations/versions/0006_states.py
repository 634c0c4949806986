"""message states that never lie: re-open messages acknowledged without a receipt; one
delivery_refused alarm per peer

Revision ID: 0006_states
Revises: 0005_operators

Versions before this one marked an outbound message ``acknowledged`` when the peer's
acknowledgement arrived before its receipt (the sender lost the peer's answer), and never
offered it again: it had no receipt, no ``delivered_at``, no ``receipt_in`` log entry.
Such rows go back to ``sent`` (their ``acked_at``, ``acked_by`` and ``ack_message_id``
are kept, and a ``reopened`` step in the trail says why), so the courier offers them
again; the peer holds them and answers with the receipt it stored, and recording it makes
them ``acknowledged`` (see ``storage/messages.py``). Nothing is lost or sent twice: the
peer dedupes by id.

Open ``delivery_refused`` alarms were one per message (subject: the message id); they
become one per peer (subject: the peer), the message they named kept as
``first_message``/``last_message``, so that the line passing clears them.

Downgrade changes nothing back: the re-opened rows were wrong, and older code reads both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_states"
down_revision = "0005_operators"
branch_labels = ("states",)
depends_on = None

REASON = "acknowledged without a receipt (a version before 0006_states): offered again for it"


def upgrade() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC)
    at = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    messages = sa.table(
        "messages",
        sa.column("id", sa.String),
        sa.column("direction", sa.String),
        sa.column("state", sa.String),
        sa.column("receipt", sa.Text),
    )
    events = sa.table(
        "events",
        sa.column("message_id", sa.String),
        sa.column("at", sa.String),
        sa.column("kind", sa.String),
        sa.column("detail", sa.Text),
    )
    lying = messages.c.direction == "out", messages.c.receipt.is_(None)
    stuck = [
        (mid, state)
        for mid, state in conn.execute(
            sa.select(messages.c.id, messages.c.state).where(
                *lying, messages.c.state.in_(("delivered", "acknowledged"))
            )
        )
    ]
    for mid, state in stuck:
        conn.execute(sa.update(messages).where(messages.c.id == mid, *lying).values(state="sent"))
        detail = {"was": state, "reason": REASON}
        conn.execute(
            sa.insert(events).values(
                message_id=mid, at=at, kind="reopened", detail=json.dumps(detail)
            )
        )

    if not sa.inspect(conn).has_table("alarms"):
        return  # a new database: 0003_links makes the table, with no alarm in it
    alarms = sa.table(
        "alarms",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("subject", sa.String),
        sa.column("state", sa.String),
        sa.column("detail", sa.Text),
    )
    open_refusals = conn.execute(
        sa.select(alarms.c.id, alarms.c.subject, alarms.c.detail).where(
            alarms.c.kind == "delivery_refused", alarms.c.state == "open"
        )
    ).all()
    for alarm_id, subject, raw in open_refusals:
        detail = json.loads(raw)
        peer = detail.get("peer")
        if not peer or "first_message" in detail:
            continue  # already one per peer
        detail |= {"first_message": subject, "last_message": subject}
        detail |= {"messages": 1, "refusals": 1}
        conn.execute(
            sa.update(alarms)
            .where(alarms.c.id == alarm_id)
            .values(subject=peer, detail=json.dumps(detail, ensure_ascii=False))
        )


def downgrade() -> None:
    pass

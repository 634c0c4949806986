"""The table of messages held for a second person's approval (``services/held.py``).
Declared on the shared ``metadata``; created by the Alembic revision ``0004_held`` on its
own branch; ``0005_operators`` makes ``client_ref`` unique per requester."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text, UniqueConstraint

from hotline.storage.tables.core import TIME, metadata

held_messages = Table(
    "held_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(10), nullable=False),  # text | code | notice
    Column("peer", String(32), nullable=False),
    Column("precedence", String(10), nullable=False),
    Column("lang", String(2), nullable=True),
    Column("payload", Text, nullable=False),  # JSON: {"text"} | {"code"} | {"notice"}
    # the requester's idempotency key: one user's reference never finds another's
    Column("client_ref", String(100), nullable=True),
    Column("requested_by", String(100), nullable=False),
    Column("requested_at", TIME, nullable=False),
    Column("state", String(10), nullable=False),  # held | approved | sent | rejected
    Column("decided_by", String(100), nullable=True),
    Column("decided_at", TIME, nullable=True),
    Column("reason", Text, nullable=True),
    Column("message_id", String(36), nullable=True),
    UniqueConstraint("requested_by", "client_ref", name="uq_held_messages_user_ref"),
)
Index("ix_held_messages_state", held_messages.c.state, held_messages.c.requested_at)

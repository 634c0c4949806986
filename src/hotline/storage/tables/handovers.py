"""The table of watch handovers (``services/handover.py``): the outgoing officer's note and
sign-off, then the incoming officer's. Declared on the shared ``metadata``; created by the
Alembic revision ``0009_handover`` on its own branch."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

handovers = Table(
    "handovers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("state", String(10), nullable=False),  # awaiting | complete | withdrawn
    # what was open when the outgoing officer signed (JSON: counts and message ids)
    Column("summary", Text, nullable=False),
    Column("outgoing", String(100), nullable=False),
    Column("outgoing_note", Text, nullable=False),
    Column("outgoing_at", TIME, nullable=False),
    Column("incoming", String(100), nullable=True),
    Column("incoming_note", Text, nullable=True),
    Column("incoming_at", TIME, nullable=True),
)
Index("ix_handovers_outgoing_at", handovers.c.outgoing_at)

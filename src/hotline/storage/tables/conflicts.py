"""Conflicts found between declared volumes (``services/picture/conflicts.py``). Declared on the
shared ``metadata``; created by the Alembic revision ``0003_conflicts`` on its own branch; the
``raised_by`` and ``closed_*`` columns by ``0007_volumes``."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("a_message", String(36), nullable=False),
    Column("a_volume", String(80), nullable=False),
    Column("a_party", String(32), nullable=False),
    Column("b_message", String(36), nullable=False),
    Column("b_volume", String(80), nullable=False),
    Column("b_party", String(32), nullable=False),
    Column("start", TIME, nullable=False),
    Column("end", TIME, nullable=False),
    Column("horizontal_m", Float, nullable=False),
    Column("vertical_m", Float, nullable=False),
    Column("detected_at", TIME, nullable=False),
    # 0007_volumes: the received message whose alarm this conflict is part of, and its end
    Column("raised_by", String(36), nullable=True),
    Column("closed_at", TIME, nullable=True),
    Column("closed_reason", String(16), nullable=True),  # amended/withdrawn/expired/accepted
    Column("closed_detail", Text, nullable=True),
    Column("closed_by", String(36), nullable=True),  # the message that ended it, if one did
)
Index("ix_conflicts_messages", conflicts.c.a_message, conflicts.c.b_message)
Index("ix_conflicts_closed", conflicts.c.closed_at)

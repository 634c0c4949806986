"""Conflicts found between declared volumes (``services/picture/conflicts.py``). Declared on the
shared ``metadata``; created by the Alembic revision ``0003_conflicts`` on its own branch."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table

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
)
Index("ix_conflicts_messages", conflicts.c.a_message, conflicts.c.b_message)

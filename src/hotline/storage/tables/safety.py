"""Tables of pre-authorised safety warnings (``services/preauth.py``): what a commander
authorised to go out FLASH without a second person, and each use of it. Declared on the
shared ``metadata``; created by the Alembic revision ``0007_safety`` on its own branch."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

safety_preauth = Table(
    "safety_preauth",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("peer", String(32), nullable=False),
    Column("code", Integer, nullable=False),  # the coded message that goes out
    Column("aircraft", String(48), nullable=False),  # a track id or callsign
    Column("area", String(64), nullable=False),  # a protected area's id
    Column("valid_from", TIME, nullable=False),
    Column("valid_until", TIME, nullable=False),
    Column("note", Text, nullable=True),
    Column("authorised_by", String(100), nullable=False),
    Column("authorised_at", TIME, nullable=False),
    Column("revoked_by", String(100), nullable=True),
    Column("revoked_at", TIME, nullable=True),
    Column("revoke_reason", Text, nullable=True),
)

safety_uses = Table(
    "safety_uses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("preauth_id", String(36), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("used_by", String(100), nullable=False),
    Column("used_at", TIME, nullable=False),
)
Index("ix_safety_uses_preauth", safety_uses.c.preauth_id, safety_uses.c.used_at)

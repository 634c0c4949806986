"""The key history of every party, this node's own included (``storage/keys.py``).
Declared on the shared ``metadata``; created by the Alembic revision ``0007_keys``."""

from __future__ import annotations

from sqlalchemy import Column, PrimaryKeyConstraint, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

key_history = Table(
    "key_history",
    metadata,
    Column("party", String(32), nullable=False),
    Column("fingerprint", String(80), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("state", String(10), nullable=False),  # current | retired | revoked | pending
    Column("valid_from", TIME, nullable=True),  # None: since first pinned
    Column("valid_to", TIME, nullable=True),  # None: still current
    Column("revoked_from", TIME, nullable=True),
    Column("change", Text, nullable=True),  # the signed key change that introduced the key
    Column("recorded_at", TIME, nullable=False),
    PrimaryKeyConstraint("party", "fingerprint", name="pk_key_history"),
)

"""The sessions generation (``services/auth.py``'s token cache): one row, one counter,
bumped in the same transaction as every change that ends a session (logout, revoking a
user's tokens, disabling a user, a new password). Every process of the node reads it per
request, a primary-key lookup of one row, and forgets the tokens it had validated when it
has moved on. Declared on the shared ``metadata``; created by the Alembic revision
``0006_sessions_gen``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, Table

from hotline.storage.tables.core import metadata

sessions_gen = Table(
    "sessions_gen",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("generation", BigInteger, nullable=False),
)

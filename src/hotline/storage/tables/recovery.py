"""Tables for recovery after a restore (``services/evidence/recovery.py``): the co-signed
checkpoints of a peer's log that this node set aside when the peer proved it had been
rolled back and recovered (``docs/evidence.md``, "After a restore").

Declared on the one shared ``metadata``; created by the Alembic revision ``0007_restore``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

__all__ = ["metadata", "retired_cosigned"]

# Checkpoints of a peer's log this node co-signed before the peer was restored from a
# backup: moved out of ``cosigned_checkpoints`` (so that the peer's new log is judged from
# the last checkpoint both still agree on), never deleted: they are the old epoch's evidence.
retired_cosigned = Table(
    "retired_cosigned",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("log", String(32), nullable=False, index=True),
    Column("cosigner", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),  # hex
    Column("note", Text, nullable=False),  # the note with both signatures
    Column("cosigned_at", TIME, nullable=False),
    Column("retired_at", TIME, nullable=False),
    Column("recovery", Integer, nullable=True),  # the log_forks row of kind "recovered"
)

"""Tables for the evidence capability (``services/evidence/service.py``): the checkpoints this node
signed of its own log, every checkpoint it holds with two signatures (its own log co-signed
by a peer, or a peer's log it co-signed), and the forks and rollbacks it has seen.

Declared on the one shared ``metadata`` so the migration check covers them; created by
the Alembic revision ``0003_evidence`` on its own branch (``down_revision = "0002"``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

__all__ = ["cosigned_checkpoints", "log_checkpoints", "log_forks", "metadata"]

# Every checkpoint of its own log this node has signed: what it may never contradict.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),  # hex
    Column("note", Text, nullable=False),  # the signed note, this node's signature only
    Column("signed_at", TIME, nullable=False),
)

# Checkpoints carrying two signatures. ``log`` is the party whose log it describes and
# ``cosigner`` the other one: (this node, peer) is this node's log co-signed by the peer,
# (peer, this node) a peer's log this node co-signed after checking a consistency proof.
cosigned_checkpoints = Table(
    "cosigned_checkpoints",
    metadata,
    Column("log", String(32), primary_key=True),
    Column("cosigner", String(32), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),  # hex
    Column("note", Text, nullable=False),  # the note with both signatures
    Column("cosigned_at", TIME, nullable=False),  # this node's clock when it got / gave it
)

# Evidence of a log that contradicts what was signed: kept for ever, never updated.
log_forks = Table(
    "log_forks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("log", String(32), nullable=False, index=True),  # whose log
    Column("kind", String(20), nullable=False),  # rollback | fork | damaged | refused
    Column("detected_at", TIME, nullable=False),
    Column("old_size", BigInteger, nullable=True),
    Column("new_size", BigInteger, nullable=True),
    Column("old_note", Text, nullable=True),  # what was co-signed or signed before
    Column("new_note", Text, nullable=True),  # what contradicts it
    Column("proof", Text, nullable=True),  # JSON: the consistency proof that failed
    Column("detail", Text, nullable=False),  # in words
)

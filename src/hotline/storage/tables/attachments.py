"""Tables for attachments (``services/attachments.py``): the files, stored once by their
SHA-256, in chunks, and which message carries which. Declared on the shared ``metadata``;
created by the Alembic revision ``0009_attachments`` (``retry_at``: ``0009_attach_retry``)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

# One row per distinct file (content-addressed): uploaded here, or wanted from a peer.
blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),  # bytes (as signed, for a peer's)
    Column("content_type", String(100), nullable=False),
    Column("name", String(200), nullable=False),  # the first name it was known by
    # complete | partial (chunks still missing) | refused (over a limit, or given up:
    # its chunks dropped)
    Column("state", String(10), nullable=False),
    Column("peer", String(32), nullable=True),  # fetched from; null: uploaded here
    Column("chunk_size", Integer, nullable=True),  # null until a peer's manifest is read
    Column("chunks", Text, nullable=True),  # JSON list of each chunk's SHA-256 (manifest)
    Column("failures", Integer, nullable=False),  # chunks or wholes refused so far
    Column("detail", Text, nullable=True),  # why refused, or the last failure
    Column("created_at", TIME, nullable=False),
    Column("completed_at", TIME, nullable=True),
    # a partial file is next asked for then (null: now); added by 0009_attach_retry
    Column("retry_at", TIME, nullable=True),
)
Index("ix_blobs_state", blobs.c.state, blobs.c.peer)

# The bytes: one row per chunk of a blob, verified before it is written.
blob_chunks = Table(
    "blob_chunks",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("idx", Integer, primary_key=True),  # from 0
    Column("hash", String(64), nullable=False),  # SHA-256 of this chunk
    Column("data", LargeBinary, nullable=False),
)

# Which message carries which file, in the envelope's order.
message_attachments = Table(
    "message_attachments",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("position", Integer, primary_key=True),  # from 0, as in the envelope
    Column("sha256", String(64), nullable=False),
    Column("direction", String(3), nullable=False),  # out | in
    Column("name", String(200), nullable=False),
)
Index("ix_message_attachments_sha", message_attachments.c.sha256)

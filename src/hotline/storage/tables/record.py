"""The recorded picture: every position report the node accepted (``services/picture``).
Declared on the shared ``metadata``; created by the Alembic revision ``0009_record``.

Times here are integers, milliseconds since the Unix epoch (UTC), not the RFC 3339 strings
of the other tables: this table takes thousands of rows a second, and an 8-byte key keeps
its rows and both indexes a third smaller and its range scans cheaper. They sort and read
the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table

from hotline.storage.tables.core import metadata

#: A row id that never runs out on PostgreSQL (20,000 reports/s fill 2**31 in 30 hours);
#: SQLite's rowid is already 64-bit and only ``INTEGER PRIMARY KEY`` aliases it.
ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

track_positions = Table(
    "track_positions",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),  # the report's time, ms since the epoch
    Column("track", String(48), nullable=False),
    Column("party", String(32), nullable=False),
    Column("source", String(32), nullable=False),  # "feed" (this node's) or the sharing peer
    Column("lat", Float, nullable=False),  # degrees
    Column("lon", Float, nullable=False),  # degrees
    Column("alt_m", Float, nullable=False),
    Column("gs_mps", Float, nullable=False),
    Column("trk_deg", Float, nullable=False),  # degrees true
    Column("vs_mps", Float, nullable=False),
    Column("callsign", String(32), nullable=True),
)
Index("ix_track_positions_at", track_positions.c.at_ms)
Index("ix_track_positions_track_at", track_positions.c.track, track_positions.c.at_ms)

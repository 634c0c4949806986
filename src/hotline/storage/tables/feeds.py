"""The track feeds a node reads (``services/feeds``), each with its last health figures.
Declared on the shared ``metadata``; created by the Alembic revision ``0007_feeds``."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

feeds = Table(
    "feeds",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("kind", String(8), nullable=False),  # sbs1 | beast | ais | cot | cot-out
    Column("mode", String(8), nullable=False),  # connect | listen
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("udp", Integer, nullable=False),  # 0 | 1
    Column("party", String(32), nullable=False),
    Column("stale_s", Integer, nullable=False),  # quiet this long: feed_stale
    Column("reference", String(40), nullable=True),  # "lat,lon": a Beast receiver's place
    Column("added_at", TIME, nullable=False),
    Column("generation", String(36), nullable=False),  # new on each add: a running node restarts it
    # JSON {"ca", "cert", "key", "server_name"?}: TLS with a client certificate (0009_feed_tls)
    Column("tls", Text, nullable=True),
    Column("health", Text, nullable=True),  # JSON, written by the active process
    Column("health_at", TIME, nullable=True),
)

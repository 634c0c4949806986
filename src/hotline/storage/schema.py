"""Every table of the node, on one ``metadata``: the core tables and each capability's.

Import ``metadata`` from here (not from ``tables``) wherever the whole schema matters:
the Alembic environment and the migration test.
"""

from __future__ import annotations

from hotline.storage import (
    calls_tables,
    conflicts_tables,
    evidence_tables,
    held_tables,
    links_tables,
    tables,
)
from hotline.storage.tables import metadata

__all__ = [
    "calls_tables",
    "conflicts_tables",
    "evidence_tables",
    "held_tables",
    "links_tables",
    "metadata",
    "tables",
]

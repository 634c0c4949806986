"""Every table of the node, on one ``metadata``: the core tables and each capability's.

Import ``metadata`` from here (not from ``tables``) wherever the whole schema matters:
the Alembic environment and the migration test.
"""

from __future__ import annotations

from hotline.storage.tables import attachments as attachments_tables
from hotline.storage.tables import calls as calls_tables
from hotline.storage.tables import conflicts as conflicts_tables
from hotline.storage.tables import core as tables
from hotline.storage.tables import evidence as evidence_tables
from hotline.storage.tables import feeds as feeds_tables
from hotline.storage.tables import handovers as handover_tables
from hotline.storage.tables import held as held_tables
from hotline.storage.tables import keys as keys_tables
from hotline.storage.tables import links as links_tables
from hotline.storage.tables import logins as logins_tables
from hotline.storage.tables import record as record_tables
from hotline.storage.tables import recovery as recovery_tables
from hotline.storage.tables import safety as safety_tables
from hotline.storage.tables import sessions as sessions_tables
from hotline.storage.tables.core import metadata

__all__ = [
    "attachments_tables",
    "calls_tables",
    "conflicts_tables",
    "evidence_tables",
    "feeds_tables",
    "handover_tables",
    "held_tables",
    "keys_tables",
    "links_tables",
    "logins_tables",
    "metadata",
    "record_tables",
    "recovery_tables",
    "safety_tables",
    "sessions_tables",
    "tables",
]

"""The node's append-only Merkle log (RFC 9162) in its database.

Appends are O(log n): the log's compact range (``log_state.frontier``) is read and
rewritten under a row lock in the same transaction as the entry it adds, so the log's
root always covers exactly the rows committed beside it.

On PostgreSQL that row lock is also the first lock of every write transaction
(:func:`lock`, taken by ``Database.write`` and ``Database.transaction``): see the lock
order in ``storage/db.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from hotline.protocol import merkle
from hotline.storage.tables.core import log_entries, log_state

# Built once: appends run for every message, and building a statement costs more than
# running it (SQLAlchemy caches the compiled form of these constant statements).
_READ_STATE = select(log_state.c.size, log_state.c.frontier).where(log_state.c.id == 1)
_LOCK_STATE = _READ_STATE.with_for_update()
_LOCK_ROW = select(log_state.c.id).where(log_state.c.id == 1).with_for_update()
_CREATE_ROW = pg_insert(log_state).values(id=1, size=0, frontier="[]").on_conflict_do_nothing()
_INSERT_ENTRY = insert(log_entries)
_WRITE_STATE = (
    update(log_state)
    .where(log_state.c.id == 1)
    .values(size=bindparam("new_size"), frontier=bindparam("new_frontier"))
)


@dataclass(frozen=True)
class LogHead:
    size: int
    root: bytes


def lock(conn: Connection) -> None:
    """Lock the log's row until the transaction ends (PostgreSQL; SQLite's writer already
    holds the whole file), creating it if the log is new: the first lock of every write
    transaction, so that writers wait for each other here, holding nothing else, instead
    of deadlocking over channels and messages locked in different orders."""
    if conn.dialect.name == "sqlite":
        return
    if conn.execute(_LOCK_ROW).first() is None:
        conn.execute(_CREATE_ROW)  # two new transactions may race here: one row wins
        conn.execute(_LOCK_ROW)


def _lock_state(conn: Connection) -> merkle.Frontier:
    stmt = _READ_STATE if conn.dialect.name == "sqlite" else _LOCK_STATE
    row = conn.execute(stmt).first()
    if row is None:
        conn.execute(insert(log_state).values(id=1, size=0, frontier="[]"))
        return merkle.Frontier.empty()
    size, frontier = row
    return merkle.Frontier.from_list(int(size), [bytes.fromhex(h) for h in json.loads(frontier)])


def append(conn: Connection, kind: str, ref: str, entry: bytes, at: str) -> tuple[int, LogHead]:
    """Append one entry; return its index and the log's new head."""
    frontier = _lock_state(conn)
    index = frontier.size
    leaf = merkle.leaf_hash(entry)
    frontier.append(leaf)
    conn.execute(
        _INSERT_ENTRY,
        {"idx": index, "kind": kind, "ref": ref, "entry": entry, "leaf_hash": leaf, "at": at},
    )
    hashes = json.dumps([h.hex() for h in frontier.to_list()])
    conn.execute(_WRITE_STATE, {"new_size": frontier.size, "new_frontier": hashes})
    return index, LogHead(frontier.size, frontier.root())


def head(conn: Connection) -> LogHead:
    row = conn.execute(select(log_state).where(log_state.c.id == 1)).mappings().first()
    if row is None:
        return LogHead(0, merkle.root([]))
    hashes = [bytes.fromhex(h) for h in json.loads(row["frontier"])]
    return LogHead(int(row["size"]), merkle.Frontier.from_list(int(row["size"]), hashes).root())


def leaf_hashes(conn: Connection, size: int) -> list[bytes]:
    rows = conn.execute(
        select(log_entries.c.leaf_hash).where(log_entries.c.idx < size).order_by(log_entries.c.idx)
    ).scalars()
    return [bytes(h) for h in rows]

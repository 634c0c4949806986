"""The node's append-only Merkle log (RFC 9162) in its database.

Appends are O(log n): the log's compact range (``log_state.frontier``) is read and
rewritten under a row lock in the same transaction as the entries it adds, so the log's
root always covers exactly the rows committed beside it.

On PostgreSQL that row lock is also the first lock of every write transaction
(:func:`lock`, taken by ``Database.write`` and ``Database.transaction``): see the lock
order in ``storage/db.py``.

A transaction that appends several entries (a received batch: each envelope and its
receipt; a batch of receipts recorded) opens :func:`batch` once: the state is read once,
the entries are inserted together, and the state is written once, when the block ends.
Inside it, :func:`append` and :func:`head` go through the batch, so code that appends
one entry (``_store_receipt``, a receive hook queueing a reply) needs no change.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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
#: The open batch of each transaction, by its connection object (one per transaction).
#: Not ``Connection.info``: that is the database connection's, and reading it after the
#: server went away raises SQLAlchemy's PendingRollbackError, which hid the
#: ``DatabaseUnavailable`` (503) behind a 500 in the standby drill.
_BATCHES: weakref.WeakKeyDictionary[Connection, Batch] = weakref.WeakKeyDictionary()


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


@dataclass(frozen=True)
class Mark:
    """Where a batch stood (see :meth:`Batch.mark`)."""

    size: int | None  # None: the state was not read yet
    hashes: tuple[bytes, ...]
    pending: tuple[dict[str, Any], ...]


class Batch:
    """Appends of one transaction: the state read once, written once by :meth:`flush`.

    Entry rows wait in memory until the flush too (one multi-row insert). Whatever reads
    the log's rows or its stored state inside the transaction must :meth:`flush` first
    (the receiver does before a receive hook runs).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._frontier: merkle.Frontier | None = None  # read (and locked) at first use
        self._pending: list[dict[str, Any]] = []
        self._written: int | None = None  # the size the stored state has

    @property
    def frontier(self) -> merkle.Frontier:
        """The log's compact range, read when first needed (on PostgreSQL its row is
        already locked: ``Database.write`` takes it first, see ``storage/db.py``)."""
        if self._frontier is None:
            self._frontier = _lock_state(self.conn)
            self._written = self._frontier.size
        return self._frontier

    def append(self, kind: str, ref: str, entry: bytes, at: str) -> tuple[int, LogHead]:
        index = self.frontier.size
        leaf = merkle.leaf_hash(entry)
        self.frontier.append(leaf)
        self._pending.append(
            {"idx": index, "kind": kind, "ref": ref, "entry": entry, "leaf_hash": leaf, "at": at}
        )
        return index, self.head()

    def head(self) -> LogHead:
        return LogHead(self.frontier.size, self.frontier.root())

    def mark(self) -> Mark:
        """The batch as it is now, to go back to with :meth:`reset` when a savepoint that
        held later appends is rolled back."""
        if self._frontier is None:  # not read yet: going back is reading it afresh
            return Mark(None, (), tuple(self._pending))
        return Mark(self._frontier.size, tuple(self._frontier.to_list()), tuple(self._pending))

    def reset(self, mark: Mark) -> None:
        """Forget the appends made after ``mark``: their rows were rolled back with the
        savepoint, or never written. The entries that waited at ``mark`` wait again (a
        flush inside the savepoint wrote them, and was undone with it), and the stored
        state is rewritten at the next flush, whatever it holds now."""
        if mark.size is None:
            self._frontier, self._written = None, None
        else:
            self._frontier = merkle.Frontier.from_list(mark.size, mark.hashes)
            self._written = None  # rewritten at the next flush
        self._pending = list(mark.pending)

    def flush(self) -> None:
        """Write the waiting entries and the state (once each, and only if changed)."""
        if self._pending:
            self.conn.execute(_INSERT_ENTRY, self._pending)
            self._pending = []
        if self._frontier is not None and self._written != self._frontier.size:
            hashes = json.dumps([h.hex() for h in self.frontier.to_list()])
            self.conn.execute(
                _WRITE_STATE, {"new_size": self.frontier.size, "new_frontier": hashes}
            )
            self._written = self.frontier.size


@contextmanager
def batch(conn: Connection) -> Iterator[Batch]:
    """Append many entries in this transaction with one read and one write of the state.

    Written when the block ends without error (an error rolls the transaction back, and
    the batch with it). Nested use joins the open batch.
    """
    open_batch = _BATCHES.get(conn)
    if open_batch is not None:
        yield open_batch
        return
    made = Batch(conn)
    _BATCHES[conn] = made
    try:
        yield made
        made.flush()
    finally:
        _BATCHES.pop(conn, None)


def _open_batch(conn: Connection) -> Batch | None:
    return _BATCHES.get(conn)


def append(conn: Connection, kind: str, ref: str, entry: bytes, at: str) -> tuple[int, LogHead]:
    """Append one entry; return its index and the log's new head (through the open
    :func:`batch`, if there is one)."""
    open_batch = _open_batch(conn)
    if open_batch is not None:
        return open_batch.append(kind, ref, entry, at)
    one = Batch(conn)
    result = one.append(kind, ref, entry, at)
    one.flush()
    return result


def flush(conn: Connection) -> None:
    """Write what the open :func:`batch` holds so far (nothing without one): before code
    that reads the log's rows or stored state in the same transaction."""
    open_batch = _open_batch(conn)
    if open_batch is not None:
        open_batch.flush()


def head(conn: Connection) -> LogHead:
    open_batch = _open_batch(conn)
    if open_batch is not None:
        return open_batch.head()
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

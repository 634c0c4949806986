"""SQL for the evidence capability: reading the whole log back, checkpoints signed and
co-signed, and the fork evidence kept (tables in ``evidence_tables.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from hotline.storage.tables.core import log_entries, log_state, peers
from hotline.storage.tables.evidence import cosigned_checkpoints, log_checkpoints, log_forks

#: Rows fetched per round trip when the whole log is read back.
READ_CHUNK = 2000


@dataclass(frozen=True)
class StoredEntry:
    """One row of ``log_entries``, as stored (nothing checked)."""

    idx: int
    kind: str
    ref: str
    entry: bytes
    leaf_hash: bytes
    at: str


@dataclass(frozen=True)
class SignedRow:
    """A checkpoint with its note; ``cosigner`` / ``at`` as the table records them."""

    size: int
    root: str  # hex
    note: str
    at: str
    log: str = ""
    cosigner: str = ""


# -- the log, read back --------------------------------------------------------------------


def state_head(conn: Connection) -> tuple[int, list[bytes]]:
    """``log_state`` as stored: the size and the frontier hashes (empty log: 0, [])."""
    row = conn.execute(select(log_state).where(log_state.c.id == 1)).mappings().first()
    if row is None:
        return 0, []
    return int(row["size"]), [bytes.fromhex(h) for h in json.loads(row["frontier"])]


def iter_entries(conn: Connection, below: int) -> Iterator[StoredEntry]:
    """Every stored entry with ``idx < below``, in index order, streamed in chunks."""
    stmt = select(log_entries).where(log_entries.c.idx < below).order_by(log_entries.c.idx)
    result = conn.execution_options(yield_per=READ_CHUNK).execute(stmt)
    for idx, kind, ref, entry, leaf, at in result:
        yield StoredEntry(int(idx), kind, ref, bytes(entry), bytes(leaf), at)


def entries_for(conn: Connection, ref: str) -> list[StoredEntry]:
    """The log entries about one message (its envelope and its receipt), in index order."""
    stmt = select(log_entries).where(log_entries.c.ref == ref).order_by(log_entries.c.idx)
    return [_entry(row) for row in conn.execute(stmt).mappings()]


def _entry(row: Any) -> StoredEntry:
    return StoredEntry(
        idx=int(row["idx"]),
        kind=row["kind"],
        ref=row["ref"],
        entry=bytes(row["entry"]),
        leaf_hash=bytes(row["leaf_hash"]),
        at=row["at"],
    )


# -- checkpoints this node signed ----------------------------------------------------------


def signed_checkpoints(conn: Connection) -> list[SignedRow]:
    """Every checkpoint of its own log this node signed, smallest first."""
    rows = conn.execute(select(log_checkpoints).order_by(log_checkpoints.c.size)).mappings()
    return [SignedRow(int(r["size"]), r["root"], r["note"], r["signed_at"]) for r in rows]


def signed_at_size(conn: Connection, size: int) -> SignedRow | None:
    row = (
        conn.execute(select(log_checkpoints).where(log_checkpoints.c.size == size))
        .mappings()
        .first()
    )
    return None if row is None else SignedRow(size, row["root"], row["note"], row["signed_at"])


def insert_signed(conn: Connection, size: int, root: str, note: str, at: str) -> None:
    conn.execute(insert(log_checkpoints).values(size=size, root=root, note=note, signed_at=at))


# -- checkpoints with two signatures -------------------------------------------------------


def latest_cosigned(conn: Connection, log: str, cosigner: str | None = None) -> SignedRow | None:
    """The largest checkpoint of ``log`` co-signed (by ``cosigner``, or by anyone)."""
    table = cosigned_checkpoints
    stmt = select(table).where(table.c.log == log)
    if cosigner is not None:
        stmt = stmt.where(table.c.cosigner == cosigner)
    stmt = stmt.order_by(table.c.size.desc(), table.c.cosigned_at.desc()).limit(1)
    row = conn.execute(stmt).mappings().first()
    return None if row is None else _cosigned(row)


def cosigned_list(conn: Connection, log: str) -> list[SignedRow]:
    """The latest co-signed checkpoint of ``log`` per co-signer."""
    table = cosigned_checkpoints
    cosigners = conn.execute(
        select(table.c.cosigner).where(table.c.log == log).distinct()
    ).scalars()
    found = (latest_cosigned(conn, log, c) for c in sorted(cosigners))
    return [row for row in found if row is not None]


def cosigned_sizes(conn: Connection, log: str) -> list[SignedRow]:
    """Every co-signed checkpoint of ``log``, smallest first (for the log's self-check)."""
    table = cosigned_checkpoints
    rows = conn.execute(select(table).where(table.c.log == log).order_by(table.c.size)).mappings()
    return [_cosigned(r) for r in rows]


def insert_cosigned(
    conn: Connection, log: str, cosigner: str, size: int, root: str, note: str, at: str
) -> None:
    """Keep a checkpoint with two signatures; co-signed again, only its time moves on."""
    table = cosigned_checkpoints
    key = (table.c.log == log, table.c.cosigner == cosigner, table.c.size == size)
    if conn.execute(select(table.c.size).where(*key)).first() is None:
        conn.execute(
            insert(table).values(
                log=log, cosigner=cosigner, size=size, root=root, note=note, cosigned_at=at
            )
        )
    else:
        conn.execute(update(table).where(*key).values(cosigned_at=at))


def _cosigned(row: Any) -> SignedRow:
    return SignedRow(
        int(row["size"]), row["root"], row["note"], row["cosigned_at"], row["log"], row["cosigner"]
    )


def lock_peer(conn: Connection, party: str) -> bool:
    """Lock a pinned peer's row (PostgreSQL) so its co-signatures are given one at a time."""
    stmt = select(peers.c.party).where(peers.c.party == party)
    if conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first() is not None


# -- fork evidence -------------------------------------------------------------------------


def add_fork(conn: Connection, **values: Any) -> int | None:
    """Keep one piece of fork evidence; None when it repeats the latest for the same log."""
    last = (
        conn.execute(
            select(log_forks)
            .where(log_forks.c.log == values["log"])
            .order_by(log_forks.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    same = ("kind", "old_note", "new_note", "proof", "detail")
    if last is not None and all(last[k] == values.get(k) for k in same):
        return None
    result = conn.execute(insert(log_forks).values(**values))
    key = result.inserted_primary_key
    return None if key is None else int(key[0])


def count_forks(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(log_forks)).scalar_one())


def forks(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Fork evidence, newest first."""
    stmt = select(log_forks).order_by(log_forks.c.id.desc()).limit(limit)
    out = []
    for row in conn.execute(stmt).mappings():
        item = dict(row)
        item["proof"] = json.loads(item["proof"]) if item["proof"] else None
        out.append(item)
    return out

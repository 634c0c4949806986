"""SQL for recovery after a restore (``services/evidence/recovery.py``): the heads of a
channel, the signed copies a peer holds of what crossed the line, the restored node's
re-inserted messages, and the co-signatures set aside once a recovery is proven."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from hotline.domain.line import GENESIS
from hotline.storage.tables.core import channels, log_entries, messages
from hotline.storage.tables.evidence import cosigned_checkpoints, log_forks
from hotline.storage.tables.recovery import retired_cosigned

#: The log entry kind of a signed recovery statement (``docs/merkle-log.md``).
RECOVERY_KIND = "recovery"


def channel_head(conn: Connection, peer: str, direction: str) -> tuple[int, str]:
    """(last seq, last hash) of a channel as stored; (0, genesis) for a new one."""
    row = conn.execute(
        select(channels.c.last_seq, channels.c.last_hash).where(
            channels.c.peer == peer, channels.c.direction == direction
        )
    ).first()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def receipted_head(conn: Connection, peer: str, direction: str) -> tuple[int, str]:
    """(seq, hash) of the last message of a channel that holds its receipt: for an
    outbound channel, what the peer is known to hold; (0, genesis) if none."""
    row = conn.execute(
        select(messages.c.seq, messages.c.hash)
        .where(
            messages.c.direction == direction,
            messages.c.peer == peer,
            messages.c.receipt.is_not(None),
        )
        .order_by(messages.c.seq.desc())
        .limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def at_seq(conn: Connection, peer: str, direction: str, seq: int) -> dict[str, Any] | None:
    """The message at ``seq`` in a channel, if stored."""
    row = (
        conn.execute(
            select(messages).where(
                messages.c.direction == direction,
                messages.c.peer == peer,
                messages.c.seq == seq,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def copies(
    conn: Connection, peer: str, direction: str, after_seq: int, limit: int
) -> list[tuple[str, str]]:
    """(envelope, receipt) of the receipted messages of a channel after ``after_seq``, in
    order, stopping at the first without a receipt: what a restored peer may take back."""
    rows = conn.execute(
        select(messages.c.seq, messages.c.envelope, messages.c.receipt)
        .where(
            messages.c.direction == direction,
            messages.c.peer == peer,
            messages.c.seq > after_seq,
        )
        .order_by(messages.c.seq)
        .limit(limit)
    )
    out: list[tuple[str, str]] = []
    expected = after_seq + 1
    for seq, envelope, receipt in rows:
        if int(seq) != expected or receipt is None:
            break
        out.append((envelope, receipt))
        expected += 1
    return out


def recovery_entries(conn: Connection) -> list[bytes]:
    """The signed recovery statements in this node's log, oldest first."""
    rows = conn.execute(
        select(log_entries.c.entry)
        .where(log_entries.c.kind == RECOVERY_KIND)
        .order_by(log_entries.c.idx)
    ).scalars()
    return [bytes(entry) for entry in rows]


def entry_index(conn: Connection, kind: str, ref: str) -> int | None:
    """The index of the last log entry of ``kind`` about ``ref``."""
    row = conn.execute(
        select(log_entries.c.idx)
        .where(log_entries.c.kind == kind, log_entries.c.ref == ref)
        .order_by(log_entries.c.idx.desc())
        .limit(1)
    ).first()
    return None if row is None else int(row[0])


def cosigned_at(conn: Connection, log: str, cosigner: str, size: int) -> tuple[str, str] | None:
    """(root hex, note) of the co-signed checkpoint of ``log`` at ``size``, if kept."""
    table = cosigned_checkpoints
    row = conn.execute(
        select(table.c.root, table.c.note).where(
            table.c.log == log, table.c.cosigner == cosigner, table.c.size == size
        )
    ).first()
    return None if row is None else (str(row[0]), str(row[1]))


def retire_cosigned(
    conn: Connection, log: str, cosigner: str, above: int, at: str, recovery: int | None
) -> int:
    """Move the co-signed checkpoints of ``log`` larger than ``above`` to
    ``retired_cosigned`` (kept for ever); returns how many."""
    table = cosigned_checkpoints
    which = (table.c.log == log, table.c.cosigner == cosigner, table.c.size > above)
    rows = conn.execute(select(table).where(*which)).mappings().all()
    if not rows:
        return 0
    conn.execute(
        insert(retired_cosigned),
        [
            {
                "log": r["log"],
                "cosigner": r["cosigner"],
                "size": r["size"],
                "root": r["root"],
                "note": r["note"],
                "cosigned_at": r["cosigned_at"],
                "retired_at": at,
                "recovery": recovery,
            }
            for r in rows
        ],
    )
    conn.execute(delete(table).where(*which))
    return len(rows)


def retired(conn: Connection, log: str) -> list[dict[str, Any]]:
    """The co-signed checkpoints of ``log`` set aside by recoveries, oldest first."""
    stmt = select(retired_cosigned).where(retired_cosigned.c.log == log)
    return [dict(r) for r in conn.execute(stmt.order_by(retired_cosigned.c.id)).mappings()]


def open_fork(conn: Connection, log: str, kinds: tuple[str, ...]) -> int | None:
    """The id of the newest fork evidence of ``log`` (of ``kinds``) that no ``recovered``
    record has answered yet; None if there is none: only then may the log be recovered."""
    last = conn.execute(
        select(log_forks.c.id, log_forks.c.kind)
        .where(log_forks.c.log == log, log_forks.c.kind.in_((*kinds, "recovered")))
        .order_by(log_forks.c.id.desc())
        .limit(1)
    ).first()
    return None if last is None or last[1] == "recovered" else int(last[0])


def newest_cosigned_upto(conn: Connection, log: str, cosigner: str, size: int) -> int:
    """The largest size of a checkpoint of ``log`` co-signed (and kept) at or below
    ``size``; 0 if none."""
    table = cosigned_checkpoints
    row = conn.execute(
        select(table.c.size)
        .where(table.c.log == log, table.c.cosigner == cosigner, table.c.size <= size)
        .order_by(table.c.size.desc())
        .limit(1)
    ).first()
    return 0 if row is None else int(row[0])

"""Attachments' SQL (``services/attachments.py``): files stored once by SHA-256, their
chunks, and which message carries which."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from hotline.storage.tables.attachments import blob_chunks, blobs, message_attachments


def get(conn: Connection, sha256: str, *, lock: bool = False) -> dict[str, Any] | None:
    """A file's row; ``lock``: held until the transaction ends (PostgreSQL; a SQLite write
    holds the whole file), so that an upload and the puller change a file one at a time."""
    query = select(blobs).where(blobs.c.sha256 == sha256)
    if lock and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    found = conn.execute(query).mappings().first()
    return None if found is None else _decoded(dict(found))


def add(conn: Connection, **row: Any) -> None:
    """A new file's row (``failures`` 0); the caller checked it is not there yet."""
    row.setdefault("failures", 0)
    if isinstance(row.get("chunks"), list):
        row["chunks"] = json.dumps(row["chunks"])
    conn.execute(insert(blobs).values(**row))


def put_chunk(conn: Connection, sha256: str, idx: int, digest: str, data: bytes) -> bool:
    """Store one verified chunk; False if it was there already (nothing changed)."""
    there = conn.execute(
        select(blob_chunks.c.idx).where(blob_chunks.c.sha256 == sha256, blob_chunks.c.idx == idx)
    ).first()
    if there is not None:
        return False
    conn.execute(insert(blob_chunks).values(sha256=sha256, idx=idx, hash=digest, data=data))
    return True


def chunk(conn: Connection, sha256: str, idx: int) -> bytes | None:
    found = conn.execute(
        select(blob_chunks.c.data).where(blob_chunks.c.sha256 == sha256, blob_chunks.c.idx == idx)
    ).first()
    return None if found is None else bytes(found[0])


def chunk_hashes(conn: Connection, sha256: str) -> dict[int, str]:
    """The chunks stored of a file: index → SHA-256."""
    rows = conn.execute(
        select(blob_chunks.c.idx, blob_chunks.c.hash).where(blob_chunks.c.sha256 == sha256)
    )
    return {int(idx): str(digest) for idx, digest in rows}


def chunks(conn: Connection, sha256: str) -> Iterator[bytes]:
    """A file's bytes, chunk by chunk, in order."""
    rows = conn.execute(
        select(blob_chunks.c.data).where(blob_chunks.c.sha256 == sha256).order_by(blob_chunks.c.idx)
    )
    for (data,) in rows:
        yield bytes(data)


def drop_chunks(conn: Connection, sha256: str) -> None:
    conn.execute(delete(blob_chunks).where(blob_chunks.c.sha256 == sha256))


def update_blob(conn: Connection, sha256: str, **values: Any) -> None:
    if isinstance(values.get("chunks"), list):
        values["chunks"] = json.dumps(values["chunks"])
    conn.execute(update(blobs).where(blobs.c.sha256 == sha256).values(**values))


def failed(conn: Connection, sha256: str, detail: str, retry_at: str) -> None:
    """Count a refusal of a file (``failures``) and ask for it again at ``retry_at``."""
    conn.execute(
        update(blobs)
        .where(blobs.c.sha256 == sha256)
        .values(failures=blobs.c.failures + 1, detail=detail, retry_at=retry_at)
    )


def refuse(conn: Connection, sha256: str, detail: str) -> None:
    """Give a file up for good: ``refused``, and whatever chunks it had are dropped (a
    peer's refused bytes would otherwise sit on the disk outside its quota)."""
    drop_chunks(conn, sha256)
    update_blob(conn, sha256, state="refused", detail=detail, chunks=None, retry_at=None)


def wanted(conn: Connection, now: str, limit: int = 20) -> list[dict[str, Any]]:
    """Files still being fetched from a peer and due at ``now``, those due longest first
    (a file asked for in vain goes to the back: later files are not starved)."""
    due = func.coalesce(blobs.c.retry_at, blobs.c.created_at)
    rows = conn.execute(
        select(blobs)
        .where(blobs.c.state == "partial", or_(blobs.c.retry_at.is_(None), blobs.c.retry_at <= now))
        .order_by(due, blobs.c.created_at, blobs.c.sha256)
        .limit(limit)
    ).mappings()
    return [_decoded(dict(r)) for r in rows]


def peer_bytes(conn: Connection, peer: str) -> int:
    """Bytes of files from ``peer`` this node stores or is fetching: the signed size of
    each file not refused, and any bytes still stored of a refused one."""
    wanted_or_held = conn.execute(
        select(func.coalesce(func.sum(blobs.c.size), 0)).where(
            blobs.c.peer == peer, blobs.c.state != "refused"
        )
    ).scalar_one()
    refused_held = conn.execute(
        select(func.coalesce(func.sum(func.length(blob_chunks.c.data)), 0))
        .select_from(blob_chunks.join(blobs, blobs.c.sha256 == blob_chunks.c.sha256))
        .where(blobs.c.peer == peer, blobs.c.state == "refused")
    ).scalar_one()
    return int(wanted_or_held) + int(refused_held)


def attach(
    conn: Connection, message_id: str, position: int, sha256: str, direction: str, name: str
) -> None:
    conn.execute(
        insert(message_attachments).values(
            message_id=message_id, position=position, sha256=sha256, direction=direction, name=name
        )
    )


def of_message(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    """A message's attachments in order, each with its file's row (state, size, type)."""
    rows = conn.execute(
        select(
            message_attachments.c.position,
            message_attachments.c.name,
            blobs.c.sha256,
            blobs.c.size,
            blobs.c.content_type,
            blobs.c.state,
        )
        .join(blobs, blobs.c.sha256 == message_attachments.c.sha256)
        .where(message_attachments.c.message_id == message_id)
        .order_by(message_attachments.c.position)
    ).mappings()
    return [dict(r) for r in rows]


def messages_with(conn: Connection, sha256: str) -> list[str]:
    rows = conn.execute(
        select(message_attachments.c.message_id).where(message_attachments.c.sha256 == sha256)
    )
    return [str(r[0]) for r in rows]


def sent(conn: Connection, sha256: str) -> bool:
    """Whether a message this node sent carries the file (only those are served to peers)."""
    found = conn.execute(
        select(message_attachments.c.message_id)
        .where(message_attachments.c.sha256 == sha256, message_attachments.c.direction == "out")
        .limit(1)
    ).first()
    return found is not None


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["chunks"] = json.loads(row["chunks"]) if row["chunks"] else None
    return row

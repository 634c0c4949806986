"""Conflicts found between declared volumes (``services/picture/conflicts.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, or_, select

from hotline.storage.tables.conflicts import conflicts


def insert_conflict(
    conn: Connection,
    *,
    a: tuple[str, str, str],
    b: tuple[str, str, str],
    start: str,
    end: str,
    horizontal_m: float,
    vertical_m: float,
    detected_at: str,
) -> None:
    """Record a conflict between two volumes, each given as (message id, volume id, party)."""
    conn.execute(
        insert(conflicts).values(
            a_message=a[0],
            a_volume=a[1],
            a_party=a[2],
            b_message=b[0],
            b_volume=b[1],
            b_party=b[2],
            start=start,
            end=end,
            horizontal_m=horizontal_m,
            vertical_m=vertical_m,
            detected_at=detected_at,
        )
    )


def listing(conn: Connection, message_id: str | None = None) -> list[dict[str, Any]]:
    """Recorded conflicts, newest first; only those of ``message_id`` if given."""
    stmt = select(conflicts).order_by(conflicts.c.id.desc())
    if message_id:
        stmt = stmt.where(
            or_(conflicts.c.a_message == message_id, conflicts.c.b_message == message_id)
        )
    return [dict(r) for r in conn.execute(stmt).mappings()]

"""Conflicts found between declared volumes (``services/picture/conflicts.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

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
    raised_by: str | None = None,
) -> None:
    """Record a conflict between two volumes, each given as (message id, volume id, party).

    ``raised_by``: the received message whose ``conflict`` alarm this conflict is part of.
    """
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
            raised_by=raised_by,
        )
    )


def open_conflicts(conn: Connection) -> list[dict[str, Any]]:
    """The conflicts not closed, oldest first."""
    stmt = select(conflicts).where(conflicts.c.closed_at.is_(None)).order_by(conflicts.c.id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def get(conn: Connection, conflict_id: int) -> dict[str, Any] | None:
    """One recorded conflict, or None."""
    row = conn.execute(select(conflicts).where(conflicts.c.id == conflict_id)).mappings().first()
    return None if row is None else dict(row)


def close(
    conn: Connection, conflict_id: int, *, at: str, reason: str, detail: str, by: str | None
) -> None:
    """Close an open conflict: when, why (amended/withdrawn/expired/accepted), in words."""
    conn.execute(
        update(conflicts)
        .where(conflicts.c.id == conflict_id, conflicts.c.closed_at.is_(None))
        .values(closed_at=at, closed_reason=reason, closed_detail=detail, closed_by=by)
    )


def listing(
    conn: Connection, message_id: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """Recorded conflicts, newest first; only those of ``message_id`` if given, only the
    ``open`` or ``closed`` ones if ``state`` is given."""
    stmt = select(conflicts).order_by(conflicts.c.id.desc())
    if state == "open":
        stmt = stmt.where(conflicts.c.closed_at.is_(None))
    elif state == "closed":
        stmt = stmt.where(conflicts.c.closed_at.is_not(None))
    if message_id:
        stmt = stmt.where(
            or_(conflicts.c.a_message == message_id, conflicts.c.b_message == message_id)
        )
    return [dict(r) for r in conn.execute(stmt).mappings()]

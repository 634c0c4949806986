"""Watch handovers (``services/handover.py``): the outgoing and incoming officers' sign-offs.

Rows come out as dicts with ``summary`` decoded from its JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from hotline.storage.tables.handovers import handovers


def insert_handover(
    conn: Connection, handover_id: str, *, user: str, note: str, at: str, summary: dict[str, Any]
) -> None:
    conn.execute(
        insert(handovers).values(
            id=handover_id,
            state="awaiting",
            summary=json.dumps(summary, ensure_ascii=False, sort_keys=True),
            outgoing=user,
            outgoing_note=note,
            outgoing_at=at,
        )
    )


def get(conn: Connection, handover_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    """One handover; ``lock`` locks its row (PostgreSQL) until the transaction ends."""
    stmt = select(handovers).where(handovers.c.id == handover_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return None if row is None else _out(row._asdict())


def awaiting(conn: Connection) -> dict[str, Any] | None:
    """The handover signed by its outgoing officer and not yet taken over, if any."""
    stmt = (
        select(handovers)
        .where(handovers.c.state == "awaiting")
        .order_by(handovers.c.outgoing_at.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return None if row is None else _out(row._asdict())


def take_over(conn: Connection, handover_id: str, *, user: str, note: str, at: str) -> bool:
    """Complete an awaiting handover; False when it was no longer awaiting (lost a race)."""
    done = conn.execute(
        update(handovers)
        .where(handovers.c.id == handover_id, handovers.c.state == "awaiting")
        .values(state="complete", incoming=user, incoming_note=note, incoming_at=at)
    )
    return bool(done.rowcount)


def withdraw(conn: Connection, handover_id: str) -> bool:
    done = conn.execute(
        update(handovers)
        .where(handovers.c.id == handover_id, handovers.c.state == "awaiting")
        .values(state="withdrawn")
    )
    return bool(done.rowcount)


def history(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Handovers, newest first."""
    stmt = select(handovers).order_by(handovers.c.outgoing_at.desc()).limit(limit)
    return [_out(r._asdict()) for r in conn.execute(stmt)]


def _out(row: dict[str, Any]) -> dict[str, Any]:
    row["summary"] = json.loads(row["summary"])
    return row

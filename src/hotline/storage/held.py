"""Messages held for a second person's approval (``services/held.py``): the two-person rule.

Rows come out as dicts with ``payload`` decoded from its JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from hotline.storage.tables.held import held_messages as held


def insert_held(
    conn: Connection,
    held_id: str,
    *,
    kind: str,
    peer: str,
    precedence: str,
    lang: str | None,
    payload: dict[str, Any],
    client_ref: str | None,
    requested_by: str,
    requested_at: str,
) -> None:
    conn.execute(
        insert(held).values(
            id=held_id,
            kind=kind,
            peer=peer,
            precedence=precedence,
            lang=lang,
            payload=json.dumps(payload, ensure_ascii=False),
            client_ref=client_ref,
            requested_by=requested_by,
            requested_at=requested_at,
            state="held",
        )
    )


def get(conn: Connection, held_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    """One held message; ``lock`` locks its row (PostgreSQL) until the transaction ends."""
    stmt = select(held).where(held.c.id == held_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return None if row is None else _out(row._asdict())


def by_client_ref(conn: Connection, user: str, client_ref: str) -> dict[str, Any] | None:
    """The message ``user`` held earlier with ``client_ref`` (references are per user)."""
    stmt = select(held).where(held.c.requested_by == user, held.c.client_ref == client_ref)
    row = conn.execute(stmt).first()
    return None if row is None else _out(row._asdict())


def listing(conn: Connection, state: str | None) -> list[dict[str, Any]]:
    """Held messages in ``state`` (every one if ``None``), oldest request first."""
    stmt = select(held).order_by(held.c.requested_at, held.c.id)
    if state is not None:
        stmt = stmt.where(held.c.state == state)
    return [_out(r._asdict()) for r in conn.execute(stmt)]


def count_held(conn: Connection) -> int:
    """How many messages await a decision."""
    n = conn.execute(select(func.count()).select_from(held).where(held.c.state == "held")).scalar()
    return int(n or 0)


def approve(conn: Connection, held_id: str, by: str, at: str) -> None:
    conn.execute(
        update(held)
        .where(held.c.id == held_id)
        .values(state="approved", decided_by=by, decided_at=at)
    )


def take_back(conn: Connection, held_id: str) -> None:
    """An approval whose sending was refused: the message is held again, undecided."""
    conn.execute(
        update(held)
        .where(held.c.id == held_id, held.c.state == "approved")
        .values(state="held", decided_by=None, decided_at=None)
    )


def mark_sent(conn: Connection, held_id: str, message_id: str) -> None:
    conn.execute(
        update(held).where(held.c.id == held_id).values(state="sent", message_id=message_id)
    )


def reject(conn: Connection, held_id: str, by: str, at: str, reason: str) -> None:
    conn.execute(
        update(held)
        .where(held.c.id == held_id)
        .values(state="rejected", decided_by=by, decided_at=at, reason=reason)
    )


def _out(row: dict[str, Any]) -> dict[str, Any]:
    row["payload"] = json.loads(row["payload"])
    return row

"""Alarms: raised once per (kind, subject) while open; cleared by a person or by recovery."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from hotline.storage.tables.links import alarms


def open_alarm(conn: Connection, kind: str, subject: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(alarms).where(
            alarms.c.state == "open", alarms.c.kind == kind, alarms.c.subject == subject
        )
    ).mappings()
    first = row.first()
    return None if first is None else _out(dict(first))


def insert_alarm(conn: Connection, kind: str, subject: str, at: str, detail: dict[str, Any]) -> int:
    result = conn.execute(
        insert(alarms).values(
            kind=kind,
            subject=subject,
            raised_at=at,
            state="open",
            detail=json.dumps(detail, ensure_ascii=False),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def set_detail(conn: Connection, alarm_id: int, detail: dict[str, Any]) -> None:
    conn.execute(
        update(alarms)
        .where(alarms.c.id == alarm_id)
        .values(detail=json.dumps(detail, ensure_ascii=False))
    )


def clear(conn: Connection, alarm_id: int, at: str, by: str, reason: str, duration_s: int) -> None:
    conn.execute(
        update(alarms)
        .where(alarms.c.id == alarm_id)
        .values(
            state="cleared",
            cleared_at=at,
            cleared_by=by,
            clear_reason=reason,
            duration_s=duration_s,
        )
    )


def mark_seen(conn: Connection, alarm_id: int, at: str, by: str) -> None:
    """Acknowledge (silence) an alarm: it stays open until it is cleared."""
    conn.execute(update(alarms).where(alarms.c.id == alarm_id).values(seen_by=by, seen_at=at))


def count_seen(conn: Connection) -> int:
    """Open alarms someone has acknowledged (part of the console's change stamp)."""
    stmt = select(func.count()).select_from(alarms)
    stmt = stmt.where(alarms.c.state == "open", alarms.c.seen_at.is_not(None))
    return int(conn.execute(stmt).scalar() or 0)


def get(conn: Connection, alarm_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(alarms).where(alarms.c.id == alarm_id)).mappings().first()
    return None if row is None else _out(dict(row))


def listing(
    conn: Connection, *, state: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    stmt = select(alarms)
    if state:
        stmt = stmt.where(alarms.c.state == state)
    stmt = stmt.order_by(alarms.c.id.desc()).limit(limit)
    return [_out(dict(r)) for r in conn.execute(stmt).mappings()]


def count_open(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(alarms.c.kind, func.count()).where(alarms.c.state == "open").group_by(alarms.c.kind)
    )
    return {kind: int(n) for kind, n in rows}


def _out(row: dict[str, Any]) -> dict[str, Any]:
    row["detail"] = json.loads(row["detail"])
    return row


def open_subjects(conn: Connection, kinds: Iterable[str]) -> list[tuple[str, str]]:
    """(kind, subject) of the open alarms of ``kinds``."""
    rows = conn.execute(
        select(alarms.c.kind, alarms.c.subject).where(
            alarms.c.state == "open", alarms.c.kind.in_(tuple(kinds))
        )
    ).all()
    return [(kind, subject) for kind, subject in rows]

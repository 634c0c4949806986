"""The configured track feeds and their health (``services/feeds``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from hotline.storage.tables.feeds import feeds


def add(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(feeds).values(**row))


def get(conn: Connection, name: str) -> dict[str, Any] | None:
    found = conn.execute(select(feeds).where(feeds.c.name == name)).mappings().first()
    return None if found is None else _decoded(dict(found))


def all_feeds(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(feeds).order_by(feeds.c.name)).mappings()
    return [_decoded(dict(r)) for r in rows]


def remove(conn: Connection, name: str) -> bool:
    return bool(conn.execute(delete(feeds).where(feeds.c.name == name)).rowcount)


def set_health(
    conn: Connection, name: str, generation: str, health: dict[str, Any], at: str
) -> None:
    """Record a feed's health (only if it is still the same feed: not removed, not re-added)."""
    conn.execute(
        update(feeds)
        .where(feeds.c.name == name, feeds.c.generation == generation)
        .values(health=json.dumps(health, ensure_ascii=False), health_at=at)
    )


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["udp"] = bool(row["udp"])
    row["health"] = json.loads(row["health"]) if row["health"] else None
    return row

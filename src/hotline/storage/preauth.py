"""Pre-authorised safety warnings and their uses (``services/preauth.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from hotline.storage.tables.safety import safety_preauth as preauth
from hotline.storage.tables.safety import safety_uses as uses


def insert_preauth(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(preauth).values(**row))


def get(conn: Connection, preauth_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(preauth).where(preauth.c.id == preauth_id)).first()
    return None if row is None else row._asdict()


def listing(conn: Connection) -> list[dict[str, Any]]:
    """Every pre-authorisation, newest first, each with its uses (oldest first)."""
    rows = [
        r._asdict()
        for r in conn.execute(
            select(preauth).order_by(preauth.c.authorised_at.desc(), preauth.c.id)
        )
    ]
    used: dict[str, list[dict[str, Any]]] = {}
    for u in conn.execute(select(uses).order_by(uses.c.used_at, uses.c.id)):
        used.setdefault(u.preauth_id, []).append(u._asdict())
    return [r | {"uses": used.get(r["id"], [])} for r in rows]


def revoke(conn: Connection, preauth_id: str, by: str, at: str, reason: str) -> None:
    conn.execute(
        update(preauth)
        .where(preauth.c.id == preauth_id, preauth.c.revoked_at.is_(None))
        .values(revoked_by=by, revoked_at=at, revoke_reason=reason)
    )


def insert_use(
    conn: Connection, use_id: str, preauth_id: str, message_id: str, by: str, at: str
) -> None:
    conn.execute(
        insert(uses).values(
            id=use_id, preauth_id=preauth_id, message_id=message_id, used_by=by, used_at=at
        )
    )


def uses_of(conn: Connection, preauth_id: str) -> list[dict[str, Any]]:
    stmt = select(uses).where(uses.c.preauth_id == preauth_id).order_by(uses.c.used_at, uses.c.id)
    return [r._asdict() for r in conn.execute(stmt)]


def use_of_message(conn: Connection, message_id: str) -> dict[str, Any] | None:
    """The use that sent ``message_id``, if recorded."""
    row = conn.execute(select(uses).where(uses.c.message_id == message_id)).first()
    return None if row is None else row._asdict()

"""Translations beside a message's original, and who certified them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from hotline.storage.tables.core import translations


def add(
    conn: Connection,
    message_id: str,
    lang: str,
    text: str,
    translator: str,
    at: str,
    *,
    machine: bool = False,
) -> int:
    result = conn.execute(
        insert(translations).values(
            message_id=message_id,
            lang=lang,
            text=text,
            translator=translator,
            created_at=at,
            machine=int(machine),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get(conn: Connection, translation_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(translations).where(translations.c.id == translation_id)).mappings()
    first = row.first()
    return None if first is None else _out(dict(first))


def certify(conn: Connection, translation_id: int, user: str, at: str) -> None:
    conn.execute(
        update(translations)
        .where(translations.c.id == translation_id)
        .values(certified_by=user, certified_at=at)
    )


def for_message(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(translations)
        .where(translations.c.message_id == message_id)
        .order_by(translations.c.id)
    ).mappings()
    return [_out(dict(r)) for r in rows]


def _out(row: dict[str, Any]) -> dict[str, Any]:
    row["machine"] = bool(row["machine"])
    return row

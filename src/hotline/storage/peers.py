"""Pinned peers: the only keys this node trusts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from hotline.domain.line import PeerCard
from hotline.storage.tables.core import peers


@dataclass(frozen=True)
class PeerRow:
    party: str
    name_en: str
    name_ru: str
    lang: str
    public_key: str
    fingerprint: str
    endpoints: tuple[str, ...]
    card: str
    added_at: str


def upsert(conn: Connection, card: PeerCard, card_json: str, at: str) -> bool:
    """Pin (or re-pin) a peer's card; returns True when the key changed."""
    values = {
        "name_en": card.name_en,
        "name_ru": card.name_ru,
        "lang": card.lang,
        "public_key": card.public_key,
        "fingerprint": card.fingerprint,
        "endpoints": json.dumps(card.endpoints),
        "card": card_json,
    }
    existing = get(conn, card.party)
    if existing is None:
        conn.execute(insert(peers).values(party=card.party, added_at=at, **values))
        return True
    conn.execute(update(peers).where(peers.c.party == card.party).values(**values))
    return existing.fingerprint != card.fingerprint


def get(conn: Connection, party: str) -> PeerRow | None:
    row = conn.execute(select(peers).where(peers.c.party == party)).mappings().first()
    return None if row is None else _row(row)


def all_peers(conn: Connection) -> list[PeerRow]:
    rows = conn.execute(select(peers).order_by(peers.c.party)).mappings().all()
    return [_row(r) for r in rows]


def _row(row: object) -> PeerRow:
    data = dict(row)  # type: ignore[call-overload]
    data["endpoints"] = tuple(json.loads(data["endpoints"]))
    return PeerRow(**data)

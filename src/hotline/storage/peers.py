"""Pinned peers: the only keys this node trusts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update

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


_IS_PINNED = select(peers.c.party).where(peers.c.party == bindparam("party"))


def is_pinned(conn: Connection, party: str) -> bool:
    """Whether ``party`` is pinned (one indexed read, built once: every send asks)."""
    return conn.execute(_IS_PINNED, {"party": party}).first() is not None


def pinned_keys(
    conn: Connection, parties: Iterable[str] | None = None, *, lock: bool = False
) -> dict[str, tuple[str, str]]:
    """Each pinned party's (fingerprint, public key), or those of ``parties``: one small
    read. ``lock`` (in a write transaction) holds the rows until it ends (PostgreSQL
    ``FOR SHARE``), so a card replaced meanwhile waits for it; SQLite's one writer
    serialises this already."""
    query = select(peers.c.party, peers.c.fingerprint, peers.c.public_key)
    if parties is not None:
        query = query.where(peers.c.party.in_(sorted(set(parties))))
    if lock:
        query = query.with_for_update(read=True)
    return {row.party: (row.fingerprint, row.public_key) for row in conn.execute(query)}


def all_peers(conn: Connection) -> list[PeerRow]:
    rows = conn.execute(select(peers).order_by(peers.c.party)).mappings().all()
    return [_row(r) for r in rows]


def _row(row: object) -> PeerRow:
    data = dict(row)  # type: ignore[call-overload]
    data["endpoints"] = tuple(json.loads(data["endpoints"]))
    return PeerRow(**data)

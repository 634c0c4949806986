"""The key history of each party (this node's own included): which signing keys it had,
from when to when, which were revoked, and the signed key changes that prove the chain.

The current key of a peer is also its pinned key in ``peers`` (read on every batch);
this table holds what a key change adds: the keys before it, and revocations waiting
for an officer's confirmation (state ``pending``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from hotline.storage.tables.keys import key_history


@dataclass(frozen=True)
class KeyRow:
    party: str
    fingerprint: str
    public_key: str
    state: str
    valid_from: str | None
    valid_to: str | None
    revoked_from: str | None
    change: str | None
    recorded_at: str


def record_change(conn: Connection, change: dict[str, Any], at: str) -> None:
    """Record an applied key change: the old key retired (or revoked) at its ``effective``
    time, the new key current from then, with the change that proves it."""
    party, effective = change["party"], change["effective"]
    revoked = change.get("revoked_from")
    _put(
        conn,
        party,
        change["old_key"],
        public_key=change["old_public_key"],
        state="revoked" if revoked else "retired",
        valid_to=effective,
        revoked_from=revoked,
        recorded_at=at,
    )
    _put(
        conn,
        party,
        change["new_key"],
        public_key=change["new_public_key"],
        state="current",
        valid_from=effective,
        valid_to=None,
        change=json.dumps(change, sort_keys=True),
        recorded_at=at,
    )


def add_pending(conn: Connection, change: dict[str, Any], at: str) -> bool:
    """Hold a revocation until an officer confirms it; True if it is new here."""
    found = get(conn, change["party"], change["new_key"])
    if found is not None:
        return False
    conn.execute(
        insert(key_history).values(
            party=change["party"],
            fingerprint=change["new_key"],
            public_key=change["new_public_key"],
            state="pending",
            valid_from=change["effective"],
            change=json.dumps(change, sort_keys=True),
            recorded_at=at,
        )
    )
    return True


def drop_pending(conn: Connection, party: str) -> int:
    """Forget the party's pending revocations (one was confirmed, or refused)."""
    done = conn.execute(
        delete(key_history).where(key_history.c.party == party, key_history.c.state == "pending")
    )
    return int(done.rowcount or 0)


def get(conn: Connection, party: str, fingerprint: str) -> KeyRow | None:
    row = (
        conn.execute(
            select(key_history).where(
                key_history.c.party == party, key_history.c.fingerprint == fingerprint
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else KeyRow(**dict(row))


def of_party(conn: Connection, party: str | None = None) -> list[KeyRow]:
    """The keys of ``party`` (or of every party), oldest first, pending ones last."""
    query = select(key_history)
    if party is not None:
        query = query.where(key_history.c.party == party)
    rows = [KeyRow(**dict(r)) for r in conn.execute(query).mappings()]
    return sorted(rows, key=lambda r: (r.party, r.state == "pending", r.valid_from or ""))


def changes(conn: Connection, party: str) -> list[dict[str, Any]]:
    """The applied key changes of ``party`` (what proves its chain of keys), oldest first."""
    return [
        json.loads(row.change)
        for row in of_party(conn, party)
        if row.change is not None and row.state != "pending"
    ]


def _put(conn: Connection, party: str, fingerprint: str, **values: Any) -> None:
    if get(conn, party, fingerprint) is None:
        values.setdefault("valid_from", None)
        conn.execute(insert(key_history).values(party=party, fingerprint=fingerprint, **values))
        return
    conn.execute(
        update(key_history)
        .where(key_history.c.party == party, key_history.c.fingerprint == fingerprint)
        .values(**values)
    )

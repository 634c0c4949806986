"""SQL for calls, readouts and watch levels (tables in ``calls_tables.py``).

Rows come back as plain dicts with their JSON columns decoded; values going in are
encoded here, so the services handle Python lists and dicts only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, case, delete, insert, or_, select, update

from hotline.storage.tables.calls import (
    call_events,
    call_readouts,
    call_requests,
    calls,
    peer_watch_levels,
    watch_changes,
)

#: Columns holding JSON text, per table.
_JSON: dict[str, frozenset[str]] = {
    "call_requests": frozenset({"principals", "topics", "slots", "accepted_slot"}),
    "call_events": frozenset({"detail"}),
    "calls": frozenset({"participants", "interpreters"}),
    "peer_watch_levels": frozenset({"body"}),
}


def _encode(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    columns = _JSON.get(table.name, frozenset())
    return {
        k: (json.dumps(v, ensure_ascii=False) if k in columns and v is not None else v)
        for k, v in values.items()
    }


def _decode(table: Table, row: Any) -> dict[str, Any]:
    out = dict(row)
    for name in _JSON.get(table.name, frozenset()):
        if out.get(name) is not None:
            out[name] = json.loads(out[name])
    return out


def _insert(conn: Connection, table: Table, values: dict[str, Any]) -> Any:
    result = conn.execute(insert(table).values(**_encode(table, values)))
    key = result.inserted_primary_key
    return None if key is None else key[0]


def _update(conn: Connection, table: Table, key: Any, values: dict[str, Any]) -> None:
    pk = next(iter(table.primary_key.columns))
    conn.execute(update(table).where(pk == key).values(**_encode(table, values)))


def _get(conn: Connection, table: Table, key: Any, *, lock: bool = False) -> dict[str, Any] | None:
    pk = next(iter(table.primary_key.columns))
    query = select(table).where(pk == key)
    if lock:  # PostgreSQL: serialise actions on one row; SQLite has one writer anyway
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return None if row is None else _decode(table, row)


# -- requests and their timeline ------------------------------------------------------------


def insert_request(conn: Connection, **values: Any) -> None:
    _insert(conn, call_requests, values)


def get_request(conn: Connection, request_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    return _get(conn, call_requests, request_id, lock=lock)


def update_request(conn: Connection, request_id: str, **values: Any) -> None:
    _update(conn, call_requests, request_id, values)


def request_by_message(conn: Connection, message_id: str) -> dict[str, Any] | None:
    query = select(call_requests).where(call_requests.c.message_id == message_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else _decode(call_requests, row)


def list_requests(
    conn: Connection, *, peer: str | None = None, state: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    query = select(call_requests).order_by(call_requests.c.requested_at.desc()).limit(limit)
    if peer is not None:
        query = query.where(call_requests.c.peer == peer)
    if state is not None:
        query = query.where(call_requests.c.state == state)
    return [_decode(call_requests, r) for r in conn.execute(query).mappings()]


def due_requests(conn: Connection, states: Iterable[str], now: str) -> list[str]:
    """Ids of requests waiting for an answer whose deadline is at or before ``now``."""
    query = select(call_requests.c.id).where(
        call_requests.c.state.in_(list(states)), call_requests.c.answer_by <= now
    )
    return [str(r[0]) for r in conn.execute(query.order_by(call_requests.c.answer_by))]


def pair_requests(conn: Connection, a: tuple[str, str], b: tuple[str, str]) -> list[dict[str, Any]]:
    """Requests between principal ``a`` and ``b`` (each ``(party, principal id)``), either way."""
    r = call_requests.c

    def way(x: tuple[str, str], y: tuple[str, str]) -> Any:
        return (
            (r.requester_party == x[0])
            & (r.requester == x[1])
            & (r.counterpart_party == y[0])
            & (r.counterpart == y[1])
        )

    query = select(call_requests).where(or_(way(a, b), way(b, a))).order_by(r.requested_at)
    return [_decode(call_requests, row) for row in conn.execute(query).mappings()]


#: Steps at the same millisecond read in the order a call's life allows (an answer after
#: its request, a withdrawal after an answer it crossed), the same on both nodes; steps of
#: one kind keep the order they were stored in, which is causal on both nodes.
_STEP_ORDER = case(
    {"requested": 0, "proposed": 1, "accepted": 2, "declined": 2, "withdrawn": 3, "held": 4},
    value=call_events.c.kind,
    else_=5,
)


def add_event(conn: Connection, **values: Any) -> None:
    _insert(conn, call_events, values)


def events(conn: Connection, request_ids: Iterable[str]) -> list[dict[str, Any]]:
    query = (
        select(call_events)
        .where(call_events.c.request_id.in_(list(request_ids)))
        .order_by(call_events.c.at, _STEP_ORDER, call_events.c.id)
    )
    return [_decode(call_events, r) for r in conn.execute(query).mappings()]


def delete_events(conn: Connection, request_id: str, kind: str) -> None:
    conn.execute(
        delete(call_events).where(
            call_events.c.request_id == request_id, call_events.c.kind == kind
        )
    )


def update_events(conn: Connection, request_id: str, kind: str, **values: Any) -> None:
    conn.execute(
        update(call_events)
        .where(call_events.c.request_id == request_id, call_events.c.kind == kind)
        .values(**_encode(call_events, values))
    )


# -- held calls -----------------------------------------------------------------------------


def insert_call(conn: Connection, **values: Any) -> None:
    _insert(conn, calls, values)


def get_call(conn: Connection, call_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    return _get(conn, calls, call_id, lock=lock)


def update_call(conn: Connection, call_id: str, **values: Any) -> None:
    _update(conn, calls, call_id, values)


def list_calls(conn: Connection, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    query = select(calls).order_by(calls.c.held_at)
    if ids is not None:
        query = query.where(calls.c.id.in_(list(ids)))
    return [_decode(calls, r) for r in conn.execute(query).mappings()]


# -- readouts -------------------------------------------------------------------------------


def insert_readout(conn: Connection, **values: Any) -> None:
    _insert(conn, call_readouts, values)


def get_readout(conn: Connection, readout_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    return _get(conn, call_readouts, readout_id, lock=lock)


def update_readout(conn: Connection, readout_id: str, **values: Any) -> None:
    _update(conn, call_readouts, readout_id, values)


def readouts_of(conn: Connection, call_id: str) -> list[dict[str, Any]]:
    query = (
        select(call_readouts)
        .where(call_readouts.c.call_id == call_id)
        .order_by(call_readouts.c.written_at, call_readouts.c.id)
    )
    return [_decode(call_readouts, r) for r in conn.execute(query).mappings()]


# -- watch levels ---------------------------------------------------------------------------


def insert_watch_change(conn: Connection, **values: Any) -> int:
    return int(_insert(conn, watch_changes, values))


def get_watch_change(
    conn: Connection, change_id: int, *, lock: bool = False
) -> dict[str, Any] | None:
    return _get(conn, watch_changes, change_id, lock=lock)


def update_watch_change(conn: Connection, change_id: int, **values: Any) -> None:
    _update(conn, watch_changes, change_id, values)


def watch_changes_in(conn: Connection, states: Iterable[str]) -> list[dict[str, Any]]:
    """Changes in ``states``, oldest first (for the current level: the last approved).

    In the order they were recorded (``id``), not by ``decided_at``: that is wall-clock
    text, and a clock stepped back would put the change approved last before older ones.
    Only one change is pending at a time, and a change is approved only from the level
    current then, so the order of ids is the order of approvals."""
    query = (
        select(watch_changes)
        .where(watch_changes.c.state.in_(list(states)))
        .order_by(watch_changes.c.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def all_watch_changes(conn: Connection) -> list[dict[str, Any]]:
    query = select(watch_changes).order_by(watch_changes.c.proposed_at, watch_changes.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def insert_peer_level(conn: Connection, **values: Any) -> None:
    _insert(conn, peer_watch_levels, values)


def peer_levels(conn: Connection, peer: str | None = None) -> list[dict[str, Any]]:
    query = select(peer_watch_levels).order_by(
        peer_watch_levels.c.effective_at, peer_watch_levels.c.received_at
    )
    if peer is not None:
        query = query.where(peer_watch_levels.c.peer == peer)
    return [_decode(peer_watch_levels, r) for r in conn.execute(query).mappings()]

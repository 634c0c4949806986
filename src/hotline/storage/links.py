"""Link tests, and the escalation steps of unacknowledged messages."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from hotline.storage.tables.core import events, messages
from hotline.storage.tables.links import escalations, link_tests, operator_tests
from hotline.storage.tables.links import link_state as link_state_table


def insert_test(conn: Connection, test_id: str, peer: str, message_id: str, at: str) -> None:
    conn.execute(
        insert(link_tests).values(
            id=test_id, peer=peer, message_id=message_id, sent_at=at, state="pending"
        )
    )


def get_test(conn: Connection, test_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(link_tests).where(link_tests.c.id == test_id)).mappings().first()
    return None if row is None else dict(row)


def last_test(conn: Connection, peer: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(link_tests)
        .where(link_tests.c.peer == peer)
        .order_by(link_tests.c.sent_at.desc())
        .limit(1)
    ).mappings()
    first = row.first()
    return None if first is None else dict(first)


def pending_before(conn: Connection, peer: str, cutoff: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(link_tests).where(
            link_tests.c.peer == peer,
            link_tests.c.state == "pending",
            link_tests.c.sent_at <= cutoff,
        )
    ).mappings()
    return [dict(r) for r in rows]


def fail_test(conn: Connection, test_id: str, at: str, reason: str) -> None:
    conn.execute(
        update(link_tests)
        .where(link_tests.c.id == test_id)
        .values(state="failed", failed_at=at, reason=reason)
    )


def record_reply(conn: Connection, test_id: str, at: str, rtt_ms: int, *, passed: bool) -> None:
    """The answer arrived: a pass if the test was still pending, else a late answer kept
    beside the failure."""
    values: dict[str, Any] = {"reply_at": at, "rtt_ms": rtt_ms}
    if passed:
        values["state"] = "passed"
    conn.execute(update(link_tests).where(link_tests.c.id == test_id).values(**values))


def tests_since(conn: Connection, peer: str, since: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(link_tests)
        .where(link_tests.c.peer == peer, link_tests.c.sent_at >= since)
        .order_by(link_tests.c.sent_at)
    ).mappings()
    return [dict(r) for r in rows]


def escalation_steps(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(escalations)
        .where(escalations.c.message_id == message_id)
        .order_by(escalations.c.step)
    ).mappings()
    return [dict(r) for r in rows]


def add_escalation(
    conn: Connection, message_id: str, step: int, contact_id: str, escalation_id: str, at: str
) -> None:
    conn.execute(
        insert(escalations).values(
            message_id=message_id,
            step=step,
            contact_id=contact_id,
            escalation_message_id=escalation_id,
            at=at,
        )
    )


# -- the link state machine (services/line/linkstate.py) ---------------------------------


def link_state(conn: Connection, peer: str, route: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(link_state_table).where(
            link_state_table.c.peer == peer, link_state_table.c.route == route
        )
    ).mappings()
    first = row.first()
    return None if first is None else dict(first)


def link_states(conn: Connection, peer: str | None = None) -> list[dict[str, Any]]:
    stmt = select(link_state_table)
    if peer is not None:
        stmt = stmt.where(link_state_table.c.peer == peer)
    rows = conn.execute(stmt.order_by(link_state_table.c.peer, link_state_table.c.route))
    return [dict(r) for r in rows.mappings()]


def put_link_state(conn: Connection, peer: str, route: str, values: dict[str, Any]) -> None:
    """Write the state of (peer, route): update the row, or insert it if there is none."""
    done = conn.execute(
        update(link_state_table)
        .where(link_state_table.c.peer == peer, link_state_table.c.route == route)
        .values(**values)
    ).rowcount
    if not done:
        conn.execute(insert(link_state_table).values(peer=peer, route=route, **values))


def delays(conn: Connection, peer: str, since: str) -> list[dict[str, Any]]:
    """Messages exchanged with ``peer`` created since ``since``: direction, the signed
    ``created`` time, the receipt (outbound: the peer's, as JSON) and ``received_at``
    (inbound: the time this node's receipt states)."""
    rows = conn.execute(
        select(
            messages.c.direction,
            messages.c.created,
            messages.c.receipt,
            messages.c.received_at,
        ).where(messages.c.peer == peer, messages.c.created >= since)
    ).mappings()
    return [dict(r) for r in rows]


def failed_attempts(conn: Connection, ids: list[str]) -> dict[str, tuple[str, str, str]]:
    """For each of ``ids`` with a failed delivery attempt: (first failure's time, last
    failure's time, last error)."""
    out: dict[str, tuple[str, str, str]] = {}
    if not ids:
        return out
    rows = conn.execute(
        select(events.c.message_id, events.c.at, events.c.detail)
        .where(events.c.message_id.in_(ids), events.c.kind == "attempt_failed")
        .order_by(events.c.id)
    )
    for message_id, at, detail in rows:
        error = str(json.loads(detail).get("error", ""))
        first = out[message_id][0] if message_id in out else at
        out[message_id] = (first, at, error)
    return out


# -- operator tests (services/line/operator_tests.py) ------------------------------------


def insert_operator_test(conn: Connection, **values: Any) -> None:
    conn.execute(insert(operator_tests).values(**values))


def get_operator_test(conn: Connection, test_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(operator_tests).where(operator_tests.c.id == test_id)).mappings()
    first = row.first()
    return None if first is None else dict(first)


def set_operator_test(conn: Connection, test_id: str, **values: Any) -> None:
    conn.execute(update(operator_tests).where(operator_tests.c.id == test_id).values(**values))


def operator_tests_listing(
    conn: Connection, *, direction: str | None = None, state: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    stmt = select(operator_tests)
    if direction is not None:
        stmt = stmt.where(operator_tests.c.direction == direction)
    if state is not None:
        stmt = stmt.where(operator_tests.c.state == state)
    rows = conn.execute(stmt.order_by(operator_tests.c.sent_at.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def last_operator_test(conn: Connection, peer: str) -> str | None:
    """When the last operator test to ``peer`` was sent, if ever."""
    return conn.execute(
        select(operator_tests.c.sent_at)
        .where(operator_tests.c.direction == "out", operator_tests.c.peer == peer)
        .order_by(operator_tests.c.sent_at.desc())
        .limit(1)
    ).scalar()

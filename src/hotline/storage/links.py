"""Link tests, and the escalation steps of unacknowledged messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from hotline.storage.tables.links import escalations, link_tests


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

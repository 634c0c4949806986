"""Read-only queries of the operator console (``web/queries.py``) that no service offers.

* :func:`change_stamp` — one cheap look at whether anything changed (the live-update
  stream polls it every second).
* :func:`awaiting_ack` — every received message nobody has acknowledged yet, however old.
* :func:`link_history` — the link tests to one peer over a period, for the chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from hotline.storage import alarms as alarm_store
from hotline.storage import held
from hotline.storage.tables.core import events, messages
from hotline.storage.tables.links import alarms, link_state, link_tests


def change_stamp(conn: Connection) -> tuple[int, ...]:
    """(newest event id, newest alarm id, open alarms, held FLASH messages, open alarms
    acknowledged, link routes not up)."""
    not_up = select(func.count()).select_from(link_state).where(link_state.c.state != "up")
    newest_event = conn.execute(select(func.max(events.c.id))).scalar()
    newest_alarm = conn.execute(select(func.max(alarms.c.id))).scalar()
    open_alarms = conn.execute(
        select(func.count()).select_from(alarms).where(alarms.c.state == "open")
    ).scalar()
    return (
        int(newest_event or 0),
        int(newest_alarm or 0),
        int(open_alarms or 0),
        held.count_held(conn),
        alarm_store.count_seen(conn),
        int(conn.execute(not_up).scalar() or 0),
    )


def awaiting_ack(conn: Connection, skip_types: Iterable[str], limit: int) -> list[dict[str, Any]]:
    """Received messages not acknowledged yet (types in ``skip_types`` aside), oldest first."""
    rows = conn.execute(
        select(messages)
        .where(
            messages.c.direction == "in",
            messages.c.acked_at.is_(None),
            messages.c.type.not_in(sorted(skip_types)),
        )
        .order_by(messages.c.created)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def link_history(conn: Connection, peer: str, since: str) -> list[dict[str, Any]]:
    """Link tests to ``peer`` sent at or after ``since`` (RFC 3339), oldest first."""
    rows = conn.execute(
        select(
            link_tests.c.sent_at,
            link_tests.c.state,
            link_tests.c.rtt_ms,
            link_tests.c.reason,
        )
        .where(link_tests.c.peer == peer, link_tests.c.sent_at >= since)
        .order_by(link_tests.c.sent_at)
    ).mappings()
    return [dict(r) for r in rows]

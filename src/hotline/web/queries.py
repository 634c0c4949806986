"""Read-only queries the console needs and the services do not offer (yet).

Kept here, small and read-only, rather than in services the console does not own:

* :func:`change_stamp` — one cheap look at whether anything changed (the live-update
  stream polls it every second): the newest trail event, the newest alarm and the number
  of open alarms. Every send, receipt, delivery, acknowledgement, translation and
  escalation adds a trail event, so the newest event id moves with all of them.
* :func:`awaiting_ack` — every received message nobody has acknowledged yet, however old
  (a listing of the newest N could let an old one slip off the screen).
* :func:`link_history` — the link tests to one peer over a period, for the chart.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hotline.domain.bodies import SYSTEM_TYPES
from hotline.node import Node
from hotline.storage.tables.core import events, messages
from hotline.storage.tables.held import held_messages
from hotline.storage.tables.links import alarms, link_tests


def change_stamp(node: Node) -> tuple[int, ...]:
    """(newest event id, newest alarm id, open alarms, held FLASH messages): changes when
    anything happens."""
    with node.db.read() as conn:
        newest_event = conn.execute(select(func.max(events.c.id))).scalar()
        newest_alarm = conn.execute(select(func.max(alarms.c.id))).scalar()
        open_alarms = conn.execute(
            select(func.count()).select_from(alarms).where(alarms.c.state == "open")
        ).scalar()
        held = conn.execute(
            select(func.count()).select_from(held_messages).where(held_messages.c.state == "held")
        ).scalar()
    return int(newest_event or 0), int(newest_alarm or 0), int(open_alarms or 0), int(held or 0)


def awaiting_ack(node: Node, limit: int = 1000) -> list[dict[str, Any]]:
    """Received messages a person must still acknowledge, as message summaries."""
    with node.db.read() as conn:
        rows = conn.execute(
            select(messages)
            .where(
                messages.c.direction == "in",
                messages.c.acked_at.is_(None),
                messages.c.type.not_in(sorted(SYSTEM_TYPES)),
            )
            .order_by(messages.c.created)
            .limit(limit)
        ).mappings()
        return [node.line.summary(dict(r)) for r in rows]


def link_history(node: Node, peer: str, since: str) -> list[dict[str, Any]]:
    """Link tests to ``peer`` sent at or after ``since`` (RFC 3339), oldest first."""
    with node.db.read() as conn:
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

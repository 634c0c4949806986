"""Read-only queries the console needs and the services do not offer (yet); their SQL is in
:mod:`hotline.storage.console`.

* :func:`change_stamp` — one cheap look at whether anything changed (the live-update
  stream polls it every second): the newest trail event, the newest alarm and the number
  of open alarms. Every send, receipt, delivery, acknowledgement, translation and
  escalation adds a trail event, so the newest event id moves with all of them.
* :func:`awaiting_ack` — every received message nobody has acknowledged yet, however old
  (a listing of the newest N could let an old one slip off the screen).
* :func:`link_history` — the link tests to one peer over a period, for the chart.
* :func:`link_chips` — each peer's link state, last and next test, for the header.
* :func:`escalations_of` — the escalation steps of messages, for the queue to write on
  the message they escalate: our own ladder's steps on a sent message (trail events
  ``escalated``), an older peer's escalation envelopes on a received one (``escalated_to``).
"""

from __future__ import annotations

import json
from typing import Any

from hotline.domain.bodies import SYSTEM_TYPES
from hotline.node import Node
from hotline.services.line.linkstate import ROUTES
from hotline.storage import console, messages
from hotline.storage.db import Connection


def change_stamp(node: Node) -> tuple[int, ...]:
    """(newest event id, newest alarm id, open alarms, held FLASH messages): changes when
    anything happens."""
    with node.db.read() as conn:
        return console.change_stamp(conn)


def awaiting_ack(node: Node, limit: int = 1000) -> list[dict[str, Any]]:
    """Received messages a person must still acknowledge, as message summaries."""
    with node.db.read() as conn:
        rows = console.awaiting_ack(conn, SYSTEM_TYPES, limit)
        return [node.line.summary(r) for r in rows]


def link_history(node: Node, peer: str, since: str) -> list[dict[str, Any]]:
    """Link tests to ``peer`` sent at or after ``since`` (RFC 3339), oldest first."""
    with node.db.read() as conn:
        return console.link_history(conn, peer, since)


def link_chips(node: Node) -> list[dict[str, Any]]:
    """Per peer, for the header: state (up / degraded / down / unknown), each route's
    state, the last and next link test (the last hour's tests; no availability figures,
    which read every message)."""
    out = []
    for report in node.links.report(since_s=3600, availability=False):
        routes = report.get("routes") or {}
        out.append(
            {
                "peer": report["peer"],
                "state": report.get("state") or "unknown",
                "routes": {r: (routes.get(r) or {}).get("state", "unknown") for r in ROUTES},
                "last_test": report.get("last_test"),
                "next_test": report.get("next_test"),
            }
        )
    return out


def escalations_of(node: Node, message_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """{message id: [{step, role_en, role_ru, escalation_id, acked}]} for those escalated."""
    out: dict[str, list[dict[str, Any]]] = {}
    with node.db.read() as conn:
        for message_id in message_ids:
            steps = [_step(conn, e) for e in messages.trail(conn, message_id)]
            found = [s for s in steps if s is not None]
            if found:
                out[message_id] = found
    return out


def _step(conn: Connection, event: dict[str, Any]) -> dict[str, Any] | None:
    detail = event["detail"]
    if event["kind"] == "escalated":  # our own ladder
        return {
            "step": detail.get("step"),
            "role_en": detail.get("role", ""),
            "role_ru": detail.get("role_ru", ""),
            "escalation_id": "",
            "acked": True,
        }
    if event["kind"] != "escalated_to":  # else: an older peer's escalation envelope
        return None
    row = messages.get(conn, detail.get("escalation_message", ""))
    if row is None:
        return None
    body = json.loads(row["envelope"])["body"]
    return {
        "step": body.get("step"),
        "role_en": body.get("contact_role_en", ""),
        "role_ru": body.get("contact_role_ru", ""),
        "escalation_id": row["id"],
        "acked": row["acked_at"] is not None,
    }

"""Prometheus metrics for one node, computed from its database when scraped.

A fresh registry per scrape: the figures come from the database (the truth the operators
see), not from counters kept in one process, so they stay right across restarts and
across several node processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from hotline.domain.bodies import NO_ACK_TYPES
from hotline.domain.line import Precedence
from hotline.services.alarms import KINDS as ALARM_KINDS
from hotline.storage import messages

if TYPE_CHECKING:
    from hotline.node import Node


def render_metrics(node: Node) -> bytes:
    registry = CollectorRegistry()
    up = Gauge(
        "hotline_link_up", "1 if the last link test to the peer passed", ["peer"], registry=registry
    )
    rtt = Gauge(
        "hotline_link_rtt_seconds",
        "Round trip of the last passed link test",
        ["peer"],
        registry=registry,
    )
    for row in node.links.report(None, 30 * 86400, availability=False):
        up.labels(row["peer"]).set(1 if row["state"] == "up" else 0)
        if row["last_rtt_ms"] is not None:
            rtt.labels(row["peer"]).set(row["last_rtt_ms"] / 1000)
    unacked = Gauge(
        "hotline_unacknowledged_messages",
        "Messages awaiting acknowledgement",
        ["direction", "precedence"],
        registry=registry,
    )
    for (direction, precedence), count in _unacknowledged(node).items():
        unacked.labels(direction, precedence).set(count)
    alarms = Gauge("hotline_open_alarms", "Open alarms by kind", ["kind"], registry=registry)
    # Every kind, 0 when none is open: a series that vanishes reads as "no data", and an
    # alert rule on it would never see the alarm clear.
    for kind, count in ({kind: 0 for kind in ALARM_KINDS} | node.alarms.open_counts()).items():
        alarms.labels(kind).set(count)
    return generate_latest(registry)


def _unacknowledged(node: Node) -> dict[tuple[str, str], int]:
    counts = {(d, p.value): 0 for d in ("in", "out") for p in Precedence}
    with node.db.read() as conn:
        return counts | messages.unacknowledged_counts(conn, NO_ACK_TYPES)

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
    _feed_metrics(node, registry)
    return generate_latest(registry)


def _feed_metrics(node: Node, registry: CollectorRegistry) -> None:
    """Each track feed's health, as the active process last recorded it."""
    labels = ["feed", "kind"]
    figures = {
        "connected": ("hotline_feed_connected", "1 if the feed's socket is open"),
        "messages": ("hotline_feed_messages", "Messages understood"),
        "reports": ("hotline_feed_reports", "Track reports put into the picture"),
        "errors": ("hotline_feed_decode_errors", "Malformed messages skipped"),
        "rate_per_s": ("hotline_feed_rate", "Messages per second, lately"),
        "quiet_s": ("hotline_feed_quiet_seconds", "Seconds since the last message"),
    }
    # on this scrape's registry (never the process-wide default: a second scrape would clash)
    gauges = {k: Gauge(n, h, labels, registry=registry) for k, (n, h) in figures.items()}
    for feed in node.feeds.listing():
        health = feed["health"] or {}
        for key, gauge in gauges.items():
            gauge.labels(feed["name"], feed["kind"]).set(float(health.get(key) or 0))


def _unacknowledged(node: Node) -> dict[tuple[str, str], int]:
    counts = {(d, p.value): 0 for d in ("in", "out") for p in Precedence}
    with node.db.read() as conn:
        return counts | messages.unacknowledged_counts(conn, NO_ACK_TYPES)

"""Availability: the time the line was up over the time observed, from signed evidence.

Both parties hold the same signed times for every message they exchanged: ``created``,
signed by its sender in the envelope, and ``received``, signed by its receiver in the
receipt (the sender keeps the receipt; the receiver keeps its own copy). From those alone:

- **late**: a message whose receipt's ``received`` is more than ``link_down_after_s``
  after its ``created`` shows the line down from ``created`` to ``received`` (it waited
  in store-and-forward, whichever side was down). Link tests are such messages, so a gap
  in the tests a side received — the test of 18:00 that arrived at 18:33 — counts as down
  on both sides, and the side that was down does not report 100 %.
- **waiting**: one of this node's messages with no receipt yet, created more than
  ``link_down_after_s`` ago, shows the line down from ``created`` until now (only the
  sender can see this; once the receipt comes back both sides count the same span).

Down time is the union of those spans; the time observed runs from the first message
exchanged with the peer in the window (or the window's start, whichever is later) to now;
availability = (observed − down) / observed, in per cent to two decimals. Two nodes with
the same ``link_down_after_s`` get the same figure for a closed period (to the second), so
their reports can be compared; between tests a short outage with no traffic is not seen
(the schedule of tests is the resolution).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339
from hotline.storage import links as store
from hotline.storage.db import Connection

Span = tuple[datetime, datetime]


def down_spans(
    messages: list[dict[str, Any]], now: datetime, late_s: float
) -> tuple[list[Span], datetime | None]:
    """The spans the evidence shows down (unmerged), and the first message's ``created``.

    ``messages``: rows with ``direction``, ``created``, ``receipt`` (outbound: the peer's
    signed receipt as JSON, or None while there is none) and ``received_at`` (inbound: the
    time in this node's signed receipt).
    """
    late = timedelta(seconds=late_s)
    spans: list[Span] = []
    first: datetime | None = None
    for row in messages:
        created = parse_rfc3339(row["created"])
        first = created if first is None else min(first, created)
        received = _received(row)
        end = now if received is None else received
        if end - created > late:
            spans.append((created, end))
    return spans, first


def _received(row: dict[str, Any]) -> datetime | None:
    if row["direction"] == "in":
        return parse_rfc3339(row["received_at"]) if row["received_at"] else None
    if not row["receipt"]:
        return None
    return parse_rfc3339(json.loads(row["receipt"])["received"])


def merged(spans: list[Span], start: datetime, end: datetime) -> list[Span]:
    """``spans`` cut to [start, end] and merged where they touch or overlap, in order."""
    out: list[Span] = []
    for a, b in sorted((max(a, start), min(b, end)) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def figures(spans: list[Span], start: datetime, end: datetime) -> dict[str, Any]:
    """Availability over [start, end] given the down ``spans``."""
    down = merged(spans, start, end)
    observed = max(0.0, (end - start).total_seconds())
    down_s = sum((b - a).total_seconds() for a, b in down)
    pct = round(100 * (observed - down_s) / observed, 2) if observed > 0 else None
    return {
        "availability_pct": pct,
        "observed_from": rfc3339(start),
        "observed_to": rfc3339(end),
        "observed_s": round(observed),
        "down_s": round(down_s),
        "down": [[rfc3339(a), rfc3339(b)] for a, b in down],
    }


def availability(
    conn: Connection, peer: str, since: datetime, now: datetime, late_s: float
) -> dict[str, Any]:
    """The figures for ``peer`` over the window [since, now] (see the module's text)."""
    rows = store.delays(conn, peer, rfc3339(since))
    spans, first = down_spans(rows, now, late_s)
    if first is None:
        out = figures([], now, now)
        return out | {"observed_from": None, "observed_to": rfc3339(now)}
    return figures(spans, max(since, first), now)

"""How two accounts of one incident differ: time and distance between the same events.

Events are matched by their key (the kind, or ``other:<label>``). For each event both
sides stated, the difference is the second side's minus the first's time, in seconds,
and the geodesic distance between their positions on WGS-84 (the one :data:`GEOD` of
:mod:`hotline.geo.geodesy`), in metres and nautical miles (1 NM = 1852 m exactly);
heights are compared when both give one the same way (altitude on one datum, or depth).
Events only one side stated are listed as such.

Positions are decimal strings on the wire; they are turned to floats here only to
measure, and every figure out is rounded (metres to 0.1, NM to 0.001) so that both nodes
show the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hotline.domain.notices.cases import AccountEvent
from hotline.geo.geodesy import GEOD

METRES_PER_NM = 1852.0


def distance_m(a: tuple[str, str], b: tuple[str, str]) -> float:
    """Geodesic distance in metres between two ``[lon, lat]`` wire positions.

    Examples
    --------
    >>> round(distance_m(("32.0000000", "43.0000000"), ("32.0000000", "43.0166667")), -1)
    1850.0
    """
    _fwd, _back, metres = GEOD.inv(float(a[0]), float(a[1]), float(b[0]), float(b[1]))
    return float(metres)


def _height_delta(a: AccountEvent, b: AccountEvent) -> int | None:
    """``b``'s height minus ``a``'s in metres, when both state one the same way."""
    if a.altitude_m is not None and b.altitude_m is not None and a.datum == b.datum:
        return b.altitude_m - a.altitude_m
    if a.depth_m is not None and b.depth_m is not None:
        return a.depth_m - b.depth_m  # depth grows downwards: keep "up is positive"
    return None


def _event(party: str, event: AccountEvent) -> dict[str, Any]:
    return {"party": party, "key": event.key, **to_wire_event(event)}


def to_wire_event(event: AccountEvent) -> dict[str, Any]:
    """An event as its wire JSON (strings and integers only)."""
    return event.model_dump(mode="json", exclude_none=True)


def compare(
    first: str,
    first_events: Sequence[AccountEvent],
    second: str,
    second_events: Sequence[AccountEvent],
) -> dict[str, Any]:
    """The differences between two sides' events (``second`` minus ``first``).

    Returns ``{"first", "second", "both": [...], "only": [...]}``: ``both`` holds one
    entry per key stated by both sides, in the first side's time order, with
    ``time_delta_s``, ``distance_m``, ``distance_nm`` and ``height_delta_m`` (or None);
    ``only`` the events one side alone stated, in time order.
    """
    theirs = {e.key: e for e in second_events}
    ours = {e.key: e for e in first_events}
    both = []
    for a in sorted(first_events, key=lambda e: (e.time, e.key)):
        b = theirs.get(a.key)
        if b is None:
            continue
        metres = distance_m(a.position, b.position)
        both.append(
            {
                "key": a.key,
                "kind": a.kind,
                "label": a.label,
                "time_delta_s": int((b.time - a.time).total_seconds()),
                "distance_m": round(metres, 1),
                "distance_nm": round(metres / METRES_PER_NM, 3),
                "height_delta_m": _height_delta(a, b),
                first: to_wire_event(a),
                second: to_wire_event(b),
            }
        )
    only = [_event(first, e) for e in first_events if e.key not in theirs]
    only += [_event(second, e) for e in second_events if e.key not in ours]
    only.sort(key=lambda e: (e["time"], e["party"], e["key"]))
    return {"first": first, "second": second, "both": both, "only": only}

"""Track history for an incident case: the recorded picture around it, and two sides' compared.

A node exports, from its own record, the reports within a radius of the case's events
and within a window around them (:func:`history_geojson`): GeoJSON (RFC 7946), one
Feature per track (a LineString of its positions in time order, or a Point when it was
seen once), the times and heights in the Feature's properties. The bytes are
deterministic — the same record, case and parameters give the same file, byte for byte,
so the same SHA-256 — and carry a marker (``properties.format``) by which a case knows an
attached file for a track history (:func:`parse_history`).

:func:`compare_histories` compares two sides' exports: for each track in both, at each
time of the first side's export, the second side's position at the nearest time within
:data:`TOLERANCE_S` seconds; the geodesic distance on WGS-84 (the one :data:`GEOD`), in
metres (0.1) and NM (0.001). Pure: no I/O.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from hotline.geo.geodesy import GEOD

FORMAT = "hotline-track-history/1"
"""The marker in a track history's ``properties.format``."""
TOLERANCE_S = 5.0
"""Two sides' reports of one track are compared when at most this far apart in time."""
METRES_PER_NM = 1852.0
MAX_POINTS = 100_000
"""The most reports one export holds (a wider radius or window is refused)."""

#: A track's reports as the comparison reads them: (ms since epoch, lon, lat), time order.
Points = list[tuple[int, float, float]]


def _ms(text: str) -> int:
    when = datetime.strptime(text[:23].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    return round(when.timestamp() * 1000)


def history_geojson(reports: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> bytes:
    """The export's bytes: ``reports`` (the record's rows as ``Record.history`` gives them:
    ``id``, ``party``, ``source``, ``time``, ``lat``, ``lon``, ``alt_m``, …) grouped by track,
    with ``meta`` (case, party, radius, window, centres) in the collection's properties.

    >>> one = {"id": "mmsi:1", "party": "us", "source": "feed", "time": "2026-11-14T07:03:00.000Z",
    ...        "lat": 43.25, "lon": 32.5, "alt_m": 0.0}
    >>> json.loads(history_geojson([one], {"case": "c"}))["features"][0]["geometry"]
    {'coordinates': [32.5, 43.25], 'type': 'Point'}
    """
    tracks: dict[str, list[Mapping[str, Any]]] = {}
    for r in reports:
        tracks.setdefault(str(r["id"]), []).append(r)
    features = []
    for track in sorted(tracks):
        rows = sorted(tracks[track], key=lambda r: (r["time"], r["source"], r["lon"], r["lat"]))
        coords = [[r["lon"], r["lat"]] for r in rows]
        geometry: dict[str, Any] = (
            {"type": "Point", "coordinates": coords[0]}
            if len(coords) == 1
            else {"type": "LineString", "coordinates": coords}
        )
        callsigns = sorted({r["callsign"] for r in rows if r.get("callsign")})
        features.append(
            {
                "type": "Feature",
                "id": track,
                "geometry": geometry,
                "properties": {
                    "track": track,
                    "party": rows[0]["party"],
                    "callsign": callsigns[0] if callsigns else None,
                    "sources": sorted({str(r["source"]) for r in rows}),
                    "times": [r["time"] for r in rows],
                    "alt_m": [r["alt_m"] for r in rows],
                },
            }
        )
    collection = {
        "type": "FeatureCollection",
        "properties": {"format": FORMAT, **meta, "reports": sum(len(v) for v in tracks.values())},
        "features": features,
    }
    text = json.dumps(collection, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def parse_history(data: bytes) -> dict[str, Points] | None:
    """A track history's tracks (track → its (ms, lon, lat) in time order), or None if the
    bytes are not a track history (another JSON file, a photograph…)."""
    try:
        found = json.loads(data)
        if found.get("properties", {}).get("format") != FORMAT:
            return None
        out: dict[str, Points] = {}
        for feature in found["features"]:
            props, geometry = feature["properties"], feature["geometry"]
            coords = geometry["coordinates"]
            coords = [coords] if geometry["type"] == "Point" else coords
            times = props["times"]
            if len(times) != len(coords):
                return None
            points = [
                (_ms(t), float(c[0]), float(c[1])) for t, c in zip(times, coords, strict=True)
            ]
            out[str(props["track"])] = sorted(points)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    return out


def _nearest(points: Points, times: Sequence[int], at: int) -> tuple[int, float, float] | None:
    """The point of ``points`` nearest ``at`` (the earlier on a tie), within the tolerance."""
    i = bisect.bisect_left(times, at)
    best = None
    for j in (i - 1, i):
        if 0 <= j < len(points) and (best is None or abs(times[j] - at) < abs(best[0] - at)):
            best = points[j]
    if best is None or abs(best[0] - at) > TOLERANCE_S * 1000:
        return None
    return best


def compare_histories(
    first: str, a: Mapping[str, Points], second: str, b: Mapping[str, Points]
) -> dict[str, Any]:
    """Two sides' exports compared (``second`` minus ``first``), per track in both.

    Each track: ``compared`` (how many of the first side's times the second had within
    :data:`TOLERANCE_S`), ``max_m``/``max_nm`` and ``mean_m``, and ``points`` (``time``,
    ``time_delta_ms``, ``distance_m``, ``distance_nm``). ``only`` names the tracks one
    side alone exported.
    """
    tracks = []
    for track in sorted(set(a) & set(b)):
        theirs = b[track]
        times = [p[0] for p in theirs]
        points: list[dict[str, Any]] = []
        distances: list[float] = []
        for at, lon, lat in a[track]:
            near = _nearest(theirs, times, at)
            if near is None:
                continue
            _f, _b, metres = GEOD.inv(lon, lat, near[1], near[2])
            distances.append(round(float(metres), 1))
            points.append(
                {
                    "time": datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[
                        :23
                    ]
                    + "Z",
                    "time_delta_ms": near[0] - at,
                    "distance_m": round(float(metres), 1),
                    "distance_nm": round(float(metres) / METRES_PER_NM, 3),
                }
            )
        tracks.append(
            {
                "track": track,
                "compared": len(points),
                "max_m": max(distances) if distances else None,
                "max_nm": round(max(distances) / METRES_PER_NM, 3) if distances else None,
                "mean_m": round(sum(distances) / len(distances), 1) if distances else None,
                "points": points,
            }
        )
    only = [{"party": first, "track": t} for t in sorted(set(a) - set(b))]
    only += [{"party": second, "track": t} for t in sorted(set(b) - set(a))]
    return {
        "first": first,
        "second": second,
        "tolerance_s": TOLERANCE_S,
        "tracks": tracks,
        "only": only,
    }

"""The picture out as files: volumes, protected areas, conflicts and track histories for a
time window, as GeoJSON and as KML (``simplekml``), and the tracks' 2525 symbols.

One gathering (:func:`gather`) serves the exports, the console's download links and the
Cursor-on-Target output (:mod:`hotline.services.feeds.output`), so all three show the same
things:

- **volumes**: each declared volume's current version and open proposals whose time
  window meets the export's (``Conflicts.volumes_geojson``);
- **areas**: the protected areas in force (in force at all times: every window has them);
- **conflicts**: the recorded volume conflicts, open and closed, whose span meets the
  window, placed midway between the two shapes' centres;
- **track histories** (:func:`track_histories`): each track's positions in the window.

Track histories come from the recorded picture (every position report the node took,
kept ``track_record_days``); with recording off, from the live picture held in memory
(one position per track, its latest report, when that falls in the window). A window
holding more than :data:`HISTORY_CAP` recorded positions gives its newest ones only, and
the export says so (``truncated`` in GeoJSON, the document's description in KML).

Text from outside (a peer's names, a feed's call signs) passes through
:func:`~hotline.protocol.feeds.cot_out.xml_safe` into KML: a character XML 1.0 cannot
hold never makes the whole document unreadable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import shapely  # type: ignore[import-untyped]
import simplekml  # type: ignore[import-untyped]

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain import symbology
from hotline.errors import ValidationError
from hotline.geo.shapes import outline
from hotline.protocol.feeds.cot_out import xml_safe
from hotline.services.picture.record import PAGE
from hotline.services.picture.tracks import TrackPicture
from hotline.storage import peers as peer_store

Window = tuple[datetime | None, datetime | None]
#: A track history: each position ``{time, lat, lon, alt_m}``, oldest first.
History = list[dict[str, Any]]

#: 2525 frame colours (friend blue, hostile red, neutral green, unknown yellow), as KML
#: wants them: aabbggrr.
KML_COLOURS = {
    "friend": "ffffa34d",
    "hostile": "ff4f4dff",
    "neutral": "ff9ad15a",
    "unknown": "ff00ffff",
}


@dataclass
class Gathered:
    """What the picture shows for one window (GeoJSON Features, plain dicts)."""

    at: str
    volumes: list[dict[str, Any]] = field(default_factory=list)
    areas: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    tracks: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> latest, with symbol
    histories: dict[str, History] = field(default_factory=dict)
    affiliation: dict[str, symbology.Affiliation] = field(default_factory=dict)  # party ->
    picture: dict[str, Any] = field(default_factory=dict)  # TrackPicture.assess(): now
    #: The window held more than HISTORY_CAP recorded positions: the oldest are left out.
    truncated: bool = False


def parse_window(start: str | None, end: str | None) -> Window:
    """``from`` and ``to`` (RFC 3339 UTC, either may be absent) as a window."""
    out: list[datetime | None] = []
    for name, text in (("from", start), ("to", end)):
        if not text:
            out.append(None)
            continue
        try:
            out.append(parse_rfc3339(text))
        except ValueError:
            raise ValidationError(
                f"{name} {text!r} is not an RFC 3339 UTC time",
                field=name,
                hint="e.g. 2026-12-07T04:00:00Z",
            ) from None
    lo, hi = out
    if lo is not None and hi is not None and hi <= lo:
        raise ValidationError(f"to {end} is not after from {start}", field="to")
    return lo, hi


def meets(window: Window, start: str | datetime, end: str | datetime) -> bool:
    """Whether ``[start, end]`` meets the window (an open side meets everything)."""
    lo, hi = window
    s = parse_rfc3339(start) if isinstance(start, str) else start
    e = parse_rfc3339(end) if isinstance(end, str) else end
    return (hi is None or s <= hi) and (lo is None or e >= lo)


#: At most this many recorded positions go into one export (a single file: the caller
#: cannot page). Beyond it the export keeps the window's newest positions and says so.
HISTORY_CAP = 200_000


def track_histories(tracks: TrackPicture, window: Window) -> tuple[dict[str, History], bool]:
    """Each track's positions within ``window``, oldest first: from the recorded picture
    (:mod:`hotline.services.picture.record`) when recording is on, else the latest report
    of each track held in memory, if its time is in the window. An open end of the window
    is the record's beginning or the node's now. At most :data:`HISTORY_CAP` positions,
    the newest; the second value tells whether older ones were left out."""
    out: dict[str, History] = {}
    record = tracks.record
    if not record.enabled:
        for report, at, _source in tracks.held():
            if meets(window, at, at):
                point = {"time": rfc3339(at), "lat": report.lat, "lon": report.lon}
                out[report.id] = [point | {"alt_m": report.alt_m}]
        return out, False
    lo = window[0] if window[0] is not None else datetime(1970, 1, 1, tzinfo=UTC)
    hi = window[1] if window[1] is not None else tracks.clock.now()
    if hi < lo:  # a window opening after now, its end left open: nothing recorded yet
        return out, False
    start, end = rfc3339(lo), rfc3339(hi)
    after = record.newest(start, end, HISTORY_CAP)
    truncated = after is not None
    taken = 0
    while taken < HISTORY_CAP:
        page = record.history(start, end, after=after, limit=min(PAGE, HISTORY_CAP - taken))
        for r in page["reports"]:
            point = {"time": r["time"], "lat": r["lat"], "lon": r["lon"], "alt_m": r["alt_m"]}
            out.setdefault(r["id"], []).append(point)
        taken += len(page["reports"])
        after = page["next"]
        if after is None:
            break
    else:  # the cap reached: more only if positions came into the window meanwhile
        if after is not None and record.history(start, end, after=after, limit=1)["reports"]:
            truncated = True
    return out, truncated


def affiliations(tracks: TrackPicture, parties: Iterable[str]) -> dict[str, symbology.Affiliation]:
    """Each party's affiliation from this node's point of view."""
    with tracks.db.read() as conn:
        peers = [p.party for p in peer_store.all_peers(conn)]
    return {p: symbology.affiliation(tracks.party, p, peers) for p in parties}


def with_symbols(tracks: TrackPicture, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Track rows (``id``, ``party``, ``alt_m``, ``gs_mps``) with ``affiliation``,
    ``dimension``, ``cot_type`` and ``sidc``: the console and CoT draw the same symbol."""
    affs = affiliations(tracks, {r["party"] for r in rows})
    out = []
    for row in rows:
        dim = symbology.dimension(row["id"], row["alt_m"], row["gs_mps"])
        out.append(row | symbology.coded(affs[row["party"]], dim)._asdict())
    return out


def gather(tracks: TrackPicture, window: Window = (None, None)) -> Gathered:
    """The volumes, areas, conflicts and tracks of the picture for ``window``."""
    conflicts = tracks.conflicts
    got = Gathered(at=rfc3339(tracks.clock.now()))
    got.volumes = [
        f
        for f in conflicts.volumes_geojson()["features"]
        if meets(window, f["properties"]["start"], f["properties"]["end"])
    ]
    got.areas = []
    for area in conflicts.areas():
        feature = area.to_geojson()
        feature["properties"]["id"] = area.key
        got.areas.append(feature)
    shapes = {f["properties"]["id"]: f for f in [*got.volumes, *got.areas]}
    for row in conflicts.listing():
        if meets(window, row["start"], row["end"]):
            got.conflicts.append(_conflict_feature(row, shapes))
    got.picture = tracks.assess()
    latest = got.picture["tracks"]
    got.tracks = {t["id"]: t for t in with_symbols(tracks, latest)}
    got.histories, got.truncated = track_histories(tracks, window)
    parties = {f["properties"]["party"] for f in [*got.volumes, *got.areas]}
    parties |= {t["party"] for t in latest}
    got.affiliation = affiliations(tracks, parties)
    return got


def _conflict_feature(row: dict[str, Any], shapes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A recorded conflict as a Point midway between its two shapes' centres (no point
    when a side is not in the export: its volume ended or was withdrawn)."""
    keys = [f"{row[s]['message_id']}/{row[s]['volume_id']}" for s in ("a", "b")]
    centres = []
    for key in keys:
        found = shapes.get(key)
        if found is not None:
            c = shapely.geometry.shape(outline(found["geometry"], found["properties"])).centroid
            centres.append((c.x, c.y))
    geometry = None
    if len(centres) == 2:
        (x1, y1), (x2, y2) = centres
        geometry = {"type": "Point", "coordinates": [(x1 + x2) / 2, (y1 + y2) / 2]}
    props = {
        "kind": "conflict",
        "id": row["id"],
        "a": keys[0],
        "a_party": row["a"]["party"],
        "b": keys[1],
        "b_party": row["b"]["party"],
        "start": row["start"],
        "end": row["end"],
        "horizontal_m": row["horizontal_m"],
        "vertical_m": row["vertical_m"],
        "state": row["state"],
    }
    return {"type": "Feature", "geometry": geometry, "properties": props}


# -- GeoJSON -------------------------------------------------------------------------------


def to_geojson(got: Gathered) -> dict[str, Any]:
    """One FeatureCollection: volumes and areas (corridors as centre lines with
    ``width_m``, circles as Points with ``radius_m``, as declared), conflicts, and each
    track's history as a LineString (a Point when it has one position)."""
    features = []
    for f in got.volumes:
        features.append(_kind(f, "volume", got))
    for f in got.areas:
        features.append(_kind(f, "area", got))
    features.extend(got.conflicts)
    for track_id, points in got.histories.items():
        coords = [[p["lon"], p["lat"], p["alt_m"]] for p in points]
        geometry = (
            {"type": "Point", "coordinates": coords[0]}
            if len(coords) == 1
            else {"type": "LineString", "coordinates": coords}
        )
        latest = got.tracks.get(track_id, {})
        props = {
            "kind": "track",
            "id": track_id,
            "party": latest.get("party"),
            "callsign": latest.get("callsign"),
            "sidc": latest.get("sidc"),
            "cot_type": latest.get("cot_type"),
            "times": [p["time"] for p in points],
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    # ``truncated``, ``history_cap``: foreign members (RFC 7946 §6.1)
    return {
        "type": "FeatureCollection",
        "at": got.at,
        "truncated": got.truncated,
        "history_cap": HISTORY_CAP,
        "features": features,
    }


def _kind(feature: dict[str, Any], kind: str, got: Gathered) -> dict[str, Any]:
    props = feature["properties"] | {"kind": kind}
    props["affiliation"] = got.affiliation.get(props["party"], "unknown")
    return {"type": "Feature", "geometry": feature["geometry"], "properties": props}


# -- KML -----------------------------------------------------------------------------------


def to_kml(got: Gathered) -> str:
    """A KML document: a folder each for volumes, areas, conflicts and tracks; volumes and
    conflicts with their time spans, shapes coloured by affiliation."""
    kml = simplekml.Kml(name=f"Hotline picture {got.at}")
    if got.truncated:
        kml.document.description = (
            f"truncated: the window holds more than {HISTORY_CAP} recorded positions; "
            "the track histories show the newest of them"
        )
    folders = {k: kml.newfolder(name=k) for k in ("Volumes", "Areas", "Conflicts", "Tracks")}
    for f in got.volumes:
        _kml_shape(folders["Volumes"], f, got, timed=True)
    for f in got.areas:
        _kml_shape(folders["Areas"], f, got, timed=False)
    for f in got.conflicts:
        if f["geometry"] is None:
            continue
        p = f["properties"]
        point = folders["Conflicts"].newpoint(
            name=f"conflict {p['a']} × {p['b']}", coords=[tuple(f["geometry"]["coordinates"])]
        )
        point.description = _describe(p)
        point.timespan.begin, point.timespan.end = p["start"], p["end"]
    for track_id, points in got.histories.items():
        _kml_track(folders["Tracks"], track_id, points, got.tracks.get(track_id, {}))
    # Unformatted: simplekml's pretty printing parses the document again (a control
    # character in a peer's name fails there) and patches ``xml.dom.minidom`` for the
    # whole process while it does. The text is escaped already; what XML 1.0 cannot hold
    # at all is dropped here.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml_safe(str(kml.kml(format=False)))


def _kml_shape(folder: Any, feature: dict[str, Any], got: Gathered, *, timed: bool) -> None:
    p = feature["properties"]
    geometry = outline(feature["geometry"], p)
    rings = geometry["coordinates"] if geometry["type"] == "Polygon" else [geometry["coordinates"]]
    poly = folder.newpolygon(name=str(p["id"]), outerboundaryis=[tuple(c[:2]) for c in rings[0]])
    if len(rings) > 1:
        poly.innerboundaryis = [[tuple(c[:2]) for c in ring] for ring in rings[1:]]
    poly.description = _describe(p)
    colour = KML_COLOURS[got.affiliation.get(p["party"], "unknown")]
    poly.style.linestyle.color = colour
    poly.style.linestyle.width = 2
    poly.style.polystyle.color = "40" + colour[2:]
    if timed:
        poly.timespan.begin, poly.timespan.end = p["start"], p["end"]


def _kml_track(folder: Any, track_id: str, points: History, latest: dict[str, Any]) -> None:
    name = track_id + (f" ({latest['callsign']})" if latest.get("callsign") else "")
    last = points[-1]
    point = folder.newpoint(name=name, coords=[(last["lon"], last["lat"], last["alt_m"])])
    point.altitudemode = simplekml.AltitudeMode.absolute
    point.timestamp.when = last["time"]
    point.description = _describe(
        {"party": latest.get("party"), "sidc": latest.get("sidc"), "time": last["time"]}
    )
    if len(points) > 1:
        line = folder.newlinestring(
            name=f"{track_id} history", coords=[(q["lon"], q["lat"], q["alt_m"]) for q in points]
        )
        line.altitudemode = simplekml.AltitudeMode.absolute
        line.timespan.begin, line.timespan.end = points[0]["time"], last["time"]


def _describe(props: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in props.items() if v is not None and k != "kind")

"""Incursions: tracks predicted to enter another party's protected area, or already in it.

An *area* is a GeoJSON Polygon or MultiPolygon (longitude, latitude; WGS84) with an
``id``, the ``party`` it protects, and an optional altitude band ``alt_lower_m`` ..
``alt_upper_m`` (metres; open-ended when absent). A track of another party incurs when,
flying on from its present state, it is inside the area (horizontally, and within the
band) at some time in ``[0, lookahead]``; the record gives the first such time and the
position then. Areas are closed: touching the boundary or the band's edge counts.

How it is computed, and how exact it is:

- Motion: a track flies the geodesic that leaves its position at azimuth ``trk`` and
  covers ``gs·t`` metres by time ``t``; its altitude is ``alt + vs·t``.
- Candidates: an STRtree (:class:`shapely.STRtree`) over the areas, queried with each
  track's *path*, a lon/lat polyline through points of its look-ahead geodesic: areas
  within a margin of it (:func:`_paths`: far more than the geodesic's bulge and the bend
  of edges in the track's frame). Near a pole, or for very long paths, the track's *reach
  box* instead: the longitude/latitude box holding every point within ``gs·lookahead``
  of the track (taken over the whole longitude range when it comes near a pole). Pairs of
  the same party, and pairs whose altitude band the track cannot be in during the
  look-ahead, are dropped.
- Exact test per candidate (all at once, batched), in the track's azimuthal equidistant
  frame: every vertex of the area goes to ``(d·sin az, d·cos az)`` with ``az, d`` the
  WGS84 geodesic from the track (:class:`pyproj.Geod`), so the track's path is the
  straight segment from the origin along ``trk``, with true lengths. The segment, clipped
  to the times the track is within the band, is intersected with the area (shapely); the
  first point reached gives the entry time. Area edges are straight in longitude/latitude,
  as RFC 7946 says, and are densified to 0.05° before projecting, so the frame bends them
  faithfully.
- Antimeridian: the geodesic maths does not care; areas may cross it either split as
  RFC 7946 asks or written with longitudes beyond ±180. Limits: areas must stay well
  inside a hemisphere seen from a track (the projection folds near the antipode), and
  edges are exact to the densification (metres for 0.05° segments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped]

from hotline.errors import ValidationError
from hotline.geo.geodesy import GEOD, M_MIN_M, ragged_arange
from hotline.geo.tactical.io import Tracks

__all__ = ["Areas", "Incursion", "IncursionResult", "detect", "incursions", "load_areas"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DENSIFY_DEG = 0.05  # longest straight lon/lat edge kept before projecting, degrees
PATH_SAMPLES = 16  # straight pieces of each track's path in the candidate search
PRUNE_MARGIN_M = 1000.0  # how near its path an area must come to be measured exactly
MAX_PATH_LAT = 80.0  # degrees; nearer a pole the path's polyline gives way to a reach box
MAX_PATH_M = 2_000_000.0  # longer look-ahead paths also use the reach box
BATCH_VERTICES = 1_000_000  # projected vertices per batch of the exact test (memory)


@dataclass(frozen=True)
class Areas:
    """Protected areas: ids, parties, shapely geometries (lon/lat) and altitude bands."""

    ids: tuple[str, ...]
    party: tuple[str, ...]
    geometry: npt.NDArray[np.object_]
    alt_lower_m: FloatArray
    alt_upper_m: FloatArray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class IncursionResult:
    """Aligned arrays, one element per incursion, sorted by track then area index."""

    track: IntArray
    area: IntArray
    entry_s: FloatArray  # 0 when inside now
    lat: FloatArray  # where the track is at entry_s, degrees
    lon: FloatArray


@dataclass(frozen=True)
class Incursion:
    """One incursion, by ids."""

    track: str
    area: str
    entry_s: float
    lat: float
    lon: float


def incursions(tracks: Tracks, areas: Areas, *, lookahead_s: float = 300.0) -> list[Incursion]:
    """Incursions of ``tracks`` into ``areas`` of other parties, as records by id."""
    found = detect(
        tracks.lat,
        tracks.lon,
        tracks.alt_m,
        tracks.gs_mps,
        tracks.trk_deg,
        tracks.vs_mps,
        areas=areas,
        lookahead_s=lookahead_s,
        party=np.array(tracks.party, dtype=object),
    )
    return [
        Incursion(tracks.ids[t], areas.ids[a], float(s), float(la), float(lo))
        for t, a, s, la, lo in zip(
            found.track.tolist(),
            found.area.tolist(),
            found.entry_s.tolist(),
            found.lat.tolist(),
            found.lon.tolist(),
            strict=True,
        )
    ]


def detect(
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    alt_m: npt.ArrayLike,
    gs_mps: npt.ArrayLike,
    trk_deg: npt.ArrayLike,
    vs_mps: npt.ArrayLike,
    *,
    areas: Areas,
    lookahead_s: float,
    party: npt.ArrayLike | None = None,
) -> IncursionResult:
    """Tracks (arrays, as :func:`hotline.geo.tactical.engine.detect`) inside or entering areas.

    With ``party`` (one label per track) a track is only checked against areas of other
    parties; without, against all.

    Examples
    --------
    A track 20 km west of a 10 km square, flying east at 200 m/s, enters after 100 s:

    >>> square = shapely.box(0.0, -0.045, 0.09, 0.045)
    >>> areas = Areas(("A",), ("x",), np.array([square]), np.array([-np.inf]), np.array([np.inf]))
    >>> r = detect([0.0], [-0.18], [3000.0], [200.0], [90.0], [0.0], areas=areas, lookahead_s=300)
    >>> r.area.tolist(), round(float(r.entry_s[0]), 1), round(float(r.lon[0]), 4)
    ([0], 100.2, 0.0)
    """
    arrays = _arrays(lat, lon, alt_m, gs_mps, trk_deg, vs_mps)
    lookahead = float(lookahead_s)
    if not (math.isfinite(lookahead) and lookahead >= 0.0):
        raise ValidationError(f"lookahead_s must be >= 0 seconds, got {lookahead_s!r}")
    track, area = _candidates(arrays, areas, lookahead)
    if party is not None:
        labels = np.asarray(party, dtype=object)
        other = labels[track] != np.asarray(areas.party, dtype=object)[area]
        track, area = track[other], area[other]
    t_lo, t_hi = _band_window(arrays, areas, track, area, lookahead)
    feasible = t_lo <= t_hi
    track, area, t_lo = track[feasible], area[feasible], t_lo[feasible]
    entry = _entry_times(arrays, areas, track, area, t_lo, t_hi[feasible])
    hit = np.isfinite(entry)
    track, area, entry = track[hit], area[hit], entry[hit]
    order = np.lexsort((area, track))
    track, area, entry = track[order], area[order], entry[order]
    lat_a, lon_a, _, gs, trk, _ = arrays
    lon_e, lat_e, _ = GEOD.fwd(lon_a[track], lat_a[track], trk[track], gs[track] * entry)
    return IncursionResult(track, area, entry, np.asarray(lat_e), np.asarray(lon_e))


def _arrays(*columns: npt.ArrayLike) -> list[FloatArray]:
    names = ("lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
    out = [np.asarray(c, dtype=np.float64).reshape(-1) for c in columns]
    for name, arr in zip(names, out, strict=True):
        if len(arr) != len(out[0]):
            raise ValidationError(f"{name}: {len(arr)} values for {len(out[0])} tracks")
        bad = np.flatnonzero(~np.isfinite(arr))
        if len(bad):
            raise ValidationError(f"{name}[{bad[0]}]: not a finite number")
    if np.any(np.abs(out[0]) > 90.0) or np.any(out[3] < 0.0):
        raise ValidationError("lat must be within [-90, 90] and gs_mps >= 0")
    return out


def _candidates(
    arrays: list[FloatArray], areas: Areas, lookahead: float
) -> tuple[IntArray, IntArray]:
    """(track, area) pairs whose path comes near the area, or whose reach box meets it."""
    lat, lon, _, gs, trk, _ = arrays
    if len(areas) == 0 or len(lat) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    tree = shapely.STRtree(areas.geometry)  # queries by box test envelopes, as before
    west, _, east, _ = shapely.total_bounds(areas.geometry)
    paths, margin_deg = _paths(lon, lat, gs * lookahead, trk)
    boxed = np.flatnonzero(np.isnan(margin_deg))  # near a pole or very far: reach boxes
    boxes = _reach_boxes(lat[boxed], lon[boxed], gs[boxed] * lookahead)
    ok = np.flatnonzero(~np.isnan(margin_deg))
    reach = shapely.bounds(paths[ok])[:, [0, 2]] + margin_deg[ok][:, None] * [-1.0, 1.0]
    found = []
    for shift in (-360.0, 0.0, 360.0):  # areas written east of 180° or west of -180°
        span = (reach[:, 0] + shift <= east) & (reach[:, 1] + shift >= west)  # skip the idle
        sel = ok[span]
        moved = shapely.transform(paths[sel], lambda xy, s=shift: xy + np.array([s, 0.0]))
        near = tree.query(moved, predicate="dwithin", distance=margin_deg[sel])
        found.append(np.stack([sel[near[0]], near[1]]))
        hit = tree.query(shapely.transform(boxes, lambda xy, s=shift: xy + np.array([s, 0.0])))
        found.append(np.stack([boxed[hit[0]], hit[1]]))
    both = np.concatenate(found, axis=1).astype(np.int64)
    codes = np.unique(both[0] * len(areas) + both[1])
    return codes // len(areas), codes % len(areas)


def _paths(
    lon: FloatArray, lat: FloatArray, length_m: FloatArray, trk: FloatArray
) -> tuple[npt.NDArray[np.object_], FloatArray]:
    """Each track's look-ahead path as a lon/lat polyline, and how far (degrees) to search
    around it so that no area the exact test would find is missed; NaN where the polyline
    is not a safe stand-in (within a few degrees of a pole, or longer than MAX_PATH_M).

    The polyline joins PATH_SAMPLES + 1 points of the geodesic, longitudes unwrapped from
    the track's own. The margin covers the geodesic's bulge off each straight piece (under
    ``step² · tan(lat) / (8 · M_MIN_M)``, a few metres) and the bend of 0.05° area edges in
    the track's frame, with PRUNE_MARGIN_M (1 km) and 5 % of a step to spare.
    """
    n, k = len(lon), PATH_SAMPLES + 1
    along = length_m[:, None] * np.linspace(0.0, 1.0, k)[None, :]
    plon, plat, _ = GEOD.fwd(np.repeat(lon, k), np.repeat(lat, k), np.repeat(trk, k), along.ravel())
    plat = np.asarray(plat).reshape(n, k)
    turn = np.asarray(plon).reshape(n, k) - lon[:, None]
    plon = lon[:, None] + (turn + 180.0) % 360.0 - 180.0
    margin_m = PRUNE_MARGIN_M + 0.05 * length_m / PATH_SAMPLES
    margin_lat = np.degrees(margin_m / M_MIN_M)
    top = np.max(np.abs(plat), axis=1) + margin_lat
    with np.errstate(all="ignore"):  # at a pole, or absurd speeds: a reach box below
        margin = margin_lat / np.cos(np.radians(np.minimum(top, 90.0)))
    unsafe = (top > MAX_PATH_LAT) | (length_m > MAX_PATH_M)
    paths = shapely.linestrings(np.stack([plon, plat], axis=2))
    still = length_m == 0.0  # a track that does not move: its point
    paths[still] = shapely.points(lon[still], lat[still])
    return paths, np.where(unsafe, np.nan, margin)


def _reach_boxes(lat: FloatArray, lon: FloatArray, reach_m: FloatArray) -> npt.NDArray[np.object_]:
    """Lon/lat boxes holding every point within ``reach_m`` (+1 m) of each track."""
    reach = reach_m + 1.0
    dlat = np.degrees(reach / M_MIN_M) * 1.001 + 1e-9
    south, north = lat - dlat, lat + dlat
    coslat = np.cos(np.radians(np.minimum(np.maximum(np.abs(south), np.abs(north)), 90.0)))
    ratio = np.sin(np.minimum(reach / M_MIN_M, math.pi / 2)) / np.maximum(coslat, 1e-12)
    dlon = np.where(
        ratio < 0.99, np.degrees(np.arcsin(np.minimum(ratio, 0.99))) * 1.001 + 1e-9, 360.0
    )
    return np.asarray(shapely.box(lon - dlon, south, lon + dlon, north), dtype=object)


def _band_window(
    arrays: list[FloatArray], areas: Areas, track: IntArray, area: IntArray, lookahead: float
) -> tuple[FloatArray, FloatArray]:
    """When in [0, lookahead] each track is within the area's altitude band (closed)."""
    _, _, alt, _, _, vs = arrays
    z, w = alt[track], vs[track]
    lower, upper = areas.alt_lower_m[area], areas.alt_upper_m[area]
    level = w == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(level, -np.inf, (lower - z) / w)
        t2 = np.where(level, np.inf, (upper - z) / w)
    inside = (z >= lower) & (z <= upper)
    t_lo = np.where(level, np.where(inside, 0.0, np.inf), np.maximum(np.minimum(t1, t2), 0.0))
    t_hi = np.where(
        level, np.where(inside, lookahead, -np.inf), np.minimum(np.maximum(t1, t2), lookahead)
    )
    return t_lo, t_hi


def _entry_times(
    arrays: list[FloatArray],
    areas: Areas,
    track: IntArray,
    area: IntArray,
    t_lo: FloatArray,
    t_hi: FloatArray,
) -> FloatArray:
    """First time in [t_lo, t_hi] each track is inside its area; inf if never.

    All pairs at once, in batches of about BATCH_VERTICES projected vertices, one batch
    per geometry kind (Polygon, MultiPolygon) so that each area keeps its own kind.
    """
    entry = np.full(len(track), np.inf)
    if len(track) == 0:
        return entry
    dense = shapely.segmentize(areas.geometry, DENSIFY_DEG)
    kinds = shapely.get_type_id(dense)
    for kind in np.unique(kinds[area]).tolist():
        sel = np.flatnonzero(kinds[area] == kind)
        used, local = np.unique(area[sel], return_inverse=True)
        _, coords, offsets = shapely.to_ragged_array(dense[used])
        cost = np.cumsum(_vertex_counts(offsets)[local])
        cuts = np.searchsorted(cost, np.arange(BATCH_VERTICES, cost[-1], BATCH_VERTICES))
        for part in np.split(np.arange(len(sel)), np.unique(cuts)):
            if len(part) == 0:
                continue
            frames = _in_track_frames(kind, coords, offsets, local[part], arrays, track[sel[part]])
            pick = sel[part]
            entry[pick] = _entry_into(arrays, frames, track[pick], t_lo[pick], t_hi[pick])
    return entry


def _entry_into(
    arrays: list[FloatArray],
    frames: npt.NDArray[np.object_],
    track: IntArray,
    t_lo: FloatArray,
    t_hi: FloatArray,
) -> FloatArray:
    """Entry times of tracks into their areas, each given in its track's AEQD frame."""
    _, _, _, gs, trk, _ = arrays
    east, north = np.sin(np.radians(trk[track])), np.cos(np.radians(trk[track]))
    near, far = gs[track] * t_lo, gs[track] * t_hi  # metres along the path
    start = np.column_stack([near * east, near * north])
    end = np.column_stack([far * east, far * north])
    moving = far > near
    path = shapely.points(start)
    path[moving] = shapely.linestrings(np.stack([start[moving], end[moving]], axis=1))
    inside = shapely.intersection(path, frames)
    hit = ~shapely.is_empty(inside)
    along = shapely.distance(shapely.points(np.zeros((len(track), 2))), inside)
    with np.errstate(divide="ignore", invalid="ignore"):
        when = np.where(gs[track] > 0.0, along / gs[track], t_lo)
    return np.where(hit, np.maximum(when, t_lo), np.inf)


def _in_track_frames(
    kind: Any,
    coords: FloatArray,
    offsets: tuple[IntArray, ...],
    which: IntArray,
    arrays: list[FloatArray],
    track: IntArray,
) -> npt.NDArray[np.object_]:
    """Area ``which[i]`` (of a ragged array) in track ``track[i]``'s azimuthal equidistant
    frame (metres), for every i."""
    lat, lon, _, _, _, _ = arrays
    xy_ll, taken = _take_ragged(coords, offsets, which)
    owner = np.repeat(track, _vertex_counts(taken))
    az, _, dist = GEOD.inv(lon[owner], lat[owner], xy_ll[:, 0], xy_ll[:, 1])
    az = np.radians(np.asarray(az))
    xy = np.column_stack([dist * np.sin(az), dist * np.cos(az)])
    frames = shapely.from_ragged_array(kind, xy, taken)
    broken = ~shapely.is_valid(frames)
    if np.any(broken):  # a fold near a track's antipode; keep what is well defined
        frames[broken] = shapely.make_valid(frames[broken])
    return np.asarray(frames, dtype=object)


def _take_ragged(
    coords: FloatArray, offsets: tuple[IntArray, ...], which: IntArray
) -> tuple[FloatArray, tuple[IntArray, ...]]:
    """Geometries ``which`` (repeats allowed) of a ragged array, as a new ragged array.

    >>> xy, rings, polygons = np.arange(10.0).reshape(5, 2), [0, 2, 5], [0, 1, 2]
    >>> got, offs = _take_ragged(xy, (np.array(rings), np.array(polygons)), np.array([1, 1, 0]))
    >>> got[:, 0].tolist(), [o.tolist() for o in offs]
    ([4.0, 6.0, 8.0, 4.0, 6.0, 8.0, 0.0, 2.0], [[0, 3, 6, 8], [0, 1, 2, 3]])
    """
    index, levels = np.asarray(which, dtype=np.int64), []
    for level in reversed(offsets):  # from the geometries down to the vertices
        level = np.asarray(level, dtype=np.int64)
        count = level[index + 1] - level[index]
        levels.append(np.concatenate([[0], np.cumsum(count)]).astype(np.int64))
        index = ragged_arange(level[index], count)
    return coords[index], tuple(reversed(levels))


def _vertex_counts(offsets: tuple[IntArray, ...]) -> IntArray:
    """Vertices in each geometry of a ragged array."""
    rings = offsets[0]
    at = rings
    for level in offsets[1:]:
        at = at[level]
    return np.diff(at)


def load_areas(path: str | Path) -> Areas:
    """Read protected areas: see :func:`hotline.geo.geojson.read_areas`."""
    from hotline.geo.geojson import read_areas  # the reader builds on this module

    return read_areas(path)

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
- Candidates: an STRtree (:class:`shapely.STRtree`) over the areas' longitude/latitude
  envelopes, queried with each track's *reach box*: the longitude/latitude box holding
  every point within ``gs·lookahead`` of the track (taken over the whole longitude range
  when it comes near a pole). Pairs of the same party, and pairs whose altitude band the
  track cannot be in during the look-ahead, are dropped.
- Exact test per candidate, in the track's azimuthal equidistant frame: every vertex of
  the area goes to ``(d·sin az, d·cos az)`` with ``az, d`` the WGS84 geodesic from the
  track (:class:`pyproj.Geod`), so the track's path is the straight segment from the
  origin along ``trk``, with true lengths. The segment, clipped to the times the track
  is within the band, is intersected with the area (shapely); the first point reached
  gives the entry time. Area edges are straight in longitude/latitude, as RFC 7946 says,
  and are densified to 0.05° before projecting, so the frame bends them faithfully.
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
from hotline.geo.geodesy import GEOD, M_MIN_M
from hotline.geo.tactical.io import Tracks

__all__ = ["Areas", "Incursion", "IncursionResult", "detect", "incursions", "load_areas"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DENSIFY_DEG = 0.05  # longest straight lon/lat edge kept before projecting, degrees


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
    """(track, area) pairs whose reach box meets the area's envelope (STRtree)."""
    lat, lon, _, gs, _, _ = arrays
    if len(areas) == 0 or len(lat) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    tree = shapely.STRtree(shapely.envelope(areas.geometry))
    reach = gs * lookahead + 1.0  # m
    dlat = np.degrees(reach / M_MIN_M) * 1.001 + 1e-9
    south, north = lat - dlat, lat + dlat
    coslat = np.cos(np.radians(np.minimum(np.maximum(np.abs(south), np.abs(north)), 90.0)))
    ratio = np.sin(np.minimum(reach / M_MIN_M, math.pi / 2)) / np.maximum(coslat, 1e-12)
    dlon = np.where(
        ratio < 0.99, np.degrees(np.arcsin(np.minimum(ratio, 0.99))) * 1.001 + 1e-9, 360.0
    )
    found = []
    for shift in (-360.0, 0.0, 360.0):  # areas written east of 180° or west of -180°
        boxes = shapely.box(lon - dlon + shift, south, lon + dlon + shift, north)
        found.append(tree.query(boxes))
    both = np.concatenate(found, axis=1)
    codes = np.unique(both[0].astype(np.int64) * len(areas) + both[1])
    return codes // len(areas), codes % len(areas)


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
    """First time in [t_lo, t_hi] each track is inside its area; inf if never."""
    entry = np.full(len(track), np.inf)
    for k in np.unique(area).tolist():
        sel = np.flatnonzero(area == k)
        entry[sel] = _entry_into(arrays, areas.geometry[k], track[sel], t_lo[sel], t_hi[sel])
    return entry


def _entry_into(
    arrays: list[FloatArray], geometry: Any, track: IntArray, t_lo: FloatArray, t_hi: FloatArray
) -> FloatArray:
    """Entry times of several tracks into one area, each in its own AEQD frame."""
    lat, lon, _, gs, trk, _ = arrays
    area = _in_track_frames(geometry, lat[track], lon[track])
    east, north = np.sin(np.radians(trk[track])), np.cos(np.radians(trk[track]))
    near, far = gs[track] * t_lo, gs[track] * t_hi  # metres along the path
    start = np.column_stack([near * east, near * north])
    end = np.column_stack([far * east, far * north])
    moving = far > near
    path = shapely.points(start)
    path[moving] = shapely.linestrings(np.stack([start[moving], end[moving]], axis=1))
    inside = shapely.intersection(path, area)
    hit = ~shapely.is_empty(inside)
    along = shapely.distance(shapely.points(np.zeros((len(track), 2))), inside)
    with np.errstate(divide="ignore", invalid="ignore"):
        when = np.where(gs[track] > 0.0, along / gs[track], t_lo)
    return np.where(hit, np.maximum(when, t_lo), np.inf)


def _in_track_frames(geometry: Any, lat: FloatArray, lon: FloatArray) -> npt.NDArray[np.object_]:
    """The area once per track, in that track's azimuthal equidistant frame (metres)."""
    kind, coords, offsets = shapely.to_ragged_array([shapely.segmentize(geometry, DENSIFY_DEG)])
    m, v = len(lat), len(coords)
    az, _, dist = GEOD.inv(
        np.repeat(lon, v), np.repeat(lat, v), np.tile(coords[:, 0], m), np.tile(coords[:, 1], m)
    )
    az = np.radians(np.asarray(az))
    xy = np.column_stack([dist * np.sin(az), dist * np.cos(az)])
    repeated = tuple(_repeat_offsets(np.asarray(o, dtype=np.int64), m) for o in offsets)
    frames = shapely.from_ragged_array(kind, xy, repeated)
    broken = ~shapely.is_valid(frames)
    if np.any(broken):  # a fold near a track's antipode; keep what is well defined
        frames[broken] = shapely.make_valid(frames[broken])
    return np.asarray(frames, dtype=object)


def _repeat_offsets(offsets: IntArray, copies: int) -> IntArray:
    """Offsets of ``copies`` concatenated copies of a ragged level.

    >>> _repeat_offsets(np.array([0, 5, 9]), 2).tolist()
    [0, 5, 9, 14, 18]
    """
    count = int(offsets[-1])
    shifted = offsets[:-1][None, :] + (np.arange(copies, dtype=np.int64) * count)[:, None]
    return np.concatenate([shifted.ravel(), [copies * count]])


def load_areas(path: str | Path) -> Areas:
    """Read protected areas: see :func:`hotline.geo.geojson.read_areas`."""
    from hotline.geo.geojson import read_areas  # the reader builds on this module

    return read_areas(path)

"""The incursion engine before issue 16, kept as the reference the fast engine must equal.

This is ``hotline.geo.incursions.detect`` as it was before the candidate search followed
each track's path (reach boxes only) and before the exact test was batched across areas:
every candidate is measured one area at a time. Do not speed it up; it is the answer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped]

from hotline.errors import ValidationError
from hotline.geo.geodesy import GEOD, M_MIN_M
from hotline.geo.incursions import DENSIFY_DEG, Areas, IncursionResult

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def reference_detect(
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
    """The engine as it was before pruning by path: the answer the fast one must give."""
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

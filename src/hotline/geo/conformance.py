"""Conformance: how far tracks are outside declared 4D volumes (space, altitude band, time).

:func:`candidates` finds, for many tracks and many volumes at once, the (track, volume)
pairs worth measuring: an STRtree (:class:`shapely.STRtree`) over the volumes'
longitude/latitude envelopes, each widened by the volume's radius or half width and by
``reach_m``, queried with the tracks' positions. :func:`measure` then gives, per pair,
the horizontal distance outside the volume (0 inside), metres, in the track's azimuthal
equidistant frame: every vertex of the volume goes to ``(d·sin az, d·cos az)`` with
``az, d`` the WGS84 geodesic from the track (:class:`pyproj.Geod`), so the distance from
the origin is true for the nearest vertex and close for the nearest edge (an edge is
straight in the frame; a geodesic edge bows by metres over tens of kilometres). A circle
is measured exactly (geodesic distance to its centre less the radius), a corridor as the
distance to its line less half its width. The vertical distance is how far the altitude
is above or below the band (0 within).

Pure: no database, no clock; the node's service (:mod:`hotline.services.picture.conformance`)
decides what is a departure and alarms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped]

from hotline.geo.geodesy import GEOD, M_MIN_M
from hotline.geo.volumes import Volume

__all__ = ["Shapes", "candidates", "measure"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Shapes:
    """Volumes ready to be measured: lon/lat geometries, kinds, reach and bands."""

    ids: tuple[str, ...]
    kind: tuple[str, ...]
    geometry: npt.NDArray[np.object_]  # Polygon, LineString (corridor) or Point (circle)
    buffer_m: FloatArray  # radius or half width; 0 for a polygon
    alt_lower_m: FloatArray
    alt_upper_m: FloatArray

    @classmethod
    def of(cls, volumes: Sequence[Volume]) -> Shapes:
        geometry = np.empty(len(volumes), dtype=object)
        for k, v in enumerate(volumes):
            if v.kind == "polygon":
                geometry[k] = shapely.Polygon(v.rings[0], v.rings[1:])
            elif v.kind == "corridor":
                geometry[k] = shapely.LineString(v.rings[0])
            else:
                geometry[k] = shapely.Point(v.rings[0][0])
        return cls(
            ids=tuple(v.id for v in volumes),
            kind=tuple(v.kind for v in volumes),
            geometry=geometry,
            buffer_m=np.array([v.buffer_m for v in volumes], dtype=np.float64),
            alt_lower_m=np.array([v.alt_lower_m for v in volumes], dtype=np.float64),
            alt_upper_m=np.array([v.alt_upper_m for v in volumes], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.ids)


def candidates(
    lat: FloatArray, lon: FloatArray, shapes: Shapes, reach_m: float, among: IntArray
) -> tuple[IntArray, IntArray]:
    """(track, volume) pairs, volumes taken from ``among``, whose widened envelope holds
    the track's position.

    >>> box = Volume("V", "us", "polygon", (((0, 0), (0.1, 0), (0.1, 0.1), (0, 0.1), (0, 0)),),
    ...              0.0, 1000.0, *(2 * [None]))  # type: ignore[arg-type]
    >>> t, v = candidates(np.array([0.05, 1.0]), np.array([0.05, 1.0]), Shapes.of([box]), 500.0,
    ...                   np.array([0]))
    >>> t.tolist(), v.tolist()
    ([0], [0])
    """
    if len(among) == 0 or len(lat) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    geometry = shapes.geometry[among]
    xmin, ymin, xmax, ymax = shapely.bounds(geometry).T
    reach = shapes.buffer_m[among] + reach_m + 1.0
    dlat = np.degrees(reach / M_MIN_M) * 1.001 + 1e-9
    south, north = ymin - dlat, ymax + dlat
    coslat = np.cos(np.radians(np.minimum(np.maximum(np.abs(south), np.abs(north)), 89.9)))
    dlon = np.minimum(dlat / np.maximum(coslat, 1e-3), 360.0)
    tree = shapely.STRtree(shapely.box(xmin - dlon, south, xmax + dlon, north))
    found = []
    for shift in (-360.0, 0.0, 360.0):  # volumes written across the antimeridian
        found.append(tree.query(shapely.points(lon + shift, lat)))
    both = np.concatenate(found, axis=1).astype(np.int64)
    codes = np.unique(both[0] * len(among) + both[1])
    return codes // len(among), among[codes % len(among)]


def measure(
    lat: FloatArray,
    lon: FloatArray,
    alt_m: FloatArray,
    shapes: Shapes,
    track: IntArray,
    volume: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """(horizontal, vertical) metres each track is outside its paired volume (0: within).

    >>> disc = Volume("C", "us", "circle", (((0.0, 0.0),),), 0.0, 1000.0, *(2 * [None]),
    ...               radius_m=1000.0)  # type: ignore[arg-type]
    >>> h, v = measure(np.array([0.0]), np.array([0.02]), np.array([1500.0]), Shapes.of([disc]),
    ...                np.array([0]), np.array([0]))
    >>> round(float(h[0])), round(float(v[0]))
    (1226, 500)
    """
    horizontal = np.zeros(len(track))
    kinds = np.array(shapes.kind, dtype=object)[volume] if len(track) else np.empty(0, object)
    circle = np.flatnonzero(kinds == "circle")
    if len(circle):
        centres = shapely.get_coordinates(shapes.geometry[volume[circle]])
        _, _, dist = GEOD.inv(lon[track[circle]], lat[track[circle]], centres[:, 0], centres[:, 1])
        horizontal[circle] = np.asarray(dist) - shapes.buffer_m[volume[circle]]
    for kind in ("polygon", "corridor"):
        sel = np.flatnonzero(kinds == kind)
        if len(sel):
            frames = _in_track_frames(
                shapes.geometry[volume[sel]], lat[track[sel]], lon[track[sel]]
            )
            origin = shapely.points(np.zeros((len(sel), 2)))
            horizontal[sel] = shapely.distance(origin, frames) - shapes.buffer_m[volume[sel]]
    alt = alt_m[track]
    lower, upper = shapes.alt_lower_m[volume], shapes.alt_upper_m[volume]
    vertical = np.maximum(np.maximum(lower - alt, alt - upper), 0.0)
    return np.maximum(horizontal, 0.0), vertical


def _in_track_frames(
    geometry: npt.NDArray[np.object_], lat: FloatArray, lon: FloatArray
) -> npt.NDArray[np.object_]:
    """Each geometry in its own track's azimuthal equidistant frame (metres)."""
    kind, coords, offsets = shapely.to_ragged_array(geometry)
    counts = _coordinates_per_geometry(offsets, len(geometry))
    owner = np.repeat(np.arange(len(geometry)), counts)
    az, _, dist = GEOD.inv(lon[owner], lat[owner], coords[:, 0], coords[:, 1])
    az = np.radians(np.asarray(az))
    xy = np.column_stack([dist * np.sin(az), dist * np.cos(az)])
    frames = shapely.from_ragged_array(kind, xy, offsets)
    broken = ~shapely.is_valid(frames)
    if np.any(broken):  # a fold far from the track; keep what is well defined
        frames[broken] = shapely.make_valid(frames[broken])
    return np.asarray(frames, dtype=object)


def _coordinates_per_geometry(offsets: tuple[npt.NDArray[np.int64], ...], n: int) -> IntArray:
    """How many coordinates each geometry of a ragged array has."""
    ends = np.arange(n + 1)
    for level in reversed(offsets):  # from the geometries down to the coordinates
        ends = np.asarray(level, dtype=np.int64)[ends]
    return np.diff(ends)

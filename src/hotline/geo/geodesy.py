"""The one geodesy kernel of ``hotline.geo``: WGS84, ECEF, tangent planes, geodesics.

Everything here works on NumPy arrays, in metres and degrees, on the WGS84 ellipsoid.  The
strategic and tactical engines, incursions and the picture share these constants, the one
:data:`GEOD` (GeographicLib through PROJ) and :func:`ragged_arange`; no other module of
``hotline.geo`` defines its own.  Three facts carry the strategic engine and are used,
with their proofs sketched, where they matter:

* ``|n_a - n_b| <= s / M_MIN_M``: along a path of length ``s`` on the ellipsoid the unit
  surface normal turns at most at the largest principal curvature, ``1 / M_MIN_M``.  So
  unit normals are a metric-safe key for a KD-tree (candidate search).
* ``chord <= s <= chord_to_geodesic_bound(chord)``: the straight line through the Earth is
  never longer than the geodesic, and the geodesic never longer than a circular arc of the
  tightest radius of curvature over the same chord (Schur's comparison theorem).
* Orthogonal projection onto a tangent plane is 1-Lipschitz, so a distance measured in the
  plane never exceeds the 3-D chord and hence never exceeds the geodesic distance.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

WGS84_A_M = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
#: Smallest radius of curvature on WGS84 (meridional, at the equator), metres.
M_MIN_M = WGS84_A_M * (1.0 - WGS84_E2)

#: Geodesic computations (GeographicLib through PROJ): accurate to ~15 nanometres.
GEOD = Geod(ellps="WGS84")


def ragged_arange(starts: I64, lengths: I64) -> I64:
    """Concatenate ``range(s, s + n)`` for each start ``s`` and length ``n``, without a loop.

    Examples
    --------
    >>> ragged_arange(np.array([5, 0]), np.array([2, 3])).tolist()
    [5, 6, 0, 1, 2]
    >>> ragged_arange(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(lengths) - lengths  # index in the output where each run begins
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - before, lengths)
    return shift + np.arange(total, dtype=np.int64)


def unit_normals(lon_deg: F64, lat_deg: F64) -> F64:
    """Outward unit normals (n, 3) of the ellipsoid at geodetic ``lon_deg``/``lat_deg``."""
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=-1)


def surface_ecef(lon_deg: F64, lat_deg: F64) -> F64:
    """Earth-centred, Earth-fixed coordinates (n, 3), metres, of points at height 0.

    Examples
    --------
    >>> surface_ecef(np.array([0.0, 90.0]), np.array([0.0, 0.0])).round(3).tolist()
    [[6378137.0, 0.0, 0.0], [0.0, 6378137.0, 0.0]]
    >>> float(surface_ecef(np.array([0.0]), np.array([90.0]))[0, 2]) == WGS84_B_M
    True
    """
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    prime_vertical = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)  # N(φ), metres
    return np.stack(
        [
            prime_vertical * cos_lat * np.cos(lon),
            prime_vertical * cos_lat * np.sin(lon),
            prime_vertical * (1.0 - WGS84_E2) * sin_lat,
        ],
        axis=-1,
    )


def normals_to_lonlat(normals: F64) -> tuple[F64, F64]:
    """Geodetic longitude and latitude (degrees) of points whose unit normals are given."""
    x, y, z = normals[..., 0], normals[..., 1], normals[..., 2]
    return np.degrees(np.arctan2(y, x)), np.degrees(np.arctan2(z, np.hypot(x, y)))


def normals_of_ecef(xyz: F64) -> F64:
    """Unit normals of the ellipsoid level surfaces through ``xyz`` (exact on the surface)."""
    grad = xyz / np.array([WGS84_A_M**2, WGS84_A_M**2, WGS84_B_M**2])
    return normalize(grad)


def surface_lonlat(xyz: F64) -> tuple[F64, F64]:
    """Longitude and latitude (degrees) of ECEF points lying on the ellipsoid surface."""
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    # On the surface tan φ = z / ((1 - e²) p) exactly, with p the distance from the axis.
    lat = np.arctan2(z, (1.0 - WGS84_E2) * np.hypot(x, y))
    return np.degrees(np.arctan2(y, x)), np.degrees(lat)


def normalize(vectors: F64) -> F64:
    """Scale each row of ``vectors`` to unit length."""
    return np.asarray(vectors / np.linalg.norm(vectors, axis=-1, keepdims=True), dtype=np.float64)


def tangent_frames(normals: F64) -> tuple[F64, F64, F64]:
    """Origin, east and north unit vectors of the tangent planes with the given normals.

    The origin is the surface point whose normal is ``normals``.  At a pole east is
    arbitrary but well defined (longitude 0), so no special case is needed.
    """
    lon_deg, lat_deg = normals_to_lonlat(normals)
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    east = np.stack([-np.sin(lon), np.cos(lon), np.zeros_like(lon)], axis=-1)
    north = np.stack([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)], axis=-1)
    return surface_ecef(lon_deg, lat_deg), east, north


def project(xyz: F64, origin: F64, east: F64, north: F64) -> F64:
    """Orthogonal projection (n, 2) of ECEF points onto tangent planes, metres.

    ``origin``, ``east``, ``north`` broadcast against ``xyz`` row by row.
    """
    offset = xyz - origin
    return np.stack(
        [np.einsum("ij,ij->i", offset, east), np.einsum("ij,ij->i", offset, north)], axis=-1
    )


def lift(xy: F64, origin: F64, east: F64, north: F64) -> F64:
    """Points of the ellipsoid surface (n, 3) whose projections onto the planes are ``xy``.

    Moves from the plane along its normal to the surface: solves the ellipsoid equation
    ``q·D·q = 1`` for ``q = p + t·n`` and keeps the root nearest the plane.
    """
    normal = np.stack(  # east × north, written out: np.cross costs more on small arrays
        [
            east[:, 1] * north[:, 2] - east[:, 2] * north[:, 1],
            east[:, 2] * north[:, 0] - east[:, 0] * north[:, 2],
            east[:, 0] * north[:, 1] - east[:, 1] * north[:, 0],
        ],
        axis=1,
    )
    inv_axes2 = np.array([WGS84_A_M**-2, WGS84_A_M**-2, WGS84_B_M**-2])
    p = origin + xy[:, :1] * east + xy[:, 1:] * north
    qa = np.einsum("ij,ij->i", normal * inv_axes2, normal)
    qb = np.einsum("ij,ij->i", p * inv_axes2, normal)
    qc = np.einsum("ij,ij->i", p * inv_axes2, p) - 1.0
    # Stable form of the small root: the plane touches the outside, so qb > 0.
    t = -qc / (qb + np.sqrt(np.maximum(qb * qb - qa * qc, 0.0)))
    return np.asarray(p + t[:, None] * normal, dtype=np.float64)


def chord_to_geodesic_bound(chord_m: F64) -> F64:
    """An upper bound, metres, on the geodesic length between points ``chord_m`` apart."""
    half = np.minimum(np.asarray(chord_m, dtype=np.float64) / (2.0 * M_MIN_M), 1.0)
    return np.asarray(2.0 * M_MIN_M * np.arcsin(half) + 1e-6, dtype=np.float64)


def densify(lon: F64, lat: F64, ring_offsets: I64, max_piece_m: float) -> tuple[F64, F64, I64]:
    """Insert points along each geodesic edge so that no piece is longer than ``max_piece_m``.

    Rings are runs ``ring_offsets[k]:ring_offsets[k + 1]`` of the vertex arrays; an edge
    joins consecutive vertices of a ring.  Inserted points lie exactly on the geodesic, so
    a straight chord between consecutive output points sags at most
    ``max_piece_m² / (8 · M_MIN_M)`` below it (under 2 m for 10 km pieces).

    Returns new longitudes, latitudes and ring offsets.
    """
    n = lon.shape[0]
    edge = np.ones(n, dtype=bool)
    edge[ring_offsets[1:] - 1] = False  # the last vertex of a ring starts no edge
    xyz = surface_ecef(lon, lat)
    chord = np.zeros(n)
    chord[:-1] = np.linalg.norm(xyz[1:] - xyz[:-1], axis=1)
    long_edge = np.flatnonzero(edge & (chord_to_geodesic_bound(chord) > max_piece_m))
    if long_edge.size == 0:
        return lon, lat, ring_offsets
    az, _, dist = GEOD.inv(lon[long_edge], lat[long_edge], lon[long_edge + 1], lat[long_edge + 1])
    pieces = np.ones(n, dtype=np.int64)
    pieces[long_edge] = np.maximum(np.ceil(np.asarray(dist) / max_piece_m), 1).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(pieces)])  # output position of each input vertex
    out_lon, out_lat = np.empty(start[-1]), np.empty(start[-1])
    out_lon[start[:-1]], out_lat[start[:-1]] = lon, lat
    extra = pieces[long_edge] - 1
    owner = np.repeat(np.arange(long_edge.size), extra)  # which long edge each new point is on
    step = ragged_arange(np.ones(long_edge.size, dtype=np.int64), extra)  # 1 .. pieces-1
    fraction = step / pieces[long_edge][owner]
    new_lon, new_lat, _ = GEOD.fwd(
        lon[long_edge][owner],
        lat[long_edge][owner],
        np.asarray(az)[owner],
        np.asarray(dist)[owner] * fraction,
    )
    target = start[long_edge][owner] + step
    out_lon[target], out_lat[target] = new_lon, new_lat
    return out_lon, out_lat, start[ring_offsets]

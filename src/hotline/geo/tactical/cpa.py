"""Closest point of approach between pairs of tracks, with BlueSky's state-based semantics.

Everything here works on aligned arrays of candidate pairs ``(i, j)``: the relative
position and velocity of ``j`` seen from ``i`` in a common horizontal frame, then the
horizontal and vertical conflict windows of :mod:`bluesky.traffic.asas.statebased`.

Two frames are offered:

- :func:`flat_frame`: BlueSky's equirectangular "kwik" frame (``kwikqdrdist``): east
  offset ``R·Δλ·cos φ̄``, north offset ``R·Δφ``, both velocities taken as they are in
  their own local east/north axes. Fast, and what BlueSky compares against.
- :func:`geodesic_frame`: exact initial separation on the WGS84 ellipsoid
  (:class:`pyproj.Geod`), expressed in the tangent plane at the geodesic's midpoint;
  each velocity is carried to that plane along the connecting geodesic.

The windows (all times in seconds from now, distances in metres):

- horizontal: ``tcpa = -(Δu·Δx + Δv·Δy) / |Δv|²``, ``dcpa² = |d² - tcpa²·|Δv|²|``; when
  ``dcpa < rpz`` the pair is inside the protected radius over
  ``tcpa ∓ √(rpz² - dcpa²) / |Δv|``. ``|Δv|²`` is floored at 1e-6 m²/s² as BlueSky does.
- vertical: inside ``|Δalt + t·Δvs| < hpz``. When ``|Δvs| <= 1e-6`` m/s the pair is level
  relative to each other and the window is all time if ``|Δalt| < hpz``, else empty.
  This follows BlueSky's compiled ``cstatebased``; its NumPy code instead floors
  ``Δvs`` to +1e-6 m/s, which makes two level flights exactly ``hpz`` apart conflict in
  one direction only. Separation of exactly the minimum is separation.
- conflict: ``tin = max(tin_h, tin_v)``, ``tout = min(tout_h, tout_v)`` and
  ``tin < tout and tin < lookahead and tout > 0``. BlueSky's NumPy code writes
  ``tin <= tout``; the strict form only differs when the two windows merely touch, that
  is when the closest approach is exactly the minimum, which is separation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hotline.geo.geodesy import GEOD

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

EARTH_RADIUS_M = 6371000.0
"""Mean Earth radius of BlueSky's flat-earth ("kwik") geometry, metres."""

VREL2_FLOOR = 1e-6
"""m²/s²: BlueSky floors the squared relative ground speed here (statebased.py)."""

LEVEL_DVS = 1e-6
"""m/s: at or below this relative vertical speed a pair is level (cstatebased.hpp)."""


@dataclass(frozen=True)
class Relative:
    """State of ``j`` relative to ``i`` for aligned pairs: metres, metres per second."""

    dx: FloatArray  # east offset of j from i
    dy: FloatArray  # north offset of j from i
    du: FloatArray  # east speed of j minus i
    dv: FloatArray  # north speed of j minus i
    dalt: FloatArray  # altitude of j minus i
    dvs: FloatArray  # vertical speed of j minus i


@dataclass(frozen=True)
class Windows:
    """Conflict windows of aligned pairs; see the module docstring for the formulas."""

    tcpa: FloatArray
    dcpa: FloatArray
    tin: FloatArray
    tout: FloatArray
    conflict: BoolArray
    los: BoolArray


def velocity(gs: FloatArray, trk_deg: FloatArray) -> tuple[FloatArray, FloatArray]:
    """East and north speed (m/s) from ground speed (m/s) and true track (degrees).

    >>> u, v = velocity(np.array([100.0]), np.array([90.0]))
    >>> float(round(u[0], 9)), float(round(v[0], 9))
    (100.0, 0.0)
    """
    trk = np.radians(trk_deg)
    return gs * np.sin(trk), gs * np.cos(trk)


def flat_frame(
    lat: FloatArray,
    lon: FloatArray,
    u: FloatArray,
    v: FloatArray,
    i: IntArray,
    j: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Relative position and velocity of ``j`` from ``i`` in BlueSky's kwik frame.

    The longitude difference is wrapped into [-180°, 180°) exactly as
    ``bluesky.tools.geo.kwikqdrdist`` does, so pairs across the antimeridian are close.

    >>> lat, lon = np.array([0.0, 0.0]), np.array([179.5, -179.5])
    >>> z = np.zeros(2)
    >>> dx, dy, du, dv = flat_frame(lat, lon, z, z, np.array([0]), np.array([1]))
    >>> round(float(dx[0])), round(float(dy[0]))
    (111195, 0)
    """
    dlat = np.radians(lat[j] - lat[i])
    dlon = np.radians((lon[j] - lon[i] + 180.0) % 360.0 - 180.0)
    cavelat = np.cos(np.radians(lat[j] + lat[i]) * 0.5)
    dx = EARTH_RADIUS_M * dlon * cavelat
    dy = EARTH_RADIUS_M * dlat
    return dx, dy, u[j] - u[i], v[j] - v[i]


def geodesic_frame(
    lat: FloatArray,
    lon: FloatArray,
    gs: FloatArray,
    trk_deg: FloatArray,
    i: IntArray,
    j: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Relative position and velocity of ``j`` from ``i`` on the WGS84 ellipsoid.

    The frame is the tangent plane at the midpoint ``M`` of the geodesic from ``i`` to
    ``j``: ``j`` lies at ``s·(sin αM, cos αM)`` from ``i``, with ``s`` the geodesic length
    and ``αM`` its azimuth at ``M``. Each track keeps its angle to the geodesic: a track
    ``trk`` at a point where the geodesic runs at azimuth ``α`` heads ``trk - α + αM`` in
    the frame. The frame is symmetric in ``i`` and ``j``.

    >>> lat, lon = np.array([0.0, 0.0]), np.array([179.9, -179.9])
    >>> gs, trk = np.zeros(2), np.zeros(2)
    >>> dx, dy, du, dv = geodesic_frame(lat, lon, gs, trk, np.array([0]), np.array([1]))
    >>> round(float(dx[0])), round(float(dy[0]))
    (22264, 0)
    """
    lon_i, lat_i, lon_j, lat_j = lon[i], lat[i], lon[j], lat[j]
    az_i, back_j, s = GEOD.inv(lon_i, lat_i, lon_j, lat_j)
    _, _, back_m = GEOD.fwd(lon_i, lat_i, az_i, s * 0.5)
    # Forward azimuths along the geodesic at i, at M and (continuing) at j, degrees.
    alpha_i = np.asarray(az_i, dtype=np.float64)
    alpha_m = np.asarray(back_m, dtype=np.float64) + 180.0
    alpha_j = np.asarray(back_j, dtype=np.float64) + 180.0
    same = np.asarray(s) == 0.0  # coincident points: no geodesic, no rotation
    alpha_i = np.where(same, 0.0, alpha_i)
    alpha_m = np.where(same, 0.0, alpha_m)
    alpha_j = np.where(same, 0.0, alpha_j)
    s = np.asarray(s, dtype=np.float64)
    am = np.radians(alpha_m)
    ui, vi = velocity(gs[i], trk_deg[i] - alpha_i + alpha_m)
    uj, vj = velocity(gs[j], trk_deg[j] - alpha_j + alpha_m)
    return s * np.sin(am), s * np.cos(am), uj - ui, vj - vi


def horizontal_window(
    rel: Relative, rpz: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``tcpa``, ``dcpa``, ``tin_h``, ``tout_h`` and ``d²`` (now) for aligned pairs.

    ``tin_h = +inf`` and ``tout_h = -inf`` when the pair never comes within ``rpz``.
    """
    dist2 = rel.dx * rel.dx + rel.dy * rel.dy
    dv2 = rel.du * rel.du + rel.dv * rel.dv
    dv2 = np.maximum(dv2, VREL2_FLOOR)  # BlueSky: where(dv2 < 1e-6, 1e-6, dv2); dv2 >= 0
    tcpa = -(rel.du * rel.dx + rel.dv * rel.dy) / dv2
    dcpa2 = np.abs(dist2 - tcpa * tcpa * dv2)
    r2 = rpz * rpz
    inside = dcpa2 < r2
    # Half the time spent inside the protected radius, s.
    dt = np.sqrt(np.maximum(0.0, r2 - dcpa2)) / np.sqrt(dv2)
    tin = np.where(inside, tcpa - dt, np.inf)
    tout = np.where(inside, tcpa + dt, -np.inf)
    return tcpa, np.sqrt(dcpa2), tin, tout, dist2


def vertical_window(rel: Relative, hpz: float) -> tuple[FloatArray, FloatArray]:
    """``tin_v`` and ``tout_v``: when ``|Δalt + t·Δvs| < hpz`` (an open interval)."""
    level = np.abs(rel.dvs) <= LEVEL_DVS
    inside_now = np.abs(rel.dalt) < hpz
    closing = np.where(level, 1.0, -rel.dvs)
    t_hi = (rel.dalt + hpz) / closing  # crossing the top of the other's zone
    t_lo = (rel.dalt - hpz) / closing  # crossing its bottom
    always = np.where(inside_now, -np.inf, np.inf)
    tin = np.where(level, always, np.minimum(t_hi, t_lo))
    tout = np.where(level, -always, np.maximum(t_hi, t_lo))
    return tin, tout


def windows(rel: Relative, *, rpz: float, hpz: float, lookahead: float) -> Windows:
    """Combine the horizontal and vertical windows into conflicts and losses now.

    >>> rel = Relative(*(np.array([x]) for x in (20000.0, 0.0, -200.0, 0.0, 0.0, 0.0)))
    >>> w = windows(rel, rpz=9260.0, hpz=304.8, lookahead=300.0)
    >>> float(w.tcpa[0]), bool(w.conflict[0]), bool(w.los[0])
    (100.0, True, False)
    >>> round(float(w.tin[0]), 1), round(float(w.tout[0]), 1)
    (53.7, 146.3)
    """
    tcpa, dcpa, tin_h, tout_h, dist2 = horizontal_window(rel, rpz)
    tin_v, tout_v = vertical_window(rel, hpz)
    tin = np.maximum(tin_h, tin_v)
    tout = np.minimum(tout_h, tout_v)
    conflict = (tin < tout) & (tin < lookahead) & (tout > 0.0)
    los = (dist2 < rpz * rpz) & (np.abs(rel.dalt) < hpz)
    return Windows(tcpa=tcpa, dcpa=dcpa, tin=tin, tout=tout, conflict=conflict, los=los)

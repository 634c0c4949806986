"""Metric charts for the tactical candidate filter, each with its error bound.

A chart gives each member track a box per time slab (``horizontal(t0, t1)``: centres
and half-widths). The bound every chart must honour is the one stated in
:mod:`hotline.geo.tactical.index`: if a pair the chart answers for is in loss of
separation, in the detection frame, at a time ``t`` of the slab, their boxes overlap.
Each chart's docstring proves its bound.

- :class:`MercatorChart`: flat geometry, pairs with ``|φ̄| < 80°``.
- :class:`BandChart`: flat geometry, pairs nearer the poles.
- :class:`EcefChart`: geodesic geometry, everywhere.

Symbols: ``R`` BlueSky's Earth radius, ``φ`` latitude, ``φ̄`` a pair's mean latitude,
``(u, v)`` east and north speed, ``τ`` the slab length, ``t1`` its end, ``s = sec φ``.
Every box is also widened by 1 m to absorb rounding.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from hotline.geo import geodesy as geo
from hotline.geo.tactical.cpa import EARTH_RADIUS_M as R

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

H_TOL_M = 1.0  # m: horizontal widening of every box, absorbs rounding
MERCATOR_LIMIT_DEG = 80.0  # the Mercator chart answers for pairs with |φ̄| below this
POLAR_CAP_DEG = 85.0  # beyond this a band has no usable east axis
BAND_KAPPA = 0.05  # largest east-scale error tolerated in a polar band
_NEAR_POLE = math.radians(89.99)
MIN_CURVATURE_M = geo.M_MIN_M  # meridional radius at the equator


class Chart(Protocol):
    """What the slab loop needs from a chart."""

    @property
    def members(self) -> IntArray:
        """Track indices of the members, (m,)."""
        ...

    @property
    def period(self) -> float | None:
        """Period of axis 0 in metres, if it is periodic."""
        ...

    def horizontal(self, t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
        """Box centres and half-widths, both (d, m) metres, for the slab [t0, t1]."""
        ...

    def accept(self, lat: FloatArray, a: IntArray, b: IntArray) -> BoolArray | None:
        """Which pairs of track indices this chart answers for; None for all."""
        ...


def reach_rad(rpz: float, t1: float, north: FloatArray, vmax: float) -> FloatArray:
    """ρ (radians): within this of the mean latitude of any partner in loss by ``t1``.

    A loss by ``t1`` needs ``R·|Δφ| < rpz + t1·(|v_i| + |v_j|)``, and
    ``|φ̄ - φ_i| = |Δφ|/2``; ``vmax`` bounds the partner's ``|v|``.
    """
    rho = (0.5 * rpz + 0.5 * t1 * (north + vmax)) / R
    return rho * (1.0 + 1e-9) + 1e-12


def _centre(pos: FloatArray, vel: FloatArray, mid: float, period: float | None) -> FloatArray:
    centre = pos + vel * mid
    if period is not None:  # back into [0, period): boxes poke out by less than a width
        centre[0] %= period
    return centre


def _mean_lat_between(low: float, high: float) -> Callable[..., BoolArray]:
    def accept(lat: FloatArray, a: IntArray, b: IntArray) -> BoolArray:
        mean = (lat[a] + lat[b]) * 0.5
        return (mean >= low) & (mean < high)

    return accept


@dataclass(frozen=True)
class MercatorChart:
    """Flat geometry on the Mercator projection: no east-scale error at all.

    Mercator places a track at ``(R·λ, R·artanh(sin φ))`` moving at ``s·(u, v)``.
    BlueSky's flat frame puts ``j`` at ``(R·cos φ̄·Δλ, R·Δφ)`` from ``i``; scaled by
    ``s̄ = sec φ̄`` that is ``(R·Δλ, s̄·R·Δφ)``: the chart's east offset exactly, and its
    north offset up to the midpoint-rule error of ``R·∫sec``, at most
    ``R·|Δφ|³·max|sec''|/24``. Velocities are scaled by ``s_i`` instead of ``s̄``, off by
    ``|s_i - s̄| <= ρ_i·G_i`` (:func:`reach_rad`; ``G = sec·tan`` at ``|φ_i| + ρ_i``).
    As sec is convex, ``s̄·rpz <= (s_i + s_j)·rpz/2``. Hence per track and axis the
    half-width ``s·(|w|·τ/2 + rpz/2) + t1·|w|·ρ·G``, plus ``R·ρ³·F/6`` north
    (``F = sec''`` at ``|φ| + 2ρ``, since ``(ρ_i + ρ_j)³ <= 4·(ρ_i³ + ρ_j³)``).
    """

    members: IntArray
    pos: FloatArray
    vel: FloatArray  # s·(u, v)
    sec: FloatArray  # s, (m,)
    speed: FloatArray  # (2, m): |u|, |v|, m/s
    rho_rate: FloatArray  # ρ(t1) = rpz/(2R) + rho_rate·t1, radians
    g: FloatArray  # G at |φ| + ρ(T): bounds G for every slab
    f: FloatArray  # F at |φ| + 2ρ(T)
    rpz: float
    limit_deg: float
    answers_all: bool  # no member within reach of the limit: every pair is this chart's
    period: float | None = 2.0 * math.pi * R

    def horizontal(self, t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
        mid, tau = 0.5 * (t0 + t1), t1 - t0
        rho = self.rho_rate * t1 + 0.5 * self.rpz / R
        half = (self.speed * (0.5 * tau) + (0.5 * self.rpz + H_TOL_M)) * self.sec
        half += self.speed * (t1 * rho * self.g)
        half[1] += (R / 6.0) * rho**3 * self.f
        return _centre(self.pos, self.vel, mid, self.period), half

    def accept(self, lat: FloatArray, a: IntArray, b: IntArray) -> BoolArray | None:
        if self.answers_all:
            return None
        return _mean_lat_between(-self.limit_deg, self.limit_deg)(lat, a, b)


@dataclass(frozen=True)
class BandChart:
    """Flat geometry in a latitude band, on ``(R·c0·λ, R·φ)`` with one scale ``c0``.

    The north axis and the velocities are BlueSky's own; the east offset at ``t = 0`` is
    off by the factor ``k = c0/cos φ̄``, ``|k - 1| <= κ`` for ``φ̄`` in the band. A loss at
    ``t`` has ``|a + t·Δu| < rpz`` for the true east offset ``a``, so
    ``|k·a - a| <= κ·(rpz + t·|u_i| + t·|u_j|)``: the east half-width gains
    ``κ·(rpz/2 + t1·|u|)``. With no usable ``c0`` (a polar cap) the east axis is left
    out: ``pos`` and ``vel`` then hold the north axis only.
    """

    members: IntArray
    pos: FloatArray
    vel: FloatArray
    rpz: float
    kappa: float
    period: float | None
    lat_range: tuple[float, float]

    def horizontal(self, t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
        mid, tau = 0.5 * (t0 + t1), t1 - t0
        half = np.abs(self.vel) * (0.5 * tau) + (0.5 * self.rpz + H_TOL_M)
        if self.pos.shape[0] == 2:
            half[0] += self.kappa * (0.5 * self.rpz + t1 * np.abs(self.vel[0]))
        return _centre(self.pos, self.vel, mid, self.period), half

    def accept(self, lat: FloatArray, a: IntArray, b: IntArray) -> BoolArray | None:
        return _mean_lat_between(*self.lat_range)(lat, a, b)


@dataclass(frozen=True)
class EcefChart:
    """Geodesic geometry: surface points in ECEF moving along their tangent planes.

    The geodesic frame is the tangent plane at the pair's midpoint ``M``. A track's ECEF
    straight line differs from its place in that plane by at most
    ``s²/(8R) + t·|v|·s/(2R)``: the plane leaves the surface by ``R·θ²/2`` at angle
    ``θ = s/(2R)``, and carrying the velocity to ``M`` turns it by ``θ``. A loss at ``t``
    has geodesic length ``s < rpz + t·(|v_i| + |v_j|) = L_i + L_j`` with
    ``L = rpz/2 + t1·|v|``, so the pair error is below ``3·s²/(4R)`` and
    ``<= (3/(2R))·(L_i² + L_j²)``. Each axis gains ``3·L²/R``: a factor 2 over the
    spherical bound for the ellipsoid, with ``R`` its least radius of curvature.
    """

    members: IntArray
    pos: FloatArray
    vel: FloatArray
    gs: FloatArray
    rpz: float
    period: float | None = None

    def horizontal(self, t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
        mid, tau = 0.5 * (t0 + t1), t1 - t0
        reach = 0.5 * self.rpz + t1 * self.gs
        extra = 3.0 * reach * reach / MIN_CURVATURE_M
        half = np.abs(self.vel) * (0.5 * tau) + (0.5 * self.rpz + H_TOL_M + extra)
        return _centre(self.pos, self.vel, mid, None), half

    def accept(self, lat: FloatArray, a: IntArray, b: IntArray) -> BoolArray | None:
        return None


def ecef_chart(
    lat: FloatArray, lon: FloatArray, u: FloatArray, v: FloatArray, gs: FloatArray, rpz: float
) -> EcefChart:
    """All tracks on the WGS84 surface in ECEF, moving along their tangent planes."""
    phi, lam = np.radians(lat), np.radians(lon)
    sp, cp, sl, cl = np.sin(phi), np.cos(phi), np.sin(lam), np.cos(lam)
    pos = geo.surface_ecef(lon, lat).T  # (3, n), metres
    # east = (-sin λ, cos λ, 0); north = (-sin φ cos λ, -sin φ sin λ, cos φ)
    vel = np.vstack([-sl * u - sp * cl * v, cl * u - sp * sl * v, cp * v])
    return EcefChart(np.arange(len(lat), dtype=np.int64), pos, vel, gs, rpz)


def flat_charts(
    lat: FloatArray, lon: FloatArray, u: FloatArray, v: FloatArray, rpz: float, lookahead: float
) -> list[Chart]:
    """Charts answering, between them, for every pair exactly once (by ``φ̄``)."""
    vmax = float(np.max(np.abs(v))) if len(v) else 0.0
    reach = np.degrees(reach_rad(rpz, lookahead, np.abs(v), vmax))
    # Keep the Mercator bounds finite: its members stay 2ρ clear of the poles.
    limit = min(MERCATOR_LIMIT_DEG, 89.0 - 3.0 * float(np.max(reach, initial=0.0)))
    charts: list[Chart] = []
    if limit > 0.0:
        members = np.flatnonzero(np.abs(lat) < limit + reach).astype(np.int64)
        charts.append(_mercator(members, lat, lon, u, v, rpz, vmax, lookahead, limit))
    else:
        limit = 0.0
    polar = np.flatnonzero(np.abs(lat) + reach >= limit)  # may reach a polar band
    for south, north in ((-90.0, -limit), (limit, 90.0)) if polar.size > 1 else ():
        edges = list(_band_edges(south, north, BAND_KAPPA))
        for a, b in itertools.pairwise(edges):
            inside = (lat[polar] + reach[polar] > a) & (lat[polar] - reach[polar] < b)
            members = polar[inside].astype(np.int64)
            # The outermost bands also answer for a mean latitude of exactly ±90°.
            answers = (-math.inf if a == -90.0 else a, math.inf if b == 90.0 else b)
            if len(members) > 1:
                charts.append(_band(members, lat, lon, u, v, rpz, lookahead, (a, b), answers))
    return charts


def _mercator(
    members: IntArray,
    lat: FloatArray,
    lon: FloatArray,
    u: FloatArray,
    v: FloatArray,
    rpz: float,
    vmax: float,
    lookahead: float,
    limit: float,
) -> MercatorChart:
    phi = np.radians(lat[members])
    sin_phi = np.sin(phi)
    sec = 1.0 / np.cos(phi)
    lam = np.radians((lon[members] + 180.0) % 360.0)  # [0, 2π): BlueSky's wrap of Δλ
    pos = np.vstack([R * lam, R * np.arctanh(sin_phi)])
    uu, vv = u[members], v[members]
    speed = np.vstack([np.abs(uu), np.abs(vv)])
    rho_end = reach_rad(rpz, lookahead, speed[1], vmax)
    rho_rate = (rho_end - 0.5 * rpz / R) / max(lookahead, 1e-9)
    far = np.minimum(np.abs(phi) + rho_end, _NEAR_POLE)
    g = np.tan(far) / np.cos(far)  # sec' = sec·tan, increasing in |φ|
    far = np.minimum(np.abs(phi) + 2.0 * rho_end, _NEAR_POLE)
    sec_far = 1.0 / np.cos(far)
    f = sec_far**3 + sec_far * np.tan(far) ** 2  # sec'' = sec³ + sec·tan²
    vel = np.vstack([uu * sec, vv * sec])
    # Two members' mean latitude is below the limit when both latitudes are.
    answers_all = bool(np.all(np.abs(lat[members]) < limit))
    return MercatorChart(members, pos, vel, sec, speed, rho_rate, g, f, rpz, limit, answers_all)


def _band(
    members: IntArray,
    lat: FloatArray,
    lon: FloatArray,
    u: FloatArray,
    v: FloatArray,
    rpz: float,
    lookahead: float,
    band: tuple[float, float],
    lat_range: tuple[float, float],
) -> BandChart:
    c0, kappa = band_fit(*band)
    y = R * np.radians(lat[members])
    period = 2.0 * math.pi * R * c0
    east = u[members]
    widest = 2.0 * (1.0 + kappa) * (float(np.max(np.abs(east))) * lookahead + rpz) + 4.0
    if not math.isfinite(kappa) or period < 3.0 * widest:  # no usable east axis
        return BandChart(members, y[None, :], v[members][None, :], rpz, 0.0, None, lat_range)
    x = R * c0 * np.radians((lon[members] + 180.0) % 360.0)
    pos, vel = np.vstack([x, y]), np.vstack([east, v[members]])
    return BandChart(members, pos, vel, rpz, kappa, period, lat_range)


def band_edges(south: float, north: float, kappa: float = BAND_KAPPA) -> FloatArray:
    """Latitude band edges (degrees, ascending) covering ``[south, north]``.

    Greedy from ``south``: each band as tall as it can be with an east-scale error
    ``κ <= kappa`` (at most 20°, at least 0.5°); beyond ±85° a band is a polar cap.

    >>> band_edges(80.0, 90.0).round(2).tolist()
    [80.0, 80.93, 81.77, 82.51, 83.21, 83.83, 84.39, 84.89, 85.0, 90.0]
    >>> band_edges(-1.0, 1.0).tolist()
    [-1.0, 1.0]
    """
    return np.array(_band_edges(south, north, kappa), dtype=np.float64)


@functools.lru_cache(maxsize=64)
def _band_edges(south: float, north: float, kappa: float) -> tuple[float, ...]:
    """:func:`band_edges`, remembered: the greedy fit costs a millisecond per call."""
    edges = [south]
    while edges[-1] < north:
        a = edges[-1]
        if a >= POLAR_CAP_DEG:
            b = 90.0
        elif a < -POLAR_CAP_DEG:
            b = -POLAR_CAP_DEG
        else:
            b = min(a + 20.0, POLAR_CAP_DEG)
            while b - a > 0.5 and band_fit(a, b)[1] > kappa:
                b = max(a + (b - a) * 0.9, a + 0.5)
        edges.append(min(b, north))
    return tuple(edges)


def band_fit(a: float, b: float) -> tuple[float, float]:
    """``(c0, κ)`` for the band ``[a, b]`` (degrees): the best east scale and its error.

    ``κ = max |c0/cos φ - 1|`` over the band, minimised by
    ``c0 = 2/(1/cos φ_near + 1/cos φ_far)``.

    >>> c0, kappa = band_fit(0.0, 10.0)
    >>> round(c0, 4), round(kappa, 4)
    (0.9923, 0.0077)
    """
    if b >= 90.0 or a <= -90.0:
        return 1.0, math.inf
    near = 0.0 if a < 0.0 < b else min(abs(a), abs(b))
    far = max(abs(a), abs(b))
    m1, m2 = 1.0 / math.cos(math.radians(near)), 1.0 / math.cos(math.radians(far))
    return 2.0 / (m1 + m2), (m2 - m1) / (m2 + m1)

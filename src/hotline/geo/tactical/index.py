"""Candidate pairs for tactical detection: time slabs over metric charts.

A pair of tracks can only be in conflict at some time ``t`` in ``(0, T)`` if, at that
``t``, their horizontal separation *in the detection frame* is below ``rpz`` and their
vertical separation below ``hpz``. The look-ahead is cut into ``S`` slabs
``[t0, t1]``. In each slab every track gets a box in a metric *chart*
(:mod:`hotline.geo.tactical.charts`): the box of its straight-line positions over the
slab, widened by ``rpz/2`` (``hpz/2`` vertically) and by a per-track *margin* that
bounds how far the chart may misplace it relative to the detection frame. The boxes
are joined with :func:`~hotline.geo.tactical.join.overlapping_boxes`; a pair that
overlaps in any slab is a candidate, and only candidates get the exact CPA maths.

Why no conflict is missed. Suppose the pair ``(i, j)`` is in loss of separation at
``t`` in slab ``[t0, t1]`` of the detection frame, and the chart answering for it (each
pair is answered for by exactly one chart, chosen by its mean latitude, and both
tracks are members of it) misplaces each track by at most its margin. Then on each
horizontal chart axis their separation at ``t`` is below ``rpz`` plus both margins
(scaled as the chart scales distances), and vertically below ``hpz`` (altitude is the
same in every frame). During the slab a track moves at most ``|speed|·τ/2`` per axis
from where it is at mid-slab, so the mid-slab centres differ by less than the sum of
the two half-widths on every axis: the boxes overlap, and the join, which is exact
(:mod:`hotline.geo.tactical.join`), reports the pair. Rounding is absorbed by a 1 m
horizontal and 1 cm vertical widening. The brute-force property tests in
``tests/geo/test_tactical.py`` check this end to end.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hotline.geo.tactical.charts import Chart
from hotline.geo.tactical.join import overlapping_boxes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

V_TOL_M = 0.01  # m: vertical widening; covers |Δvs| <= 1e-6 m/s being treated as level
MAX_SLABS = 12
SLAB_COST_K = 0.0023  # fitted: see slab_count
# 1 / area of each 1° cell in (100 km)², row by row from the south (1° of latitude is
# 111.2 km), floored near the poles: the crowding measure of slab_count.
_INVERSE_CELL_AREA = np.repeat(
    1.0 / (1.112**2 * np.maximum(np.cos(np.radians(np.arange(180) - 89.5)), 0.01)), 360
)


@dataclass(frozen=True)
class Vertical:
    """What every chart shares: altitude (m), vertical speed (m/s) and ``hpz`` (m)."""

    alt: FloatArray
    vs: FloatArray
    hpz: float


def slab_count(
    lat: FloatArray, lon: FloatArray, gs: FloatArray, rpz: float, lookahead: float
) -> int:
    """How many slabs to cut the look-ahead into: a cost model, not a correctness matter.

    Each slab costs a pass over all tracks; longer slabs make bigger boxes and more
    candidates, more so where traffic is crowded. With ``a`` the number of protection
    radii a fast track covers in the look-ahead and ``D`` the crowding (tracks per
    (100 km)² around the average track, from a 1° grid), the cost
    ``S + k·D·S·(1 + a/S)²`` is least at ``S = a·√(kD / (1 + kD))``; ``k`` was fitted on
    the benchmark's dense, European and world traffic.

    >>> lat = np.linspace(49.0, 51.0, 10000)
    >>> slab_count(lat, np.linspace(5.0, 11.0, 10000), np.full(10000, 250.0), 9260.0, 300.0)
    7
    """
    if lookahead <= 0.0 or len(gs) < 2:
        return 1
    a = lookahead * float(np.max(gs)) / rpz
    row = np.clip(np.floor(lat + 90.0), 0, 179).astype(np.int64)
    col = np.floor((lon + 180.0) % 360.0).astype(np.int64) % 360
    counts = np.bincount(row * 360 + col, minlength=180 * 360).astype(np.float64)
    crowding = float(np.sum(counts * counts * _INVERSE_CELL_AREA)) / len(gs)
    kd = SLAB_COST_K * crowding
    return int(min(MAX_SLABS, max(1, round(a * math.sqrt(kd / (1.0 + kd))))))


def candidate_pairs(
    charts: Sequence[Chart], vertical: Vertical, lat: FloatArray, lookahead: float, slabs: int
) -> IntArray:
    """Sorted unique codes ``i * n + j`` (``i < j``) of pairs whose boxes ever overlap."""
    n = len(vertical.alt)
    found: list[IntArray] = []
    for t0, t1 in _slabs(lookahead, slabs):
        for chart in charts:
            a, b = _chart_pairs(chart, vertical, t0, t1)
            keep = chart.accept(lat, a, b)
            if keep is not None:
                a, b = a[keep], b[keep]
            found.append(np.minimum(a, b) * n + np.maximum(a, b))
    codes = np.sort(np.concatenate(found)) if found else np.empty(0, np.int64)
    if len(codes) > 1:
        codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
    return codes


def _slabs(lookahead: float, slabs: int) -> Iterator[tuple[float, float]]:
    step = lookahead / slabs
    for k in range(slabs):
        yield k * step, (k + 1) * step


def _chart_pairs(
    chart: Chart, vertical: Vertical, t0: float, t1: float
) -> tuple[IntArray, IntArray]:
    """Pairs of members (as track indices) whose slab boxes overlap in this chart."""
    members = chart.members
    if len(members) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    centre, half = chart.horizontal(t0, t1)
    period = chart.period
    if period is not None and 6.0 * float(np.max(half[0])) > period:
        # Boxes too wide to wrap around the globe (extreme speeds or look-aheads): no
        # filtering on that axis at all, which is always safe.
        centre[0], half[0], period = 0.0, 1.0, None
    mid, half_tau = 0.5 * (t0 + t1), 0.5 * (t1 - t0)
    vs = vertical.vs[members]
    z = vertical.alt[members] + vs * mid
    zh = np.abs(vs) * half_tau + (0.5 * vertical.hpz + V_TOL_M)
    lo = np.vstack([centre - half, z - zh])
    hi = np.vstack([centre + half, z + zh])
    d = lo.shape[0] - 1  # the altitude axis
    if d == 1:  # a polar cap: north and altitude only
        strata, sweep = (0, 1), 0
    else:  # cells on the widest horizontal axis and altitude, sweep the next widest
        spread = (hi[:d].max(axis=1) - lo[:d].min(axis=1)).tolist()
        ranked = sorted(range(d), key=lambda ax: -spread[ax])
        strata, sweep = (ranked[0], d), ranked[1]
    # Pairs met in several strata repeat; candidate_pairs deduplicates all slabs at once.
    a, b = overlapping_boxes(lo, hi, strata=strata, sweep=sweep, period=period, once=False)
    return members[a], members[b]

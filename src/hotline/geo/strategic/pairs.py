"""From candidate pairs of pieces to conflicts between volumes, vectorised.

The filters run cheapest first, each on what the previous one left: parties, time
windows, altitude bands, the distance between piece centres (a lower bound); only the
survivors have their shapes measured (``_strategic_refine``).  Pieces of the same two
volumes are then merged, keeping the least horizontal distance.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from hotline.geo import geodesy as geo
from hotline.geo.strategic.arrays import VolumeArrays
from hotline.geo.strategic.candidates import SpaceTimeIndex
from hotline.geo.strategic.refine import axis_bound_m, horizontal_m

F64 = geo.F64
I64 = geo.I64
Triple = tuple[float, float, float]  # lateral_m, vertical_m, time_buffer_s

# Widening (metres) of a band given in a datum, to cover every WGS84 ellipsoidal height it
# may stand for: EGM2008 geoid undulation lies in -106.2..+85.8 m; ground lies between
# the Dead Sea shore (-430.5 m) and Everest (8,848.9 m) above mean sea level.
DATUM_DOWN_M = np.array([0.0, -107.0, -107.0 - 431.0])  # WGS84, MSL, AGL
DATUM_UP_M = np.array([0.0, 86.0, 86.0 + 8849.0])


#: Up to this many pairs of pieces are measured in one round (see _least_horizontal_m).
_ONE_ROUND = 64


class Rules:
    """The minima of every pair of parties, as a table indexed by party codes.

    ``table[i, j]`` is ``(lateral_m, vertical_m, time_buffer_s)`` for parties with codes
    ``i`` and ``j``; codes are handed out as party names are met.
    """

    def __init__(self, default: Triple, pairs: dict[tuple[str, str], Triple]) -> None:
        self.default, self.pairs = default, pairs
        self.reach_m = max([default[0]] + [m[0] for m in pairs.values()])
        self.max_buffer_s = max([default[2]] + [m[2] for m in pairs.values()])
        self.codes: dict[str, int] = {}
        self.table = np.zeros((0, 0, 3))
        self._cache: dict[tuple[str, ...], I64] = {}

    def party_codes(self, party_names: tuple[str, ...]) -> I64:
        """Codes of ``party_names`` in the table (then -1, the code of no party)."""
        cached = self._cache.get(party_names)
        if cached is None:
            if any(p not in self.codes for p in party_names):
                for p in party_names:
                    self.codes.setdefault(p, len(self.codes))
                self._rebuild()
            cached = np.array([self.codes[p] for p in party_names] + [-1], dtype=np.int64)
            self._cache[party_names] = cached
        return cached

    def _rebuild(self) -> None:
        n = len(self.codes)
        self.table = np.tile(np.array(self.default, dtype=np.float64), (n, n, 1))
        for (one, two), minima in self.pairs.items():
            if one in self.codes and two in self.codes:
                i, j = self.codes[one], self.codes[two]
                self.table[i, j] = self.table[j, i] = minima

    def trees(self, vs: VolumeArrays, *, build: bool = True) -> SpaceTimeIndex:
        """The candidate search over the pieces of ``vs``."""
        start, end = self.windows(vs, vs.piece_volume)
        party = vs.party_code[vs.piece_volume].astype(np.int64)
        return SpaceTimeIndex(vs.ref_normal, vs.cap_m, start, end, party, build=build)

    def windows(self, vs: VolumeArrays, volumes: I64) -> tuple[F64, F64]:
        """Start and end (epoch seconds) of ``volumes`` widened by the largest buffer."""
        return vs.start_s[volumes] - self.max_buffer_s, vs.end_s[volumes] + self.max_buffer_s


class Found(NamedTuple):
    """Conflicts found: volumes ``a[va[k]]`` and ``b[vb[k]]`` and what was measured."""

    a: VolumeArrays
    va: I64
    b: VolumeArrays
    vb: I64
    start_s: F64
    end_s: F64
    horizontal_m: F64
    vertical_m: F64


def evaluate(a: VolumeArrays, pa: I64, b: VolumeArrays, pb: I64, rules: Rules) -> Found:
    """The conflicts among candidate pairs of pieces ``(a[pa[k]], b[pb[k]])``.

    ``a`` and ``b`` may be the same set (all-pairs detection) or not (a new volume
    against stored ones; then pairs with equal ids are skipped too).
    """
    va, vb = a.piece_volume[pa], b.piece_volume[pb]
    ca = rules.party_codes(a.party_names)[a.party_code[va]]
    cb = rules.party_codes(b.party_names)[b.party_code[vb]]
    lateral, vertical, buffer = rules.table[ca, cb].T
    start = np.maximum(a.start_s[va], b.start_s[vb]) - buffer
    end = np.minimum(a.end_s[va], b.end_s[vb]) + buffer
    kept = _keep((ca != cb) & (start < end), pa, pb, va, vb, lateral, vertical, start, end)
    pa, pb, va, vb, lateral, vertical, start, end = kept
    if pa.size:  # time is the most selective test: skip the rest when nothing is left
        gap = vertical_gap_m(a, va, b, vb)
        keep = np.round(gap, 3) < vertical
        if a is not b:
            keep &= a.ids[va] != b.ids[vb]
        # The chord between centres never exceeds the geodesic, so this lower bound of
        # the horizontal distance drops only pairs that are separated for certain.
        bound = np.linalg.norm(a.ref_xyz[pa] - b.ref_xyz[pb], axis=1) - a.cap_m[pa] - b.cap_m[pb]
        keep &= bound < lateral
        kept = _keep(keep, pa, pb, va, vb, lateral, start, end, gap)
        pa, pb, va, vb, lateral, start, end, gap = kept
        bound = axis_bound_m(a, pa, b, pb)  # tighter, and still cheap
        pa, pb, va, vb, lateral, start, end, gap, bound = _keep(
            bound < lateral, pa, pb, va, vb, lateral, start, end, gap, bound
        )
        horizontal = _least_horizontal_m(a, pa, va, b, pb, vb, lateral, bound)
    else:
        gap = horizontal = start
    keep = np.round(horizontal, 3) < lateral
    return _merge(
        Found(a, va[keep], b, vb[keep], start[keep], end[keep], horizontal[keep], gap[keep])
    )


def _least_horizontal_m(
    a: VolumeArrays,
    pa: I64,
    va: I64,
    b: VolumeArrays,
    pb: I64,
    vb: I64,
    lateral: F64,
    bound: F64,
) -> F64:
    """Horizontal distances of piece pairs, measuring only what the least per volume needs.

    First the most promising pair of pieces of each pair of volumes (least ``bound``) is
    measured; then only the other pairs whose lower bound beats that distance.  Pairs not
    measured get +inf: they cannot lower their volumes' least distance.  A handful of
    pairs (one new volume's check) is measured in one go: fewer calls beat less work.
    """
    # The smaller id always plays "a", so a pair is measured the same way whatever the
    # order of the volumes or the path (all pairs or one new volume): results are exactly
    # symmetric.
    swap = a.ids[va] > b.ids[vb]

    def measure(rows: I64) -> F64:
        return horizontal_m(a, pa[rows], b, pb[rows], lateral[rows], swap[rows])

    if pa.shape[0] <= _ONE_ROUND:
        return horizontal_m(a, pa, b, pb, lateral, swap)
    pair = _pair_key(a, va, b, vb)
    order = np.lexsort((bound, pair))
    head = np.ones(order.shape[0], dtype=bool)
    head[1:] = pair[order][1:] != pair[order][:-1]
    horizontal = np.full(pa.shape[0], np.inf)
    first = order[head]
    horizontal[first] = measure(first)
    best = np.full(pa.shape[0], np.inf)
    best[order] = np.repeat(horizontal[first], np.diff(np.append(np.flatnonzero(head), head.size)))
    # A pair of volumes already found touching (0 m, the least there is) is done: about
    # half of the volume pairs that reach this point overlap.
    rest = np.flatnonzero(np.isinf(horizontal) & (bound < best) & (bound < lateral) & (best > 0.0))
    if rest.size:
        horizontal[rest] = measure(rest)
    return horizontal


def _pair_key(a: VolumeArrays, va: I64, b: VolumeArrays, vb: I64) -> I64:
    """One integer per pair of volumes ((i, j) and (j, i) alike when ``a is b``)."""
    if a is b:
        va, vb = np.minimum(va, vb), np.maximum(va, vb)
    return np.asarray(va * np.int64(len(b)) + vb, dtype=np.int64)


def _keep(mask: Any, *arrays: Any) -> list[Any]:
    return [array[mask] for array in arrays]


def merge(parts: list[Found]) -> Found:
    """Found conflicts of the same two sets, concatenated and merged (see ``_merge``)."""
    if len(parts) == 1:
        return parts[0]
    joined = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in ("va", "vb", "start_s", "end_s", "horizontal_m", "vertical_m")
    }
    return _merge(Found(a=parts[0].a, b=parts[0].b, **joined))


def _merge(found: Found) -> Found:
    """One row per pair of volumes, with the least horizontal distance of its pieces."""
    va, vb = found.va, found.vb
    if found.a is found.b:  # all-pairs: (i, j) and (j, i) are the same pair
        va, vb = np.minimum(found.va, found.vb), np.maximum(found.va, found.vb)
    order = np.lexsort((found.horizontal_m, vb, va))
    va, vb = va[order], vb[order]
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = (va[1:] != va[:-1]) | (vb[1:] != vb[:-1])
    rows = order[first]
    return Found(
        found.a,
        va[first],
        found.b,
        vb[first],
        found.start_s[rows],
        found.end_s[rows],
        found.horizontal_m[rows],
        found.vertical_m[rows],
    )


def vertical_gap_m(a: VolumeArrays, va: I64, b: VolumeArrays, vb: I64) -> F64:
    """Gap (metres) between the altitude bands of ``a[va]`` and ``b[vb]``, 0 if they overlap.

    Bands in different datums are first widened by ``DATUM_DOWN_M``/``DATUM_UP_M``.
    """
    da, db = a.datum[va], b.datum[vb]
    mixed = da != db
    low_a = a.alt_lower_m[va] + np.where(mixed, DATUM_DOWN_M[da], 0.0)
    high_a = a.alt_upper_m[va] + np.where(mixed, DATUM_UP_M[da], 0.0)
    low_b = b.alt_lower_m[vb] + np.where(mixed, DATUM_DOWN_M[db], 0.0)
    high_b = b.alt_upper_m[vb] + np.where(mixed, DATUM_UP_M[db], 0.0)
    return np.asarray(np.maximum(np.maximum(low_a, low_b) - np.minimum(high_a, high_b), 0.0))


def piece_product(q: VolumeArrays, qv: I64, r: VolumeArrays, rv: I64) -> tuple[I64, I64]:
    """Every pair of pieces of volumes ``q[qv[k]]`` and ``r[rv[k]]``, for each k."""
    nq = q.piece_offsets[qv + 1] - q.piece_offsets[qv]
    nr = r.piece_offsets[rv + 1] - r.piece_offsets[rv]
    pairs = nq * nr
    which = np.repeat(np.arange(qv.shape[0]), pairs)
    local = geo.ragged_arange(np.zeros_like(pairs), pairs)
    return (
        q.piece_offsets[qv][which] + local // nr[which],
        r.piece_offsets[rv][which] + local % nr[which],
    )


def rfc3339(seconds: F64) -> list[str]:
    """RFC 3339 UTC text for epoch seconds, with microseconds only where there are any.

    >>> rfc3339(np.array([1740823200.0, 1740823200.25]))
    ['2025-03-01T10:00:00Z', '2025-03-01T10:00:00.250000Z']
    """
    if seconds.size == 0:
        return []
    # Windows share their ends often: format each distinct instant once.
    distinct, inverse = np.unique(np.round(seconds * 1e6).astype(np.int64), return_inverse=True)
    stamp = distinct.astype("datetime64[us]")
    text = np.where(
        distinct % 1_000_000 == 0,
        np.datetime_as_string(stamp, unit="s"),
        np.datetime_as_string(stamp, unit="us"),
    )
    return (np.char.add(text, "Z")[inverse]).tolist()  # type: ignore[no-any-return]

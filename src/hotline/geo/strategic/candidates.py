"""Candidate pairs for strategic detection: time slabs of KD-trees over piece centres.

Each piece has a centre (unit surface normal ``n``), a cap radius ``cap_m`` within which
it lies, and its volume's time window (already widened by the largest time buffer).  Two
pieces can only conflict when their windows overlap and

    |n_a - n_b| <= (cap_a + cap_b + reach_m) / M_MIN_M,

because a geodesic of length ``s`` turns the surface normal by at most ``s / M_MIN_M``;
unit normals need no special case at the antimeridian or the poles.

Time is cut into slabs of one typical window length.  A piece is put in every slab its
window touches (one or two, usually); within a slab, pieces are grouped by cap radius
(powers of two) so that a few large pieces do not widen the search around every small
one, and each group has its own ``scipy.spatial.cKDTree``.  Two pieces whose windows
overlap share a slab, and a pair is reported only from the first slab both are in, so
each pair comes out once.  Pieces whose windows span more than ``LONG_SLABS`` slabs are
"long" and kept in one set of trees of their own, searched without regard to time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from hotline.geo import geodesy as geo

F64 = geo.F64
I64 = geo.I64

#: Caps under this many metres share the smallest group.
_SMALLEST_CAP_M = 4096.0
#: Windows touching more slabs than this are kept apart, searched in space only.
LONG_SLABS = 8
#: Widen every search radius by this factor against rounding.
_SLACK = 1.0 + 1e-9
_NONE = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class _Group:
    members: I64  # indices of the pieces in this group
    tree: cKDTree
    cap_max_m: float


class CapGroups:
    """KD-trees over some pieces' centres, one per power-of-two class of cap radius."""

    def __init__(self, members: I64, normals: F64, cap_m: F64) -> None:
        key = np.floor(np.log2(np.maximum(cap_m[members], _SMALLEST_CAP_M)))
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        self.groups = [
            _Group(m, cKDTree(normals[m]), float(cap_m[m].max()))
            for m in (members[o] for o in np.split(order, bounds))
            if m.size
        ]

    def self_pairs(self, reach_m: float) -> tuple[I64, I64]:
        """Pairs of members that may be within ``reach_m`` of each other, each once."""
        firsts, seconds = [_NONE], [_NONE]
        for k, one in enumerate(self.groups):
            pairs = one.tree.query_pairs(_radius(2 * one.cap_max_m, reach_m), output_type="ndarray")
            firsts.append(one.members[pairs[:, 0]])
            seconds.append(one.members[pairs[:, 1]])
            for two in self.groups[k + 1 :]:
                i, j = _join(one, two, reach_m)
                firsts.append(i)
                seconds.append(j)
        return np.concatenate(firsts), np.concatenate(seconds)

    def cross_pairs(self, other: CapGroups, reach_m: float) -> tuple[I64, I64]:
        """Pairs (member of self, member of other) that may be within ``reach_m``."""
        pairs = [_join(one, two, reach_m) for one in self.groups for two in other.groups]
        return (
            np.concatenate([_NONE] + [p[0] for p in pairs]),
            np.concatenate([_NONE] + [p[1] for p in pairs]),
        )

    def query(self, normals: F64, cap_m: F64, reach_m: float) -> tuple[I64, I64]:
        """Pairs ``(q, i)``: query piece ``q`` may be within ``reach_m`` of member ``i``."""
        queries, found = [_NONE], [_NONE]
        for one in self.groups:
            radius = _radius(cap_m + one.cap_max_m, reach_m)
            hits = one.tree.query_ball_point(normals, radius, return_sorted=False)
            counts = np.fromiter((len(h) for h in hits), np.int64, len(hits))
            if counts.any():
                queries.append(np.repeat(np.arange(len(hits)), counts))
                found.append(one.members[np.concatenate(hits).astype(np.int64)])
        return np.concatenate(queries), np.concatenate(found)


def _radius(cap_sum_m: F64 | float, reach_m: float) -> F64:
    """Search radius on unit normals for pieces with these caps (see module docstring)."""
    return np.asarray((np.asarray(cap_sum_m) + reach_m) / geo.M_MIN_M * _SLACK)


def _join(one: _Group, two: _Group, reach_m: float) -> tuple[I64, I64]:
    radius = float(_radius(one.cap_max_m + two.cap_max_m, reach_m))
    near = one.tree.sparse_distance_matrix(two.tree, radius, output_type="ndarray")
    return one.members[near["i"]], two.members[near["j"]]


class SpaceTimeIndex:
    """Candidate search over pieces in space and time (see the module docstring).

    Parameters
    ----------
    normals : (n, 3) array
        Unit surface normals of the piece centres.
    cap_m : (n,) array
        Radius, metres, of a geodesic cap around each centre holding the whole piece.
    start_s, end_s : (n,) arrays
        Each piece's time window, epoch seconds, widened by the largest time buffer.
    party : (n,) int array, optional
        Each piece's party: ``self_pairs`` then drops pairs of one party early (and pairs
        whose windows do not overlap), before they fill big arrays.
    build : bool
        Build every slab's trees now (for many queries); otherwise each is built when
        first needed, by whichever thread needs it.
    """

    def __init__(
        self,
        normals: F64,
        cap_m: F64,
        start_s: F64,
        end_s: F64,
        party: I64 | None = None,
        *,
        build: bool = True,
    ) -> None:
        self.normals, self.cap_m = normals, cap_m
        self.start_s, self.end_s, self.party = start_s, end_s, party
        self.slab_s = max(float(np.median(end_s - start_s)), 60.0) if cap_m.size else 3600.0
        self.t0 = float(start_s.min()) if cap_m.size else 0.0
        first, last = self.slab_of(start_s), self.slab_of(end_s)
        long = last - first >= LONG_SLABS
        self.first_slab = first
        self.long = CapGroups(np.flatnonzero(long), normals, cap_m)
        short = np.flatnonzero(~long)
        copies = last[short] - first[short] + 1
        piece = np.repeat(short, copies)
        slab = first[piece] + geo.ragged_arange(np.zeros_like(copies), copies)
        order = np.argsort(slab, kind="stable")
        slab, piece = slab[order], piece[order]
        cuts = np.flatnonzero(np.diff(slab)) + 1
        self.members = {
            int(s[0]): p
            for s, p in zip(np.split(slab, cuts), np.split(piece, cuts), strict=True)
            if s.size
        }
        self._groups: dict[int, CapGroups] = {}
        if build:
            for key in self.members:
                self.groups(key)

    def slab_of(self, seconds: F64) -> I64:
        """Index of the slab holding each instant."""
        return np.floor((seconds - self.t0) / self.slab_s).astype(np.int64)

    def groups(self, slab: int) -> CapGroups:
        """The trees of one slab (which must hold pieces), built on first use."""
        found = self._groups.get(slab)
        if found is None:
            found = self._groups[slab] = CapGroups(self.members[slab], self.normals, self.cap_m)
        return found

    def self_pairs(self, reach_m: float, part: int = 0, parts: int = 1) -> tuple[I64, I64]:
        """Every pair of pieces ``(i, j)`` that may conflict, each at least once.

        With ``parts > 1``, only the share ``part`` of the slabs is searched, so that
        ``parts`` threads can search all of them (scipy releases the GIL while it does).
        """
        firsts, seconds = [_NONE], [_NONE]
        for slab in sorted(self.members)[part::parts]:
            groups = self.groups(slab)
            i, j = groups.self_pairs(reach_m)
            # Report a pair only from the first slab both pieces are in.
            keep = (np.maximum(self.first_slab[i], self.first_slab[j]) == slab) & self._may(i, j)
            firsts.append(i[keep])
            seconds.append(j[keep])
            i, j = groups.cross_pairs(self.long, reach_m)
            keep = (self.first_slab[i] == slab) & self._may(i, j)
            firsts.append(i[keep])
            seconds.append(j[keep])
        if part == 0:
            i, j = self.long.self_pairs(reach_m)
            keep = self._may(i, j)
            firsts.append(i[keep])
            seconds.append(j[keep])
        return np.concatenate(firsts), np.concatenate(seconds)

    def _may(self, i: I64, j: I64) -> NDArray[np.bool_]:
        """Pairs that may still conflict: windows overlapping, parties different."""
        keep = (self.start_s[i] < self.end_s[j]) & (self.start_s[j] < self.end_s[i])
        if self.party is not None:
            keep &= self.party[i] != self.party[j]
        return keep

    def query(
        self, normals: F64, cap_m: F64, start_s: F64, end_s: F64, reach_m: float
    ) -> tuple[I64, I64]:
        """Pairs ``(q, i)``: query piece ``q`` may conflict with indexed piece ``i``."""
        queries, found = [_NONE], [_NONE]
        first, last = self.slab_of(start_s), self.slab_of(end_s)
        slabs = range(int(first.min()), int(last.max()) + 1) if first.size else range(0)
        for slab in slabs:
            if slab in self.members:
                rows = np.flatnonzero((first <= slab) & (slab <= last))
                q, i = self.groups(slab).query(normals[rows], cap_m[rows], reach_m)
                queries.append(rows[q])
                found.append(i)
        q, i = self.long.query(normals, cap_m, reach_m)
        return np.concatenate([*queries, q]), np.concatenate([*found, i])

"""All pairs of overlapping axis-aligned boxes, without ever forming all pairs.

:func:`overlapping_boxes` is the spatial join under the tactical candidate filter. It is
a sweep inside strata:

1. Two axes (the *strata* axes) are cut into cells no larger than the largest box
   extent (times a factor). Each box is inserted into every stratum cell it overlaps:
   one to a few per box.
2. Inside each stratum the boxes are sorted by their lower bound on the *sweep* axis.
   A box ``a`` is paired with the boxes that follow it while their lower bound is below
   ``a``'s upper bound: exactly the boxes overlapping ``a`` on that axis and starting
   after it, so each overlapping pair is met once per shared stratum.
3. The remaining axes are tested exactly, and a pair is kept only in the stratum that
   holds the lower corner of the intersection of the two boxes on the strata axes. That
   stratum exists (both boxes contain that corner, so both were inserted there) and is
   unique, so every overlapping pair comes out exactly once.

All comparisons are strict (``lo_a < hi_b`` and ``lo_b < hi_a``): boxes that only touch
do not overlap. Cost is ``O(n log n)`` for the sort plus the number of pairs met in the
sweep, which the stratum size keeps within a small factor of the output.

An axis may be periodic with period ``P`` (longitude): boxes crossing the seam are
duplicated one period away, and a pair is kept only if the lower corner of its
intersection lies in ``[0, P)`` on that axis.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hotline.geo.geodesy import ragged_arange

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_EMPTY = np.empty(0, dtype=np.int64)


def overlapping_boxes(
    lo: FloatArray,
    hi: FloatArray,
    *,
    strata: tuple[int, int],
    sweep: int,
    period: float | None = None,
    cell_factor: tuple[float, float] = (2.5, 2.5),
    once: bool = True,
) -> tuple[IntArray, IntArray]:
    """Indices ``(a, b)`` of the boxes that overlap, each unordered pair once.

    Parameters
    ----------
    lo, hi : ndarray of shape (d, n)
        Lower and upper bounds of ``n`` boxes in ``d`` dimensions, ``lo <= hi``.
    strata : pair of int
        The two axes cut into cells.
    sweep : int
        The axis swept inside each cell.
    period : float, optional
        Period of axis 0, whose coordinates must lie in ``[0, period)`` up to the box
        extent; boxes no wider than ``period / 3``.
    cell_factor : pair of float
        Cell size on each strata axis as a multiple of the mean box extent there.
    once : bool
        False skips the step that keeps a pair met in several strata only once: each
        overlapping pair then comes out at least once, which is cheaper when the caller
        deduplicates anyway.

    Examples
    --------
    >>> lo = np.array([[0.0, 1.0, 5.0], [0.0, 1.0, 0.0]])
    >>> hi = np.array([[2.0, 3.0, 6.0], [2.0, 3.0, 1.0]])
    >>> a, b = overlapping_boxes(lo, hi, strata=(0, 1), sweep=0)
    >>> sorted(zip(a.tolist(), b.tolist()))
    [(0, 1)]
    """
    n = lo.shape[1]
    source = np.arange(n, dtype=np.int64)
    wrapped = period is not None and bool(np.any(lo[0] < 0.0) or np.any(hi[0] >= period))
    if wrapped:
        assert period is not None
        lo, hi, source = _wrap_images(lo, hi, 0, period)
    if lo.shape[1] < 2:
        return _EMPTY, _EMPTY
    a, b = _sweep_in_strata(lo, hi, strata, sweep, cell_factor, once)
    if wrapped:
        corner = np.maximum(lo[0][a], lo[0][b])
        own = (corner >= 0.0) & (corner < period) & (source[a] != source[b])
        a, b = a[own], b[own]
    return source[a], source[b]


def _wrap_images(
    lo: FloatArray, hi: FloatArray, axis: int, period: float
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Boxes plus copies shifted by one period for those crossing the seam."""
    below = np.flatnonzero(lo[axis] < 0.0)  # also visible at the far end
    above = np.flatnonzero(hi[axis] >= period)  # also visible at the near end
    shift = np.zeros((lo.shape[0], 1))
    shift[axis] = period
    lo2 = np.concatenate([lo, lo[:, below] + shift, lo[:, above] - shift], axis=1)
    hi2 = np.concatenate([hi, hi[:, below] + shift, hi[:, above] - shift], axis=1)
    source = np.concatenate([np.arange(lo.shape[1], dtype=np.int64), below, above])
    return lo2, hi2, source


def _sweep_in_strata(
    lo: FloatArray,
    hi: FloatArray,
    strata: tuple[int, int],
    sweep: int,
    cell_factor: tuple[float, float],
    once: bool,
) -> tuple[IntArray, IntArray]:
    ax1, ax2 = strata
    # Cell coordinates from the lowest bound, so that every one is >= 0 and
    # truncation is floor.
    lo1, hi1 = _from_min(lo[ax1], hi[ax1])
    lo2, hi2 = _from_min(lo[ax2], hi[ax2])
    cell1 = max(float(np.mean(hi1 - lo1)) * cell_factor[0], 1e-9)
    cell2 = max(float(np.mean(hi2 - lo2)) * cell_factor[1], 1e-9)
    box, stratum, n2, several = _insert(
        lo1 * (1.0 / cell1), hi1 * (1.0 / cell1), lo2 * (1.0 / cell2), hi2 * (1.0 / cell2)
    )
    # Sort insertions by (stratum, lower bound on the sweep axis) with one float key:
    # strata are integers and `span` exceeds every sweep coordinate.
    lo_s, hi_s = _from_min(lo[sweep], hi[sweep])
    span = float(hi_s.max()) + 1.0
    key = stratum * span + lo_s[box]
    order = np.argsort(key)
    box, stratum, key = box[order], stratum[order], key[order]
    # key[q] < key_end[p]: q is in p's stratum and starts before p ends on the sweep axis.
    key_end = stratum * span + hi_s[box]
    rest = [(lo[ax][box], hi[ax][box]) for ax in range(lo.shape[0]) if ax != sweep]
    pa, pb = _meet(key, key_end, rest)
    if not once:
        return box[pa], box[pb]
    # Keep each pair only in the stratum holding its intersection's lower corner; only
    # pairs of boxes that both sit in several strata can have met more than once.
    a, b = box[pa], box[pb]
    both = np.flatnonzero(several[a] & several[b])
    ab, bb = a[both], b[both]
    c1 = (np.maximum(lo1[ab], lo1[bb]) * (1.0 / cell1)).astype(np.int64)
    c2 = (np.maximum(lo2[ab], lo2[bb]) * (1.0 / cell2)).astype(np.int64)
    keep = np.ones(len(a), dtype=bool)
    keep[both[c1 * n2 + c2 != stratum[pa[both]]]] = False
    return a[keep], b[keep]


def _from_min(lo: FloatArray, hi: FloatArray) -> tuple[FloatArray, FloatArray]:
    base = lo.min()
    return lo - base, hi - base


def _meet(
    key: FloatArray, key_end: FloatArray, rest: list[tuple[FloatArray, FloatArray]]
) -> tuple[IntArray, IntArray]:
    """Pairs ``(p, p + k)`` with ``key[p + k] < key_end[p]`` overlapping on ``rest`` axes.

    ``key`` is sorted, so once ``key[p + k] >= key_end[p]`` the same holds for every larger
    ``k``: ``p`` is done. Works one offset ``k`` at a time, on contiguous slices (no
    gathers) while most insertions are still going, then on the shrinking set of those
    that are.
    """
    n = len(key)
    found_a: list[IntArray] = []
    found_b: list[IntArray] = []
    active: IntArray | None = None
    for k in range(1, n):
        if active is None:
            going = key[k:] < key_end[: n - k]
            ok = going
            for low, high in rest:
                ok = ok & (low[: n - k] < high[k:]) & (low[k:] < high[: n - k])
            p = np.flatnonzero(ok)
            alive = int(np.count_nonzero(going))
            if alive * 4 < n:
                active = np.flatnonzero(going)
        else:
            active = active[active < n - k]
            active = active[key[active + k] < key_end[active]]
            q = active + k
            ok = np.ones(len(active), dtype=bool)
            for low, high in rest:
                ok &= (low[active] < high[q]) & (low[q] < high[active])
            p = active[ok]
            alive = len(active)
        found_a.append(p)
        found_b.append(p + k)
        if alive == 0:
            break
    if not found_a:
        return _EMPTY, _EMPTY
    return np.concatenate(found_a), np.concatenate(found_b)


def _insert(
    lo1: FloatArray, hi1: FloatArray, lo2: FloatArray, hi2: FloatArray
) -> tuple[IntArray, IntArray, int, npt.NDArray[np.bool_]]:
    """(box, stratum) for every cell each box overlaps, the row length, and which boxes
    overlap several cells.

    Bounds are in cell units, all >= 0. Most boxes span at most 3 × 3 cells and are
    entered offset by offset, each offset on the boxes that reach it; the few larger
    ones through a ragged expansion.
    """
    i1 = lo1.astype(np.int64)
    i2 = lo2.astype(np.int64)
    k1 = hi1.astype(np.int64) - i1
    k2 = hi2.astype(np.int64) - i2
    n2 = int((i2 + k2).max()) + 1
    base = i1 * n2 + i2
    small = (k1 <= 2) & (k2 <= 2)
    boxes, strata = [], []
    row = np.flatnonzero(small)
    for d1 in range(3):  # each step keeps the boxes reaching one cell further
        if d1:
            row = row[k1[row] >= d1]
        sel = row
        for d2 in range(3):
            if d2:
                sel = sel[k2[sel] >= d2]
            boxes.append(sel)
            strata.append(base[sel] + (d1 * n2 + d2))
    large = np.flatnonzero(~small)
    if len(large):
        rows, cols = k2[large] + 1, k1[large] + 1
        box = np.repeat(large, rows * cols)
        cell = ragged_arange(np.zeros(len(large), dtype=np.int64), rows * cols)
        width = rows[np.repeat(np.arange(len(large)), rows * cols)]
        boxes.append(box)
        strata.append(base[box] + (cell // width) * n2 + cell % width)
    return np.concatenate(boxes), np.concatenate(strata), n2, (k1 > 0) | (k2 > 0)

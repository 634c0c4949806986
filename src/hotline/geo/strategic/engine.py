"""Strategic deconfliction: which declared 4D volumes of different parties conflict.

Two volumes of different parties conflict when all three hold:

* **time**: their windows, each widened by the time buffer on both sides, overlap for a
  positive duration (windows that merely touch, ``end == start``, do not);
* **vertical**: the gap between their altitude bands is less than the vertical minimum
  (bands that touch or overlap have a gap of 0);
* **lateral**: the least geodesic distance between their shapes is less than the lateral
  minimum (shapes that touch or overlap are 0 apart).

Comparisons are strict: a separation of exactly the minimum is separation.  Distances
are rounded to the millimetre before they are compared, so "exactly" is robust to the
last bits of floating point.

Altitudes in different datums (WGS84 ellipsoid, MSL, AGL) cannot be compared exactly
without a geoid and a terrain model, so each band is first widened to every ellipsoidal
height it could stand for anywhere on Earth (geoid undulation -107..+86 m, terrain
-431..+8,849 m): a mixed-datum pair is reported separated only when it is separated for
certain.  Bands in the same datum are compared as given.

The defaults are the minima the project takes from the Syria air-safety memorandum of
understanding (3 NM lateral, 3,000 ft vertical, no time buffer); every pair of parties
may have its own :class:`Minima`.

:func:`detect_all` finds every conflict in a :class:`~hotline.geo.volumes.VolumeSet`;
:class:`VolumeIndex` keeps volumes and checks one new volume against all of them.  Both
find candidates with KD-trees over the centres of volume pieces, slab by slab of time
(``_strategic_candidates``), filter them with NumPy on parties, time, altitude and lower
bounds of the distance (``_strategic_pairs``), and only then measure shapes exactly
(``_strategic_refine``).  ``docs/geo-strategic.md`` tells the whole design.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hotline.errors import ValidationError
from hotline.geo.strategic.arrays import VolumeArrays
from hotline.geo.strategic.checks import invalid
from hotline.geo.strategic.pairs import Found, Rules, evaluate, merge, piece_product, rfc3339
from hotline.geo.volumes import Volume, VolumeSet

__all__ = ["SYRIA_MOU", "ConflictRecord", "Minima", "PairMinima", "VolumeIndex", "detect_all"]


#: Volumes added to a :class:`VolumeIndex` are searched by brute force until there are
#: this many (or 1/16 of the indexed ones, at most ``_MAX_RECENT``); then trees are rebuilt.
_MIN_RECENT, _MAX_RECENT = 1024, 16384
#: Sets smaller than this are searched in one thread: threads cost more than they save.
_THREADED_FROM = 5000


@dataclass(frozen=True, slots=True)
class Minima:
    """Separation minima between two parties.

    Attributes
    ----------
    lateral_m : float
        Least horizontal distance between shapes, metres (> 0).  Default 3 NM = 5,556 m.
    vertical_m : float
        Least gap between altitude bands, metres (> 0).  Default 3,000 ft = 914.4 m.
    time_buffer_s : float
        Seconds added before and after each time window (>= 0).  Default 0.

    Examples
    --------
    >>> Minima()
    Minima(lateral_m=5556.0, vertical_m=914.4, time_buffer_s=0.0)
    >>> Minima(lateral_m=0)
    Traceback (most recent call last):
    ...
    hotline.errors.ValidationError: minima: lateral_m must be a positive number of metres, got 0
    """

    lateral_m: float = 5556.0  # 3 NM x 1,852 m
    vertical_m: float = 914.4  # 3,000 ft x 0.3048 m
    time_buffer_s: float = 0.0

    def __post_init__(self) -> None:
        for name, value, least in (
            ("lateral_m", self.lateral_m, "positive number of metres"),
            ("vertical_m", self.vertical_m, "positive number of metres"),
            ("time_buffer_s", self.time_buffer_s, "number of seconds, 0 or more"),
        ):
            ok = isinstance(value, int | float) and math.isfinite(value)
            if not ok or value < 0 or (value == 0 and name != "time_buffer_s"):
                raise ValidationError(
                    f"minima: {name} must be a {least}, got {value!r}", field=name
                )


#: The defaults: 3 NM lateral, 3,000 ft vertical, no time buffer.
SYRIA_MOU = Minima()

#: Minima for particular pairs of parties, keyed by ``frozenset({party_a, party_b})``.
PairMinima = Mapping[frozenset[str], Minima]


class ConflictRecord(NamedTuple):
    """One conflict between two volumes (an immutable, ordered named tuple).

    Attributes
    ----------
    a, b : str
        The volume ids, ``a < b``.
    start, end : str
        RFC 3339 UTC text: the overlap of the two windows as widened by the time buffer.
    horizontal_m : float
        Least horizontal distance between the shapes, metres (0 when they overlap).
    vertical_m : float
        Gap between the altitude bands, metres (0 when they overlap).
    """

    a: str
    b: str
    start: str
    end: str
    horizontal_m: float
    vertical_m: float

    def to_dict(self) -> dict[str, str | float]:
        """The record as a JSON-ready mapping."""
        return dict(self._asdict())


def detect_all(
    volumes: VolumeSet,
    minima: Minima = SYRIA_MOU,
    pair_minima: PairMinima | None = None,
    *,
    workers: int | None = None,
) -> list[ConflictRecord]:
    """Every conflict between volumes of different parties in ``volumes``.

    Parameters
    ----------
    volumes : VolumeSet
    minima : Minima
        Applied to every pair of parties not in ``pair_minima``.
    pair_minima : mapping of frozenset({party_a, party_b}) to Minima, optional
    workers : int, optional
        Threads sharing the work (SciPy, GEOS and NumPy release the GIL for most of it);
        default: one per CPU, at most 4, and one for small sets.  The result does not
        depend on it.

    Returns
    -------
    list of ConflictRecord
        Sorted by ``(a, b)``; the same for any order of ``volumes``.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2025, 3, 1, 10, tzinfo=UTC)
    >>> hour = timedelta(hours=1)
    >>> vs = VolumeSet.from_volumes([
    ...     Volume.circle("A1", "blue", 36.0, 35.0, 2000.0, 0, 3000, t0, t0 + 2 * hour),
    ...     Volume.circle("R1", "red", 36.05, 35.0, 2000.0, 2500, 4000, t0 + hour, t0 + 3 * hour),
    ... ])
    >>> [(r.a, r.b, r.start, r.end, round(r.horizontal_m, 1)) for r in detect_all(vs)]
    [('A1', 'R1', '2025-03-01T11:00:00Z', '2025-03-01T12:00:00Z', 564.4)]
    """
    rules = _rules(minima, pair_minima)
    index = rules.trees(volumes, build=False)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(volumes) >= _THREADED_FROM else 1
    rules.party_codes(volumes.party_names)  # fill the shared table before the threads start

    def share(part: int) -> Found:
        first, second = index.self_pairs(rules.reach_m, part, workers)
        return evaluate(volumes, first, volumes, second, rules)

    if workers == 1:
        return _records(share(0))
    with ThreadPoolExecutor(workers) as pool:
        return _records(merge(list(pool.map(share, range(workers)))))


class VolumeIndex:
    """Volumes kept for checking new ones against all of them, one at a time.

    Build it once from a :class:`~hotline.geo.volumes.VolumeSet`, then :meth:`add`
    volumes as they are declared and :meth:`check` a proposed one before accepting it.
    ``index.check(v)`` gives exactly the records of ``detect_all`` (on the indexed volumes
    plus ``v``) that involve ``v``.

    Volumes added after the trees were built are searched by brute force (vectorised,
    time windows first); when they grow past 1/16 of the indexed volumes (between 1,024
    and 16,384) the trees are rebuilt, so adding costs amortised microseconds and a check
    stays fast.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2025, 3, 1, 10, tzinfo=UTC)
    >>> index = VolumeIndex()
    >>> index.add(Volume.circle("A1", "blue", 36.0, 35.0, 2000.0, 0, 3000, t0,
    ...                         t0 + timedelta(hours=2)))
    >>> new = Volume.circle("R1", "red", 36.0, 35.07, 2000.0, 0, 3000, t0,
    ...                     t0 + timedelta(hours=1))
    >>> [(r.a, r.b, round(r.horizontal_m)) for r in index.check(new)]
    [('A1', 'R1', 3766)]
    """

    def __init__(
        self,
        volumes: VolumeSet | None = None,
        *,
        minima: Minima = SYRIA_MOU,
        pair_minima: PairMinima | None = None,
    ) -> None:
        self._rules = _rules(minima, pair_minima)
        self._stored = volumes if volumes is not None else VolumeSet.empty()
        self._trees = self._rules.trees(self._stored)
        self._recent = VolumeSet.empty()
        self._ids: set[str] = set(self._stored.ids.tolist())

    def __len__(self) -> int:
        return len(self._stored) + len(self._recent)

    def add(self, volume: Volume | VolumeSet) -> None:
        """Store a volume (or a set of them); ids must be new to the index.

        Raises
        ------
        ValidationError
            The volume is invalid or its id is already stored.
        """
        new = volume if isinstance(volume, VolumeSet) else VolumeSet.from_volumes([volume])
        for vid in new.ids.tolist():
            if vid in self._ids:
                raise invalid(f"volume {vid!r}", "properties.id", "already in the index")
        self._recent = VolumeSet(**VolumeArrays.concat_fields([self._recent, new]))
        self._ids.update(new.ids.tolist())
        if len(self._recent) > min(max(_MIN_RECENT, len(self._stored) // 16), _MAX_RECENT):
            self._stored = VolumeSet(**VolumeArrays.concat_fields([self._stored, self._recent]))
            self._trees = self._rules.trees(self._stored)
            self._recent = VolumeSet.empty()

    def check(self, volume: Volume | VolumeSet) -> list[ConflictRecord]:
        """Conflicts between ``volume`` (or each volume of a set) and the stored volumes.

        The volume itself is not stored; a stored volume with the same id is skipped.
        """
        query = volume if isinstance(volume, VolumeSet) else VolumeSet.from_volumes([volume])
        rules = self._rules
        start, end = rules.windows(query, query.piece_volume)
        mine, near = self._trees.query(query.ref_normal, query.cap_m, start, end, rules.reach_m)
        found = _records(evaluate(query, mine, self._stored, near, rules))
        if len(self._recent):
            # Few recent volumes overlap in time: pair only their pieces, by brute force.
            q_start, q_end = rules.windows(query, np.arange(len(query)))
            r_start, r_end = rules.windows(self._recent, np.arange(len(self._recent)))
            overlap = (q_start[:, None] < r_end[None, :]) & (r_start[None, :] < q_end[:, None])
            qv, rv = np.nonzero(overlap)
            mine, near = piece_product(query, qv, self._recent, rv)
            found += _records(evaluate(query, mine, self._recent, near, rules))
        return sorted(found)


def _rules(minima: Minima, pair_minima: PairMinima | None) -> Rules:
    """Check the minima of pairs of parties and put them in a :class:`Rules` table."""
    pairs: dict[tuple[str, str], tuple[float, float, float]] = {}
    for key, value in (pair_minima or {}).items():
        if not (
            isinstance(key, frozenset)
            and len(key) == 2
            and all(isinstance(p, str) and p for p in key)
        ):
            raise ValidationError(
                f"pair_minima: key {key!r} must be a frozenset of two different parties",
                field="pair_minima",
            )
        if not isinstance(value, Minima):
            raise ValidationError(
                f"pair_minima: the value for {sorted(key)} is not a Minima", field="pair_minima"
            )
        one, two = sorted(key)
        pairs[(one, two)] = (value.lateral_m, value.vertical_m, value.time_buffer_s)
    return Rules((minima.lateral_m, minima.vertical_m, minima.time_buffer_s), pairs)


def _records(found: Found) -> list[ConflictRecord]:
    """Conflict records, ``a < b`` in each, sorted."""
    if found.va.size == 0:
        return []
    first, second = found.a.ids[found.va], found.b.ids[found.vb]
    swap = second < first
    first, second = np.where(swap, second, first), np.where(swap, first, second)
    rows = zip(
        first.tolist(),
        second.tolist(),
        rfc3339(found.start_s),
        rfc3339(found.end_s),
        found.horizontal_m.tolist(),
        found.vertical_m.tolist(),
        strict=True,
    )
    make = tuple.__new__  # the fastest way to build many named tuples
    return [make(ConflictRecord, row) for row in sorted(rows)]

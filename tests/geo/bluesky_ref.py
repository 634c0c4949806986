"""BlueSky's own state-based detection, called on plain arrays, for reference in tests.

BlueSky's ``StateBased.detect`` reads ``lat, lon, alt, gs, trk, vs, id, ntraf`` from a
traffic object; :class:`TrafficArrays` is the least such object. Its geometry module
picks compiled or Python functions from ``bluesky.settings.prefer_compiled`` when first
imported; the compiled ``cgeo`` of bluesky-simulator 1.1.1 returns wrong bearings, so
:func:`load` pins ``prefer_compiled = False`` before anything of BlueSky's is imported and
checks that the Python functions were chosen.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass
class TrafficArrays:
    """The attributes of ``bluesky.traffic.Traffic`` that the detection reads."""

    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    gs: FloatArray
    trk: FloatArray
    vs: FloatArray
    id: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.id = list(range(len(self.lat)))

    @property
    def ntraf(self) -> int:
        return len(self.lat)


@dataclass(frozen=True)
class BlueSky:
    statebased: ModuleType
    cstatebased: ModuleType | None


def load() -> BlueSky:
    """Import BlueSky's detection with its Python geometry (quietly: it prints a lot)."""
    with contextlib.redirect_stdout(io.StringIO()):
        from bluesky import settings

        settings.set_variable_defaults(prefer_compiled=False)
        settings.prefer_compiled = False
        from bluesky.tools import geo
        from bluesky.traffic.asas import statebased

        try:
            from bluesky.traffic.asas import cstatebased
        except ImportError:  # pragma: no cover - depends on the wheel
            cstatebased = None
    if geo.kwikqdrdist_matrix.__module__ != "bluesky.tools.geo._geo":
        raise RuntimeError("BlueSky picked its compiled geometry; results would be wrong")
    return BlueSky(statebased=statebased, cstatebased=cstatebased)


def _call(fn: Any, traffic: TrafficArrays, rpz: float, hpz: float, lookahead: float) -> Any:
    n = traffic.ntraf
    return fn(traffic, traffic, np.full(n, rpz), np.full(n, hpz), np.full(n, lookahead))


def unordered(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """BlueSky lists each conflict once per aircraft; fold to ``(i, j)`` with ``i < j``."""
    return {(min(a, b), max(a, b)) for a, b in pairs}


def numpy_detect(
    bs: BlueSky, traffic: TrafficArrays, rpz: float, hpz: float, lookahead: float
) -> tuple[set[tuple[int, int]], set[tuple[int, int]], list[tuple[int, int]]]:
    """(conflict pairs, LoS pairs, raw directed conflict pairs) from ``StateBased``."""
    out = _call(lambda *a: bs.statebased.StateBased.detect(None, *a), traffic, rpz, hpz, lookahead)
    return unordered(out[0]), unordered(out[1]), list(out[0])


def compiled_detect(
    bs: BlueSky, traffic: TrafficArrays, rpz: float, hpz: float, lookahead: float
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(conflict pairs, LoS pairs) from the compiled ``cstatebased.detect``."""
    if bs.cstatebased is None:
        raise RuntimeError("BlueSky's compiled cstatebased is not available")
    out = _call(bs.cstatebased.detect, traffic, rpz, hpz, lookahead)
    return unordered(out[0]), unordered(out[1])

"""Fixtures for the geometry tests: tracks built in metres, BlueSky for reference."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from tests.geo import bluesky_ref

FloatArray = npt.NDArray[np.float64]
EARTH_R = 6371000.0  # BlueSky's flat-earth radius, m


@dataclass(frozen=True)
class Track:
    """One track in a local east/north frame (m) around a reference point."""

    east_m: float = 0.0
    north_m: float = 0.0
    alt_m: float = 10000.0
    gs_mps: float = 0.0
    trk_deg: float = 0.0
    vs_mps: float = 0.0


@dataclass(frozen=True)
class TrackArrays:
    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    gs: FloatArray
    trk: FloatArray
    vs: FloatArray

    def arrays(self) -> tuple[FloatArray, ...]:
        return self.lat, self.lon, self.alt, self.gs, self.trk, self.vs


def place(tracks: list[Track], lat0: float = 0.0, lon0: float = 0.0) -> TrackArrays:
    """Tracks as arrays, offsets turned into degrees with BlueSky's flat-earth scale.

    At the equator and for tracks on one latitude the conversion is exact in BlueSky's
    geometry, so hand-computed answers in metres hold.
    """
    lat = np.array([lat0 + math.degrees(t.north_m / EARTH_R) for t in tracks])
    scale = EARTH_R * math.cos(math.radians(lat0))
    lon = np.array(
        [(lon0 + math.degrees(t.east_m / scale) + 180.0) % 360.0 - 180.0 for t in tracks]
    )
    return TrackArrays(
        lat,
        lon,
        np.array([t.alt_m for t in tracks]),
        np.array([t.gs_mps for t in tracks]),
        np.array([t.trk_deg for t in tracks]),
        np.array([t.vs_mps for t in tracks]),
    )


@pytest.fixture
def placed() -> Callable[..., TrackArrays]:
    return place


@pytest.fixture(scope="session")
def bluesky() -> bluesky_ref.BlueSky:
    """BlueSky's state-based detection, its Python geometry pinned (see bluesky_ref)."""
    pytest.importorskip("bluesky")
    return bluesky_ref.load()

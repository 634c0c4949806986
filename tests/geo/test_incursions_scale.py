"""The fast incursion engine gives exactly the reference engine's answer, on random scenes.

``incursions_reference.reference_detect`` is the engine before issue 16 (reach boxes, one
area at a time). The fast one prunes by each track's path and batches the exact test; both
must report the same tracks, areas, entry times and points, bit for bit.

Scenes are drawn around a centre that may sit on the equator, at mid latitudes, across the
antimeridian (areas split as RFC 7946 asks, or written past 180°) or near a pole (where the
fast engine falls back to reach boxes). Areas are squares, circles, concave notched
polygons, polygons with holes and MultiPolygons, with open or closed altitude bands; tracks
are inside, on a vertex or edge, heading at an area, passing by, standing still, climbing
or descending, of either party.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
import shapely  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.geo.incursions import Areas, IncursionResult, detect
from tests.geo.incursions_reference import reference_detect

CENTRES = st.sampled_from([(0.0, 0.0), (50.0, 8.0), (-33.0, 151.0), (10.0, 179.9), (84.0, 0.0)])


def _shape(rng: np.random.Generator, lon: float, lat: float, kind: int) -> object:
    size = float(rng.uniform(0.02, 0.4))
    if kind == 0:
        return shapely.box(lon - size, lat - size / 2, lon + size, lat + size / 2)
    if kind == 1:
        return shapely.Point(lon, lat).buffer(size)
    if kind == 2:  # concave: a square with a notch cut from its south side
        return shapely.Polygon(
            [
                (lon - size, lat - size),
                (lon - size / 3, lat - size),
                (lon, lat),
                (lon + size / 3, lat - size),
                (lon + size, lat - size),
                (lon + size, lat + size),
                (lon - size, lat + size),
            ]
        )
    if kind == 3:  # a hole in the middle
        return shapely.box(lon - size, lat - size, lon + size, lat + size).difference(
            shapely.box(lon - size / 3, lat - size / 3, lon + size / 3, lat + size / 3)
        )
    return shapely.MultiPolygon(
        [
            shapely.box(lon - size, lat, lon - size / 2, lat + size / 2),
            shapely.box(lon + size / 2, lat - size / 2, lon + size, lat),
        ]
    )


def _areas(rng: np.random.Generator, lat0: float, lon0: float, count: int) -> Areas:
    shapes = []
    for k in range(count):
        lon = lon0 + float(rng.uniform(-1.0, 1.0))
        lat = float(np.clip(lat0 + rng.uniform(-0.7, 0.7), -89.0, 89.0))
        shapes.append(_shape(rng, lon, lat, k % 5))
    if lon0 > 179.0 and count:  # the same area split at the seam, as RFC 7946 asks
        shapes[0] = shapely.MultiPolygon(
            [
                shapely.box(179.8, lat0 - 0.1, 180.0, lat0 + 0.1),
                shapely.box(-180.0, lat0 - 0.1, -179.8, lat0 + 0.1),
            ]
        )
    banded = rng.random(count) < 0.5
    lower = np.where(banded, rng.uniform(0.0, 8000.0, count), -np.inf)
    upper = np.where(banded, lower + rng.uniform(0.0, 4000.0, count), np.inf)
    return Areas(
        tuple(f"A{k}" for k in range(count)),
        tuple("ru" if rng.random() < 0.8 else "us" for _ in range(count)),
        np.array(shapes, dtype=object),
        lower,
        upper,
    )


def _tracks(
    rng: np.random.Generator, areas: Areas, lat0: float, lon0: float, count: int
) -> list[npt.NDArray[np.float64]]:
    lat = np.clip(lat0 + rng.uniform(-1.0, 1.0, count), -90.0, 90.0)
    lon = lon0 + rng.uniform(-1.3, 1.3, count)
    for k in range(min(count, 2 * len(areas))):  # on a vertex, or at a representative point
        shape = areas.geometry[k // 2]
        where = shape if k % 2 else shapely.point_on_surface(shape)
        lon[k], lat[k] = shapely.get_coordinates(where)[0]
    alt = rng.choice([0.0, 3000.0, 8000.0, 12000.0], count) + rng.uniform(-50.0, 50.0, count)
    gs = np.where(rng.random(count) < 0.1, 0.0, rng.uniform(50.0, 600.0, count))
    trk = np.where(rng.random(count) < 0.2, 90.0, rng.uniform(0.0, 360.0, count))
    vs = np.where(rng.random(count) < 0.5, 0.0, rng.uniform(-40.0, 40.0, count))
    return [lat, lon, alt, gs, trk, vs]


def _same(expected: IncursionResult, actual: IncursionResult) -> None:
    for field in ("track", "area", "entry_s", "lat", "lon"):
        want, got = getattr(expected, field), getattr(actual, field)
        assert want.tolist() == got.tolist(), field


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    centre=CENTRES,
    n_areas=st.integers(0, 12),
    n_tracks=st.integers(0, 40),
    lookahead=st.sampled_from([0.0, 60.0, 300.0, 900.0]),
    with_party=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_fast_engine_equals_the_reference(
    centre: tuple[float, float],
    n_areas: int,
    n_tracks: int,
    lookahead: float,
    with_party: bool,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    lat0, lon0 = centre
    areas = _areas(rng, lat0, lon0, n_areas)
    arrays = _tracks(rng, areas, lat0, lon0, n_tracks)
    party = rng.choice(np.array(["us", "ru"], dtype=object), n_tracks) if with_party else None
    expected = reference_detect(*arrays, areas=areas, lookahead_s=lookahead, party=party)
    actual = detect(*arrays, areas=areas, lookahead_s=lookahead, party=party)
    _same(expected, actual)


@pytest.mark.parametrize("lon0", [0.0, 179.9, 185.0])
def test_dense_scene_equals_the_reference_and_finds_incursions(lon0: float) -> None:
    """Hundreds of tracks among dozens of areas: many pairs, several batches of kinds."""
    rng = np.random.default_rng(16)
    areas = _areas(rng, 45.0, lon0, 40)
    arrays = _tracks(rng, areas, 45.0, lon0, 400)
    expected = reference_detect(*arrays, areas=areas, lookahead_s=300.0)
    actual = detect(*arrays, areas=areas, lookahead_s=300.0)
    _same(expected, actual)
    assert len(actual.track) > 50  # the scene is not vacuous


def test_track_on_the_boundary_and_inside_enter_at_zero_in_both_engines() -> None:
    square = shapely.box(0.0, -0.045, 0.09, 0.045)
    areas = Areas(("SQ",), ("ru",), np.array([square]), np.array([-math.inf]), np.array([9e3]))
    lat, lon = np.array([0.0, 0.0, 0.045]), np.array([0.0, 0.045, 0.045])
    arrays = [lat, lon, np.full(3, 9000.0), np.array([200.0, 0.0, 150.0]), np.full(3, 270.0)]
    arrays.append(np.zeros(3))
    expected = reference_detect(*arrays, areas=areas, lookahead_s=300.0)
    actual = detect(*arrays, areas=areas, lookahead_s=300.0)
    _same(expected, actual)
    assert [0.0, 0.0, 0.0] == actual.entry_s.tolist()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # shapely on absurd coordinates
@pytest.mark.parametrize(
    ("state", "areas_hit"),
    [
        ((0.0, -20.0, 1000.0, 1e5, 90.0, 0.0), [0]),  # faster than any aircraft: reach box
        ((0.0, -0.2, 1000.0, 1e300, 90.0, 0.0), []),  # absurd speed: nothing, no crash
        ((90.0, 0.0, 1000.0, 200.0, 180.0, 0.0), [0, 1]),  # on the pole
        ((0.0, 359.9, 1000.0, 200.0, 90.0, 0.0), [0]),  # longitude written past 180°
    ],
)
def test_extreme_tracks_get_the_reference_answer(
    state: tuple[float, ...], areas_hit: list[int]
) -> None:
    shapes = [shapely.box(0.0, -0.05, 0.1, 0.05), shapely.box(-10.0, 85.0, 10.0, 89.0)]
    areas = Areas(
        ("A", "B"), ("ru", "ru"), np.array(shapes), np.full(2, -np.inf), np.full(2, np.inf)
    )
    arrays = [np.array([x]) for x in state]
    expected = reference_detect(*arrays, areas=areas, lookahead_s=1e6)
    actual = detect(*arrays, areas=areas, lookahead_s=1e6)
    _same(expected, actual)
    assert areas_hit == actual.area.tolist()

"""Strategic detection (``hotline.geo.strategic.engine``): hand-computed cases and properties.

Hand-computed distances are built with GeographicLib (``pyproj.Geod``) so that the
least distance between two shapes is known exactly: the shapes face each other along
one geodesic, their nearest points being a vertex, a circle's rim, a corridor's end or
the foot of a perpendicular on an edge.  The property tests compare with a brute-force
reference: a loop over all pairs measuring each in its own pyproj azimuthal-equidistant
projection with shapely, densified every 250 m: nothing shared with the engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

import hotline.geo.strategic.engine as strategic
from hotline.errors import ValidationError
from hotline.geo.strategic.engine import (
    SYRIA_MOU,
    ConflictRecord,
    Minima,
    VolumeIndex,
    detect_all,
)
from hotline.geo.volumes import Volume, VolumeSet

GEOD = Geod(ellps="WGS84")
T0 = datetime(2025, 3, 1, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)
LATERAL = SYRIA_MOU.lateral_m
Point = tuple[float, float]


def fwd(p: Point, azimuth: float, distance: float) -> tuple[Point, float]:
    """The point ``distance`` metres from ``p`` along ``azimuth``, and the azimuth there."""
    lon, lat, back = GEOD.fwd(p[0], p[1], azimuth, distance)
    return (float(lon), float(lat)), float(back) + 180.0


def circle(vid: str, party: str, centre: Point, radius: float, **kw: Any) -> Volume:
    return Volume.circle(
        vid,
        party,
        centre[0],
        centre[1],
        radius,
        kw.get("lo", 0.0),
        kw.get("hi", 3000.0),
        kw.get("start", T0),
        kw.get("end", T0 + 2 * HOUR),
        kw.get("datum", "WGS84"),
    )


def conflicts(*volumes: Volume, **kw: Any) -> list[ConflictRecord]:
    return detect_all(VolumeSet.from_volumes(volumes), **kw)


# Shapes whose nearest point to anything ahead along a geodesic is a known point:
# each builder takes the nearest point, the azimuth pointing *away* from the other shape
# (the shape lies that way) and returns a volume.
def _circle(near: Point, away: float, vid: str, party: str) -> Volume:
    centre, _ = fwd(near, away, 1500.0)
    return circle(vid, party, centre, 1500.0)


def _corridor_end(near: Point, away: float, vid: str, party: str) -> Volume:
    end, heading = fwd(near, away, 1000.0)  # half of the 2 km width
    far, _ = fwd(end, heading, 30_000.0)
    return Volume.corridor(vid, party, [end, far], 2000.0, 0, 3000, T0, T0 + 2 * HOUR)


def _corridor_side(near: Point, away: float, vid: str, party: str) -> Volume:
    foot, heading = fwd(near, away, 1000.0)
    left, back = fwd(foot, heading + 90.0, 25_000.0)
    right, _ = fwd(left, back + 180.0, 50_000.0)  # the geodesic back through the foot
    return Volume.corridor(vid, party, [left, right], 2000.0, 0, 3000, T0, T0 + 2 * HOUR)


def _polygon_vertex(near: Point, away: float, vid: str, party: str) -> Volume:
    one, _ = fwd(near, away - 30.0, 12_000.0)
    two, _ = fwd(near, away + 30.0, 12_000.0)
    ring = [near, one, two, near]
    return Volume.polygon(vid, party, [ring], 0, 3000, T0, T0 + 2 * HOUR)


def _polygon_edge(near: Point, away: float, vid: str, party: str) -> Volume:
    _, heading = fwd(near, away, 0.0)
    left, back = fwd(near, heading + 90.0, 15_000.0)
    right, _ = fwd(left, back + 180.0, 30_000.0)
    tip, _ = fwd(near, away, 20_000.0)
    return Volume.polygon(vid, party, [[left, right, tip, left]], 0, 3000, T0, T0 + 2 * HOUR)


Builder = Callable[[Point, float, str, str], Volume]
SIDES_A = {"circle": _circle, "corridor end": _corridor_end, "polygon vertex": _polygon_vertex}
SIDES_B = {**SIDES_A, "corridor side": _corridor_side, "polygon edge": _polygon_edge}


def facing(
    a: Builder, b: Builder, gap: float, start: Point = (36.0, 60.0), azimuth: float = 30.0
) -> tuple[Volume, Volume]:
    """Two volumes ``gap`` metres apart, facing each other along one geodesic."""
    there, heading = fwd(start, azimuth, gap)
    return a(start, azimuth + 180.0, "A", "blue"), b(there, heading, "B", "red")


@pytest.mark.parametrize("kind_b", sorted(SIDES_B))
@pytest.mark.parametrize("kind_a", sorted(SIDES_A))
def test_shapes_just_inside_the_lateral_minimum_conflict(kind_a: str, kind_b: str) -> None:
    records = conflicts(*facing(SIDES_A[kind_a], SIDES_B[kind_b], LATERAL - 1.0))

    assert [("A", "B")] == [(r.a, r.b) for r in records]
    assert LATERAL - 1.0 == pytest.approx(records[0].horizontal_m, abs=0.01)


@pytest.mark.parametrize("kind_b", sorted(SIDES_B))
@pytest.mark.parametrize("kind_a", sorted(SIDES_A))
def test_shapes_just_outside_the_lateral_minimum_are_separated(kind_a: str, kind_b: str) -> None:
    assert [] == conflicts(*facing(SIDES_A[kind_a], SIDES_B[kind_b], LATERAL + 1.0))


def test_circles_exactly_the_lateral_minimum_apart_are_separated() -> None:
    assert [] == conflicts(*facing(_circle, _circle, LATERAL))


def test_circles_a_millimetre_inside_the_minimum_conflict() -> None:
    assert 1 == len(conflicts(*facing(_circle, _circle, LATERAL - 0.001)))


def test_overlapping_shapes_are_zero_apart() -> None:
    records = conflicts(*facing(_polygon_edge, _corridor_side, -800.0))

    assert [0.0] == [r.horizontal_m for r in records]


def test_a_huge_polygon_is_measured_exactly_along_its_edge() -> None:
    def huge(near: Point, away: float, vid: str, party: str) -> Volume:
        _, heading = fwd(near, away, 0.0)
        left, back = fwd(near, heading + 90.0, 750_000.0)
        right, _ = fwd(left, back + 180.0, 1_500_000.0)
        tip, _ = fwd(near, away, 600_000.0)
        return Volume.polygon(vid, party, [[left, right, tip, left]], 0, 3000, T0, T0 + HOUR)

    inside = conflicts(*facing(_circle, huge, LATERAL - 1.0, start=(10.0, 45.0)))
    outside = conflicts(*facing(_circle, huge, LATERAL + 1.0, start=(10.0, 45.0)))

    assert (LATERAL - 1.0, []) == (pytest.approx(inside[0].horizontal_m, abs=0.01), outside)


@pytest.mark.parametrize(
    ("upper_a", "lower_b", "expected"),
    [(1000.0, 1914.3, [914.3]), (1000.0, 1914.4, []), (1000.0, 1914.5, []), (1000.0, 500.0, [0.0])],
)
def test_vertical_minimum_is_strict(upper_a: float, lower_b: float, expected: list[float]) -> None:
    a = circle("A", "blue", (36.0, 35.0), 1000.0, lo=0.0, hi=upper_a)
    b = circle("B", "red", (36.0, 35.0), 1000.0, lo=lower_b, hi=lower_b + 500.0)

    assert expected == [pytest.approx(r.vertical_m) for r in conflicts(a, b)]


def _windows(end_a: datetime, start_b: datetime, buffer_s: float) -> list[tuple[str, str]]:
    a = circle("A", "blue", (36.0, 35.0), 1000.0, start=T0, end=end_a)
    b = circle("B", "red", (36.0, 35.0), 1000.0, start=start_b, end=start_b + HOUR)
    records = conflicts(a, b, minima=Minima(time_buffer_s=buffer_s))
    return [(r.start, r.end) for r in records]


def test_overlapping_windows_conflict_over_their_overlap() -> None:
    expected = [("2025-03-01T10:30:00Z", "2025-03-01T11:00:00Z")]
    assert expected == _windows(T0 + HOUR, T0 + HOUR / 2, 0.0)


def test_touching_windows_do_not_conflict() -> None:
    assert [] == _windows(T0 + HOUR, T0 + HOUR, 0.0)


def test_disjoint_windows_do_not_conflict() -> None:
    assert [] == _windows(T0 + HOUR, T0 + 2 * HOUR, 0.0)


def test_time_buffer_widens_each_window_on_both_sides() -> None:
    # Ten minutes apart: a 301 s buffer on each window makes them overlap by 2 s.
    gap = timedelta(minutes=10)
    assert [("2025-03-01T11:04:59Z", "2025-03-01T11:05:01Z")] == _windows(
        T0 + HOUR, T0 + HOUR + gap, 301.0
    )
    assert [] == _windows(T0 + HOUR, T0 + HOUR + gap, 300.0)


def test_volumes_of_the_same_party_never_conflict() -> None:
    a = circle("A", "blue", (36.0, 35.0), 5000.0)
    b = circle("B", "blue", (36.0, 35.0), 5000.0)

    assert [] == conflicts(a, b)


def test_circles_across_the_antimeridian_are_close() -> None:
    a = circle("A", "blue", (179.99, 0.0), 1000.0)
    b = circle("B", "red", (-179.99, 0.0), 1000.0)
    expected = GEOD.inv(179.99, 0.0, -179.99, 0.0)[2] - 2000.0  # about 226 m

    assert [pytest.approx(expected, abs=1e-6)] == [r.horizontal_m for r in conflicts(a, b)]


def test_polygon_across_the_antimeridian_is_measured_from_its_edge() -> None:
    ring = [(179.95, 10.0), (-179.95, 10.0), (-179.95, 10.1), (179.95, 10.1), (179.95, 10.0)]
    polygon = Volume.polygon("P", "blue", [ring], 0, 3000, T0, T0 + HOUR)
    centre, _ = fwd((-179.95, 10.05), 90.0, 500.0 + 5000.0)  # perpendicular to the meridian

    records = conflicts(polygon, circle("C", "red", centre, 500.0))

    assert [pytest.approx(5000.0, abs=0.01)] == [r.horizontal_m for r in records]


def test_circles_across_the_pole_are_measured_over_it() -> None:
    start = (0.0, 89.99)
    there, _ = fwd(start, 0.0, 2500.0)  # due north, over the pole, to longitude 180

    records = conflicts(circle("A", "blue", start, 500.0), circle("B", "red", there, 500.0))

    assert there[0] == pytest.approx(180.0) or there[0] == pytest.approx(-180.0)
    assert [pytest.approx(1500.0, abs=1e-6)] == [r.horizontal_m for r in records]


def test_circle_on_the_pole_inside_a_polar_polygon_overlaps_it() -> None:
    ring = [(0.0, 89.9), (90.0, 89.9), (180.0, 89.9), (-90.0, 89.9), (0.0, 89.9)]
    polygon = Volume.polygon("P", "blue", [ring], 0, 3000, T0, T0 + HOUR)

    records = conflicts(polygon, circle("C", "red", (0.0, 90.0), 100.0))

    assert [0.0] == [r.horizontal_m for r in records]


def test_near_the_pole_corridor_and_circle_meet_the_minimum_exactly() -> None:
    a, b = facing(_corridor_side, _circle, LATERAL - 1.0, start=(45.0, 89.9), azimuth=200.0)

    assert [pytest.approx(LATERAL - 1.0, abs=0.01)] == [r.horizontal_m for r in conflicts(a, b)]


def test_a_circle_in_a_polygon_hole_is_measured_to_the_hole_ring() -> None:
    outer = [(35.9, 34.9), (36.1, 34.9), (36.1, 35.1), (35.9, 35.1), (35.9, 34.9)]
    hole = [(35.95, 34.95), (36.05, 34.95), (36.05, 35.05), (35.95, 35.05), (35.95, 34.95)]
    ring = Volume.polygon("P", "blue", [outer, hole], 0, 3000, T0, T0 + HOUR)
    inside = circle("C", "red", (36.0, 35.0), 500.0)

    records = conflicts(ring, inside)

    # About 4.6 km from the centre to the hole's nearest edge, less the 500 m radius.
    expected = reference_horizontal_m(ring, inside)
    assert 4000 < expected < 4200
    assert [pytest.approx(expected, abs=0.05)] == [r.horizontal_m for r in records]


def test_pair_minima_override_the_default_for_that_pair_only() -> None:
    a = circle("A", "blue", (36.0, 35.0), 1000.0)
    north, _ = fwd((36.0, 35.0), 0.0, 2000.0 + 8000.0)  # 8 km from A, rim to rim
    south, _ = fwd((36.0, 35.0), 180.0, 2000.0 + 8000.0)
    red, green = circle("R", "red", north, 1000.0), circle("G", "green", south, 1000.0)
    wide = {frozenset({"blue", "red"}): Minima(lateral_m=10_000.0)}

    records = conflicts(a, red, green, pair_minima=wide)

    assert [("A", "R")] == [(r.a, r.b) for r in records]


def test_pair_minima_keys_must_name_two_parties() -> None:
    with pytest.raises(ValidationError, match="two different parties"):
        detect_all(VolumeSet.empty(), pair_minima={frozenset({"blue"}): Minima()})


def test_minima_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="vertical_m must be a positive"):
        Minima(vertical_m=-1.0)


def test_bands_in_different_datums_are_compared_conservatively() -> None:
    a = circle("A", "blue", (36.0, 35.0), 1000.0, lo=0.0, hi=1000.0)
    b_same = circle("B", "red", (36.0, 35.0), 1000.0, lo=2000.0, hi=3000.0)
    b_msl = circle("B", "red", (36.0, 35.0), 1000.0, lo=2000.0, hi=3000.0, datum="MSL")

    assert [] == conflicts(a, b_same)
    # MSL 2000 m may be as low as 1893 m above the ellipsoid (geoid undulation -107 m).
    assert [pytest.approx(893.0)] == [r.vertical_m for r in conflicts(a, b_msl)]


def test_records_name_the_smaller_id_first_and_are_json_ready() -> None:
    records = conflicts(
        circle("zulu", "blue", (36.0, 35.0), 1000.0), circle("alpha", "red", (36.0, 35.0), 1000.0)
    )

    expected = {
        "a": "alpha",
        "b": "zulu",
        "start": "2025-03-01T10:00:00Z",
        "end": "2025-03-01T12:00:00Z",
        "horizontal_m": 0.0,
        "vertical_m": 0.0,
    }
    assert [expected] == [json.loads(json.dumps(r.to_dict())) for r in records]


def test_no_volumes_no_conflicts() -> None:
    assert [] == detect_all(VolumeSet.empty())


def test_index_check_finds_what_detect_all_finds_for_the_new_volume() -> None:
    a, b = facing(_polygon_vertex, _corridor_side, 3000.0)
    c = circle("C", "green", (36.0, 60.0), 500.0)
    index = VolumeIndex(VolumeSet.from_volumes([a, b]))

    expected = [r for r in conflicts(a, b, c) if "C" in (r.a, r.b)]
    assert expected == index.check(c)
    assert [] != expected


def test_index_refuses_an_id_it_already_holds() -> None:
    index = VolumeIndex()
    index.add(circle("A", "blue", (36.0, 35.0), 1000.0))

    with pytest.raises(ValidationError, match="already in the index"):
        index.add(circle("A", "red", (36.0, 35.0), 1000.0))


def test_index_added_volumes_are_found_before_and_after_a_rebuild(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(strategic, "_MIN_RECENT", 2)
    monkeypatch.setattr(strategic, "_MAX_RECENT", 2)
    volumes = [
        circle(f"V{k}", ("blue", "red")[k % 2], fwd((36.0, 35.0), 45.0 * k, 3000.0)[0], 800.0)
        for k in range(7)
    ]
    index = VolumeIndex()
    for volume in volumes[:-1]:
        index.add(volume)
    probe = volumes[-1]

    expected = [r for r in conflicts(*volumes) if probe.id in (r.a, r.b)]
    assert (6, expected) == (len(index), index.check(probe))


def test_threads_find_exactly_what_one_thread_finds() -> None:
    rng = np.random.default_rng(7)
    n = 600
    lon, lat = rng.uniform(35.0, 37.0, n), rng.uniform(34.0, 36.0, n)
    start = 1_740_787_200.0 + rng.integers(0, 96, n) * 900.0  # two days, quarter hours
    volumes = VolumeSet.from_arrays(
        ids=[f"V{k:03d}" for k in range(n)],
        parties=rng.choice(["blue", "red", "green"], n).tolist(),
        kinds=np.full(n, 1),
        size_m=rng.uniform(500.0, 8000.0, n),
        lon=lon,
        lat=lat,
        ring_offsets=np.arange(n + 1),
        volume_rings=np.arange(n + 1),
        alt_lower_m=np.zeros(n),
        alt_upper_m=np.full(n, 3000.0),
        start_s=start,
        end_s=start + rng.choice([1800.0, 3600.0, 7200.0, 5 * 86400.0], n, p=[0.4, 0.3, 0.2, 0.1]),
    )

    one = detect_all(volumes, workers=1)

    assert (True, one) == (len(one) > 100, detect_all(volumes, workers=3))


# --- properties --------------------------------------------------------------------

ANCHORS = [(36.0, 35.0), (179.99, 10.0), (-179.995, -20.0), (0.0, 89.95), (100.0, -89.9)]


@st.composite
def volume_sets(draw: st.DrawFn, min_size: int = 2, max_size: int = 6) -> list[Volume]:
    """A few random volumes within 20 km of an anchor (some near the antimeridian/poles)."""
    anchor = draw(st.sampled_from(ANCHORS))
    n = draw(st.integers(min_size, max_size))
    return [_random_volume(draw, f"V{k}", anchor) for k in range(n)]


def _random_volume(draw: st.DrawFn, vid: str, anchor: Point) -> Volume:
    centre, _ = fwd(anchor, draw(st.floats(0, 360)), draw(st.floats(0, 20_000)))
    party = draw(st.sampled_from(["blue", "red", "green"]))
    start = T0 + timedelta(minutes=15 * draw(st.integers(0, 12)))
    # Now and then a window of days: such volumes are searched apart ("long" pieces).
    end = start + timedelta(minutes=15 * draw(st.sampled_from([*range(1, 13), 200])))
    lo = 100.0 * draw(st.integers(0, 30))
    hi = lo + 100.0 * draw(st.integers(0, 20))
    kind = draw(st.sampled_from(["circle", "corridor", "polygon"]))
    if kind == "circle":
        return Volume.circle(vid, party, *centre, draw(st.floats(100, 8000)), lo, hi, start, end)
    if kind == "corridor":
        line = [centre]
        for _ in range(draw(st.integers(1, 3))):
            line.append(fwd(line[-1], draw(st.floats(0, 360)), draw(st.floats(500, 25_000)))[0])
        return Volume.corridor(vid, party, line, draw(st.floats(100, 6000)), lo, hi, start, end)
    corners = draw(st.integers(3, 6))
    turn = draw(st.floats(0, 360))
    ring = [
        fwd(centre, turn + 360.0 * k / corners, draw(st.floats(500, 15_000)))[0]
        for k in range(corners)
    ]
    return Volume.polygon(vid, party, [[*ring, ring[0]]], lo, hi, start, end)


def reference_horizontal_m(va: Volume, vb: Volume) -> float:
    """Least distance between two volumes, measured in pyproj AEQD planes (3 passes)."""
    (lon1, lat1), (lon2, lat2) = va.rings[0][0], vb.rings[0][0]
    az, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    centre = GEOD.fwd(lon1, lat1, az, d / 2)[:2]
    for _ in range(3):
        plane = pyproj.Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=aeqd +lat_0={centre[1]} +lon_0={centre[0]} +ellps=WGS84"
        )
        line = shapely.shortest_line(_planar(va, plane), _planar(vb, plane))
        if line.length == 0:
            return 0.0
        (xa, ya), (xb, yb) = line.coords
        lons, lats = plane.transform(
            [xa, xb, (xa + xb) / 2], [ya, yb, (ya + yb) / 2], direction="INVERSE"
        )
        centre = (lons[2], lats[2])
    core = GEOD.inv(lons[0], lats[0], lons[1], lats[1])[2]
    return max(0.0, core - va.buffer_m - vb.buffer_m)


def _planar(v: Volume, plane: pyproj.Transformer) -> Any:
    rings = []
    for ring in v.rings:
        points = [ring[0]]
        for (lo1, la1), (lo2, la2) in pairwise(ring):
            n = int(GEOD.inv(lo1, la1, lo2, la2)[2] // 250)
            points += GEOD.npts(lo1, la1, lo2, la2, n) if n else []
            points.append((lo2, la2))
        rings.append(np.array(plane.transform(*np.array(points).T)).T)
    if v.kind == "circle":
        return shapely.Point(rings[0][0])
    return (
        shapely.LineString(rings[0])
        if v.kind == "corridor"
        else shapely.Polygon(rings[0], rings[1:])
    )


def brute_force(volumes: list[Volume], minima: Minima) -> dict[tuple[str, str], float]:
    """Every conflicting pair and its horizontal distance, by a plain loop."""
    found = {}
    for i, va in enumerate(volumes):
        for vb in volumes[i + 1 :]:
            buffer = timedelta(seconds=minima.time_buffer_s)
            overlap = max(va.start, vb.start) - buffer < min(va.end, vb.end) + buffer
            gap = max(
                0.0, max(va.alt_lower_m, vb.alt_lower_m) - min(va.alt_upper_m, vb.alt_upper_m)
            )
            if va.party == vb.party or not overlap or gap >= minima.vertical_m:
                continue
            horizontal = reference_horizontal_m(va, vb)
            if horizontal < minima.lateral_m:
                found[tuple(sorted((va.id, vb.id)))] = horizontal  # type: ignore[index]
    return found


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(volume_sets(), st.sampled_from([2000.0, LATERAL, 12_000.0]))
def test_detect_all_agrees_with_a_brute_force_reference(
    volumes: list[Volume], lateral: float
) -> None:
    minima = Minima(lateral_m=lateral)

    expected = brute_force(volumes, minima)
    got = {(r.a, r.b): r.horizontal_m for r in conflicts(*volumes, minima=minima)}

    # Pairs within 5 cm of the minimum may fall either way between two exact methods.
    borderline = {pair for pair, h in {**expected, **got}.items() if abs(h - lateral) < 0.05}
    assert set(expected) - borderline == set(got) - borderline
    for pair in set(expected) & set(got):
        assert expected[pair] == pytest.approx(got[pair], abs=0.05)


@PROPERTY
@given(volume_sets(max_size=8), st.randoms(use_true_random=False))
def test_detect_all_does_not_depend_on_the_order_of_volumes(
    volumes: list[Volume], rnd: Any
) -> None:
    shuffled = volumes[:]
    rnd.shuffle(shuffled)

    assert conflicts(*volumes) == conflicts(*shuffled)


@PROPERTY
@given(volume_sets(max_size=8), st.data())
def test_index_check_equals_the_detect_all_rows_of_that_volume(
    volumes: list[Volume], data: st.DataObject
) -> None:
    probe = data.draw(st.sampled_from(volumes))
    others = [v for v in volumes if v is not probe]
    index = VolumeIndex(VolumeSet.from_volumes(others[: len(others) // 2]))
    for volume in others[len(others) // 2 :]:
        index.add(volume)

    expected = [r for r in conflicts(*volumes) if probe.id in (r.a, r.b)]
    assert expected == index.check(probe)


@PROPERTY
@given(volume_sets(min_size=2, max_size=2))
def test_checking_a_against_b_equals_checking_b_against_a(volumes: list[Volume]) -> None:
    a, b = volumes

    assert VolumeIndex(VolumeSet.from_volumes([a])).check(b) == VolumeIndex(
        VolumeSet.from_volumes([b])
    ).check(a)

"""Incursions into protected areas: hand-computed entries, bands, parties, the seam.

The protected square is 0.09° (10.0 km) on a side, west edge on the prime meridian,
centred on the equator; a degree of longitude there is 111,319.5 m on WGS84.
"""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely  # type: ignore[import-untyped]

from hotline.errors import ValidationError
from hotline.geo.incursions import Areas, Incursion, detect, incursions, load_areas
from hotline.geo.tactical.engine import Tracks

DEG_M = 6378137.0 * math.pi / 180.0  # one degree of longitude on the equator, m


def square(
    area_id: str = "SQ", party: str = "ru", lower: float = -math.inf, upper: float = math.inf
) -> Areas:
    return Areas(
        (area_id,),
        (party,),
        np.array([shapely.box(0.0, -0.045, 0.09, 0.045)]),
        np.array([lower]),
        np.array([upper]),
    )


def one_track(
    lat: float,
    lon: float,
    *,
    alt: float = 9000.0,
    gs: float = 200.0,
    trk: float = 90.0,
    vs: float = 0.0,
    party: str = "us",
) -> Tracks:
    return Tracks(
        ("T1",),
        (party,),
        *(np.array([x], dtype=float) for x in (lat, lon, alt, gs, trk, vs)),
    )


def test_track_flying_at_the_area_enters_it_on_its_edge() -> None:
    found = incursions(one_track(0.0, -0.1), square(), lookahead_s=300.0)
    assert 1 == len(found)
    entry = found[0]
    # 0.1° of equator at 200 m/s.
    assert ("T1", "SQ") == (entry.track, entry.area)
    assert 0.1 * DEG_M / 200.0 == pytest.approx(entry.entry_s, abs=1e-3)
    assert (0.0, 0.0) == pytest.approx((entry.lat, entry.lon), abs=1e-7)


def test_track_already_inside_has_entry_time_zero_at_its_position() -> None:
    found = incursions(one_track(0.01, 0.05, trk=200.0), square(), lookahead_s=300.0)
    assert [Incursion("T1", "SQ", 0.0, 0.01, 0.05)] == [
        Incursion(i.track, i.area, i.entry_s, round(i.lat, 9), round(i.lon, 9)) for i in found
    ]


def test_entry_after_the_lookahead_is_not_reported() -> None:
    far = one_track(0.0, -0.6)  # 66.8 km out: entry at 334 s
    assert [] == incursions(far, square(), lookahead_s=300.0)
    assert 1 == len(incursions(far, square(), lookahead_s=340.0))


def test_track_passing_above_the_altitude_band_is_not_an_incursion() -> None:
    over = one_track(0.0, -0.1, alt=8000.0)
    assert [] == incursions(over, square(upper=6000.0), lookahead_s=300.0)


def test_track_descending_into_the_band_over_the_area_enters_when_it_reaches_the_band() -> None:
    # Inside horizontally from 55.7 s; descends from 8,000 m at 10 m/s into <= 7,000 m at 100 s.
    found = incursions(
        one_track(0.0, -0.1, alt=8000.0, vs=-10.0), square(upper=7000.0), lookahead_s=300.0
    )
    assert [100.0] == pytest.approx([i.entry_s for i in found])
    assert (100.0 * 200.0 - 0.1 * DEG_M) / DEG_M == pytest.approx(found[0].lon, abs=1e-7)


def test_own_party_area_is_ignored() -> None:
    assert [] == incursions(one_track(0.0, -0.1, party="ru"), square(party="ru"), lookahead_s=300.0)


def test_track_passing_by_is_not_an_incursion() -> None:
    assert [] == incursions(one_track(0.1, -0.1), square(), lookahead_s=600.0)


def test_first_entry_into_a_concave_area_skips_its_notch() -> None:
    # A U open to the north: the track flies east through the notch's mouth row,
    # first crossing the west arm (x in [0, 0.03]) then, after the notch, the east arm.
    u_shape = shapely.Polygon(
        [
            (0, 0),
            (0.09, 0),
            (0.09, 0.09),
            (0.06, 0.09),
            (0.06, 0.03),
            (0.03, 0.03),
            (0.03, 0.09),
            (0, 0.09),
        ]
    )
    areas = Areas(("U",), ("ru",), np.array([u_shape]), np.array([-math.inf]), np.array([math.inf]))
    first = incursions(one_track(0.06, -0.05), areas, lookahead_s=600.0)
    assert [0.05 * DEG_M / 200.0] == pytest.approx([i.entry_s for i in first], rel=1e-4)
    # Starting inside the notch, it next enters the east arm.
    notch = incursions(one_track(0.06, 0.045), areas, lookahead_s=600.0)
    assert [0.015 * DEG_M / 200.0] == pytest.approx([i.entry_s for i in notch], rel=1e-4)


@pytest.mark.parametrize(
    "area",
    [
        shapely.box(179.9, -0.1, 180.1, 0.1),  # written across, longitudes beyond 180
        shapely.MultiPolygon(
            [shapely.box(179.9, -0.1, 180.0, 0.1), shapely.box(-180.0, -0.1, -179.9, 0.1)]
        ),
    ],
    ids=["lon-beyond-180", "split-at-the-seam"],
)
def test_area_across_the_antimeridian_is_entered_from_either_side(area: Any) -> None:
    areas = Areas(("SEAM",), ("ru",), np.array([area]), np.array([-math.inf]), np.array([math.inf]))
    from_east = one_track(0.0, -179.7, trk=270.0)  # 0.2° east of the area, flying west
    found = incursions(from_east, areas, lookahead_s=300.0)
    assert [0.2 * DEG_M / 200.0] == pytest.approx([i.entry_s for i in found], rel=1e-6)
    assert -179.9 == pytest.approx(found[0].lon, abs=1e-7)


def test_array_interface_reports_indices_sorted_by_track_then_area() -> None:
    two = Areas(
        ("A", "B"),
        ("ru", "ru"),
        np.array([shapely.box(0.0, -0.045, 0.09, 0.045), shapely.box(0.2, -0.045, 0.29, 0.045)]),
        np.array([-math.inf, -math.inf]),
        np.array([math.inf, math.inf]),
    )
    lat, lon = [0.0, 0.0, 0.0], [0.25, -0.1, 1.0]
    r = detect(
        lat, lon, [9e3] * 3, [200.0] * 3, [90.0] * 3, [0.0] * 3, areas=two, lookahead_s=300.0
    )
    assert ([0, 1, 1], [1, 0, 1]) == (r.track.tolist(), r.area.tolist())
    assert 0.0 == r.entry_s[0]


def write(tmp_path: Path, features: list[dict[str, Any]] | Any) -> Path:
    path = tmp_path / "areas.geojson"
    body = (
        {"type": "FeatureCollection", "features": features}
        if isinstance(features, list)
        else features
    )
    path.write_text(json.dumps(body))
    return path


def feature(props: dict[str, Any], geometry: dict[str, Any] | None = None) -> dict[str, Any]:
    ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    return {
        "type": "Feature",
        "properties": props,
        "geometry": geometry or {"type": "Polygon", "coordinates": [ring]},
    }


def test_load_areas_reads_ids_parties_and_bands(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            feature({"id": "A", "party": "ru", "alt_lower_m": 0, "alt_upper_m": 6000}),
            feature({"id": 7, "party": "us"}),
        ],
    )
    areas = load_areas(path)
    assert (("A", "7"), ("ru", "us")) == (areas.ids, areas.party)
    assert [0.0, -math.inf] == areas.alt_lower_m.tolist()
    assert [6000.0, math.inf] == areas.alt_upper_m.tolist()


@pytest.mark.parametrize(
    ("features", "fragment"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        ([feature({"party": "ru"})], "feature 0: property 'id'"),
        ([feature({"id": "A"})], "feature 0 (id 'A'): property 'party'"),
        ([feature({"id": "A", "party": "ru", "alt_upper_m": "high"})], "'alt_upper_m'"),
        (
            [feature({"id": "A", "party": "ru", "alt_lower_m": 5, "alt_upper_m": 1})],
            "above 'alt_upper_m'",
        ),
        (
            [feature({"id": "A", "party": "ru"}, {"type": "Point", "coordinates": [0, 0]})],
            "Polygon or MultiPolygon",
        ),
        (
            [
                feature(
                    {"id": "A", "party": "ru"},
                    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
                )
            ],
            "not a valid polygon",
        ),
        (
            [feature({"id": "A", "party": "ru"}), feature({"id": "A", "party": "us"})],
            "more than once",
        ),
    ],
    ids=[
        "not-a-collection",
        "no-id",
        "no-party",
        "band-not-number",
        "band-upside-down",
        "a-point",
        "bow-tie",
        "dup-id",
    ],
)
def test_bad_areas_file_names_the_feature_and_field(
    tmp_path: Path, features: Any, fragment: str
) -> None:
    with pytest.raises(ValidationError) as err:
        load_areas(write(tmp_path, features))
    assert fragment in str(err.value)


def test_docstring_examples_run() -> None:
    import hotline.geo.incursions

    failures, tried = doctest.testmod(hotline.geo.incursions)
    assert (0, True) == (failures, tried > 0)

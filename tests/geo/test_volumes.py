"""Parsing and validating 4D volumes (``hotline.geo.volumes``)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Geod

from hotline.errors import ValidationError
from hotline.geo.geojson import volume_from_area, volume_from_notice
from hotline.geo.volumes import CIRCLE, CORRIDOR, POLYGON, Volume, VolumeSet, load_volumes

GEOD = Geod(ellps="WGS84")
T0 = datetime(2025, 3, 1, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)


def feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    base = {
        "id": "V1",
        "party": "blue",
        "alt_lower_m": 0,
        "alt_upper_m": 3000,
        "start": "2025-03-01T10:00:00Z",
        "end": "2025-03-01T12:00:00Z",
    }
    base.update(props)
    return {"type": "Feature", "geometry": geometry, "properties": base}


SQUARE = [[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.1], [36.0, 35.0]]
POLYGON_FEATURE = feature({"type": "Polygon", "coordinates": [SQUARE]})
CIRCLE_FEATURE = feature({"type": "Point", "coordinates": [36.0, 35.0]}, radius_m=5000)
CORRIDOR_FEATURE = feature(
    {"type": "LineString", "coordinates": [[36.0, 35.0], [36.5, 35.5]]}, width_m=4000
)


def test_circle_with_decimal_string_coordinates_parses_to_floats() -> None:
    f = feature(
        {"type": "Point", "coordinates": ["36.2500000", "35.1000000"]},
        radius_m="5000.5",
        alt_lower_m="100.25",
    )

    volume = Volume.from_feature(f)

    expected = Volume(
        "V1",
        "blue",
        "circle",
        (((36.25, 35.1),),),
        100.25,
        3000.0,
        T0,
        T0 + 2 * HOUR,
        radius_m=5000.5,
    )
    assert expected == volume


def test_numbers_and_decimal_strings_give_the_same_volume() -> None:
    as_strings = copy.deepcopy(POLYGON_FEATURE)
    as_strings["geometry"]["coordinates"] = [[[f"{x:.7f}", f"{y:.7f}"] for x, y in SQUARE]]

    assert Volume.from_feature(POLYGON_FEATURE) == Volume.from_feature(as_strings)


def test_a_third_coordinate_is_ignored() -> None:
    with_altitude = feature({"type": "Point", "coordinates": [36.0, 35.0, 1234.0]}, radius_m=5)

    assert ((36.0, 35.0),) == Volume.from_feature(with_altitude).rings[0]


def test_corridor_keeps_its_width_and_buffer_is_half_of_it() -> None:
    volume = Volume.from_feature(CORRIDOR_FEATURE)

    assert ("corridor", 4000.0, 2000.0) == (volume.kind, volume.width_m, volume.buffer_m)


def test_polygon_with_a_hole_keeps_both_rings() -> None:
    hole = [[36.04, 35.04], [36.06, 35.04], [36.06, 35.06], [36.04, 35.04]]
    f = feature({"type": "Polygon", "coordinates": [SQUARE, hole]})

    volume = Volume.from_feature(f)

    assert [5, 4] == [len(ring) for ring in volume.rings]
    assert 1 == len(VolumeSet.from_volumes([volume]))


def test_datum_defaults_to_wgs84_and_is_kept_when_given() -> None:
    msl = copy.deepcopy(CIRCLE_FEATURE)
    msl["properties"]["datum"] = "MSL"

    assert ("WGS84", "MSL") == (
        Volume.from_feature(CIRCLE_FEATURE).datum,
        Volume.from_feature(msl).datum,
    )


def test_feature_level_id_is_used_when_properties_have_none() -> None:
    f = copy.deepcopy(CIRCLE_FEATURE)
    del f["properties"]["id"]
    f["id"] = 42

    assert "42" == Volume.from_feature(f).id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T10:00:00Z", T0),
        ("2025-03-01T10:00:00+00:00", T0),
        ("2025-03-01t10:00:00z", T0),
        ("2025-03-01T10:00:00.250Z", T0 + timedelta(milliseconds=250)),
    ],
)
def test_utc_times_in_rfc3339_forms_are_accepted(text: str, expected: datetime) -> None:
    f = copy.deepcopy(CIRCLE_FEATURE)
    f["properties"]["start"] = text

    assert expected == Volume.from_feature(f).start


def test_to_feature_round_trips() -> None:
    for f in (POLYGON_FEATURE, CIRCLE_FEATURE, CORRIDOR_FEATURE):
        volume = Volume.from_feature(f)
        assert volume == Volume.from_feature(volume.to_feature())


def _mutate(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    f = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = f
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return f


_DELETE = object()
BOW_TIE = [[36.0, 35.0], [36.1, 35.1], [36.1, 35.0], [36.0, 35.1], [36.0, 35.0]]


@pytest.mark.parametrize(
    ("base", "path", "value", "field", "words"),
    [
        (
            POLYGON_FEATURE,
            "geometry.coordinates.0.4",
            [36.0, 35.05],
            "geometry.coordinates[0]",
            "not closed",
        ),
        (
            POLYGON_FEATURE,
            "geometry.coordinates.0",
            [[36, 35], [36.1, 35], [36, 35]],
            "geometry.coordinates[0]",
            "at least 4 positions",
        ),
        (
            POLYGON_FEATURE,
            "geometry.coordinates.0",
            BOW_TIE,
            "geometry.coordinates",
            "Self-intersection",
        ),
        (
            POLYGON_FEATURE,
            "geometry.coordinates.0.2",
            [36.1, 95.0],
            "geometry.coordinates[0][2][1]",
            "latitude 95.0",
        ),
        (
            CORRIDOR_FEATURE,
            "geometry.coordinates.1",
            [181.0, 35.0],
            "geometry.coordinates[1][0]",
            "longitude 181.0",
        ),
        (POLYGON_FEATURE, "properties.alt_upper_m", -5, "properties.alt_upper_m", "upside down"),
        (
            POLYGON_FEATURE,
            "properties.end",
            "2025-03-01T09:00:00Z",
            "properties.end",
            "not after start",
        ),
        (CIRCLE_FEATURE, "properties.radius_m", _DELETE, "properties.radius_m", "missing"),
        (CIRCLE_FEATURE, "properties.radius_m", 0, "properties.radius_m", "positive"),
        (CORRIDOR_FEATURE, "properties.width_m", _DELETE, "properties.width_m", "missing"),
        (
            CORRIDOR_FEATURE,
            "geometry.coordinates",
            [[36, 35], [36, 35]],
            "geometry.coordinates",
            "two distinct positions",
        ),
        (
            CIRCLE_FEATURE,
            "properties.start",
            "2025-03-01T12:00:00+02:00",
            "properties.start",
            "not UTC",
        ),
        (
            CIRCLE_FEATURE,
            "properties.start",
            "2025-03-01T12:00:00",
            "properties.start",
            "not an RFC 3339",
        ),
        (
            CIRCLE_FEATURE,
            "properties.end",
            "2025-02-30T12:00:00Z",
            "properties.end",
            "not a valid date-time",
        ),
        (
            CIRCLE_FEATURE,
            "geometry.coordinates.0",
            "36,5",
            "geometry.coordinates[0]",
            "decimal string",
        ),
        (CIRCLE_FEATURE, "geometry.type", "MultiPoint", "geometry.type", "unsupported"),
        (CIRCLE_FEATURE, "properties.party", "", "properties.party", "missing"),
        (CIRCLE_FEATURE, "properties.datum", "QNH", "properties.datum", "unknown datum"),
        (CIRCLE_FEATURE, "properties.radius_m", 2_500_000, "geometry", "2000 km allowed"),
    ],
)
def test_validation_error_names_the_volume_and_field(
    base: dict[str, Any], path: str, value: Any, field: str, words: str
) -> None:
    bad = _mutate(base, path, value)

    with pytest.raises(ValidationError) as caught:
        load_volumes({"type": "FeatureCollection", "features": [bad]})

    assert (field, True) == (caught.value.context["field"], words in caught.value.message)
    assert caught.value.message.startswith(f"volume 'V1': {field}: ")


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"volume 'V1': properties.id: duplicate id"):
        load_volumes({"type": "FeatureCollection", "features": [CIRCLE_FEATURE, CIRCLE_FEATURE]})


def test_feature_without_id_is_named_by_position() -> None:
    f = _mutate(CIRCLE_FEATURE, "properties.id", _DELETE)

    with pytest.raises(ValidationError, match=r"^feature #1: properties.id: "):
        load_volumes({"type": "FeatureCollection", "features": [CORRIDOR_FEATURE, f]})


def test_load_volumes_reads_a_file(tmp_path: Any) -> None:
    path = tmp_path / "v.geojson"
    collection = {"type": "FeatureCollection", "features": [POLYGON_FEATURE]}
    path.write_text(json.dumps(collection))

    assert ["V1"] == load_volumes(path).ids.tolist()


def test_load_volumes_refuses_invalid_json(tmp_path: Any) -> None:
    path = tmp_path / "v.geojson"
    path.write_text("{not json")

    with pytest.raises(ValidationError, match="not valid JSON"):
        load_volumes(path)


def test_load_volumes_refuses_a_bare_object() -> None:
    with pytest.raises(ValidationError, match="expected a GeoJSON FeatureCollection"):
        load_volumes({"type": "Thing"})


def test_polygon_across_the_antimeridian_is_small() -> None:
    ring = [(179.95, 10.0), (-179.95, 10.0), (-179.95, 10.1), (179.95, 10.1), (179.95, 10.0)]
    vs = VolumeSet.from_volumes([Volume.polygon("A", "p", [ring], 0, 1, T0, T0 + HOUR)])

    # About 11 km by 11 km: the cap (radius from the centre) is under 10 km, not global.
    assert vs.cap_m[0] < 10_000
    assert abs(abs(vs.ref_lonlat[0, 0]) - 180.0) < 0.05


def test_polygon_around_the_pole_is_valid_and_centred_on_it() -> None:
    ring = [(0.0, 89.0), (90.0, 89.0), (180.0, 89.0), (-90.0, 89.0), (0.0, 89.0)]
    vs = VolumeSet.from_volumes([Volume.polygon("A", "p", [ring], 0, 1, T0, T0 + HOUR)])

    assert abs(vs.ref_lonlat[0, 1] - 90.0) < 0.05
    assert 111_000 < vs.cap_m[0] < 115_000


def test_long_corridor_is_cut_into_pieces_that_share_their_ends() -> None:
    end_lon, end_lat, _ = GEOD.fwd(30.0, 50.0, 70.0, 95_000.0)
    corridor = Volume.corridor(
        "C", "p", [(30.0, 50.0), (end_lon, end_lat)], 2000, 0, 1, T0, T0 + HOUR
    )

    vs = VolumeSet.from_volumes([corridor])

    # 95 km in 10 km steps is 10 segments: pieces of at most 4 segments, so 3 pieces,
    # each holding 5, 5 and 3 vertices, consecutive pieces sharing one.
    assert [0, 3] == vs.piece_offsets.tolist()
    vertices = np.diff(vs.ring_offsets[vs.piece_rings])
    assert [5, 5, 3] == vertices.tolist()
    ends = vs.vertex_xyz[vs.ring_offsets[1:] - 1]
    starts = vs.vertex_xyz[vs.ring_offsets[:-1]]
    assert np.array_equal(ends[:-1], starts[1:])


def test_take_and_concat_keep_each_volume_whole() -> None:
    vs = load_volumes(
        {
            "type": "FeatureCollection",
            "features": [
                _mutate(POLYGON_FEATURE, "properties.id", "P"),
                _mutate(CIRCLE_FEATURE, "properties.id", "C"),
                _mutate(CORRIDOR_FEATURE, "properties.id", "L"),
            ],
        }
    )

    back = VolumeSet.concat([vs.take([2]), vs.take([0, 1])])

    assert ["L", "P", "C"] == back.ids.tolist()
    assert [CORRIDOR, POLYGON, CIRCLE] == back.kind.tolist()
    for name in ("buffer_m", "start_s", "alt_upper_m"):
        assert np.array_equal(getattr(vs, name)[[2, 0, 1]], getattr(back, name))
    order = [2, 0, 1]
    for mine, theirs in zip(order, range(3), strict=True):
        a = vs.gather(np.arange(vs.piece_offsets[mine], vs.piece_offsets[mine + 1]))[0]
        b = back.gather(np.arange(back.piece_offsets[theirs], back.piece_offsets[theirs + 1]))[0]
        assert np.array_equal(vs.vertex_xyz[a], back.vertex_xyz[b])


def test_from_arrays_accepts_kind_and_datum_names() -> None:
    vs = VolumeSet.from_arrays(
        ids=["A"],
        parties=["p"],
        kinds=["circle"],
        size_m=[100.0],
        lon=[1.0],
        lat=[2.0],
        ring_offsets=[0, 1],
        volume_rings=[0, 1],
        alt_lower_m=[0],
        alt_upper_m=[1],
        start_s=[0],
        end_s=[60],
        datums=["AGL"],
    )

    assert ([CIRCLE], [2], [100.0]) == (vs.kind.tolist(), vs.datum.tolist(), vs.buffer_m.tolist())


def test_volume_with_a_naive_datetime_is_refused() -> None:
    naive = Volume.circle("A", "p", 1.0, 2.0, 100.0, 0, 1, datetime(2025, 3, 1), T0)

    with pytest.raises(ValidationError, match=r"volume 'A': properties.start: not a UTC"):
        VolumeSet.from_volumes([naive])


NOTICE_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "notices"


def notice_volumes_of_examples() -> list[Any]:
    from hotline.domain.notices.models import parse_notice

    found = []
    for path in sorted(NOTICE_EXAMPLES.glob("*.json")):
        notice = parse_notice(json.loads(path.read_text(encoding="utf-8")))
        found.extend(getattr(notice, "volumes", None) or ())
    return found


@pytest.mark.parametrize("id_prefix", [None, "m1"])
def test_a_notice_volume_gives_the_same_engine_volume_as_its_geojson(
    id_prefix: str | None,
) -> None:
    volumes = notice_volumes_of_examples()
    kinds = set()
    for volume in volumes:
        kinds.add(volume.geometry.type)
        direct = volume_from_notice(volume, "us", id_prefix=id_prefix)
        via_geojson = Volume.from_feature(volume.to_geojson("us", id_prefix=id_prefix))
        assert via_geojson == direct
    assert {"Polygon", "Point", "LineString"} == kinds


def test_a_notice_area_gives_the_same_engine_volume_as_its_geojson() -> None:
    from hotline.domain.notices.models import ProtectedAreas, parse_notice

    body = json.loads((NOTICE_EXAMPLES / "protected_areas.json").read_text(encoding="utf-8"))
    notice = parse_notice(body)
    assert isinstance(notice, ProtectedAreas)
    window = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
    for area in notice.areas or ():
        feature = area.area.to_geojson()
        feature["properties"] |= {
            "id": f"m1/{area.id}",
            "party": "us",
            "alt_lower_m": area.alt_lower_m if area.alt_lower_m is not None else -11_000,
            "alt_upper_m": area.alt_upper_m if area.alt_upper_m is not None else 5_000_000,
            "datum": area.datum or "WGS84",
            "start": "1970-01-01T00:00:00Z",
            "end": "2200-01-01T00:00:00Z",
        }
        band = (float(feature["properties"]["alt_lower_m"]), feature["properties"]["alt_upper_m"])

        direct = volume_from_area(
            area.area, f"m1/{area.id}", "us", band, window, area.datum or "WGS84"
        )

        assert Volume.from_feature(feature) == direct


BOW_TIE = [["36.0", "35.0"], ["36.1", "35.1"], ["36.1", "35.0"], ["36.0", "35.1"], ["36.0", "35.0"]]


def notice_with(volume: dict[str, Any]) -> dict[str, Any]:
    body = json.loads((NOTICE_EXAMPLES / "deconfliction_request.json").read_text("utf-8"))
    return body | {"volumes": [volume]}


def wire_volume(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    base = {
        "id": "V1",
        "alt_lower_m": 0,
        "alt_upper_m": 3000,
        "datum": "MSL",
        "start": "2026-11-21T14:00:00Z",
        "end": "2026-11-21T16:00:00Z",
    }
    return {"type": "Feature", "geometry": geometry, "properties": base | props}


def engine_refusal(volume: dict[str, Any]) -> ValidationError:
    from hotline.domain.notices.models import parse_notice

    notice = parse_notice(notice_with(volume))
    with pytest.raises(ValidationError) as refused:
        VolumeSet.from_volumes(volume_from_notice(v, "us") for v in notice.volumes)
    return refused.value


def test_a_corridor_whose_positions_are_equal_is_refused_by_the_notice_and_the_engine() -> None:
    from hotline.domain.notices.models import parse_notice

    line = {"type": "LineString", "coordinates": [["36.0", "35.0"], ["36.0000000", "35.0"]]}
    volume = wire_volume(line, width_m=1000)
    with pytest.raises(ValidationError) as refused:
        parse_notice(notice_with(volume))
    assert "volumes[0].geometry.coordinates" == refused.value.context["field"]
    assert "a corridor line needs two distinct positions" in refused.value.message
    engine = Volume.from_feature(feature(line, width_m=1000))
    with pytest.raises(ValidationError, match="two distinct positions"):
        VolumeSet.from_volumes([engine])


@pytest.mark.parametrize(
    ("volume", "field"),
    [
        pytest.param(
            wire_volume(
                {
                    "type": "Polygon",
                    "coordinates": [BOW_TIE],
                }
            ),
            "geometry.coordinates",
            id="a ring crossing itself",
        ),
        pytest.param(
            wire_volume({"type": "Point", "coordinates": ["36.0", "35.0"]}, radius_m=3_000_000),
            "geometry",
            id="a circle reaching 3,000 km",
        ),
    ],
)
def test_what_needs_geodesy_passes_the_notice_model_and_is_refused_by_the_engine(
    volume: dict[str, Any], field: str
) -> None:
    # The notice's model is pure pydantic; the node's index refuses these (before sending,
    # and on receipt) with the engine's error.
    assert field == engine_refusal(volume).context["field"]

"""Notice bodies: what is accepted, what is refused and how the refusal names the field."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.domain.notices.models import (
    ActivityNotice,
    DeconflictionAnswer,
    parse_notice,
    to_wire,
)
from hotline.errors import ValidationError
from hotline.geo.volumes import Volume as EngineVolume

from .conftest import load_example


def refusal(body: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_notice(body)
    return caught.value


def test_polygon_ring_not_closed_is_refused_naming_the_coordinates(
    polygon_volume: dict[str, Any],
) -> None:
    polygon_volume["geometry"]["coordinates"][0][-1] = ["24.2000000", "53.6000000"]
    body = load_example("deconfliction_request.json") | {"volumes": [polygon_volume]}

    error = refusal(body)

    assert "volumes[0].geometry.coordinates" == error.context["field"]
    assert error.message.startswith("volumes[0].geometry.coordinates: polygon ring is not closed")


def test_altitude_band_upside_down_is_refused_naming_the_upper_bound(
    polygon_volume: dict[str, Any],
) -> None:
    polygon_volume["properties"] |= {"alt_lower_m": 9000, "alt_upper_m": 3000}
    body = load_example("deconfliction_request.json") | {"volumes": [polygon_volume]}

    error = refusal(body)

    expected = (
        "volumes[0].properties.alt_upper_m: altitude band is upside down: "
        "alt_upper_m 3000 m is below alt_lower_m 9000 m"
    )
    assert expected == error.message


def test_time_window_ending_before_start_is_refused_naming_the_end(
    polygon_volume: dict[str, Any],
) -> None:
    polygon_volume["properties"]["end"] = "2026-11-25T07:59:59Z"
    body = load_example("deconfliction_request.json") | {"volumes": [polygon_volume]}

    error = refusal(body)

    expected = (
        "volumes[0].properties.end: time window ends before it starts: "
        "end 2026-11-25T07:59:59Z is not after start 2026-11-25T08:00:00Z"
    )
    assert expected == error.message


def test_missing_impact_area_is_refused_naming_the_field(missile_launch: dict[str, Any]) -> None:
    del missile_launch["impact_area"]

    error = refusal(missile_launch)

    assert "impact_area" == error.context["field"]
    assert error.message.startswith("impact_area: a missile launch needs its impact area")


def test_launch_area_on_another_activity_is_refused(hazardous_activity: dict[str, Any]) -> None:
    hazardous_activity["launch_area"] = load_example("activity_notice_missile_launch.json")[
        "launch_area"
    ]

    assert "launch_area" == refusal(hazardous_activity).context["field"]


@pytest.mark.parametrize(
    ("position", "field", "message"),
    [
        (["45.7500000", "90.0000001"], "[1]", "latitude 90.0000001 is out of range [-90, 90]"),
        (["-180.5000000", "48.5"], "[0]", "longitude -180.5000000 is out of range [-180, 180]"),
        (["45.75", "48.12345678"], "[1]", "latitude '48.12345678' is not a decimal number"),
        ([45.75, "48.5"], "[0]", 'longitude must be a decimal string such as "21.0000000"'),
    ],
)
def test_bad_coordinates_are_refused_naming_the_axis(
    missile_launch: dict[str, Any], position: list[Any], field: str, message: str
) -> None:
    missile_launch["launch_area"]["geometry"]["coordinates"] = position

    error = refusal(missile_launch)

    assert error.message.startswith(f"launch_area.geometry.coordinates{field}: {message}")


def test_float_altitude_is_refused_because_signed_json_has_no_floats(
    polygon_volume: dict[str, Any],
) -> None:
    polygon_volume["properties"]["alt_upper_m"] = 9000.0
    body = load_example("deconfliction_request.json") | {"volumes": [polygon_volume]}

    expected = (
        "volumes[0].properties.alt_upper_m: must be an integer, not 9000.0 "
        "(signed JSON forbids floats)"
    )
    assert expected == refusal(body).message


@pytest.mark.parametrize(
    "time", ["2026-11-25T08:00:00+00:00", "2026-11-25T08:00:00.5Z", "2026-11-25 08:00:00Z"]
)
def test_times_must_be_utc_whole_seconds_with_z(polygon_volume: dict[str, Any], time: str) -> None:
    polygon_volume["properties"]["start"] = time
    body = load_example("deconfliction_request.json") | {"volumes": [polygon_volume]}

    assert "volumes[0].properties.start" == refusal(body).context["field"]


def test_circle_without_radius_is_refused(missile_launch: dict[str, Any]) -> None:
    del missile_launch["volumes"][0]["properties"]["radius_m"]

    assert "volumes[0].properties.radius_m" == refusal(missile_launch).context["field"]


def test_corridor_without_width_is_refused(hazardous_activity: dict[str, Any]) -> None:
    del hazardous_activity["volumes"][0]["properties"]["width_m"]

    assert "volumes[0].properties.width_m" == refusal(hazardous_activity).context["field"]


def test_unknown_field_is_refused(missile_launch: dict[str, Any]) -> None:
    missile_launch["priority"] = "high"

    assert "priority" == refusal(missile_launch).context["field"]


def test_unknown_type_is_refused_naming_type() -> None:
    assert "type" == refusal({"type": "weather_report"}).context["field"]


def test_counter_proposal_without_volumes_is_refused() -> None:
    body = load_example("deconfliction_answer.json")
    del body["volumes"]

    error = refusal(body)

    assert "volumes: a counter_proposal needs the changed volumes" == error.message


def test_concur_carries_no_volumes() -> None:
    body = load_example("deconfliction_answer.json") | {"answer": "concur"}

    assert "volumes" == refusal(body).context["field"]


def test_duplicate_volume_ids_are_refused(polygon_volume: dict[str, Any]) -> None:
    body = load_example("deconfliction_request.json") | {"volumes": [polygon_volume] * 2}

    assert "volumes: volume id 'V1' is used twice" == refusal(body).message


def test_radio_frequency_needs_number_and_unit(hazardous_activity: dict[str, Any]) -> None:
    hazardous_activity["contact_frequency"] = "channel 16"

    assert "contact_frequency" == refusal(hazardous_activity).context["field"]


def test_wire_form_round_trips_the_example_exactly(missile_launch: dict[str, Any]) -> None:
    assert missile_launch == to_wire(parse_notice(missile_launch))


def test_bodies_are_frozen(missile_launch: dict[str, Any]) -> None:
    notice = parse_notice(missile_launch)
    assert isinstance(notice, ActivityNotice)

    with pytest.raises(Exception, match="frozen"):
        notice.remarks = "changed"  # type: ignore[misc]


def test_volume_to_geojson_has_floats_and_the_party(hazardous_activity: dict[str, Any]) -> None:
    notice = parse_notice(hazardous_activity)
    assert isinstance(notice, ActivityNotice)

    expected = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[18.5, 55.5], [19.5, 55.5]]},
        "properties": {
            "id": "G1",
            "party": "us",
            "alt_lower_m": 0,
            "alt_upper_m": 3000,
            "datum": "MSL",
            "start": "2026-12-07T06:00:00Z",
            "end": "2026-12-07T14:00:00Z",
            "width_m": 10000,
        },
    }
    assert expected == notice.volumes[0].to_geojson("us")


def test_circle_volume_to_geojson_carries_radius(missile_launch: dict[str, Any]) -> None:
    notice = parse_notice(missile_launch)
    assert isinstance(notice, ActivityNotice)

    feature = notice.volumes[0].to_geojson("ru")

    assert {"type": "Point", "coordinates": [45.75, 48.5]} == feature["geometry"]
    assert 20000 == feature["properties"]["radius_m"]
    assert "width_m" not in feature["properties"]


def test_volume_ids_can_be_prefixed_with_the_message_id(missile_launch: dict[str, Any]) -> None:
    notice = parse_notice(missile_launch)
    assert isinstance(notice, ActivityNotice)

    feature = notice.volumes[0].to_geojson("ru", id_prefix="0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04")

    assert "0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04/V1" == feature["properties"]["id"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("activity_notice_missile_launch.json", "circle"),
        ("activity_notice_hazardous_activity.json", "corridor"),
        ("deconfliction_answer.json", "polygon"),
    ],
)
def test_geojson_is_what_the_deconfliction_engine_reads(name: str, kind: str) -> None:
    notice = parse_notice(load_example(name))
    assert isinstance(notice, ActivityNotice | DeconflictionAnswer)
    assert notice.volumes is not None

    engine = EngineVolume.from_feature(notice.volumes[0].to_geojson("us", id_prefix="m1"))

    assert (kind, "m1/" + notice.volumes[0].properties.id, "us") == (
        engine.kind,
        engine.id,
        engine.party,
    )

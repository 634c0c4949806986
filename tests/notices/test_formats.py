"""Known answers for the small formats: DTG, DMS, MGRS, altitude / flight level, distance.

Every expected value was worked out by hand (or taken from a published example, noted
beside it), not produced by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hotline.errors import ValidationError
from hotline.render.coords import format_dms, format_mgrs, format_position
from hotline.render.dtg import format_dtg
from hotline.render.units import format_altitude, format_distance, format_span


@pytest.mark.parametrize(
    ("when", "lang", "expected"),
    [
        (datetime(2026, 11, 21, 14, 30, tzinfo=UTC), "en", "211430Z NOV 26"),
        (datetime(2026, 11, 21, 14, 30, tzinfo=UTC), "ru", "211430Z НОЯ 26"),
        (datetime(2027, 1, 5, 0, 0, tzinfo=UTC), "en", "050000Z JAN 27"),
        # seconds are dropped, not rounded up into the next minute (or month)
        (datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC), "ru", "312359Z МАЙ 26"),
        # a Moscow-time input is converted to UTC first
        (
            datetime(2026, 11, 21, 17, 30, tzinfo=timezone(timedelta(hours=3))),
            "en",
            "211430Z NOV 26",
        ),
    ],
)
def test_dtg_is_day_hour_minute_zulu_month_year(when: datetime, lang: str, expected: str) -> None:
    assert expected == format_dtg(when, lang)


@pytest.mark.parametrize(
    ("month", "expected"),
    list(
        enumerate(
            ["ЯНВ", "ФЕВ", "МАР", "АПР", "МАЙ", "ИЮН", "ИЮЛ", "АВГ", "СЕН", "ОКТ", "НОЯ", "ДЕК"], 1
        )
    ),
)
def test_russian_dtg_uses_russian_month_abbreviations(month: int, expected: str) -> None:
    assert f"010000Z {expected} 26" == format_dtg(datetime(2026, month, 1, tzinfo=UTC), "ru")


def test_dtg_refuses_a_naive_time() -> None:
    with pytest.raises(ValidationError):
        format_dtg(datetime(2026, 11, 21, 14, 30), "en")


@pytest.mark.parametrize(
    ("lat", "lon", "lang", "expected"),
    [
        ("52.2500000", "21.0000000", "en", "52°15'00\"N 021°00'00\"E"),
        ("52.2500000", "21.0000000", "ru", "52°15'00\" с.ш. 021°00'00\" в.д."),
        # Sydney: 33.8568 * 3600 = 121884.48 s; 151.2153 * 3600 = 544375.08 s
        ("-33.8568000", "151.2153000", "en", "33°51'24\"S 151°12'55\"E"),
        ("-33.8568000", "151.2153000", "ru", "33°51'24\" ю.ш. 151°12'55\" в.д."),
        # 0.00125 * 3600 = 4.5 s exactly: half rounds up
        ("0.0012500", "0.0012500", "en", "00°00'05\"N 000°00'05\"E"),
        # 52.9999999 * 3600 = 190799.99964 s carries into the degree; -0.00036 s is zero, east
        ("52.9999999", "-0.0000001", "en", "53°00'00\"N 000°00'00\"E"),
        # 179.9998611 * 3600 = 647999.49996 s rounds down
        ("0.0001389", "-179.9998611", "ru", "00°00'01\" с.ш. 179°59'59\" з.д."),
        ("-90.0000000", "-180.0000000", "en", "90°00'00\"S 180°00'00\"W"),
    ],
)
def test_dms_rounds_to_the_nearest_second(lat: str, lon: str, lang: str, expected: str) -> None:
    assert expected == format_dms(lat, lon, lang)


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        # the mgrs package's README: 42.0, -93.0 -> 15TWG0000049776
        ("42.0000000", "-93.0000000", "15T WG 00000 49776"),
        # ex_mgrs documentation: 34.0, -118.24 -> 11SLT8548562848
        ("34.0000000", "-118.2400000", "11S LT 85485 62848"),
        # Washington Monument, NGS 38°53'22.08377"N 77°02'06.86378"W; USNG 18S UJ 23483 06479
        ("38.8894677", "-77.0352399", "18S UJ 23483 06479"),
        # 21°E is the central meridian of zone 34: easting 500000; northing 5788844.5 m
        ("52.2500000", "21.0000000", "34U EC 00000 88844"),
        # UPS north: 89°N on the prime meridian is 111027 m from the pole, N = 1888973
        ("89.0000000", "0.0000000", "Z AF 00000 88973"),
    ],
)
def test_mgrs_matches_published_references(lat: str, lon: str, expected: str) -> None:
    assert expected == format_mgrs(lat, lon)


def test_position_shows_dms_then_mgrs_in_geojson_order_input() -> None:
    expected = "52°15'00\" с.ш. 021°00'00\" в.д., MGRS 34U EC 00000 88844"
    assert expected == format_position(("21.0000000", "52.2500000"), "ru")


@pytest.mark.parametrize(
    ("metres", "lang", "expected"),
    [
        (3000, "en", "3000 m (9843 ft, FL098)"),  # 9842.52 ft
        (3000, "ru", "3000 м (9843 фт, ЭШ098)"),
        (0, "en", "0 m (0 ft, FL000)"),
        (1524, "en", "1524 m (5000 ft, FL050)"),  # exactly 5000 ft
        (320, "en", "320 m (1050 ft, FL011)"),  # 1049.87 ft; FL 10.5 rounds up
        (12497, "ru", "12497 м (41001 фт, ЭШ410)"),
        (30464, "en", "30464 m (99948 ft, FL999)"),  # 99947.51 ft: the highest level shown
        (30465, "en", "30465 m (99951 ft)"),  # 99950.79 ft: FL1000 would need four digits
        (-50, "en", "-50 m (-164 ft)"),  # below sea level: no flight level
    ],
)
def test_altitude_in_metres_feet_and_flight_level(metres: int, lang: str, expected: str) -> None:
    assert expected == format_altitude(metres, lang)


def test_altitude_without_flight_level() -> None:
    assert "3000 m (9843 ft)" == format_altitude(3000, "en", with_flight_level=False)


@pytest.mark.parametrize(
    ("metres", "lang", "expected"),
    [
        (10000, "en", "10.0 km (5.4 NM)"),
        (10000, "ru", "10,0 км (5,4 мор. мили)"),
        (1852, "en", "1.9 km (1.0 NM)"),
        (5556, "en", "5.6 km (3.0 NM)"),  # the Syria MoU's 3 NM
        (250, "en", "0.3 km (0.1 NM)"),  # 0.25 km: half rounds up, not to even
        (1234567, "ru", "1234,6 км (666,6 мор. мили)"),  # no digit grouping
    ],
)
def test_distance_in_kilometres_and_nautical_miles(metres: int, lang: str, expected: str) -> None:
    assert expected == format_distance(metres, lang)


@pytest.mark.parametrize(
    ("seconds", "round_up", "lang", "expected"),
    [
        (0, False, "en", "0 d 00:00"),
        (60, False, "en", "0 d 00:01"),
        (-60, True, "en", "0 d 00:01"),
        (90061, False, "en", "1 d 01:01"),
        (30, False, "en", "0 d 00:00"),
        (30, True, "en", "0 d 00:01"),
        (42 * 86400, False, "ru", "42 сут 00:00"),
    ],
)
def test_span_in_days_hours_minutes(seconds: int, round_up: bool, lang: str, expected: str) -> None:
    assert expected == format_span(seconds, lang, round_up=round_up)

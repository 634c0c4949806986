"""Properties over many inputs: DMS is within half a second; wire forms round-trip."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.notices.models import parse_notice, to_wire
from hotline.render.coords import format_lat, format_lon

from .conftest import load_example


def degrees(limit: int) -> st.SearchStrategy[str]:
    """Decimal-degree strings with 7 decimals within +/- limit."""
    return st.integers(-limit * 10**7, limit * 10**7).map(
        lambda n: f"{'-' if n < 0 else ''}{abs(n) // 10**7}.{abs(n) % 10**7:07d}"
    )


def dms_value(text: str) -> Decimal:
    match = re.fullmatch(r"(\d+)°(\d\d)'(\d\d)\"([NSEW])", text)
    assert match is not None, text
    d, m, s, hemisphere = match.groups()
    value = Decimal(d) + Decimal(m) / 60 + Decimal(s) / 3600
    return -value if hemisphere in "SW" else value


@given(lat=degrees(90), lon=degrees(180))
def test_dms_is_within_half_a_second_of_the_decimal(lat: str, lon: str) -> None:
    half_second = Decimal(1) / 7200

    assert abs(dms_value(format_lat(lat, "en")) - Decimal(lat)) <= half_second
    assert abs(dms_value(format_lon(lon, "en")) - Decimal(lon)) <= half_second


@given(lon=degrees(180), lat=degrees(90), radius=st.integers(1, 20_000_000))
def test_any_valid_circle_round_trips_through_the_wire_form(
    lon: str, lat: str, radius: int
) -> None:
    body = load_example("activity_notice_missile_launch.json")
    body["launch_area"] = {
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "radius_m": radius,
    }

    assert body == to_wire(parse_notice(body))

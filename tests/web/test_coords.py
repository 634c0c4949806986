"""Positions typed on the compose forms: decimal, DMS and MGRS, latitude first."""

from __future__ import annotations

import pytest

from hotline.errors import ValidationError
from hotline.web.coords import parse_position, parse_positions

WARSAW = ("21.0000000", "52.2500000")


@pytest.mark.parametrize(
    "text",
    [
        "52.25, 21.0",
        "52.25 21",
        "52.25N 21.0E",
        "52.25N, 021E",
        "52°15'00\"N 021°00'00\"E",
        "52 15 00 N 21 0 0 E",
        "521500N 0210000E",
        "021°00'00\"E 52°15'00\"N",
    ],
)
def test_each_written_form_of_one_position_gives_the_same_wire_position(text: str) -> None:
    assert WARSAW == parse_position(text)


def test_southern_and_western_hemispheres_are_negative() -> None:
    assert ("-45.7500000", "-48.5000000") == parse_position("48.5S 45.75W")


def test_mgrs_is_read_with_the_reference_library() -> None:
    # 34U EC 00000 88844 is Warsaw's reference in docs/notices.md, truncated to the metre
    lon, lat = parse_position("34U EC 00000 88844")
    assert (21.0, 52.25) == (round(float(lon), 4), round(float(lat), 4))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "is not a position"),
        ("95 10", "latitude 95 is out of range"),
        ("52 70 00 N 21 0 0 E", "minutes and seconds must be below 60"),
        ("52 15 00 E 21 0 0 E", "one latitude (N/S) and one longitude (E/W)"),
        ("34U EC 00000 8884x", "is not a position"),
    ],
)
def test_what_is_not_a_position_is_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_position(text)


def test_a_list_of_positions_names_the_wrong_line() -> None:
    with pytest.raises(ValidationError, match="corners, line 2"):
        parse_positions("52.25, 21\n\nnowhere\n", "corners")

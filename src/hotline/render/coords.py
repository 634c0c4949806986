"""Positions for people: degrees-minutes-seconds and MGRS.

DMS is rounded half-up to the nearest second (about 30 m of latitude) from the exact
decimal the sender wrote, carrying into minutes and degrees (``52°59'59.6"`` reads
``53°00'00"``). Latitude has two degree digits, longitude three, as in formatted
messages: ``52°15'00"N 021°00'00"E``; in Russian the hemisphere is a word,
``52°15'00" с.ш. 021°00'00" в.д.``.

MGRS comes from the ``mgrs`` package (a wrapper around the NGA's GeoTrans code, the
reference implementation) at 1 m precision, split for reading: ``34U EC 00000 88844``.
GeoTrans truncates to the grid square rather than rounding, so the point lies inside
the square named. Beyond 84°N / 80°S it gives UPS grid references (``Z AF ...``).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import mgrs

from hotline.domain.notices.geometry import Position, lat_lon
from hotline.render.i18n import t

_MGRS = re.compile(r"^(\d{0,2}[A-Z])([A-Z]{2})(\d*)$")


def _dms(value: Decimal, degree_digits: int) -> tuple[str, bool]:
    """``DD°MM'SS"`` of ``|value|`` and whether the rounded value is negative."""
    seconds = int((abs(value) * 3600).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    degrees, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    # a value that rounds to 0 has no hemisphere; call it N / E
    negative = value < 0 and seconds > 0
    return f"{degrees:0{degree_digits}d}°{minutes:02d}'{secs:02d}\"", negative


def format_lat(lat: Decimal | str, lang: str) -> str:
    """Latitude in DMS with its hemisphere: ``52°15'00"N`` / ``52°15'00" с.ш.``."""
    text, south = _dms(Decimal(lat), 2)
    return t(lang, "{dms}S", dms=text) if south else t(lang, "{dms}N", dms=text)


def format_lon(lon: Decimal | str, lang: str) -> str:
    """Longitude in DMS with its hemisphere: ``021°00'00"E`` / ``021°00'00" в.д.``."""
    text, west = _dms(Decimal(lon), 3)
    return t(lang, "{dms}W", dms=text) if west else t(lang, "{dms}E", dms=text)


def format_dms(lat: Decimal | str, lon: Decimal | str, lang: str) -> str:
    """``52°15'00"N 021°00'00"E`` (latitude first, as people read positions)."""
    return f"{format_lat(lat, lang)} {format_lon(lon, lang)}"


def format_mgrs(lat: Decimal | str, lon: Decimal | str) -> str:
    """The 1 m MGRS reference of a point, spaced for reading: ``34U EC 00000 88844``."""
    # floats are fine here: this is display, far below the 1 m precision
    packed = str(mgrs.MGRS().toMGRS(float(lat), float(lon), MGRSPrecision=5))
    match = _MGRS.fullmatch(packed)
    if match is None:  # not expected from GeoTrans; show what it gave rather than fail
        return packed
    zone, square, digits = match.groups()
    half = len(digits) // 2
    return f"{zone} {square} {digits[:half]} {digits[half:]}"


def format_position(position: Position, lang: str) -> str:
    """A wire position ``[lon, lat]`` as DMS and MGRS: ``52°15'00"N 021°00'00"E, MGRS ...``."""
    lat, lon = lat_lon(position)
    return t(lang, "{dms}, MGRS {mgrs}", dms=format_dms(lat, lon, lang), mgrs=format_mgrs(lat, lon))

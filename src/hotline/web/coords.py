"""Positions typed by a person: decimal degrees, degrees-minutes-seconds or MGRS.

Operators read positions off charts, signals and other systems in whatever form they
came in, so the compose forms accept each of these on a line, latitude first:

* decimal: ``52.25, 21.0`` · ``52.25 21`` · ``52.25N 21.0E`` · ``-33.9 18.4``
* DMS: ``52°15'00"N 021°00'00"E`` · ``52 15 00 N 21 0 0 E`` · ``521500N 0210000E``
* MGRS: ``34U EC 00000 88844`` · ``34UEC0000088844`` (the ``mgrs`` package, NGA GeoTrans)

The result is the wire form, ``[lon, lat]`` as decimal strings with 7 decimals (about
1 cm). Anything else is a :class:`~hotline.errors.ValidationError` that names the field
and the line.

>>> parse_position("52°15'00\\"N 021°00'00\\"E")
('21.0000000', '52.2500000')
>>> parse_position("52.25, 21")
('21.0000000', '52.2500000')
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from hotline.errors import ValidationError

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_DECIMAL = re.compile(
    rf"^\s*({_NUMBER})\s*°?\s*([NS])?\s*[,;\s]\s*({_NUMBER})\s*°?\s*([EW])?\s*$", re.I
)
_DMS_PART = r"(\d{1,3})\s*[°\s]\s*(\d{1,2})\s*['′\s]\s*(\d{1,2}(?:\.\d+)?)\s*[\"″]?\s*([NSEW])"
_DMS = re.compile(rf"^\s*{_DMS_PART}\s*[,;\s]?\s*{_DMS_PART}\s*$", re.I)
_COMPACT = re.compile(
    r"^\s*(\d{2})(\d{2})(\d{2}(?:\.\d+)?)\s*([NS])\s*[,;\s]?\s*(\d{3})(\d{2})(\d{2}(?:\.\d+)?)\s*([EW])\s*$",
    re.I,
)
_MGRS = re.compile(
    r"^\s*(\d{1,2}\s*[C-HJ-NP-X])\s*([A-HJ-NP-Z]{2})\s*(\d{1,5})\s*(\d{1,5})\s*$", re.I
)
_SEVEN = Decimal("0.0000001")


def _wire(lat: Decimal, lon: Decimal, where: str) -> tuple[str, str]:
    if abs(lat) > 90:
        raise ValidationError(f"{where}: latitude {lat} is out of range [-90, 90]", field=where)
    if abs(lon) > 180:
        raise ValidationError(f"{where}: longitude {lon} is out of range [-180, 180]", field=where)
    return (
        str(lon.quantize(_SEVEN, rounding=ROUND_HALF_UP)),
        str(lat.quantize(_SEVEN, rounding=ROUND_HALF_UP)),
    )


def _signed(value: Decimal, hemisphere: str | None) -> Decimal:
    return -value if hemisphere and hemisphere.upper() in "SW" else value


def _dms_value(deg: str, minutes: str, seconds: str, where: str) -> Decimal:
    if int(minutes) >= 60 or Decimal(seconds) >= 60:
        raise ValidationError(f"{where}: minutes and seconds must be below 60", field=where)
    return Decimal(deg) + Decimal(minutes) / 60 + Decimal(seconds) / 3600


def _from_dms(groups: tuple[str | None, ...], where: str) -> tuple[str, str]:
    g = [x or "" for x in groups]
    first = _signed(_dms_value(g[0], g[1], g[2], where), g[3])
    second = _signed(_dms_value(g[4], g[5], g[6], where), g[7])
    if g[3].upper() in "EW" and g[7].upper() in "NS":
        first, second = second, first  # written longitude first
    elif g[3].upper() in "EW" or g[7].upper() in "NS":
        raise ValidationError(f"{where}: give one latitude (N/S) and one longitude (E/W)")
    return _wire(first, second, where)


def _from_mgrs(text: str, where: str) -> tuple[str, str]:
    import mgrs

    compact = re.sub(r"\s+", "", text).upper()
    try:
        lat, lon = mgrs.MGRS().toLatLon(compact)
    except Exception as exc:  # the C library raises its own MGRSError (and others)
        raise ValidationError(f"{where}: {text.strip()!r} is not a valid MGRS reference") from exc
    return _wire(Decimal(repr(lat)), Decimal(repr(lon)), where)


def parse_position(text: str, where: str = "position") -> tuple[str, str]:
    """One typed position → ``(lon, lat)`` decimal strings (GeoJSON order)."""
    if match := _COMPACT.match(text):  # before decimal: 521500N would read as 521500°
        return _from_dms(match.groups(), where)
    if match := _DECIMAL.match(text):
        lat_s, lat_h, lon_s, lon_h = match.groups()
        try:
            lat, lon = Decimal(lat_s), Decimal(lon_s)
        except InvalidOperation:
            raise ValidationError(f"{where}: {text!r} is not a position", field=where) from None
        return _wire(_signed(lat, lat_h), _signed(lon, lon_h), where)
    if match := _DMS.match(text):
        return _from_dms(match.groups(), where)
    if _MGRS.match(text):
        return _from_mgrs(text, where)
    raise ValidationError(
        f"{where}: {text.strip()!r} is not a position",
        hint="decimal (52.25, 21.0), DMS (52°15'00\"N 021°00'00\"E) or MGRS (34U EC 00000 88844)",
        field=where,
    )


def parse_positions(text: str, where: str) -> list[tuple[str, str]]:
    """One position per non-empty line; the error names the line."""
    lines = [line for line in text.splitlines() if line.strip()]
    return [parse_position(line, f"{where}, line {n}") for n, line in enumerate(lines, 1)]

"""Altitudes, distances and durations for people, in English and Russian.

- Altitude: metres, then feet and, where it means something, a flight level:
  ``3000 m (9843 ft, FL098)`` / ``3000 м (9843 фт, ЭШ098)``. One foot is exactly
  0.3048 m; feet round half away from zero; the flight level is feet / 100 rounded
  half up. A flight level is a pressure altitude, so the one shown here is indicative
  (standard atmosphere) and is only given for heights above mean sea level from 0 to
  FL999. Russian: "фт" (футы), "ЭШ" (эшелон полёта).
- Distance: kilometres and nautical miles (1 NM = 1852 m exactly), one decimal each,
  rounded half up, with the language's decimal mark (Babel): ``10.0 km (5.4 NM)`` /
  ``10,0 км (5,4 мор. мили)``. With one decimal the Russian noun is always genitive
  singular ("5,4 мили", "10,0 мили"), so the abbreviation never needs inflecting.
- Duration: days, hours and minutes, ``2 d 03:05`` / ``2 сут 03:05``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

from hotline.render.i18n import t

_TENTH = Decimal("0.1")


def _round_half_away(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, halves away from zero."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def metres_to_feet(metres: int) -> int:
    """Whole feet in ``metres`` (1 ft = 0.3048 m exactly)."""
    return _round_half_away(metres * 10_000, 3048)


def flight_level(metres: int) -> int | None:
    """The indicative flight level (hundreds of feet), or None outside FL000–FL999."""
    level = _round_half_away(metres_to_feet(metres), 100)
    return level if metres >= 0 and level <= 999 else None


def format_altitude(metres: int, lang: str, *, with_flight_level: bool = True) -> str:
    """``3000 m (9843 ft, FL098)``; without the flight level: ``3000 m (9843 ft)``."""
    feet = metres_to_feet(metres)
    level = flight_level(metres) if with_flight_level else None
    if level is None:
        return t(lang, "{m} m ({ft} ft)", m=metres, ft=feet)
    fl = t(lang, "FL{level}", level=f"{level:03d}")
    return t(lang, "{m} m ({ft} ft, {fl})", m=metres, ft=feet, fl=fl)


def _one_decimal(value: Decimal, lang: str) -> str:
    rounded = value.quantize(_TENTH, rounding=ROUND_HALF_UP)
    return str(format_decimal(rounded, format="0.0", locale=lang))


def format_distance(metres: int, lang: str) -> str:
    """``10.0 km (5.4 NM)`` / ``10,0 км (5,4 мор. мили)``."""
    km = _one_decimal(Decimal(metres) / 1000, lang)
    nm = _one_decimal(Decimal(metres) / 1852, lang)
    return t(lang, "{km} km ({nm} NM)", km=km, nm=nm)


def format_span(seconds: int, lang: str, *, round_up: bool = False) -> str:
    """``|seconds|`` as ``D d HH:MM``; part minutes are dropped, or counted if ``round_up``.

    Callers round *against* the reader's comfort: time to spare rounds down, lateness
    rounds up, so 30 s late reads "0 d 00:01", never "0 d 00:00".
    """
    minutes = -(-abs(seconds) // 60) if round_up else abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return t(lang, "{days} d {hh}:{mm}", days=days, hh=f"{hours:02d}", mm=f"{mins:02d}")

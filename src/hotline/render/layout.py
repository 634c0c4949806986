"""The formatted-message layout shared by every notice type, and its common pieces.

A rendered notice is a header (title, FROM, TO, MSG ID, DTG, SUBJECT), numbered
paragraphs and an end line. A paragraph has a heading (``2. VOLUMES: 1``), indented
detail lines, and numbered items (``2.1. VOLUME V1``) with details of their own::

    1. ACTIVITY: MISSILE LAUNCH
    2. VOLUMES: 1
    2.1. VOLUME V1
        SHAPE: CIRCLE
        ...

The layout is the same in both languages, line for line, so a translator or an
auditor can put the two renderings side by side. Free text (remarks, descriptions) is
the sender's own words in the sender's language and is never translated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hotline.domain.notices.base import Unit
from hotline.domain.notices.geometry import (
    Area,
    Datum,
    LineStringGeometry,
    PointGeometry,
    PolygonGeometry,
    Volume,
)
from hotline.render.coords import format_position
from hotline.render.dtg import format_dtg
from hotline.render.i18n import N_, gettext, t
from hotline.render.units import format_altitude, format_distance

INDENT = "    "

UNIT_KINDS = {
    "aircraft": N_("AIRCRAFT"),
    "helicopter": N_("HELICOPTERS"),
    "uav": N_("UNMANNED AIRCRAFT"),
    "surface_ship": N_("SURFACE SHIPS"),
    "submarine": N_("SUBMARINES"),
    "ground_unit": N_("GROUND UNITS"),
    "missile": N_("MISSILES"),
    "other": N_("OTHER"),
}
DATUMS = {
    "MSL": N_("MSL"),
    "AGL": N_("AGL"),
    "WGS84": N_("WGS84 HAE"),  # height above the ellipsoid
}


@dataclass
class Item:
    """A numbered item inside a paragraph (``2.1.``) with indented details."""

    text: str
    details: list[str] = field(default_factory=list)


@dataclass
class Para:
    """A numbered paragraph: heading, indented details, numbered items."""

    head: str
    details: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)


def labelled(lang: str, msgid: str, value: object) -> str:
    """``LABEL: value`` with the label translated."""
    return f"{gettext(lang, msgid)}: {value}"


def _indented(text: str, prefix: str) -> list[str]:
    """``prefix + text``; continuation lines of multi-line free text are indented."""
    first, *rest = text.splitlines() or [""]
    return [prefix + first] + [INDENT + line for line in rest]


def layout(header: list[str], paras: list[Para], lang: str) -> str:
    """Number the paragraphs and items and join everything into the message text."""
    lines = list(header)
    for number, para in enumerate(paras, start=1):
        lines += _indented(para.head, f"{number}. ")
        for detail in para.details:
            lines += _indented(detail, INDENT)
        for sub, item in enumerate(para.items, start=1):
            lines += _indented(item.text, f"{number}.{sub}. ")
            for detail in item.details:
                lines += _indented(detail, INDENT)
    lines.append(gettext(lang, "END OF MESSAGE"))
    return "\n".join(lines) + "\n"


def header(
    lang: str,
    subject_msgid: str,
    *,
    sender: str | None,
    receiver: str | None,
    message_id: str | None,
    sent_at: datetime | None,
) -> list[str]:
    """The message header; a value not known (e.g. rendering a draft) shows as ``—``."""
    dash = "—"
    return [
        gettext(lang, "HOTLINE MESSAGE"),
        labelled(lang, "FROM", sender.upper() if sender else dash),
        labelled(lang, "TO", receiver.upper() if receiver else dash),
        labelled(lang, "MSG ID", message_id or dash),
        labelled(lang, "DTG", format_dtg(sent_at, lang) if sent_at else dash),
        labelled(lang, "SUBJECT", gettext(lang, subject_msgid)),
    ]


def time_window(start: datetime, end: datetime, lang: str) -> str:
    """``FROM 211430Z NOV 26 TO 211630Z NOV 26``."""
    return t(
        lang, "FROM {start} TO {end}", start=format_dtg(start, lang), end=format_dtg(end, lang)
    )


def altitude_band(lower: int, upper: int, datum: Datum, lang: str) -> str:
    """``FROM 0 m (0 ft, FL000) TO 3000 m (9843 ft, FL098) MSL``.

    Flight levels are shown only above mean sea level: against the ground or the
    ellipsoid they would mislead.
    """
    with_fl = datum == "MSL"
    return t(
        lang,
        "FROM {lower} TO {upper} {datum}",
        lower=format_altitude(lower, lang, with_flight_level=with_fl),
        upper=format_altitude(upper, lang, with_flight_level=with_fl),
        datum=gettext(lang, DATUMS[datum]),
    )


def altitude_at(metres: int, datum: Datum, lang: str) -> str:
    """A single height with its datum: ``150 m (492 ft, FL005) MSL``."""
    return t(
        lang,
        "{altitude} {datum}",
        altitude=format_altitude(metres, lang, with_flight_level=datum == "MSL"),
        datum=gettext(lang, DATUMS[datum]),
    )


def _points(positions: tuple[tuple[str, str], ...], lang: str) -> list[str]:
    return [
        t(lang, "POINT {n}: {position}", n=n, position=format_position(p, lang))
        for n, p in enumerate(positions, start=1)
    ]


def shape_lines(
    geometry: PolygonGeometry | PointGeometry | LineStringGeometry,
    lang: str,
    *,
    radius_m: int | None = None,
    width_m: int | None = None,
) -> list[str]:
    """Lines describing a polygon, a circle or a corridor."""
    if isinstance(geometry, PointGeometry):
        return [
            labelled(lang, "SHAPE", gettext(lang, "CIRCLE")),
            labelled(lang, "CENTRE", format_position(geometry.coordinates, lang)),
            labelled(lang, "RADIUS", format_distance(radius_m or 0, lang)),
        ]
    if isinstance(geometry, LineStringGeometry):
        shape = t(lang, "CORRIDOR, {n} POINTS", n=len(geometry.coordinates))
        return [
            labelled(lang, "SHAPE", shape),
            labelled(lang, "WIDTH", format_distance(width_m or 0, lang)),
            *_points(geometry.coordinates, lang),
        ]
    vertices = geometry.vertices()
    shape = t(lang, "POLYGON, {n} POINTS", n=len(vertices))
    return [labelled(lang, "SHAPE", shape), *_points(vertices, lang)]


def area_lines(area: Area, lang: str) -> list[str]:
    """Lines describing a launch, impact or exercise area."""
    return shape_lines(area.geometry, lang, radius_m=area.radius_m)


def volume_item(volume: Volume, lang: str) -> Item:
    """``VOLUME V1`` with its shape, altitude band and time window."""
    p = volume.properties
    details = shape_lines(volume.geometry, lang, radius_m=p.radius_m, width_m=p.width_m)
    details.append(
        labelled(lang, "ALTITUDE", altitude_band(p.alt_lower_m, p.alt_upper_m, p.datum, lang))
    )
    details.append(labelled(lang, "TIME", time_window(p.start, p.end, lang)))
    return Item(t(lang, "VOLUME {id}", id=p.id), details)


def volumes_para(msgid: str, volumes: tuple[Volume, ...] | None, lang: str) -> Para:
    """A paragraph listing volumes (``NONE`` when there are none)."""
    if not volumes:
        return Para(labelled(lang, msgid, gettext(lang, "NONE")))
    return Para(labelled(lang, msgid, len(volumes)), items=[volume_item(v, lang) for v in volumes])


def units_para(msgid: str, units: tuple[Unit, ...] | None, lang: str) -> Para:
    """A paragraph listing units as ``designation — KIND: count``."""
    if not units:
        return Para(labelled(lang, msgid, gettext(lang, "NOT STATED")))
    items = [
        Item(f"{u.designation} — {gettext(lang, UNIT_KINDS[u.kind])}: {u.count}") for u in units
    ]
    return Para(labelled(lang, msgid, len(units)), items=items)


def optional_text(lang: str, msgid: str, text: str | None) -> Para:
    """A free-text paragraph, ``NONE`` when absent."""
    return Para(labelled(lang, msgid, text if text is not None else gettext(lang, "NONE")))

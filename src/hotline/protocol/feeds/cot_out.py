"""Cursor-on-Target events written for TAK: volumes and areas as drawing shapes,
conflicts and incursions as alerts, tracks as atoms (pure: dicts in, XML bytes out).

Every uid starts ``hotline.<party>.`` (the node's party) so that TAK users see whose
picture it is and a Hotline CoT source skips the node's own output if a TAK server echoes
it back (:data:`hotline.protocol.feeds.common.OWN_UID_PREFIX`).

- A **volume** (or a protected area) is a drawing shape: a polygon (``u-d-f``, its
  corners as ``<link point="lat,lon"/>``; a corridor by its outline) or a circle
  (``u-d-c-c``, ``<shape><ellipse major minor angle/>``, metres), ``start``/``stale`` its
  time window (an area: from now, stale after ``area_stale_s``), its altitude band and
  times in ``<remarks>`` and in a ``<hotline>`` detail element, stroke and fill in its
  affiliation's 2525 colour.
- An **alert** is an emergency event at a place: ``b-a-g`` (geofence breached) for a
  predicted or current incursion, ``b-a-o-c`` (custom alert) for a volume conflict or a
  predicted loss of separation between tracks, with ``<emergency>`` and ``<remarks>``.
- A **track** is an atom of the CoT type of :mod:`hotline.domain.symbology`
  (``a-f-A`` …), with ``<track speed course/>`` (m/s, degrees true), ``<contact>`` and the
  2525 SIDC in its ``<hotline>`` element.
- A shape or alert no longer in the picture is withdrawn with a ``t-x-d-d`` delete event.

>>> b"<event" in track_event("us", {"id": "icao:4CA2D6", "party": "us", "lat": 35.1,
...     "lon": 33.2, "alt_m": 10668.0, "gs_mps": 231.5, "trk_deg": 90.0,
...     "cot_type": "a-f-A", "sidc": "SFAP-----------"}, "2026-12-07T04:00:00.000Z",
...     "2026-12-07T04:01:00.000Z")
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

UNKNOWN = "9999999.0"  # CoT's "not known" for hae, ce and le
HOW = "m-f"  # machine, fused: the node's picture, not a GPS of its own
INCURSION = "b-a-g"
CONFLICT = "b-a-o-c"
DELETE = "t-x-d-d"
#: 2525 frame colours as CoT's signed ARGB integers: friend blue, hostile red, neutral
#: green, unknown yellow.
ARGB = {
    "friend": 0xFF4DA3FF,
    "hostile": 0xFFFF4D4F,
    "neutral": 0xFF5AD19A,
    "unknown": 0xFFFFFF00,
}


#: What XML 1.0 cannot hold (its ``Char`` production): C0 controls but tab, line feed and
#: carriage return, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold, so that one odd string (a
    call sign, a volume's name) never makes a whole document unreadable.

    >>> xml_safe("EVIL\\x01\\x1b[2J\\ufffe")
    'EVIL[2J'
    """
    return _NOT_XML.sub("", text)


def uid(party: str, kind: str, key: str) -> str:
    """``hotline.<party>.<kind>.<key>``, e.g. ``hotline.us.volume.M1/A1``."""
    return f"hotline.{party}.{kind}.{key}"


def _signed(argb: int) -> str:
    return str(argb - (1 << 32) if argb >= 1 << 31 else argb)


def _event(
    uid_: str, type_: str, now: str, start: str, stale: str, lat: float, lon: float, hae: str
) -> tuple[Element, Element]:
    event = Element(
        "event",
        version="2.0",
        uid=uid_,
        type=type_,
        how=HOW,
        time=now,
        start=start,
        stale=stale,
    )
    SubElement(event, "point", lat=f"{lat:.7f}", lon=f"{lon:.7f}", hae=hae, ce=UNKNOWN, le=UNKNOWN)
    return event, SubElement(event, "detail")


def _bytes(event: Element) -> bytes:
    xml = xml_safe(tostring(event, encoding="unicode"))  # no declaration of its own
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}\n'.encode()


def shape_event(
    me: str,
    kind: str,
    props: dict[str, Any],
    outline: dict[str, Any],
    affiliation: str,
    now: str,
    start: str,
    stale: str,
) -> bytes:
    """A volume or area (``kind``) as a drawing shape. ``outline`` is its geometry with
    corridors as Polygons (circles stay Points with ``props["radius_m"]``)."""
    name = f"{props['party'].upper()} {kind} {props['id']}"
    radius = props.get("radius_m")
    if outline["type"] == "Point" and radius:
        lon, lat = outline["coordinates"][:2]
        event, detail = _event(uid(me, kind, props["id"]), "u-d-c-c", now, start, stale, lat, lon,
                               UNKNOWN)  # fmt: skip
        shape = SubElement(detail, "shape")
        SubElement(shape, "ellipse", major=f"{radius}", minor=f"{radius}", angle="360")
    else:
        ring: Sequence[Sequence[float]] = outline["coordinates"][0]
        corners = ring[:-1] if ring[0] == ring[-1] else ring
        lon = sum(c[0] for c in corners) / len(corners)
        lat = sum(c[1] for c in corners) / len(corners)
        event, detail = _event(uid(me, kind, props["id"]), "u-d-f", now, start, stale, lat, lon,
                               UNKNOWN)  # fmt: skip
        for c in ring:
            SubElement(detail, "link", point=f"{c[1]:.7f},{c[0]:.7f}")
    SubElement(detail, "contact", callsign=name)
    colour = ARGB.get(affiliation, ARGB["unknown"])
    SubElement(detail, "strokeColor", value=_signed(colour))
    SubElement(detail, "fillColor", value=_signed((colour & 0x00FFFFFF) | 0x40000000))
    SubElement(detail, "strokeWeight", value="2.0")
    SubElement(detail, "labels_on", value="true")
    band = _band(props)
    remarks = SubElement(detail, "remarks")
    remarks.text = f"{name}: {band}" + (
        f", {props['start']} to {props['end']}" if props.get("start") else ""
    )
    facts = {
        k: str(v)
        for k, v in props.items()
        if v is not None and not isinstance(v, dict | list) and k not in ("kind", "affiliation")
    }
    SubElement(detail, "hotline", {"kind": kind, "affiliation": affiliation} | facts)
    return _bytes(event)


def _band(props: dict[str, Any]) -> str:
    if props.get("alt_lower_m") is None:
        return "all altitudes"
    datum = props.get("datum") or ""
    return f"{props['alt_lower_m']:g}-{props['alt_upper_m']:g} m {datum}".strip()


def track_event(me: str, track: dict[str, Any], now: str, stale: str) -> bytes:
    """A track as an atom typed by its 2525 symbol (``track["cot_type"]``)."""
    event, detail = _event(
        uid(me, "track", track["id"]),
        track["cot_type"],
        now,
        now,
        stale,
        track["lat"],
        track["lon"],
        f"{track['alt_m']:.1f}",
    )
    course = f"{track['trk_deg'] % 360:.2f}"
    SubElement(detail, "track", speed=f"{track['gs_mps']:.2f}", course=course)
    SubElement(detail, "contact", callsign=track.get("callsign") or track["id"])
    SubElement(detail, "hotline", kind="track", id=track["id"], party=track["party"],
               sidc=track["sidc"])  # fmt: skip
    return _bytes(event)


def alert_event(
    me: str,
    key: str,
    type_: str,
    lat: float,
    lon: float,
    text: str,
    now: str,
    stale: str,
    facts: dict[str, Any],
) -> bytes:
    """An alert at a place: an incursion (``b-a-g``) or a conflict (``b-a-o-c``)."""
    kind = "incursion" if type_ == INCURSION else "conflict"
    event, detail = _event(uid(me, kind, key), type_, now, now, stale, lat, lon, UNKNOWN)
    emergency = SubElement(detail, "emergency", type="Geo-fence Breached" if kind ==
                           "incursion" else "Custom")  # fmt: skip
    emergency.text = text
    SubElement(detail, "contact", callsign=text[:64])
    remarks = SubElement(detail, "remarks")
    remarks.text = text
    shown = {k: str(v) for k, v in facts.items() if v is not None and k != "kind"}
    SubElement(detail, "hotline", {"kind": kind} | shown)
    return _bytes(event)


def delete_event(uid_: str, type_: str, now: str, stale: str) -> bytes:
    """Withdraw a shape or alert sent before (TAK's ``t-x-d-d`` with a link to it)."""
    event, detail = _event(f"{uid_}.delete", DELETE, now, now, stale, 0.0, 0.0, UNKNOWN)
    SubElement(detail, "link", uid=uid_, relation="none", type=type_)
    SubElement(detail, "__forcedelete")
    return _bytes(event)


def midpoint(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """(lat, lon) halfway between two nearby points (plain average; longitudes unwrapped)."""
    dlon = (b[1] - a[1] + 180.0) % 360.0 - 180.0
    lon = a[1] + dlon / 2
    return (a[0] + b[0]) / 2, math.remainder(lon, 360.0)

"""The compose forms' fields → notice bodies (the wire JSON ``node.notices.prepare`` takes).

Only conversions happen here: typed positions (decimal, DMS, MGRS) to wire coordinates,
``datetime-local`` values (read as UTC) to RFC 3339, numbers to integers. Whether the
result is a valid notice is for ``Notices.prepare``, whose errors name each field
(``volumes[0].properties.end: ...``); an empty field is left out so that the model, not
this module, says it is required.

Repeated groups are numbered: ``vol-0-shape``, ``vol-0-coords`` ..., ``unit-0-kind``,
``other-0-count`` ...; the page's script adds groups by cloning a template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from hotline.errors import ValidationError
from hotline.web.coords import parse_position, parse_positions

Form = Mapping[str, Any]

#: Types with a form of their own; the others are edited as JSON.
FORM_TYPES = (
    "activity_notice",
    "incident_report",
    "deconfliction_request",
    "deconfliction_answer",
)
JSON_TYPES = ("exercise_notification", "observer_invitation", "observer_answer")

_LOCAL_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?Z?$")


def text(form: Form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def utc(form: Form, name: str, where: str) -> str | None:
    """A ``datetime-local`` value, read as UTC, as ``YYYY-MM-DDTHH:MM:SSZ``."""
    value = text(form, name)
    if not value:
        return None
    match = _LOCAL_TIME.match(value)
    if match is None:
        raise ValidationError(f"{where}: {value!r} is not a UTC time like 2026-12-03T09:00")
    day, hhmm, seconds = match.groups()
    return f"{day}T{hhmm}{seconds or ':00'}Z"


def integer(form: Form, name: str, where: str) -> int | None:
    value = text(form, name).replace(" ", "")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{where}: {value!r} is not a whole number", field=where) from None


def indices(form: Form, prefix: str) -> list[int]:
    """The numbers of the groups ``prefix-N-...`` present in the form, in order."""
    found = {int(m.group(1)) for key in form if (m := re.match(rf"^{prefix}-(\d+)-", key))}
    return sorted(found)


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def units(form: Form, prefix: str, where: str) -> list[dict[str, Any]]:
    out = []
    for n in indices(form, prefix):
        unit = _drop_empty(
            {
                "designation": text(form, f"{prefix}-{n}-designation"),
                "kind": text(form, f"{prefix}-{n}-kind"),
                "count": integer(form, f"{prefix}-{n}-count", f"{where}[{n}].count"),
            }
        )
        if set(unit) - {"kind", "count"}:  # a row with only defaults is an unused row
            out.append(unit)
    return out


def _geometry(shape: str, points: list[tuple[str, str]], where: str) -> dict[str, Any]:
    if shape == "circle":
        if len(points) != 1:
            raise ValidationError(f"{where}: a circle needs exactly one centre position")
        return {"type": "Point", "coordinates": list(points[0])}
    if shape == "corridor":
        if len(points) < 2:
            raise ValidationError(f"{where}: a corridor needs at least two positions")
        return {"type": "LineString", "coordinates": [list(p) for p in points]}
    if len(set(points)) < 3:
        raise ValidationError(f"{where}: a polygon needs at least three corners")
    ring = [list(p) for p in points]
    if ring[0] != ring[-1]:
        ring.append(ring[0])  # people list corners; GeoJSON repeats the first at the end
    return {"type": "Polygon", "coordinates": [ring]}


def volume(form: Form, n: int) -> dict[str, Any]:
    where = f"volumes[{n}]"
    key = f"vol-{n}-"
    shape = text(form, key + "shape") or "polygon"
    points = parse_positions(text(form, key + "coords"), f"{where}.coordinates")
    size = integer(form, key + "size_m", f"{where}.size_m")
    properties = _drop_empty(
        {
            "id": text(form, key + "id") or f"V{n + 1}",
            "alt_lower_m": integer(form, key + "alt_lower_m", f"{where}.alt_lower_m"),
            "alt_upper_m": integer(form, key + "alt_upper_m", f"{where}.alt_upper_m"),
            "datum": text(form, key + "datum"),
            "start": utc(form, key + "start", f"{where}.start"),
            "end": utc(form, key + "end", f"{where}.end"),
            "radius_m": size if shape == "circle" else None,
            "width_m": size if shape == "corridor" else None,
        }
    )
    return {
        "type": "Feature",
        "geometry": _geometry(shape, points, f"{where}.coordinates"),
        "properties": properties,
    }


def volumes(form: Form) -> list[dict[str, Any]]:
    return [volume(form, n) for n in indices(form, "vol") if text(form, f"vol-{n}-coords")]


def area(form: Form, name: str) -> dict[str, Any] | None:
    """A launch or impact area: one position and a radius, or boundary points."""
    points = parse_positions(text(form, f"{name}-coords"), name)
    if not points:
        return None
    radius = integer(form, f"{name}-radius_m", f"{name}.radius_m")
    if len(points) == 1:
        return _drop_empty({"geometry": _geometry("circle", points, name), "radius_m": radius})
    return {"geometry": _geometry("polygon", points, name)}


def activity_notice(form: Form) -> dict[str, Any]:
    activity = text(form, "activity")
    body: dict[str, Any] = {
        "type": "activity_notice",
        "activity": activity,
        "volumes": volumes(form),
        "units": units(form, "unit", "units"),
        "contact_frequency": text(form, "contact_frequency"),
        "remarks": text(form, "remarks"),
    }
    if activity == "missile_launch":
        body["launch_area"] = area(form, "launch_area")
        body["impact_area"] = area(form, "impact_area")
    return _drop_empty(body)


def incident_report(form: Form) -> dict[str, Any]:
    position = text(form, "position")
    return _drop_empty(
        {
            "type": "incident_report",
            "time": utc(form, "time", "time"),
            "position": list(parse_position(position, "position")) if position else None,
            "altitude_m": integer(form, "altitude_m", "altitude_m"),
            "datum": text(form, "datum") if text(form, "altitude_m") else None,
            "category": text(form, "category"),
            "own_units": units(form, "unit", "own_units"),
            "other_units": units(form, "other", "other_units"),
            "description": text(form, "description"),
        }
    )


def deconfliction_request(form: Form) -> dict[str, Any]:
    return _drop_empty(
        {
            "type": "deconfliction_request",
            "refers_to": text(form, "refers_to"),
            "volumes": volumes(form),
            "concern": text(form, "concern"),
        }
    )


def deconfliction_answer(form: Form) -> dict[str, Any]:
    answer = text(form, "answer")
    return _drop_empty(
        {
            "type": "deconfliction_answer",
            "refers_to": text(form, "refers_to"),
            "answer": answer,
            "volumes": (volumes(form) or None) if answer == "counter_proposal" else None,
            "reason": text(form, "reason"),
        }
    )


def from_json(form: Form, type_: str) -> dict[str, Any]:
    raw = text(form, "notice_json")
    try:
        body = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"notice_json: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            field="notice_json",
        ) from None
    if not isinstance(body, dict):
        raise ValidationError("notice_json: a notice is a JSON object", field="notice_json")
    return {**body, "type": type_}


_BUILDERS = {
    "activity_notice": activity_notice,
    "incident_report": incident_report,
    "deconfliction_request": deconfliction_request,
    "deconfliction_answer": deconfliction_answer,
}


def notice_from_form(form: Form) -> dict[str, Any]:
    """The notice body the compose form describes."""
    type_ = text(form, "notice_type")
    builder = _BUILDERS.get(type_)
    if builder is not None:
        return builder(form)
    if type_ in JSON_TYPES:
        return from_json(form, type_)
    raise ValidationError(f"notice_type: {type_!r} is not a notice this form sends")

"""The one GeoJSON reader of ``hotline.geo``: volumes and protected areas from Features.

Volumes and areas come into the engines as GeoJSON, from files and from notices:

* **volumes** (:func:`read_volumes`, :func:`volume_from_feature`): a FeatureCollection
  (or one Feature, or a JSON array of Features) of Polygons (holes allowed), Points with
  ``radius_m`` and LineStrings with ``width_m``, with ``id``, ``party``, the altitude band,
  ``datum`` and the UTC window in their properties.  Numbers may be JSON numbers or
  decimal strings (the wire form of notices, :mod:`hotline.domain.notices.geometry`).
  Only the *form* is read here; every volume is then validated, all at once and
  vectorised, where it joins a :class:`~hotline.geo.volumes.VolumeSet`.
* **the notices' models** (:func:`volume_from_notice`, :func:`volume_from_area`): the
  volumes and areas of :mod:`hotline.domain.notices.geometry`, already read and checked
  by pydantic, become the engine's volumes without a round trip through JSON;
* **protected areas** (:func:`read_areas`): a FeatureCollection of Polygons or
  MultiPolygons with ``id``, ``party`` and an optional altitude band, checked here
  (shapely validity) and returned as :class:`~hotline.geo.incursions.Areas`.

Errors are :class:`~hotline.errors.ValidationError` naming the feature (by position until
its id is known) and the field.

Examples
--------
>>> v = volume_from_feature({"type": "Feature",
...     "geometry": {"type": "Point", "coordinates": ["36.2000000", "35.1000000"]},
...     "properties": {"id": "A1", "party": "blue", "radius_m": 5000, "alt_lower_m": 0,
...                    "alt_upper_m": 3000, "start": "2025-03-01T10:00:00Z",
...                    "end": "2025-03-01T12:00:00Z"}})
>>> v.kind, v.rings, v.radius_m, v.datum
('circle', (((36.2, 35.1),),), 5000.0, 'WGS84')
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely  # type: ignore[import-untyped]

from hotline.domain.notices import geometry as wire
from hotline.errors import ValidationError
from hotline.geo.incursions import Areas
from hotline.geo.strategic.checks import invalid
from hotline.geo.volumes import Datum, Kind, Position, Volume, VolumeSet

__all__ = [
    "parse_utc",
    "read_areas",
    "read_volumes",
    "volume_from_area",
    "volume_from_feature",
    "volume_from_notice",
]

# A decimal number as a string: the signed wire forbids JSON floats, so notices carry
# coordinates as strings such as "52.2500000".
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_GEOMETRY_FOR_KIND: dict[str, Kind] = {
    "Polygon": "polygon",
    "Point": "circle",
    "LineString": "corridor",
}

# -- volumes ----------------------------------------------------------------------------


def volume_from_feature(feature: Any, *, index: int | None = None) -> Volume:
    """Parse a GeoJSON Feature into a :class:`~hotline.geo.volumes.Volume`.

    Numbers may be JSON numbers or decimal strings.  ``index`` (the feature's position in
    its collection) names the feature in errors until its id is known.  Also
    :meth:`hotline.geo.volumes.Volume.from_feature`.

    Raises
    ------
    ValidationError
        Naming the volume and the field: missing or mistyped properties, an unknown
        geometry type, a missing ``radius_m``/``width_m``, a non-UTC time.
    """
    where = "feature" if index is None else f"feature #{index}"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise invalid(where, "type", "expected a GeoJSON Feature object")
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        raise invalid(where, "properties", "missing or not an object")
    volume_id = _identifier(props.get("id", feature.get("id")), where, "properties.id")
    where = f"volume {volume_id!r}"
    kind, rings = _parse_geometry(feature.get("geometry"), where)
    size_field = {"circle": "radius_m", "corridor": "width_m"}.get(kind)
    size = _number(props.get(size_field), where, f"properties.{size_field}") if size_field else None
    return Volume(
        id=volume_id,
        party=_identifier(props.get("party"), where, "properties.party"),
        kind=kind,
        rings=rings,
        alt_lower_m=_number(props.get("alt_lower_m"), where, "properties.alt_lower_m"),
        alt_upper_m=_number(props.get("alt_upper_m"), where, "properties.alt_upper_m"),
        start=parse_utc(props.get("start"), where, "properties.start"),
        end=parse_utc(props.get("end"), where, "properties.end"),
        radius_m=size if kind == "circle" else None,
        width_m=size if kind == "corridor" else None,
        datum=_datum(props.get("datum", "WGS84"), where),
    )


def _identifier(value: Any, where: str, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise invalid(where, field, "missing or not a non-empty string")
    return value


def _number(value: Any, where: str, field: str) -> float:
    """A finite float from a JSON number or a decimal string such as ``"52.2500000"``."""
    if value is None:
        raise invalid(where, field, "missing")
    if isinstance(value, bool):
        raise invalid(where, field, f"expected a number, got {value!r}")
    if not isinstance(value, int | float) and not (
        isinstance(value, str) and _DECIMAL.fullmatch(value)
    ):
        raise invalid(where, field, f"expected a number or a decimal string, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise invalid(where, field, f"not a finite number: {value!r}")
    return number


def _datum(value: Any, where: str) -> Datum:
    if value == "WGS84" or value == "MSL" or value == "AGL":
        return value  # type: ignore[no-any-return]
    raise invalid(
        where,
        "properties.datum",
        f"unknown datum {value!r}",
        hint="use one of WGS84 (ellipsoid), MSL or AGL",
    )


def parse_utc(value: Any, where: str, field: str) -> datetime:
    """A UTC ``datetime`` from RFC 3339 text ending in ``Z`` (or ``+00:00``)."""
    if not isinstance(value, str):
        raise invalid(where, field, "missing or not an RFC 3339 string")
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise invalid(
            where,
            field,
            f"not an RFC 3339 date-time: {value!r}",
            hint="write UTC times like 2025-03-01T10:00:00Z",
        )
    day, clock, fraction, zulu, sign, hours, minutes = match.groups()
    if not zulu and (hours, minutes) != ("00", "00"):
        raise invalid(
            where,
            field,
            f"not UTC: {value!r} has offset {sign}{hours}:{minutes}",
            hint="convert to UTC and end the time with Z",
        )
    micro = (fraction or "")[:6].ljust(6, "0")
    try:
        return datetime.fromisoformat(f"{day}T{clock}.{micro}+00:00")
    except ValueError as exc:
        raise invalid(where, field, f"not a valid date-time: {value!r} ({exc})") from None


def _position(value: Any, where: str, field: str) -> Position:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise invalid(where, field, f"expected a position [lon, lat], got {value!r}")
    return (_number(value[0], where, field + "[0]"), _number(value[1], where, field + "[1]"))


def _positions(value: Any, where: str, field: str) -> tuple[Position, ...]:
    if not isinstance(value, list | tuple):
        raise invalid(where, field, "expected an array of positions")
    return tuple(_position(p, where, f"{field}[{k}]") for k, p in enumerate(value))


def _parse_geometry(geometry: Any, where: str) -> tuple[Kind, tuple[tuple[Position, ...], ...]]:
    if not isinstance(geometry, Mapping):
        raise invalid(where, "geometry", "missing or not an object")
    kind = _GEOMETRY_FOR_KIND.get(geometry.get("type"))  # type: ignore[arg-type]
    if kind is None:
        raise invalid(
            where,
            "geometry.type",
            f"unsupported geometry {geometry.get('type')!r}",
            hint="use Polygon, Point with radius_m, or LineString with width_m",
        )
    coords = geometry.get("coordinates")
    field = "geometry.coordinates"
    if kind == "circle":
        return kind, ((_position(coords, where, field),),)
    if kind == "corridor":
        return kind, (_positions(coords, where, field),)
    if not isinstance(coords, list | tuple) or not coords:
        raise invalid(where, field, "a Polygon needs at least an exterior ring")
    return kind, tuple(_positions(r, where, f"{field}[{k}]") for k, r in enumerate(coords))


def read_volumes(source: str | os.PathLike[str] | Mapping[str, Any]) -> VolumeSet:
    """Read volumes from a GeoJSON FeatureCollection (a path, or the parsed object).

    Also :func:`hotline.geo.volumes.load_volumes`.
    A single Feature or a JSON array of Features is accepted too.

    Raises
    ------
    ValidationError
        Invalid JSON, not a FeatureCollection, or a volume at fault (naming it and the
        field).
    OSError
        The file cannot be read.
    """
    document: Any = source
    if isinstance(source, str | os.PathLike):
        text = Path(source).read_text(encoding="utf-8")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not valid JSON: {exc}", field="json") from None
    if isinstance(document, Mapping) and document.get("type") == "Feature":
        features: Any = [document]
    elif isinstance(document, Mapping) and document.get("type") == "FeatureCollection":
        features = document.get("features")
    else:
        features = document
    if not isinstance(features, list):
        raise ValidationError(
            "expected a GeoJSON FeatureCollection",
            field="type",
            hint='the top level must be {"type": "FeatureCollection", "features": [...]}',
        )
    return VolumeSet.from_volumes(volume_from_feature(f, index=k) for k, f in enumerate(features))


# -- the notices' models -----------------------------------------------------------------


def volume_from_notice(volume: wire.Volume, party: str, *, id_prefix: str | None = None) -> Volume:
    """The engine's volume for a notice's volume, declared by ``party``.

    The notice's model (:class:`hotline.domain.notices.geometry.Volume`) has read and
    checked the Feature already: this only turns its decimal strings into floats, with no
    GeoJSON round trip, and gives the volume :func:`volume_from_feature` gives for
    ``volume.to_geojson(party, id_prefix=id_prefix)``.  Volume ids are unique only within
    one notice: pass the notice's message id as ``id_prefix`` to get ``<prefix>/<id>``.

    Examples
    --------
    >>> notice_volume = wire.Volume.model_validate({"type": "Feature",
    ...     "geometry": {"type": "Point", "coordinates": ["36.2000000", "35.1000000"]},
    ...     "properties": {"id": "A1", "radius_m": 5000, "alt_lower_m": 0,
    ...         "alt_upper_m": 3000, "datum": "MSL", "start": "2025-03-01T10:00:00Z",
    ...         "end": "2025-03-01T12:00:00Z"}})
    >>> v = volume_from_notice(notice_volume, "blue", id_prefix="m1")
    >>> v.id, v.party, v.kind, v.rings, v.radius_m, v.datum
    ('m1/A1', 'blue', 'circle', (((36.2, 35.1),),), 5000.0, 'MSL')
    """
    p = volume.properties
    kind, rings = _wire_shape(volume.geometry)
    return Volume(
        id=p.id if id_prefix is None else f"{id_prefix}/{p.id}",
        party=party,
        kind=kind,
        rings=rings,
        alt_lower_m=float(p.alt_lower_m),
        alt_upper_m=float(p.alt_upper_m),
        start=p.start,
        end=p.end,
        radius_m=None if p.radius_m is None else float(p.radius_m),
        width_m=None if p.width_m is None else float(p.width_m),
        datum=p.datum,
    )


def volume_from_area(
    area: wire.Area,
    volume_id: str,
    party: str,
    band_m: tuple[float, float],
    window: tuple[datetime, datetime],
    datum: Datum = "WGS84",
) -> Volume:
    """The engine's volume for a notice's 2D area, given its altitude band and window.

    Examples
    --------
    >>> from datetime import UTC
    >>> area = wire.Area.model_validate({"geometry": {"type": "Point",
    ...     "coordinates": ["36.2000000", "35.1000000"]}, "radius_m": 5000})
    >>> t0, t1 = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
    >>> v = volume_from_area(area, "m1/Z1", "blue", (-11000, 5000000), (t0, t1))
    >>> v.kind, v.rings, v.radius_m, v.alt_upper_m
    ('circle', (((36.2, 35.1),),), 5000.0, 5000000.0)
    """
    kind, rings = _wire_shape(area.geometry)
    return Volume(
        id=volume_id,
        party=party,
        kind=kind,
        rings=rings,
        alt_lower_m=float(band_m[0]),
        alt_upper_m=float(band_m[1]),
        start=window[0],
        end=window[1],
        radius_m=None if area.radius_m is None else float(area.radius_m),
        datum=datum,
    )


def _wire_shape(
    geometry: wire.PolygonGeometry | wire.PointGeometry | wire.LineStringGeometry,
) -> tuple[Kind, tuple[tuple[Position, ...], ...]]:
    """Kind and float rings of a notice's geometry (decimal strings to floats)."""
    if isinstance(geometry, wire.PointGeometry):
        return "circle", ((_wire_position(geometry.coordinates),),)
    if isinstance(geometry, wire.LineStringGeometry):
        return "corridor", (tuple(map(_wire_position, geometry.coordinates)),)
    return "polygon", tuple(tuple(map(_wire_position, r)) for r in geometry.coordinates)


def _wire_position(position: wire.Position) -> Position:
    return float(position[0]), float(position[1])


# -- protected areas -------------------------------------------------------------------


def read_areas(path: str | Path) -> Areas:
    """Read protected areas from a GeoJSON FeatureCollection of (Multi)Polygons.

    Also :func:`hotline.geo.incursions.load_areas`.
    Raises
    ------
    hotline.errors.ValidationError
        Naming the file, the feature (index and id) and the field at fault.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read areas ({exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationError(f"{path}: expected a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list):
        raise ValidationError(f"{path}: field 'features' must be a list")
    rows = [_area(path, k, f) for k, f in enumerate(features)]
    ids = [r[0] for r in rows]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValidationError(f"{path}: area id {dup!r} appears more than once")
    geometry = np.empty(len(rows), dtype=object)
    geometry[:] = [r[2] for r in rows]
    return Areas(
        ids=tuple(ids),
        party=tuple(r[1] for r in rows),
        geometry=geometry,
        alt_lower_m=np.array([r[3] for r in rows], dtype=np.float64),
        alt_upper_m=np.array([r[4] for r in rows], dtype=np.float64),
    )


def _area(path: Path, k: int, feature: Any) -> tuple[str, str, Any, float, float]:
    where = f"{path}: feature {k}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValidationError(f"{where}: expected a GeoJSON Feature")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise ValidationError(f"{where}: field 'properties' is missing")
    area_id = _label(where, props, "id")
    where = f"{where} (id {area_id!r})"
    party = _label(where, props, "party")
    lower = _altitude(where, props, "alt_lower_m", -math.inf)
    upper = _altitude(where, props, "alt_upper_m", math.inf)
    if lower > upper:
        raise ValidationError(
            f"{where}: field 'alt_lower_m' ({lower:g}) is above 'alt_upper_m' ({upper:g})"
        )
    return area_id, party, _polygon(where, feature.get("geometry")), lower, upper


def _label(where: str, props: dict[str, Any], field: str) -> str:
    value = props.get(field)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ValidationError(
            f"{where}: property '{field}' must be a non-empty string, got {value!r}"
        )
    return str(value).strip()


def _altitude(where: str, props: dict[str, Any], field: str, default: float) -> float:
    value = props.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(
            f"{where}: property '{field}' must be a number of metres, got {value!r}"
        )
    return float(value)


def _polygon(where: str, geometry: Any) -> Any:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else geometry
        raise ValidationError(
            f"{where}: field 'geometry' must be a Polygon or MultiPolygon, got {kind!r}"
        )
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise ValidationError(f"{where}: field 'geometry' has bad coordinates ({exc})") from None
    coords = shapely.get_coordinates(shape)
    if len(coords) == 0 or not np.all(np.isfinite(coords)):
        raise ValidationError(f"{where}: field 'geometry' has no or non-finite coordinates")
    if np.any(np.abs(coords[:, 1]) > 90.0) or np.any(np.abs(coords[:, 0]) > 360.0):
        raise ValidationError(
            f"{where}: field 'geometry' has a latitude beyond ±90 or a longitude beyond ±360"
        )
    if not shapely.is_valid(shape):
        raise ValidationError(
            f"{where}: field 'geometry' is not a valid polygon ({shapely.is_valid_reason(shape)})"
        )
    return shape

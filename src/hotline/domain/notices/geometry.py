"""The wire form of positions, areas and 4D volumes carried in notices.

Shapes follow GeoJSON (RFC 7946): positions are ``[lon, lat]``, a polygon is a closed
ring. Because notices are signed over canonical JSON, which forbids floats, each
coordinate is a *decimal string* with at most 7 decimals (about 1 cm), e.g.
``["21.0000000", "52.2500000"]``; lengths and altitudes are integer metres.

A :class:`Volume` is a GeoJSON Feature: its geometry is a Polygon, a Point (a circle:
``properties.radius_m``) or a LineString (a corridor: ``properties.width_m`` is the
*full* width, half on each side of the centre line); its properties give the altitude
band with an explicit datum and the UTC time window. :meth:`Volume.to_geojson` gives
plain GeoJSON with float coordinates for the deconfliction engine (``hotline.geo``).

An :class:`Area` is the 2D counterpart used for launch, impact and exercise areas:
boundary points (Polygon) or centre + radius (Point).

Not checked here: ring orientation (RFC 7946 asks parsers not to reject either), and what
needs geodesy, left to the geometry engine (:mod:`hotline.geo`), which refuses such a
notice when its volumes join the node's index (before sending, or on receipt): a ring
that crosses itself, and a shape reaching more than 2,000 km from its centre.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from hotline.domain.notices.base import UtcTime, field_error, format_utc

_DEGREES = re.compile(r"^-?\d{1,3}(\.\d{1,7})?$")
_DEGREES_SCHEMA = r"^-?\d{1,3}(\.\d{1,7})?$"


def _degrees(value: object, axis: str, limit: int) -> str:
    """Check one decimal-degree string: text form, at most 7 decimals, within +/-limit."""
    if not isinstance(value, str):
        raise ValueError(
            f'{axis} must be a decimal string such as "21.0000000", not '
            f"{type(value).__name__} (signed JSON forbids floats)"
        )
    if not _DEGREES.fullmatch(value):
        raise ValueError(f"{axis} {value!r} is not a decimal number with at most 7 decimals")
    if abs(Decimal(value)) > limit:
        raise ValueError(f"{axis} {value} is out of range [-{limit}, {limit}]")
    return value


Lon = Annotated[
    str,
    BeforeValidator(partial(_degrees, axis="longitude", limit=180)),
    WithJsonSchema({"type": "string", "pattern": _DEGREES_SCHEMA, "description": "longitude"}),
]
Lat = Annotated[
    str,
    BeforeValidator(partial(_degrees, axis="latitude", limit=90)),
    WithJsonSchema({"type": "string", "pattern": _DEGREES_SCHEMA, "description": "latitude"}),
]
Position = tuple[Lon, Lat]
"""``[lon, lat]`` as decimal strings, GeoJSON order."""

Datum = Literal["WGS84", "MSL", "AGL"]
"""Altitude reference: height above the WGS 84 ellipsoid, mean sea level, or ground level."""

Altitude = Annotated[StrictInt, Field(ge=-11_000, le=5_000_000)]
"""Metres. From the deepest ocean to beyond a ballistic missile's apogee."""

Length = Annotated[StrictInt, Field(ge=1, le=20_000_000)]
"""Metres, positive: a radius or a corridor width (up to half the Earth's circumference)."""

VolumeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]

GEOMETRY_TYPES = ("Polygon", "Point", "LineString")
"""Discriminator tags of :data:`Geometry`; error paths leave them out."""


def lat_lon(position: Position) -> tuple[Decimal, Decimal]:
    """``(lat, lon)`` of a wire position, exactly, as decimals."""
    lon, lat = position
    return Decimal(lat), Decimal(lon)


def _floats(position: Position) -> list[float]:
    return [float(position[0]), float(position[1])]


class PolygonGeometry(BaseModel):
    """A GeoJSON Polygon with one closed outer ring (no holes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["Polygon"]
    coordinates: tuple[tuple[Position, ...], ...]

    @field_validator("coordinates")
    @classmethod
    def _one_closed_ring(
        cls, rings: tuple[tuple[Position, ...], ...]
    ) -> tuple[tuple[Position, ...], ...]:
        if len(rings) != 1:
            raise ValueError(f"a polygon has exactly one ring (no holes); got {len(rings)}")
        ring = rings[0]
        if len(ring) < 4:
            raise ValueError(f"a polygon ring needs at least 4 positions; got {len(ring)}")
        # compare as decimals so "21.0" closes a ring opened with "21.0000000"
        if lat_lon(ring[0]) != lat_lon(ring[-1]):
            raise ValueError(
                f"polygon ring is not closed: first position {list(ring[0])} "
                f"differs from last {list(ring[-1])}"
            )
        return rings

    def vertices(self) -> tuple[Position, ...]:
        """The ring's distinct corners: the closing repeat of the first is left out."""
        return self.coordinates[0][:-1]

    def to_geojson(self) -> dict[str, Any]:
        """Plain GeoJSON with float coordinates."""
        return {"type": "Polygon", "coordinates": [[_floats(p) for p in self.coordinates[0]]]}


class PointGeometry(BaseModel):
    """A GeoJSON Point: the centre of a circle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["Point"]
    coordinates: Position

    def to_geojson(self) -> dict[str, Any]:
        """Plain GeoJSON with float coordinates."""
        return {"type": "Point", "coordinates": _floats(self.coordinates)}


class LineStringGeometry(BaseModel):
    """A GeoJSON LineString: the centre line of a corridor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["LineString"]
    coordinates: Annotated[tuple[Position, ...], Field(min_length=2)]

    @field_validator("coordinates")
    @classmethod
    def _not_a_point(cls, line: tuple[Position, ...]) -> tuple[Position, ...]:
        # as the engine (hotline.geo) refuses it; compared as decimals, like ring closure
        if all(lat_lon(p) == lat_lon(line[0]) for p in line[1:]):
            raise ValueError("a corridor line needs two distinct positions")
        return line

    def to_geojson(self) -> dict[str, Any]:
        """Plain GeoJSON with float coordinates."""
        return {"type": "LineString", "coordinates": [_floats(p) for p in self.coordinates]}


Geometry = Annotated[
    PolygonGeometry | PointGeometry | LineStringGeometry, Field(discriminator="type")
]
AreaGeometry = Annotated[PolygonGeometry | PointGeometry, Field(discriminator="type")]


class VolumeProperties(BaseModel):
    """Altitude band (metres, explicit datum) and UTC time window of a volume."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: VolumeId
    alt_lower_m: Altitude
    alt_upper_m: Altitude
    datum: Datum
    start: UtcTime
    end: UtcTime
    radius_m: Length | None = None
    width_m: Length | None = None

    @model_validator(mode="after")
    def _bands_the_right_way_up(self) -> VolumeProperties:
        if self.alt_upper_m < self.alt_lower_m:
            raise field_error(
                "alt_upper_m",
                f"altitude band is upside down: alt_upper_m {self.alt_upper_m} m is below "
                f"alt_lower_m {self.alt_lower_m} m",
            )
        if self.end <= self.start:
            raise field_error(
                "end",
                f"time window ends before it starts: end {format_utc(self.end)} is not after "
                f"start {format_utc(self.start)}",
            )
        return self


class Volume(BaseModel):
    """A 4D volume as a GeoJSON Feature: shape, altitude band, time window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["Feature"]
    geometry: Geometry
    properties: VolumeProperties

    @model_validator(mode="after")
    def _size_matches_shape(self) -> Volume:
        props, kind = self.properties, self.geometry.type
        if kind == "Point" and props.radius_m is None:
            raise field_error("properties.radius_m", "a Point volume (circle) needs radius_m")
        if kind != "Point" and props.radius_m is not None:
            raise field_error("properties.radius_m", f"radius_m is only for a Point, not {kind}")
        if kind == "LineString" and props.width_m is None:
            raise field_error("properties.width_m", "a LineString volume (corridor) needs width_m")
        if kind != "LineString" and props.width_m is not None:
            raise field_error("properties.width_m", f"width_m is only for a LineString, not {kind}")
        return self

    def to_geojson(self, party: str, *, id_prefix: str | None = None) -> dict[str, Any]:
        """Plain GeoJSON Feature (float coordinates) tagged with the declaring ``party``.

        Properties: ``id``, ``party``, ``alt_lower_m``, ``alt_upper_m``, ``datum``,
        ``start``, ``end`` (RFC 3339 strings) and ``radius_m`` or ``width_m`` when the
        shape has one. Volume ids are unique only within one notice, while the
        deconfliction engine wants them unique in a whole set: pass the notice's
        message id as ``id_prefix`` to get ``<prefix>/<id>``.
        """
        p = self.properties
        props: dict[str, Any] = {
            "id": p.id if id_prefix is None else f"{id_prefix}/{p.id}",
            "party": party,
            "alt_lower_m": p.alt_lower_m,
            "alt_upper_m": p.alt_upper_m,
            "datum": p.datum,
            "start": format_utc(p.start),
            "end": format_utc(p.end),
        }
        if p.radius_m is not None:
            props["radius_m"] = p.radius_m
        if p.width_m is not None:
            props["width_m"] = p.width_m
        return {"type": "Feature", "geometry": self.geometry.to_geojson(), "properties": props}


class Area(BaseModel):
    """A 2D area: boundary points (Polygon) or centre + ``radius_m`` (Point)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    geometry: AreaGeometry
    radius_m: Length | None = None

    @model_validator(mode="after")
    def _radius_only_for_circles(self) -> Area:
        if self.geometry.type == "Point" and self.radius_m is None:
            raise field_error("radius_m", "an area given by its centre needs radius_m")
        if self.geometry.type == "Polygon" and self.radius_m is not None:
            raise field_error("radius_m", "an area given by boundary points takes no radius_m")
        return self

    def to_geojson(self) -> dict[str, Any]:
        """Plain GeoJSON Feature; a circle carries ``radius_m`` in its properties."""
        props = {} if self.radius_m is None else {"radius_m": self.radius_m}
        return {"type": "Feature", "geometry": self.geometry.to_geojson(), "properties": props}


def unique_volume_ids(volumes: tuple[Volume, ...], field: str = "volumes") -> None:
    """Refuse two volumes with the same id in one notice (answers refer to them by id)."""
    seen: set[str] = set()
    for volume in volumes:
        if volume.properties.id in seen:
            raise field_error(field, f"volume id {volume.properties.id!r} is used twice")
        seen.add(volume.properties.id)

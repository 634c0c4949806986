"""4D airspace volumes: parsing GeoJSON features and holding many volumes as arrays.

A volume is a shape on the WGS84 ellipsoid, an altitude band and a time window, declared
by one party.  Three shapes are accepted, each a GeoJSON Feature:

* a ``Polygon`` (holes allowed): the area inside its exterior ring and outside its holes;
* a ``Point`` with property ``radius_m``: the circle of that geodesic radius;
* a ``LineString`` with property ``width_m``: the corridor of points within
  ``width_m / 2`` of the line (round ends, like a buffer).

Edges between consecutive positions are geodesics (the shortest path on the ellipsoid),
not straight lines in longitude/latitude, so an edge from 179.9° to -179.9° is short and
crosses the antimeridian, and shapes around a pole mean what they say.

:class:`Volume` is one parsed volume; :class:`VolumeSet` holds many as NumPy arrays (the
form the detection engine works on) and is where every volume is validated, so errors
name the volume id and the field.  :func:`load_volumes` reads a FeatureCollection.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotline.domain.notices import geometry as wire
from hotline.geo.strategic.arrays import DATUMS, KINDS, Columns, VolumeArrays, build_arrays
from hotline.geo.strategic.checks import CIRCLE, CORRIDOR, POLYGON, invalid

__all__ = [
    "CIRCLE",
    "CORRIDOR",
    "DATUMS",
    "POLYGON",
    "Datum",
    "Kind",
    "Volume",
    "VolumeSet",
    "format_utc",
    "load_volumes",
]

Kind = Literal["polygon", "circle", "corridor"]
Datum = wire.Datum
Position = tuple[float, float]


def format_utc(moment: datetime) -> str:
    """RFC 3339 text for a UTC instant, with a ``Z`` and fractional seconds only if any.

    >>> format_utc(datetime(2025, 3, 1, 10, 30, tzinfo=UTC))
    '2025-03-01T10:30:00Z'
    """
    spec = "seconds" if moment.microsecond == 0 else "microseconds"
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=spec) + "Z"


@dataclass(frozen=True, slots=True)
class Volume:
    """One declared volume: a shape, an altitude band and a time window.

    Attributes
    ----------
    id, party : str
        Identifier of the volume (unique within a set) and the party declaring it.
    kind : {"polygon", "circle", "corridor"}
    rings : tuple of tuples of (lon, lat)
        Degrees.  A polygon has its exterior ring then its holes, each closed (first
        position repeated last); a circle has one ring holding its centre; a corridor
        has one ring holding its line.
    alt_lower_m, alt_upper_m : float
        The altitude band, metres, in ``datum``.
    start, end : datetime
        The time window, timezone-aware UTC.
    radius_m, width_m : float or None
        Radius of a circle; full width of a corridor (half on each side of the line).
    datum : {"WGS84", "MSL", "AGL"}
        What the altitudes are measured from: the WGS84 ellipsoid, mean sea level or
        ground level.

    A ``Volume`` is checked when it joins a :class:`VolumeSet` (or a ``VolumeIndex``),
    where all checks run vectorised; constructing one checks nothing.

    Examples
    --------
    >>> t0 = datetime(2025, 3, 1, 10, tzinfo=UTC)
    >>> v = Volume.circle("A1", "blue", 36.2, 35.1, 5000.0, 0.0, 3000.0, t0,
    ...                   t0 + timedelta(hours=2))
    >>> v.kind, v.rings, v.buffer_m
    ('circle', (((36.2, 35.1),),), 5000.0)
    """

    id: str
    party: str
    kind: Kind
    rings: tuple[tuple[Position, ...], ...]
    alt_lower_m: float
    alt_upper_m: float
    start: datetime
    end: datetime
    radius_m: float | None = None
    width_m: float | None = None
    datum: Datum = "WGS84"

    @property
    def buffer_m(self) -> float:
        """How far, metres, the volume reaches beyond its rings: radius or half width."""
        if self.kind == "circle":
            return float(self.radius_m or 0.0)
        return float(self.width_m or 0.0) / 2.0 if self.kind == "corridor" else 0.0

    @classmethod
    def circle(
        cls,
        id: str,
        party: str,
        lon: float,
        lat: float,
        radius_m: float,
        alt_lower_m: float,
        alt_upper_m: float,
        start: datetime,
        end: datetime,
        datum: Datum = "WGS84",
    ) -> Volume:
        """A circle of geodesic radius ``radius_m`` around (``lon``, ``lat``)."""
        return cls(
            id,
            party,
            "circle",
            (((lon, lat),),),
            alt_lower_m,
            alt_upper_m,
            start,
            end,
            radius_m=radius_m,
            datum=datum,
        )

    @classmethod
    def corridor(
        cls,
        id: str,
        party: str,
        line: Sequence[Position],
        width_m: float,
        alt_lower_m: float,
        alt_upper_m: float,
        start: datetime,
        end: datetime,
        datum: Datum = "WGS84",
    ) -> Volume:
        """A corridor ``width_m`` wide (half each side) along the geodesic polyline."""
        return cls(
            id,
            party,
            "corridor",
            (tuple(line),),
            alt_lower_m,
            alt_upper_m,
            start,
            end,
            width_m=width_m,
            datum=datum,
        )

    @classmethod
    def polygon(
        cls,
        id: str,
        party: str,
        rings: Sequence[Sequence[Position]],
        alt_lower_m: float,
        alt_upper_m: float,
        start: datetime,
        end: datetime,
        datum: Datum = "WGS84",
    ) -> Volume:
        """A polygon: exterior ring then holes, each closed."""
        return cls(
            id,
            party,
            "polygon",
            tuple(tuple(r) for r in rings),
            alt_lower_m,
            alt_upper_m,
            start,
            end,
            datum=datum,
        )

    @classmethod
    def from_feature(cls, feature: Any, *, index: int | None = None) -> Volume:
        """Parse a GeoJSON Feature; numbers may be JSON numbers or decimal strings.

        ``index`` (the feature's position in its collection) names the feature in errors
        until its id is known.

        Raises
        ------
        ValidationError
            Naming the volume and the field: missing or mistyped properties, an unknown
            geometry type, a missing ``radius_m``/``width_m``, a non-UTC time.
        """
        from hotline.geo.geojson import volume_from_feature  # it builds a Volume

        return volume_from_feature(feature, index=index)

    def to_feature(self) -> dict[str, Any]:
        """The GeoJSON Feature for this volume (numbers as JSON numbers)."""
        props: dict[str, Any] = {
            "id": self.id,
            "party": self.party,
            "alt_lower_m": self.alt_lower_m,
            "alt_upper_m": self.alt_upper_m,
            "datum": self.datum,
            "start": format_utc(self.start),
            "end": format_utc(self.end),
        }
        rings = [[list(p) for p in ring] for ring in self.rings]
        if self.kind == "circle":
            props["radius_m"] = self.radius_m
            geometry: dict[str, Any] = {"type": "Point", "coordinates": rings[0][0]}
        elif self.kind == "corridor":
            props["width_m"] = self.width_m
            geometry = {"type": "LineString", "coordinates": rings[0]}
        else:
            geometry = {"type": "Polygon", "coordinates": rings}
        return {"type": "Feature", "geometry": geometry, "properties": props}


@dataclass(frozen=True, eq=False)
class VolumeSet(VolumeArrays):
    """Many validated volumes as NumPy arrays, the input of the detection engine.

    Per volume ``i`` (arrays of length ``n``): ``ids`` (str), ``party_code`` (into
    ``party_names``; :attr:`parties` gives the names), ``kind`` (:data:`POLYGON`,
    :data:`CIRCLE`, :data:`CORRIDOR`), ``buffer_m`` (radius, half width or 0),
    ``alt_lower_m``/``alt_upper_m``, ``datum`` (index into :data:`DATUMS`) and
    ``start_s``/``end_s`` (float epoch seconds, UTC).

    The geometry is held as *pieces* (a corridor is cut into pieces of at most four
    10 km steps; any other volume is one piece), each with a centre (``ref_lonlat``,
    ``ref_normal``, ``ref_xyz``) and a radius ``cap_m`` around it holding the piece and
    its buffer; rings of ECEF vertices densified along the geodesic edges.  The layout is
    described in ``hotline.geo.strategic.arrays``; the engine is its only reader.

    Build one with :meth:`from_volumes`, :meth:`from_arrays` or :func:`load_volumes`.

    Examples
    --------
    >>> t0 = datetime(2025, 3, 1, 10, tzinfo=UTC)
    >>> vs = VolumeSet.from_volumes([
    ...     Volume.circle("A1", "blue", 36.2, 35.1, 5000.0, 0.0, 3000.0, t0,
    ...                   t0 + timedelta(hours=1)),
    ...     Volume.corridor("B7", "red", [(36.0, 35.0), (36.5, 35.5)], 4000.0, 1000.0, 2000.0,
    ...                     t0, t0 + timedelta(hours=3)),
    ... ])
    >>> len(vs), vs.ids.tolist(), vs.parties.tolist(), vs.buffer_m.tolist()
    (2, ['A1', 'B7'], ['blue', 'red'], [5000.0, 2000.0])
    """

    @classmethod
    def from_volumes(cls, volumes: Iterable[Volume]) -> VolumeSet:
        """Validate ``volumes`` and gather them into arrays (ids must be unique)."""
        return cls.from_arrays(**_columns_of(volumes))

    @classmethod
    def from_arrays(
        cls,
        *,
        ids: Sequence[str],
        parties: Sequence[str],
        kinds: ArrayLike,
        size_m: ArrayLike,
        lon: ArrayLike,
        lat: ArrayLike,
        ring_offsets: ArrayLike,
        volume_rings: ArrayLike,
        alt_lower_m: ArrayLike,
        alt_upper_m: ArrayLike,
        start_s: ArrayLike,
        end_s: ArrayLike,
        datums: ArrayLike | None = None,
    ) -> VolumeSet:
        """Validate and build a set from flat arrays, without any per-volume Python work.

        Parameters
        ----------
        ids, parties : sequences of str, length n
        kinds : array of n codes (:data:`POLYGON`, :data:`CIRCLE`, :data:`CORRIDOR`) or names
        size_m : n floats: ``radius_m`` of circles, ``width_m`` of corridors, ignored for
            polygons
        lon, lat : vertex coordinates, degrees, all rings of all volumes in order
        ring_offsets : R + 1 ints, ring ``r`` is ``lon[ring_offsets[r]:ring_offsets[r+1]]``
        volume_rings : n + 1 ints, volume ``i`` owns rings ``volume_rings[i]:[i+1]``
        alt_lower_m, alt_upper_m : n floats, metres
        start_s, end_s : n floats, UTC epoch seconds
        datums : n codes (index into :data:`DATUMS`) or names; default WGS84

        Raises
        ------
        ValidationError
            For the first volume found at fault, naming its id and the field.
        """
        columns = Columns(
            ids=_objects(ids),
            parties=list(parties),
            kinds=_codes(kinds, KINDS),
            size_m=_floats(size_m),
            lon=_floats(lon),
            lat=_floats(lat),
            ring_offsets=np.asarray(ring_offsets, dtype=np.int64),
            volume_rings=np.asarray(volume_rings, dtype=np.int64),
            alt_lower_m=_floats(alt_lower_m),
            alt_upper_m=_floats(alt_upper_m),
            start_s=_floats(start_s),
            end_s=_floats(end_s),
            datum=np.zeros(len(ids), np.int8) if datums is None else _codes(datums, DATUMS),
        )
        return cls(**build_arrays(columns))

    @classmethod
    def empty(cls) -> VolumeSet:
        """A set holding no volume."""
        return cls.from_arrays(
            ids=[],
            parties=[],
            kinds=[],
            size_m=[],
            lon=[],
            lat=[],
            ring_offsets=[0],
            volume_rings=[0],
            alt_lower_m=[],
            alt_upper_m=[],
            start_s=[],
            end_s=[],
        )

    def take(self, indices: ArrayLike) -> VolumeSet:
        """The volumes at ``indices``, in that order."""
        return type(self)(**self.take_fields(np.asarray(indices, dtype=np.int64)))

    @classmethod
    def concat(cls, sets: Sequence[VolumeArrays]) -> VolumeSet:
        """One set holding the volumes of ``sets`` in order (ids must stay unique)."""
        return cls(**VolumeArrays.concat_fields(sets))


def _columns_of(volumes: Iterable[Volume]) -> dict[str, Any]:
    """The arguments of :meth:`VolumeSet.from_arrays` for ``volumes``."""
    rows: list[tuple[Any, ...]] = []
    lon: list[float] = []
    lat: list[float] = []
    ring_offsets, volume_rings = [0], [0]
    for v in volumes:
        where = f"volume {v.id!r}"
        size = v.radius_m if v.kind == "circle" else v.width_m if v.kind == "corridor" else 0.0
        start = _epoch(v.start, where, "properties.start")
        end = _epoch(v.end, where, "properties.end")
        size = math.nan if size is None else size  # reported as missing by the checks
        rows.append(
            (v.id, v.party, v.kind, size, v.alt_lower_m, v.alt_upper_m, start, end, v.datum)
        )
        for ring in v.rings:
            lon.extend(p[0] for p in ring)
            lat.extend(p[1] for p in ring)
            ring_offsets.append(len(lon))
        volume_rings.append(len(ring_offsets) - 1)
    names = (
        "ids",
        "parties",
        "kinds",
        "size_m",
        "alt_lower_m",
        "alt_upper_m",
        "start_s",
        "end_s",
        "datums",
    )
    columns: dict[str, Any] = {name: [row[k] for row in rows] for k, name in enumerate(names)}
    return columns | {
        "lon": lon,
        "lat": lat,
        "ring_offsets": ring_offsets,
        "volume_rings": volume_rings,
    }


def _epoch(moment: datetime, where: str, field: str) -> float:
    if not isinstance(moment, datetime) or moment.utcoffset() != timedelta(0):
        raise invalid(
            where,
            field,
            f"not a UTC datetime: {moment!r}",
            hint="use a timezone-aware datetime in UTC",
        )
    return moment.timestamp()


def _objects(values: Sequence[str]) -> NDArray[np.object_]:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _floats(values: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _codes(values: ArrayLike, names: tuple[str, ...]) -> NDArray[np.int8]:
    """Codes from names (or codes), as int8; unknown names become -1 and fail validation."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return array.astype(np.int8).reshape(-1)
    lookup = {name: k for k, name in enumerate(names)}
    return np.array([lookup.get(str(v), -1) for v in array.reshape(-1)], dtype=np.int8)


def load_volumes(source: str | os.PathLike[str] | Mapping[str, Any]) -> VolumeSet:
    """Read volumes from GeoJSON: see :func:`hotline.geo.geojson.read_volumes`."""
    from hotline.geo.geojson import read_volumes  # the reader builds on this module

    return read_volumes(source)

"""Vectorised validation of volume arrays; every failure names the volume and field.

Each check runs over all volumes at once and raises a
:class:`~hotline.errors.ValidationError` for the first volume at fault, worded with the
GeoJSON field a person would fix (``properties.alt_upper_m``,
``geometry.coordinates[0][3][1]``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Sized
from typing import Any

import numpy as np
import shapely  # type: ignore[import-untyped]
from numpy.typing import NDArray

from hotline.errors import ValidationError
from hotline.geo import geodesy as geo

F64 = geo.F64
I64 = geo.I64
Bools = NDArray[np.bool_]
Problem = str | Callable[[int], str]

#: Kind codes of ``VolumeSet.kind``.
POLYGON, CIRCLE, CORRIDOR = 0, 1, 2
_COORDS = "geometry.coordinates"
_SELF_INTERSECTION = re.compile(r"\[([-+0-9.eE]+) ([-+0-9.eE]+)\]")


def invalid(where: str, field: str, problem: str, hint: str | None = None) -> ValidationError:
    """A :class:`ValidationError` naming the volume (or feature) and the field at fault."""
    return ValidationError(f"{where}: {field}: {problem}", hint=hint, volume=where, field=field)


def check_layout(
    n: int,
    per_volume: Sequence[Sized],
    lon: F64,
    lat: F64,
    ring_offsets: I64,
    volume_rings: I64,
) -> None:
    """Array lengths and offsets agree (a programming error if not, still reported)."""
    problems = []
    if any(len(a) != n for a in per_volume):
        problems.append(f"every per-volume array must have {n} entries")
    if lon.shape != lat.shape:
        problems.append("lon and lat differ in length")
    for name, offsets, end in (
        ("ring_offsets", ring_offsets, lon.shape[0]),
        ("volume_rings", volume_rings, ring_offsets.shape[0] - 1),
    ):
        rising = offsets.ndim == 1 and offsets.shape[0] >= 1 and not np.any(np.diff(offsets) < 0)
        if not rising or offsets[0] != 0 or offsets[-1] != end:
            problems.append(f"{name} must rise from 0 to {end}")
    if volume_rings.shape[0] != n + 1:
        problems.append(f"volume_rings must have {n + 1} entries")
    if problems:
        raise ValidationError("volume arrays: " + "; ".join(problems), field="arrays")


def encode_parties(
    ids: NDArray[np.object_], parties: Sequence[str]
) -> tuple[tuple[str, ...], NDArray[np.int32]]:
    """Party names in order of first appearance and each volume's code into them."""
    table: dict[str, int] = {}
    codes = np.fromiter((table.setdefault(p, len(table)) for p in parties), np.int32, len(parties))
    for name, code in table.items():
        if not isinstance(name, str) or not name:
            k = int(np.argmax(codes == code))
            raise invalid(f"volume {ids[k]!r}", "properties.party", "missing or not a string")
    return tuple(table), codes


class Checker:
    """The checks on the volumes as given (before densifying and splitting)."""

    def __init__(
        self,
        ids: NDArray[np.object_],
        kinds: NDArray[np.int8],
        ring_offsets: I64,
        volume_rings: I64,
    ) -> None:
        self.ids, self.kinds = ids, kinds
        self.ring_offsets, self.volume_rings = ring_offsets, volume_rings

    def fail(self, bad: Bools, field: str, problem: Problem, hint: str | None = None) -> None:
        """Raise for the first ``True`` in ``bad``; ``problem(i)`` words it for volume i."""
        if bad.any():
            i = int(np.argmax(bad))
            text = problem(i) if callable(problem) else problem
            raise invalid(f"volume {self.ids[i]!r}", field, text, hint)

    def identities(self) -> None:
        """Ids are non-empty strings, unique within the set."""
        ids = self.ids.tolist()
        good = np.array([isinstance(v, str) and v != "" for v in ids], dtype=np.bool_)
        self.fail(~good, "properties.id", "missing or not a non-empty string")
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            for k, vid in enumerate(ids):
                if vid in seen:
                    raise invalid(
                        f"volume {self.ids[k]!r}",
                        "properties.id",
                        "duplicate id",
                        "ids must be unique within a set",
                    )
                seen.add(vid)

    def sizes(self, size_m: F64) -> None:
        """Known kinds; circles have a radius and corridors a width, positive."""
        kinds = self.kinds
        self.fail(
            (kinds < 0) | (kinds > 2),
            "geometry.type",
            "unknown kind",
            "use Polygon, Point with radius_m, or LineString with width_m",
        )
        for kind, name in ((CIRCLE, "radius_m"), (CORRIDOR, "width_m")):
            size = np.where(kinds == kind, size_m, 1.0)
            self.fail(np.isnan(size), f"properties.{name}", "missing")
            self.fail(
                ~(size > 0) | ~np.isfinite(size),
                f"properties.{name}",
                lambda i: f"must be a positive number of metres, got {size_m[i]}",
            )

    def bands_and_windows(
        self, lower: F64, upper: F64, datum: NDArray[np.int8], start: F64, end: F64
    ) -> None:
        """Altitude bands the right way up in a known datum; windows that last."""
        self.fail(~np.isfinite(lower), "properties.alt_lower_m", "not a finite number")
        self.fail(~np.isfinite(upper), "properties.alt_upper_m", "not a finite number")
        self.fail(
            upper < lower,
            "properties.alt_upper_m",
            lambda i: (
                f"altitude band upside down: alt_upper_m {upper[i]} is below alt_lower_m {lower[i]}"
            ),
        )
        self.fail(
            (datum < 0) | (datum > 2),
            "properties.datum",
            "unknown datum",
            "use one of WGS84 (ellipsoid), MSL or AGL",
        )
        self.fail(~np.isfinite(start), "properties.start", "not a finite time")
        self.fail(~np.isfinite(end), "properties.end", "not a finite time")
        self.fail(
            ~(end > start),
            "properties.end",
            "end is not after start",
            "a volume's window must last: end later than start",
        )

    def ring_counts(self) -> None:
        """A circle is one position, a corridor one line, a polygon at least one ring."""
        kinds, n_rings = self.kinds, np.diff(self.volume_rings)
        n_vertices = np.diff(self.ring_offsets[self.volume_rings])
        self.fail(
            (kinds == CIRCLE) & ((n_rings != 1) | (n_vertices != 1)),
            _COORDS,
            "a circle's centre is one position",
        )
        self.fail((kinds == CORRIDOR) & (n_rings != 1), _COORDS, "a corridor is one line")
        self.fail((kinds == POLYGON) & (n_rings < 1), _COORDS, "a polygon needs an exterior ring")

    def coordinates(self, lon: F64, lat: F64) -> None:
        """Longitudes within [-180, 180] and latitudes within [-90, 90]."""
        self._vertex_fail(
            ~np.isfinite(lon) | (np.abs(lon) > 180),
            "[0]",
            lambda v: f"longitude {lon[v]} is outside [-180, 180]",
        )
        self._vertex_fail(
            ~np.isfinite(lat) | (np.abs(lat) > 90),
            "[1]",
            lambda v: f"latitude {lat[v]} is outside [-90, 90]",
        )

    def ring_shapes(self, lon: F64, lat: F64) -> None:
        """Enough positions per ring, polygon rings closed, corridor lines not a point."""
        ring_len = np.diff(self.ring_offsets)
        self._ring_fail(
            CORRIDOR,
            ring_len < 2,
            lambda r: f"a corridor line needs at least 2 positions, got {ring_len[r]}",
        )
        self._ring_fail(
            POLYGON,
            ring_len < 4,
            lambda r: f"a polygon ring needs at least 4 positions, got {ring_len[r]}",
        )
        if lon.size == 0:
            return
        first, last = self.ring_offsets[:-1], self.ring_offsets[1:] - 1
        open_ring = (lon[first] != lon[last]) | (lat[first] != lat[last])
        self._ring_fail(
            POLYGON,
            open_ring,
            lambda r: (
                "polygon ring is not closed: its last "
                f"position must repeat the first, [{lon[first[r]]}, {lat[first[r]]}]"
            ),
        )
        start = np.repeat(first, ring_len)
        moves = (lon != lon[start]) | (lat != lat[start])
        moving = np.zeros(ring_len.size, dtype=np.bool_)
        np.logical_or.at(moving, np.repeat(np.arange(ring_len.size), ring_len), moves)
        self._ring_fail(CORRIDOR, ~moving, "a corridor line needs two distinct positions")

    def _owner(self, ring: int) -> int:
        return int(np.searchsorted(self.volume_rings, ring, side="right") - 1)

    def _ring_fail(self, kind: int, bad_ring: Bools, problem: Problem) -> None:
        ring_kind = np.repeat(self.kinds, np.diff(self.volume_rings))
        bad = bad_ring & (ring_kind == kind)
        if bad.any():
            r = int(np.argmax(bad))
            i = self._owner(r)
            field = _COORDS + (f"[{r - self.volume_rings[i]}]" if kind == POLYGON else "")
            text = problem(r) if callable(problem) else problem
            raise invalid(f"volume {self.ids[i]!r}", field, text)

    def _vertex_fail(self, bad: Bools, axis: str, problem: Callable[[int], str]) -> None:
        if bad.any():
            v = int(np.argmax(bad))
            r = int(np.searchsorted(self.ring_offsets, v, side="right") - 1)
            i = self._owner(r)
            k = v - int(self.ring_offsets[r])
            field = {
                POLYGON: f"{_COORDS}[{r - self.volume_rings[i]}][{k}]",
                CORRIDOR: f"{_COORDS}[{k}]",
            }.get(int(self.kinds[i]), _COORDS)
            raise invalid(f"volume {self.ids[i]!r}", field + axis, problem(v))


def check_reach(ids: NDArray[np.object_], piece_volume: I64, reach_m: F64, most_m: float) -> None:
    """No piece of a volume may reach farther than ``most_m`` from its centre."""
    bad = ~(reach_m <= most_m)
    if bad.any():
        p = int(np.argmax(bad))
        raise invalid(
            f"volume {ids[piece_volume[p]]!r}",
            "geometry",
            f"the volume reaches {reach_m[p] / 1000:.0f} km from its centre, more "
            f"than the {most_m / 1000:.0f} km allowed",
            "split it into smaller volumes",
        )


def check_polygons(
    ids: NDArray[np.object_],
    pieces: Sequence[int],
    shapes: NDArray[Any],
    frames: tuple[F64, F64, F64],
) -> None:
    """Each polygon, projected in its own tangent plane, must be valid for GEOS."""
    reasons = shapely.is_valid_reason(shapes)
    bad = reasons != "Valid Geometry"
    if bad.any():
        k = int(np.argmax(bad))
        origin, east, north = (f[k : k + 1] for f in frames)
        raise invalid(
            f"volume {ids[pieces[k]]!r}",
            _COORDS,
            "polygon is invalid: " + _located(str(reasons[k]), origin, east, north),
            "rings must not cross themselves or each other",
        )


def _located(reason: str, origin: F64, east: F64, north: F64) -> str:
    """GEOS's reason with its tangent-plane location turned back into lon/lat."""
    match = _SELF_INTERSECTION.search(reason)
    if match is None:
        return reason
    xy = np.array([[float(match.group(1)), float(match.group(2))]])
    lon, lat = geo.surface_lonlat(geo.lift(xy, origin, east, north))
    return f"{reason[: match.start()]} near lon {lon[0]:.6f}, lat {lat[0]:.6f}"

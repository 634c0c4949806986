"""The array layout behind ``VolumeSet``: volumes, pieces, rings and vertices.

Four levels, each a set of NumPy columns, linked by offsets (CSR style):

* **volumes** (``n`` rows): id, party, kind, buffer, altitude band, datum, time window;
  volume ``i`` owns pieces ``piece_offsets[i]:piece_offsets[i + 1]``;
* **pieces** (``P`` rows): what the engine indexes and measures.  A polygon or a circle is
  one piece; a corridor is cut into pieces of at most ``PIECE_SEGMENTS`` segments, so a
  400 km route is searched and measured near where it matters, not as one huge shape.
  Each piece has a centre and a cap radius ``cap_m`` that holds it (buffer included), and
  owns rings ``piece_rings[p]:piece_rings[p + 1]``;
* **rings**: vertex runs ``ring_offsets[r]:ring_offsets[r + 1]`` (exterior then holes for
  polygons, the line for corridors, the centre for circles);
* **vertices**: ECEF metres on the ellipsoid, densified to geodesic steps of at most
  ``MAX_STEP_M``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import shapely  # type: ignore[import-untyped]
from numpy.typing import NDArray

from hotline.geo import geodesy as geo
from hotline.geo.strategic.checks import (
    CIRCLE,
    CORRIDOR,
    POLYGON,
    Checker,
    check_layout,
    check_polygons,
    check_reach,
    encode_parties,
)

F64 = geo.F64
I64 = geo.I64

KINDS = ("polygon", "circle", "corridor")
#: Altitude datums, in the order of ``VolumeSet.datum`` codes.
DATUMS = ("WGS84", "MSL", "AGL")
#: Longest geodesic step kept as a straight chord (metres): it sags under 2 m.
MAX_STEP_M = 10_000.0
#: Most segments (after densifying) in one corridor piece.
PIECE_SEGMENTS = 4
#: Farthest a piece may reach from its centre (metres), so any two pieces that may
#: conflict fit in one hemisphere, where tangent-plane projections are one-to-one.
MAX_REACH_M = 2_000_000.0
#: Added to each cap (metres) against rounding in the bound itself.
CAP_MARGIN_M = 1.0

_PIECE_FIELDS = ("ref_lonlat", "ref_normal", "ref_xyz", "cap_m")
_LINK_FIELDS = ("piece_offsets", "piece_volume", "piece_rings", "ring_offsets", "vertex_xyz")


@dataclass(frozen=True, eq=False)
class VolumeArrays:
    """Column arrays of validated volumes; see ``hotline.geo.volumes.VolumeSet``."""

    ids: NDArray[np.object_]
    party_names: tuple[str, ...]
    party_code: NDArray[np.int32]
    kind: NDArray[np.int8]
    buffer_m: F64
    alt_lower_m: F64
    alt_upper_m: F64
    datum: NDArray[np.int8]
    start_s: F64
    end_s: F64
    piece_offsets: I64
    piece_volume: I64
    ref_lonlat: F64
    ref_normal: F64
    ref_xyz: F64
    cap_m: F64
    piece_rings: I64
    ring_offsets: I64
    vertex_xyz: F64

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def parties(self) -> NDArray[np.object_]:
        """The party of each volume."""
        return np.asarray((*self.party_names, ""), dtype=object)[self.party_code]

    def gather(self, pieces: I64) -> tuple[I64, I64, I64]:
        """Vertices of ``pieces``, in order, with ring and piece offsets into them.

        Returns ``(vertex_index, ring_offsets, piece_rings)`` in the layout of
        ``shapely.from_ragged_array`` for polygons.
        """
        return gather(self.ring_offsets, self.piece_rings, pieces)

    def take_fields(self, indices: I64) -> dict[str, Any]:
        """Fields of the set made of volumes ``indices``, in that order."""
        counts = self.piece_offsets[indices + 1] - self.piece_offsets[indices]
        pieces = geo.ragged_arange(self.piece_offsets[indices], counts)
        vertex, ring_offsets, piece_rings = self.gather(pieces)
        out = {
            f.name: getattr(self, f.name)[indices]
            for f in fields(VolumeArrays)
            if f.name not in _PIECE_FIELDS + _LINK_FIELDS + ("party_names",)
        }
        out.update({name: getattr(self, name)[pieces] for name in _PIECE_FIELDS})
        out.update(
            party_names=self.party_names,
            piece_offsets=_offsets(counts),
            piece_volume=np.repeat(np.arange(indices.shape[0], dtype=np.int64), counts),
            piece_rings=piece_rings,
            ring_offsets=ring_offsets,
            vertex_xyz=self.vertex_xyz[vertex],
        )
        return out

    @staticmethod
    def concat_fields(sets: Sequence[VolumeArrays]) -> dict[str, Any]:
        """Fields of the concatenation of ``sets``: parties merged, offsets shifted."""
        names: dict[str, int] = {}
        codes = []
        for s in sets:
            remap = np.array([names.setdefault(p, len(names)) for p in s.party_names] + [-1])
            codes.append(remap[s.party_code].astype(np.int32))
        out: dict[str, Any] = {
            "party_names": tuple(names),
            "party_code": np.concatenate(codes) if codes else np.zeros(0, np.int32),
        }
        for f in fields(VolumeArrays):
            if f.name not in out and f.name not in _LINK_FIELDS:
                out[f.name] = np.concatenate([getattr(s, f.name) for s in sets])
        out["vertex_xyz"] = np.concatenate([s.vertex_xyz for s in sets])
        out["piece_volume"] = _shifted([s.piece_volume for s in sets], [len(s) for s in sets])
        for name, counts in (
            ("piece_offsets", [s.cap_m.shape[0] for s in sets]),
            ("piece_rings", [s.ring_offsets.shape[0] - 1 for s in sets]),
            ("ring_offsets", [s.vertex_xyz.shape[0] for s in sets]),
        ):
            parts = [getattr(s, name)[1:] for s in sets]
            out[name] = np.concatenate([[0], _shifted(parts, counts)]).astype(np.int64)
        return out


def gather(ring_offsets: I64, piece_rings: I64, pieces: I64) -> tuple[I64, I64, I64]:
    """See :meth:`VolumeArrays.gather`; works on the offsets alone."""
    first_ring = piece_rings[pieces]
    n_rings = piece_rings[pieces + 1] - first_ring
    rings = geo.ragged_arange(first_ring, n_rings)
    ring_len = ring_offsets[rings + 1] - ring_offsets[rings]
    vertex = geo.ragged_arange(ring_offsets[rings], ring_len)
    return vertex, _offsets(ring_len), _offsets(n_rings)


def _offsets(lengths: I64) -> I64:
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def _shifted(parts: Sequence[I64], counts: Sequence[int]) -> I64:
    """Concatenate index arrays, shifting each by the total count of the ones before."""
    shifts = np.cumsum([0, *counts])
    if not parts:
        return np.zeros(0, np.int64)
    return np.concatenate([p + shifts[k] for k, p in enumerate(parts)]).astype(np.int64)


@dataclass(frozen=True)
class Columns:
    """Volumes as flat input columns; see ``VolumeSet.from_arrays`` for each one."""

    ids: NDArray[np.object_]
    parties: Sequence[str]
    kinds: NDArray[np.int8]
    size_m: F64
    lon: F64
    lat: F64
    ring_offsets: I64
    volume_rings: I64
    alt_lower_m: F64
    alt_upper_m: F64
    start_s: F64
    end_s: F64
    datum: NDArray[np.int8]


def build_arrays(c: Columns) -> dict[str, Any]:
    """Validate input columns and derive the fields of a ``VolumeArrays``.

    Raises
    ------
    ValidationError
        For the first volume at fault, naming its id and GeoJSON field.
    """
    per_volume = (
        c.parties,
        c.kinds,
        c.size_m,
        c.alt_lower_m,
        c.alt_upper_m,
        c.start_s,
        c.end_s,
        c.datum,
    )
    check_layout(len(c.ids), per_volume, c.lon, c.lat, c.ring_offsets, c.volume_rings)
    checker = Checker(c.ids, c.kinds, c.ring_offsets, c.volume_rings)
    checker.identities()
    party_names, party_code = encode_parties(c.ids, c.parties)
    checker.sizes(c.size_m)
    checker.bands_and_windows(c.alt_lower_m, c.alt_upper_m, c.datum, c.start_s, c.end_s)
    checker.ring_counts()
    checker.coordinates(c.lon, c.lat)
    checker.ring_shapes(c.lon, c.lat)
    buffer_m = np.where(c.kinds == CIRCLE, c.size_m, np.where(c.kinds == CORRIDOR, c.size_m / 2, 0))
    fields = dict(
        ids=c.ids,
        party_names=party_names,
        party_code=party_code,
        kind=c.kinds,
        buffer_m=buffer_m,
        alt_lower_m=c.alt_lower_m,
        alt_upper_m=c.alt_upper_m,
        datum=c.datum,
        start_s=c.start_s,
        end_s=c.end_s,
    )
    return fields | _pieces(c, buffer_m)


def _pieces(c: Columns, buffer_m: F64) -> dict[str, Any]:
    """Densify, cut corridors into pieces, and give each piece a centre and a cap."""
    lon, lat, ring_offsets = geo.densify(c.lon, c.lat, c.ring_offsets, MAX_STEP_M)
    vertex, ring_offsets, piece_rings, piece_volume = _split(c.kinds, ring_offsets, c.volume_rings)
    lon, lat = lon[vertex], lat[vertex]
    vertex_xyz = geo.surface_ecef(lon, lat)
    piece_kind = c.kinds[piece_volume]
    ref_lonlat, ref_normal, reach = _centres(
        piece_kind, lon, lat, vertex_xyz, ring_offsets, piece_rings
    )
    cap_m = reach + buffer_m[piece_volume] + CAP_MARGIN_M
    check_reach(c.ids, piece_volume, cap_m - CAP_MARGIN_M, MAX_REACH_M)
    _check_polygon_shapes(
        c.ids, piece_kind, piece_volume, ref_normal, vertex_xyz, ring_offsets, piece_rings
    )
    return dict(
        piece_offsets=_offsets(np.bincount(piece_volume, minlength=len(c.ids))),
        piece_volume=piece_volume,
        ref_lonlat=ref_lonlat,
        ref_normal=ref_normal,
        ref_xyz=geo.surface_ecef(ref_lonlat[:, 0], ref_lonlat[:, 1]),
        cap_m=cap_m,
        piece_rings=piece_rings,
        ring_offsets=ring_offsets,
        vertex_xyz=vertex_xyz,
    )


def _split(kinds: NDArray[np.int8], ring_offsets: I64, volume_rings: I64) -> tuple[I64, ...]:
    """Cut corridors into pieces of at most ``PIECE_SEGMENTS`` segments.

    Consecutive pieces share their end vertex, so together they cover the line exactly.
    Returns the vertex index of each output vertex, the output ring offsets, the rings of
    each piece and the volume of each piece.
    """
    ring_len = np.diff(ring_offsets)
    n_rings = np.diff(volume_rings)
    ring_volume = np.repeat(np.arange(kinds.shape[0]), n_rings)
    is_line = kinds[ring_volume] == CORRIDOR
    segments = ring_len - 1
    chunks = np.where(is_line, np.maximum(-(-segments // PIECE_SEGMENTS), 1), 1)
    source = np.repeat(np.arange(ring_len.shape[0]), chunks)
    chunk = geo.ragged_arange(np.zeros_like(chunks), chunks)
    line = is_line[source]
    first = ring_offsets[source] + np.where(line, chunk * PIECE_SEGMENTS, 0)
    length = np.where(
        line,
        np.minimum(PIECE_SEGMENTS, segments[source] - chunk * PIECE_SEGMENTS) + 1,
        ring_len[source],
    )
    # A new piece starts at every corridor chunk and at the first ring of other volumes.
    new_piece = line | (source == volume_rings[ring_volume[source]])
    piece_rings = np.append(np.flatnonzero(new_piece), source.shape[0]).astype(np.int64)
    return (
        geo.ragged_arange(first, length),
        _offsets(length),
        piece_rings,
        ring_volume[source[new_piece]],
    )


def _check_polygon_shapes(
    ids: NDArray[np.object_],
    piece_kind: NDArray[np.int8],
    piece_volume: I64,
    ref_normal: F64,
    vertex_xyz: F64,
    ring_offsets: I64,
    piece_rings: I64,
) -> None:
    """Polygons must be valid (no self-intersection) in their own tangent planes."""
    poly = np.flatnonzero(piece_kind == POLYGON)
    if poly.size == 0:
        return
    vertex, rings, pieces = gather(ring_offsets, piece_rings, poly)
    frames = geo.tangent_frames(ref_normal[poly])
    owner = np.repeat(np.arange(poly.size), np.diff(rings[pieces]))
    xy = geo.project(vertex_xyz[vertex], *(f[owner] for f in frames))
    shapes = shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, (rings, pieces))
    check_polygons(ids, piece_volume[poly].tolist(), shapes, frames)


def _centres(
    kinds: NDArray[np.int8],
    lon: F64,
    lat: F64,
    vertex_xyz: F64,
    ring_offsets: I64,
    piece_rings: I64,
) -> tuple[F64, F64, F64]:
    """A centre for each piece and how far (geodesic metres, upper bound) its rings reach.

    The centre is the normalised mean of the vertex normals (a circle's is its own centre).
    The reach bounds the geodesic distance from the centre to every vertex; geodesic balls
    smaller than a hemisphere are convex, so it bounds every point of the piece.
    """
    if kinds.shape[0] == 0:
        return np.zeros((0, 2)), np.zeros((0, 3)), np.zeros(0)
    first = ring_offsets[piece_rings[:-1]]
    count = ring_offsets[piece_rings[1:]] - first
    normal_sum = np.add.reduceat(geo.normals_of_ecef(vertex_xyz), first, axis=0)
    length = np.linalg.norm(normal_sum, axis=1)
    # A shape whose normals cancel out spans the globe; it fails the reach check.
    ref_normal = normal_sum / np.where(length > 1e-9, length, 1.0)[:, None]
    ref_lon, ref_lat = geo.normals_to_lonlat(ref_normal)
    circle = kinds == CIRCLE
    ref_lon[circle], ref_lat[circle] = lon[first[circle]], lat[first[circle]]
    ref_normal[circle] = geo.unit_normals(ref_lon[circle], ref_lat[circle])
    centre_xyz = geo.surface_ecef(ref_lon, ref_lat)
    chord = np.linalg.norm(vertex_xyz - np.repeat(centre_xyz, count, axis=0), axis=1)
    reach = np.maximum.reduceat(geo.chord_to_geodesic_bound(chord), first)
    reach[length <= 1e-9] = np.inf
    return np.stack([ref_lon, ref_lat], axis=1), ref_normal, reach

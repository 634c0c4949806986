"""Deconfliction in the node: every declared volume checked against every other party's.

Volumes arrive in activity notices and deconfliction requests (sent or received). The
node keeps them in a :class:`~hotline.geo.strategic.engine.VolumeIndex`, built from the database
on first use, so a new notice is checked in milliseconds:

- before sending (``check_notice``), so the sender is warned with the conflicts it would
  make, beside the rule findings;
- when a notice is stored, sent or received (a receive hook), the conflicts are recorded
  and, for a received one, a ``conflict`` alarm alerts the duty officer.

Volume ids in the index are ``<message id>/<volume id>``, unique across notices. Only
volumes of different parties conflict; the minima are the Syria MoU defaults (3 NM,
3,000 ft) unless configured.

Protected areas (``protected_areas`` notices) are in the same index, as volumes in force
at all times (their altitude band, or every altitude): a notice's volume that comes
within the minima of the other side's protected area is a conflict like any other, and
so is an area declared over a volume already declared. Two areas never conflict with
each other. The areas in force are folded from the declarations in the order they were
made (a later declaration of the same id replaces an area; ``withdrawn`` ends it); a
replaced or withdrawn area leaves the index, which is then rebuilt.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.line import Envelope
from hotline.domain.notices.models import ProtectedArea, ProtectedAreas, parse_notice
from hotline.geo.geojson import volume_from_area, volume_from_notice
from hotline.geo.strategic.engine import ConflictRecord, Minima, VolumeIndex
from hotline.geo.volumes import Volume, VolumeSet
from hotline.services.alarms import raise_alarm
from hotline.services.line.service import Line
from hotline.storage import conflicts as store
from hotline.storage import messages
from hotline.storage.db import Connection

#: Message types whose bodies declare volumes.
VOLUME_TYPES = ("activity_notice", "deconfliction_request")
#: The message type that declares protected areas.
AREA_TYPE = "protected_areas"
#: Protected areas are in force at all times: the engine's window for them.
AREA_START, AREA_END = "1970-01-01T00:00:00Z", "2200-01-01T00:00:00Z"
AREA_WINDOW = (datetime.fromisoformat(AREA_START), datetime.fromisoformat(AREA_END))
#: The band of an area protected at every altitude (the limits of a notice's altitude).
ALL_ALTITUDES = (-11_000, 5_000_000)


@dataclass(frozen=True)
class AreaInForce:
    """A protected area in force: who protects it, which declaration, the area itself."""

    party: str
    message_id: str
    declared_at: str
    area: ProtectedArea

    @property
    def key(self) -> str:
        """Its id in the volume index: ``<message id>/<area id>``."""
        return f"{self.message_id}/{self.area.id}"

    def to_geojson(self) -> dict[str, Any]:
        """The area as a GeoJSON Feature (a circle as a Point with ``radius_m``)."""
        a = self.area
        props: dict[str, Any] = {
            "id": a.id,
            "name": a.name,
            "party": self.party,
            "message_id": self.message_id,
            "declared_at": self.declared_at,
            "kind": "area",
        }
        if a.alt_lower_m is not None:
            props.update(alt_lower_m=a.alt_lower_m, alt_upper_m=a.alt_upper_m, datum=a.datum)
        if a.area.radius_m is not None:
            props["radius_m"] = a.area.radius_m
        return {"type": "Feature", "geometry": a.area.geometry.to_geojson(), "properties": props}

    def volume(self) -> Volume:
        """The engine's volume for this area: in force at all times."""
        a = self.area
        band = (
            (a.alt_lower_m, a.alt_upper_m)
            if a.alt_lower_m is not None and a.alt_upper_m is not None
            else ALL_ALTITUDES
        )
        return volume_from_area(a.area, self.key, self.party, band, AREA_WINDOW, a.datum or "WGS84")


def fold_areas(
    declarations: list[tuple[str, str, str, dict[str, Any]]],
) -> dict[tuple[str, str], AreaInForce]:
    """The areas in force after ``(party, message id, declared at, body)`` declarations.

    Keyed by (party, area id); declarations apply in the order given.
    """
    out: dict[tuple[str, str], AreaInForce] = {}
    for party, mid, at, body in declarations:
        notice = parse_notice(body)
        assert isinstance(notice, ProtectedAreas)
        for area_id in notice.withdrawn or ():
            out.pop((party, area_id), None)
        for area in notice.areas or ():
            out[(party, area.id)] = AreaInForce(party, mid, at, area)
    return out


def notice_volumes(body: dict[str, Any], party: str, message_id: str) -> list[Volume]:
    """The engine's volumes of a notice body (none for types without volumes)."""
    if body.get("type") not in VOLUME_TYPES:
        return []
    notice = parse_notice(body)
    return [
        volume_from_notice(v, party, id_prefix=message_id) for v in getattr(notice, "volumes", ())
    ]


class Conflicts:
    def __init__(self, line: Line, minima: Minima | None = None) -> None:
        self.line = line
        self.minima = minima or Minima()
        self._index: VolumeIndex | None = None
        self._known: set[str] = set()
        self._notice_volumes: list[Volume] = []
        self._areas: dict[tuple[str, str], AreaInForce] = {}
        self._applied: set[str] = set()  # declarations of areas already folded in
        self._loaded = False
        self._lock = threading.Lock()
        for type_ in (*VOLUME_TYPES, AREA_TYPE):
            line.on_receive(type_, self._received)

    # -- the index -------------------------------------------------------------------------

    def _ensure_index(self) -> VolumeIndex:
        if self._index is None:
            if not self._loaded:  # first use: load what is stored
                stored = self._stored_notices((*VOLUME_TYPES, AREA_TYPE))
                self._notice_volumes = [
                    v
                    for party, mid, _at, body in stored
                    if body.get("type") != AREA_TYPE
                    for v in notice_volumes(body, party, mid)
                ]
                declarations = [d for d in stored if d[3].get("type") == AREA_TYPE]
                self._areas = fold_areas(declarations)
                self._applied = {mid for _p, mid, _at, _b in declarations}
                self._loaded = True
            volumes = self._notice_volumes + [a.volume() for a in self._areas.values()]
            self._index = VolumeIndex(VolumeSet.from_volumes(volumes), minima=self.minima)
            self._known = {v.id for v in volumes}
        return self._index

    def _stored_notices(
        self, types: tuple[str, ...] = VOLUME_TYPES
    ) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(party, message id, created, body) of stored messages of ``types``, oldest first."""
        me = self.line.identity.party
        with self.line.db.read() as conn:
            rows = messages.of_types(conn, types)
            return [
                (me if d == "out" else peer, mid, created, json.loads(env)["body"])
                for mid, d, peer, created, env in rows
            ]

    def areas(self) -> list[AreaInForce]:
        """The protected areas in force, own and peers', in declaration order."""
        with self._lock:
            self._ensure_index()
            return list(self._areas.values())

    def declared_volumes(self, party: str) -> list[Volume]:
        """The notice volumes ``party`` declared (ids ``<message id>/<volume id>``), for
        conformance monitoring (:mod:`hotline.services.picture.conformance`)."""
        with self._lock:
            self._ensure_index()
            return [v for v in self._notice_volumes if v.party == party]

    def _area_keys(self) -> set[str]:
        return {a.key for a in self._areas.values()}

    def _declare(self, party: str, message_id: str, at: str, body: dict[str, Any]) -> list[Volume]:
        """Apply a declaration of areas (lock held); returns the new areas' volumes."""
        notice = parse_notice(body)
        assert isinstance(notice, ProtectedAreas)
        declared = fold_areas([(party, message_id, at, body)])
        ended = {(party, area_id) for area_id in notice.withdrawn or ()} | set(declared)
        if ended & set(self._areas):
            self._index = None  # an area replaced or withdrawn: rebuild without it
        for key in ended:
            self._areas.pop(key, None)
        self._areas.update(declared)
        return [a.volume() for a in declared.values()]

    def check_volumes(self, volumes: list[Volume], *, areas: bool = False) -> list[ConflictRecord]:
        """Conflicts the given volumes (protected areas if ``areas``) would make."""
        if not volumes:
            return []
        with self._lock:
            found = self._ensure_index().check(VolumeSet.from_volumes(volumes))
            keys = self._area_keys() | ({v.id for v in volumes} if areas else set())
            return [r for r in found if not (r.a in keys and r.b in keys)]

    def check_notice(self, body: dict[str, Any], to: str) -> list[dict[str, Any]]:
        """For the sender, before sending: the conflicts this notice would make."""
        me = self.line.identity.party
        if body.get("type") == AREA_TYPE:
            declared = fold_areas([(me, "(new)", "", body)])
            found = self.check_volumes([a.volume() for a in declared.values()], areas=True)
        else:
            found = self.check_volumes(notice_volumes(body, me, "(new)"))
        return [self._describe(r) for r in found]

    def _add(
        self, volumes: list[Volume], declaration: tuple[str, str, str, dict[str, Any]] | None = None
    ) -> list[ConflictRecord]:
        """Index new volumes (or apply a declaration of areas); returns their conflicts."""
        with self._lock:
            self._ensure_index()
            # The engine checks more than a notice's model does (self-crossing rings, a reach
            # over 2,000 km): refuse before keeping anything, or the next rebuild would fail.
            declared = fold_areas([declaration]) if declaration is not None else {}
            VolumeSet.from_volumes([*volumes, *(a.volume() for a in declared.values())])
            if declaration is not None:
                if declaration[1] in self._applied:
                    return []  # already folded in (loaded from the database)
                self._applied.add(declaration[1])
                volumes = self._declare(*declaration)
            else:
                volumes = [v for v in volumes if v.id not in self._known]
                self._notice_volumes.extend(volumes)
            index = self._ensure_index()  # rebuilt if an area was replaced or withdrawn
            if not volumes:
                return []
            found = index.check(VolumeSet.from_volumes(volumes))  # skips their own ids
            fresh = [v for v in volumes if v.id not in self._known]
            if fresh:
                index.add(VolumeSet.from_volumes(fresh))
                self._known.update(v.id for v in fresh)
            keys = self._area_keys()
            return [r for r in found if not (r.a in keys and r.b in keys)]

    # -- recording -------------------------------------------------------------------------

    def record_sent(
        self, message_id: str, body: dict[str, Any], created: str | None = None
    ) -> list[dict[str, Any]]:
        """A notice this node sent: index its volumes and record what they conflict with."""
        me = self.line.identity.party
        if body.get("type") == AREA_TYPE:
            found = self._add([], (me, message_id, created or self.line.now(), body))
        else:
            found = self._add(notice_volumes(body, me, message_id))
        if found:
            with self.line.db.write() as conn:
                self._store(conn, found, self.line.now())
        return [self._describe(r) for r in found]

    def _received(self, conn: Connection, envelope: Envelope, now: str) -> None:
        if envelope.type == AREA_TYPE:
            found = self._add([], (envelope.from_, envelope.id, envelope.created, envelope.body))
        else:
            found = self._add(notice_volumes(envelope.body, envelope.from_, envelope.id))
        if found:
            self._store(conn, found, now)
            raise_alarm(
                conn, "conflict", envelope.id, now, peer=envelope.from_, conflicts=len(found)
            )

    def _store(self, conn: Connection, found: list[ConflictRecord], at: str) -> None:
        for record in found:
            (a_msg, a_vol), (b_msg, b_vol) = _split(record.a), _split(record.b)
            store.insert_conflict(
                conn,
                a=(a_msg, a_vol, self._party_of(conn, a_msg)),
                b=(b_msg, b_vol, self._party_of(conn, b_msg)),
                start=record.start,
                end=record.end,
                horizontal_m=round(record.horizontal_m, 1),
                vertical_m=round(record.vertical_m, 1),
                detected_at=at,
            )

    def _party_of(self, conn: Connection, message_id: str) -> str:
        row = messages.origin(conn, message_id)
        if row is None or row[0] == "out":
            return self.line.identity.party
        return str(row[1])

    def _describe(self, record: ConflictRecord) -> dict[str, Any]:
        (a_msg, a_vol), (b_msg, b_vol) = _split(record.a), _split(record.b)
        keys = self._area_keys()
        return {
            "a": {"message_id": a_msg, "volume_id": a_vol, "area": record.a in keys},
            "b": {"message_id": b_msg, "volume_id": b_vol, "area": record.b in keys},
            "start": record.start,
            "end": record.end,
            "horizontal_m": round(record.horizontal_m, 1),
            "vertical_m": round(record.vertical_m, 1),
        }

    # -- reading ---------------------------------------------------------------------------

    def listing(self, message_id: str | None = None) -> list[dict[str, Any]]:
        with self.line.db.read() as conn:
            rows = store.listing(conn, message_id)
            ids = {r["a_message"] for r in rows} | {r["b_message"] for r in rows}
            areas = messages.ids_of_type(conn, ids, AREA_TYPE)
        return [_row_out(r, areas) for r in rows]

    def volumes_geojson(self) -> dict[str, Any]:
        """Every declared volume, own and peers', as a GeoJSON FeatureCollection."""
        features = []
        for party, mid, _at, body in self._stored_notices():
            notice = parse_notice(body)
            for volume in getattr(notice, "volumes", ()):
                feature = volume.to_geojson(party, id_prefix=mid)
                feature["properties"]["message_id"] = mid
                features.append(feature)
        return {"type": "FeatureCollection", "features": features}

    def areas_geojson(self) -> dict[str, Any]:
        """The protected areas in force, own and peers', as a GeoJSON FeatureCollection."""
        return {"type": "FeatureCollection", "features": [a.to_geojson() for a in self.areas()]}


def _split(volume_id: str) -> tuple[str, str]:
    message_id, _, vid = volume_id.partition("/")
    return message_id, vid


def _row_out(row: dict[str, Any], areas: set[str]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "a": {
            "message_id": row["a_message"],
            "volume_id": row["a_volume"],
            "party": row["a_party"],
            "area": row["a_message"] in areas,
        },
        "b": {
            "message_id": row["b_message"],
            "volume_id": row["b_volume"],
            "party": row["b_party"],
            "area": row["b_message"] in areas,
        },
        "start": row["start"],
        "end": row["end"],
        "horizontal_m": row["horizontal_m"],
        "vertical_m": row["vertical_m"],
        "detected_at": row["detected_at"],
    }

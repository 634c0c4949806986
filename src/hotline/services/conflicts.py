"""Deconfliction in the node: every declared volume checked against every other party's.

Volumes arrive in activity notices and deconfliction requests (sent or received). The
node keeps them in a :class:`~hotline.geo.strategic.VolumeIndex`, built from the database
on first use, so a new notice is checked in milliseconds:

- before sending (``check_notice``), so the sender is warned with the conflicts it would
  make, beside the rule findings;
- when a notice is stored, sent or received (a receive hook), the conflicts are recorded
  and, for a received one, a ``conflict`` alarm alerts the duty officer.

Volume ids in the index are ``<message id>/<volume id>``, unique across notices. Only
volumes of different parties conflict; the minima are the Syria MoU defaults (3 NM,
3,000 ft) unless configured.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from hotline.domain.line import Envelope
from hotline.domain.notices import parse_notice
from hotline.geo.strategic import ConflictRecord, Minima, VolumeIndex
from hotline.geo.volumes import Volume, VolumeSet
from hotline.services.alarms import raise_alarm
from hotline.services.line import Line
from hotline.storage.conflicts_tables import conflicts
from hotline.storage.tables import messages

#: Message types whose bodies declare volumes.
VOLUME_TYPES = ("activity_notice", "deconfliction_request")


def notice_volumes(body: dict[str, Any], party: str, message_id: str) -> list[Volume]:
    """The engine's volumes of a notice body (none for types without volumes)."""
    if body.get("type") not in VOLUME_TYPES:
        return []
    notice = parse_notice(body)
    return [
        Volume.from_feature(v.to_geojson(party, id_prefix=message_id))
        for v in getattr(notice, "volumes", ())
    ]


class Conflicts:
    def __init__(self, line: Line, minima: Minima | None = None) -> None:
        self.line = line
        self.minima = minima or Minima()
        self._index: VolumeIndex | None = None
        self._known: set[str] = set()
        self._lock = threading.Lock()
        for type_ in VOLUME_TYPES:
            line.on_receive(type_, self._received)

    # -- the index -------------------------------------------------------------------------

    def _ensure_index(self) -> VolumeIndex:
        if self._index is None:
            volumes = [
                v
                for party, mid, body in self._stored_notices()
                for v in notice_volumes(body, party, mid)
            ]
            self._index = VolumeIndex(VolumeSet.from_volumes(volumes), minima=self.minima)
            self._known = {v.id for v in volumes}
        return self._index

    def _stored_notices(self) -> list[tuple[str, str, dict[str, Any]]]:
        me = self.line.identity.party
        with self.line.db.read() as conn:
            rows = conn.execute(
                select(messages.c.id, messages.c.direction, messages.c.peer, messages.c.envelope)
                .where(messages.c.type.in_(VOLUME_TYPES))
                .order_by(messages.c.created)
            )
            return [
                (me if d == "out" else peer, mid, json.loads(env)["body"])
                for mid, d, peer, env in rows
            ]

    def check_volumes(self, volumes: list[Volume]) -> list[ConflictRecord]:
        """Conflicts the given volumes would make with those declared so far."""
        if not volumes:
            return []
        with self._lock:
            return self._ensure_index().check(VolumeSet.from_volumes(volumes))

    def check_notice(self, body: dict[str, Any], to: str) -> list[dict[str, Any]]:
        """For the sender, before sending: the conflicts this notice would make."""
        volumes = notice_volumes(body, self.line.identity.party, "(new)")
        return [self._describe(r) for r in self.check_volumes(volumes)]

    def _add(self, volumes: list[Volume]) -> list[ConflictRecord]:
        with self._lock:
            index = self._ensure_index()
            fresh = [v for v in volumes if v.id not in self._known]
            if not fresh:
                return []
            found = index.check(VolumeSet.from_volumes(fresh))
            index.add(VolumeSet.from_volumes(fresh))
            self._known.update(v.id for v in fresh)
            return found

    # -- recording -------------------------------------------------------------------------

    def record_sent(self, message_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """A notice this node sent: index its volumes and record what they conflict with."""
        found = self._add(notice_volumes(body, self.line.identity.party, message_id))
        if found:
            with self.line.db.write() as conn:
                self._store(conn, found, self.line.now())
        return [self._describe(r) for r in found]

    def _received(self, conn: Connection, envelope: Envelope, now: str) -> None:
        found = self._add(notice_volumes(envelope.body, envelope.from_, envelope.id))
        if found:
            self._store(conn, found, now)
            raise_alarm(
                conn, "conflict", envelope.id, now, peer=envelope.from_, conflicts=len(found)
            )

    def _store(self, conn: Connection, found: list[ConflictRecord], at: str) -> None:
        for record in found:
            (a_msg, a_vol), (b_msg, b_vol) = _split(record.a), _split(record.b)
            conn.execute(
                insert(conflicts).values(
                    a_message=a_msg,
                    a_volume=a_vol,
                    a_party=self._party_of(conn, a_msg),
                    b_message=b_msg,
                    b_volume=b_vol,
                    b_party=self._party_of(conn, b_msg),
                    start=record.start,
                    end=record.end,
                    horizontal_m=round(record.horizontal_m, 1),
                    vertical_m=round(record.vertical_m, 1),
                    detected_at=at,
                )
            )

    def _party_of(self, conn: Connection, message_id: str) -> str:
        row = conn.execute(
            select(messages.c.direction, messages.c.peer).where(messages.c.id == message_id)
        ).first()
        if row is None or row[0] == "out":
            return self.line.identity.party
        return str(row[1])

    def _describe(self, record: ConflictRecord) -> dict[str, Any]:
        (a_msg, a_vol), (b_msg, b_vol) = _split(record.a), _split(record.b)
        return {
            "a": {"message_id": a_msg, "volume_id": a_vol},
            "b": {"message_id": b_msg, "volume_id": b_vol},
            "start": record.start,
            "end": record.end,
            "horizontal_m": round(record.horizontal_m, 1),
            "vertical_m": round(record.vertical_m, 1),
        }

    # -- reading ---------------------------------------------------------------------------

    def listing(self, message_id: str | None = None) -> list[dict[str, Any]]:
        stmt = select(conflicts).order_by(conflicts.c.id.desc())
        if message_id:
            stmt = stmt.where(
                or_(conflicts.c.a_message == message_id, conflicts.c.b_message == message_id)
            )
        with self.line.db.read() as conn:
            rows = [dict(r) for r in conn.execute(stmt).mappings()]
        return [_row_out(r) for r in rows]

    def volumes_geojson(self) -> dict[str, Any]:
        """Every declared volume, own and peers', as a GeoJSON FeatureCollection."""
        features = []
        for party, mid, body in self._stored_notices():
            notice = parse_notice(body)
            for volume in getattr(notice, "volumes", ()):
                feature = volume.to_geojson(party, id_prefix=mid)
                feature["properties"]["message_id"] = mid
                features.append(feature)
        return {"type": "FeatureCollection", "features": features}


def _split(volume_id: str) -> tuple[str, str]:
    message_id, _, vid = volume_id.partition("/")
    return message_id, vid


def _row_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "a": {
            "message_id": row["a_message"],
            "volume_id": row["a_volume"],
            "party": row["a_party"],
        },
        "b": {
            "message_id": row["b_message"],
            "volume_id": row["b_volume"],
            "party": row["b_party"],
        },
        "start": row["start"],
        "end": row["end"],
        "horizontal_m": row["horizontal_m"],
        "vertical_m": row["vertical_m"],
        "detected_at": row["detected_at"],
    }

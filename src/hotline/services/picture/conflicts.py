"""Deconfliction in the node: the volumes in force, their conflicts, and how they end.

The state of every volume (proposed, declared, agreed, withdrawn, expired; a version per
amendment) is folded from the notices on the line by
:mod:`hotline.domain.notices.lifecycle`, the same way on both nodes. The conflicts are
those between volumes *in force* (declared or agreed, not expired) of different parties,
and between them and the protected areas in force. A volume quoted in a request is a
reference, never a declaration; a proposal is checked against the volumes in force for
its proposer (before sending, and in the negotiation's view) but is no conflict of record.

Whenever a notice is sent or received (a receive hook), and on the node's tick when a
volume in an open conflict has expired, the node *reconciles*: it records the conflicts
that are new (and, for a received notice, raises a ``conflict`` alarm) and closes the
recorded ones no longer true, with their reason — ``amended`` (a volume amended out of
it), ``withdrawn`` (cancelled, or left out of an amendment), ``expired``, or ``accepted``
(both sides agreed to it, with the agreement's reason). When none of the conflicts an
alarm was raised for is open any more, the alarm clears with that reason. Closed
conflicts are kept: the history is listed with them.

Volume ids in the engine are the volumes' keys, ``<message id>/<volume id>`` of the notice
that first declared them. Only volumes of different parties conflict; the minima are the
Syria MoU defaults (3 NM, 3,000 ft) unless configured.

Protected areas (``protected_areas`` notices) are volumes in force at all times (their
altitude band, or every altitude). Two areas never conflict with each other. The areas in
force are folded from the declarations in the order they were made (a later declaration
of the same id replaces an area; ``withdrawn``, an amendment leaving it out, or a
cancellation ends it)."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.clock import parse_rfc3339
from hotline.domain.line import Envelope
from hotline.domain.notices.geometry import Volume as WireVolume
from hotline.domain.notices.lifecycle import IN_FORCE, Sent, Volumes, area_declarations, fold
from hotline.domain.notices.models import (
    NoticeAmendment,
    ProtectedArea,
    ProtectedAreas,
    parse_notice,
)
from hotline.errors import HotlineError, NotFound
from hotline.geo.geojson import volume_from_area, volume_from_notice
from hotline.geo.strategic.engine import ConflictRecord, Minima, detect_all
from hotline.geo.volumes import Volume, VolumeSet
from hotline.services.alarms import clear_alarm, raise_alarm
from hotline.services.line.service import Line
from hotline.storage import conflicts as store
from hotline.storage import messages
from hotline.storage.db import Connection

log = logging.getLogger(__name__)

#: Message types whose bodies make or change the volumes on the line.
VOLUME_TYPES = (
    "activity_notice",
    "deconfliction_request",
    "deconfliction_answer",
    "deconfliction_concurrence",
    "notice_amendment",
    "notice_cancellation",
    "exercise_notification",
)
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


@dataclass(frozen=True)
class Picture:
    """The volumes (folded) and the protected areas in force, at one moment."""

    volumes: Volumes
    areas: dict[tuple[str, str], AreaInForce]


@dataclass(frozen=True)
class Ended:
    """Why a recorded conflict is no longer true: reason code, words, message that did it."""

    reason: str
    detail: str
    by: str | None


class Conflicts:
    def __init__(self, line: Line, minima: Minima | None = None) -> None:
        self.line = line
        self.minima = minima or Minima()
        self._picture: Picture | None = None
        self._next_expiry: datetime | None = None
        self._ticked = False
        self._lock = threading.RLock()
        for type_ in (*VOLUME_TYPES, AREA_TYPE):
            line.on_receive(type_, self._received)

    # -- the picture -----------------------------------------------------------------------

    def _sent(self, conn: Connection, extra: list[Sent] | None = None) -> list[Sent]:
        """Every stored notice that makes or changes volumes (then ``extra``), parsed."""
        me = self.line.identity.party
        out: dict[str, Sent] = {}
        for mid, d, peer, created, env in messages.of_types(conn, (*VOLUME_TYPES, AREA_TYPE)):
            body = parse_notice(json.loads(env)["body"])
            out[mid] = Sent(me if d == "out" else peer, mid, created, body)
        for sent in extra or ():  # last: a notice not stored yet is the newest
            out.setdefault(sent.message_id, sent)
        return list(out.values())

    def _build(self, conn: Connection, extra: list[Sent] | None = None) -> Picture:
        sent = self._sent(conn, extra)
        return Picture(fold(sent), fold_areas(area_declarations(sent)))

    def picture(self) -> Picture:
        """The current picture (kept between notices; built from the database at first)."""
        with self._lock:
            if self._picture is None:
                with self.line.db.read() as conn:
                    self._picture = self._build(conn)
            return self._picture

    def areas(self) -> list[AreaInForce]:
        """The protected areas in force, own and peers', in declaration order."""
        return list(self.picture().areas.values())

    def declared_volumes(self, party: str) -> list[Volume]:
        """The volumes ``party`` declared or agreed, current versions, ended ones too
        (conformance tells "after its window" from "no longer declared"); ids
        ``<message id>/<volume id>``, for :mod:`hotline.services.picture.conformance`."""
        return [
            volume_from_notice(v.volume, v.owner, id_prefix=v.key.partition("/")[0])
            for v in self.picture().volumes.lines.values()
            if v.owner == party and v.state in IN_FORCE
        ]

    def _engine_volumes(self, picture: Picture, now: datetime) -> list[Volume]:
        """The engine's volumes in force: the volumes declared or agreed, and the areas."""
        out = []
        for v in picture.volumes.in_force(now):
            origin = v.key.partition("/")[0]
            out.append(volume_from_notice(v.volume, v.owner, id_prefix=origin))
        return out + [a.volume() for a in picture.areas.values()]

    def _engine_set(self, volumes: list[Volume]) -> VolumeSet:
        """The volumes as the engine's set, leaving out (and logging) one it refuses.

        New notices are refused before they are kept (:func:`refuse_bad`); a stored volume
        the engine refuses (stored by an older version) must not stop every notice after it.
        """
        try:
            return VolumeSet.from_volumes(volumes)
        except HotlineError:
            kept = []
            for volume in volumes:
                try:
                    VolumeSet.from_volumes([volume])
                    kept.append(volume)
                except HotlineError as exc:
                    log.warning("conflicts: volume %s left out: %s", volume.id, exc)
            return VolumeSet.from_volumes(kept)

    def _detect(self, picture: Picture, now: datetime) -> list[ConflictRecord]:
        """Every conflict in force: none between two areas, none accepted by both sides."""
        found = detect_all(
            self._engine_set(self._engine_volumes(picture, now)), self.minima, workers=1
        )
        areas = {a.key for a in picture.areas.values()}
        lines = picture.volumes.lines
        out = []
        for r in found:
            if r.a in areas and r.b in areas:
                continue
            if r.a in lines and r.b in lines:
                pair = (r.a, lines[r.a].version), (r.b, lines[r.b].version)
                if picture.volumes.accepted(*pair) is not None:
                    continue
            out.append(r)
        return out

    # -- before sending --------------------------------------------------------------------

    def check_notice(self, body: dict[str, Any], to: str) -> list[dict[str, Any]]:
        """For the sender, before sending: the conflicts this notice would make.

        Those of the volumes it would put in force (a notice, an amendment, an agreement)
        and those of the volumes it proposes against the volumes in force.
        """
        me = self.line.identity.party
        now = self.line.clock.now()
        new = Sent(me, "(new)", self.line.now(), parse_notice(body))
        with self.line.db.read() as conn:
            before = self._build(conn)
            after = self._build(conn, [new])
        refuse_bad(new)
        old = {_pair(r) for r in self._detect(before, now)}
        found = [r for r in self._detect(after, now) if _pair(r) not in old]
        proposed = self._proposal_conflicts(after, now, only="(new)")
        return [self._describe(r, after) for r in found + proposed]

    def _proposal_conflicts(
        self, picture: Picture, now: datetime, only: str | None = None
    ) -> list[ConflictRecord]:
        """Conflicts of the open proposals (those made by message ``only``, if given) with
        the volumes in force, leaving out the volume a proposal would replace."""
        out: list[ConflictRecord] = []
        for p in picture.volumes.proposed(now):
            if only is not None and p.message_id != only:
                continue
            origin = p.key.partition("/")[0]
            mine = volume_from_notice(p.volume, p.owner, id_prefix=origin)
            rest = [v for v in self._engine_volumes(picture, now) if v.id != p.key]
            found = detect_all(self._engine_set([*rest, mine]), self.minima, workers=1)
            out += [r for r in found if p.key in (r.a, r.b)]
        return out

    # -- recording -------------------------------------------------------------------------

    def record_sent(
        self, message_id: str, body: dict[str, Any], created: str | None = None
    ) -> list[dict[str, Any]]:
        """A notice this node sent: reconcile, and return the conflicts it made."""
        sent = Sent(self.line.identity.party, message_id, created or self.line.now(),
                    parse_notice(body))  # fmt: skip
        with self.line.db.write() as conn:
            new, picture = self._reconcile(conn, [sent], self.line.now(), raised_by=None)
        return [self._describe(r, picture) for r in new]

    def _received(self, conn: Connection, envelope: Envelope, now: str) -> None:
        sent = Sent(envelope.from_, envelope.id, envelope.created, parse_notice(envelope.body))
        new, _ = self._reconcile(conn, [sent], now, raised_by=envelope.id)
        if new:
            raise_alarm(conn, "conflict", envelope.id, now, peer=envelope.from_, conflicts=len(new))

    def tick(self) -> None:
        """Close the conflicts whose volumes have expired (cheap when none is due)."""
        now = self.line.clock.now()
        if self._ticked and (self._next_expiry is None or now < self._next_expiry):
            return
        try:
            with self.line.db.write() as conn:
                self._reconcile(conn, [], self.line.now(), raised_by=None)
            self._ticked = True
        except HotlineError:  # the database is away: the next tick tries again
            log.warning("conflicts: could not reconcile on this tick", exc_info=True)

    def _reconcile(
        self, conn: Connection, extra: list[Sent], at: str, raised_by: str | None
    ) -> tuple[list[ConflictRecord], Picture]:
        """Record the new conflicts and close the ones no longer true; returns the new ones."""
        with self._lock:
            for sent in extra:
                refuse_bad(sent)
            now = parse_rfc3339(at)
            picture = self._build(conn, extra)
            current = {_pair(r): r for r in self._detect(picture, now)}
            open_rows = store.open_conflicts(conn)
            recorded = {_row_pair(r) for r in open_rows}
            new = [r for key, r in current.items() if key not in recorded]
            self._store(conn, new, at, raised_by)
            ended = [r for r in open_rows if _row_pair(r) not in current]
            for row in ended:
                why = self._why(picture, _row_pair(row), now)
                store.close(conn, row["id"], at=at, reason=why.reason, detail=why.detail, by=why.by)
            self._clear_alarms(conn, ended, at)
            self._picture = picture
            self._next_expiry = self._expiry(picture, now)
            return new, picture

    def _expiry(self, picture: Picture, now: datetime) -> datetime | None:
        """When the first volume in force ends (the tick then reconciles)."""
        ends = [v.volume.properties.end for v in picture.volumes.in_force(now)]
        return min(ends, default=None)

    def _why(self, picture: Picture, pair: tuple[str, str], now: datetime) -> Ended:
        lines, areas = picture.volumes.lines, {a.key for a in picture.areas.values()}
        if all(k in lines for k in pair):
            versions = [(k, lines[k].version) for k in pair]
            agreement = picture.volumes.accepted(versions[0], versions[1])
            if agreement is not None and all(lines[k].state_at(now) in ("agreed",) for k in pair):
                return Ended("accepted", agreement.reason, agreement.message_id)
        for key in pair:
            line = lines.get(key)
            if line is None:
                if key in areas:
                    continue
                why = f"volume {key} is not in force: a protected area replaced or withdrawn, "
                return Ended("withdrawn", why + "or a volume only quoted in a request", None)
            state = line.state_at(now)
            if state == "withdrawn":
                return Ended("withdrawn", line.reason or f"volume {key} withdrawn", line.changed_by)
            if state == "expired":
                end = line.volume.properties.end.strftime("%Y-%m-%dT%H:%M:%SZ")
                return Ended("expired", f"volume {key} ended at {end}", None)
        changed = max((lines[k] for k in pair if k in lines), key=lambda v: v.step, default=None)
        if changed is None:
            return Ended("withdrawn", "protected area replaced or withdrawn", None)
        return Ended(
            "amended", changed.reason or f"volume {changed.key} amended", changed.changed_by
        )

    def _clear_alarms(self, conn: Connection, ended: list[dict[str, Any]], at: str) -> None:
        """Clear each ``conflict`` alarm none of whose conflicts is open any more."""
        held = {s for r in store.open_conflicts(conn) for s in _subjects(r)}
        for row in ended:
            closed = store.get(conn, int(row["id"]))
            reason = f"{closed['closed_reason']}: {closed['closed_detail']}" if closed else ""
            for subject in _subjects(row):
                if subject not in held:
                    clear_alarm(conn, "conflict", subject, at, f"conflict {row['id']} {reason}")

    def _store(
        self, conn: Connection, found: list[ConflictRecord], at: str, raised_by: str | None
    ) -> None:
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
                raised_by=raised_by,
            )

    def _party_of(self, conn: Connection, message_id: str) -> str:
        row = messages.origin(conn, message_id)
        if row is None or row[0] == "out":
            return self.line.identity.party
        return str(row[1])

    def _describe(self, record: ConflictRecord, picture: Picture) -> dict[str, Any]:
        (a_msg, a_vol), (b_msg, b_vol) = _split(record.a), _split(record.b)
        keys = {a.key for a in picture.areas.values()}
        return {
            "a": {"message_id": a_msg, "volume_id": a_vol, "area": record.a in keys},
            "b": {"message_id": b_msg, "volume_id": b_vol, "area": record.b in keys},
            "start": record.start,
            "end": record.end,
            "horizontal_m": round(record.horizontal_m, 1),
            "vertical_m": round(record.vertical_m, 1),
        }

    # -- reading ---------------------------------------------------------------------------

    def listing(
        self, message_id: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        """Recorded conflicts, open and closed (the history), newest first."""
        with self.line.db.read() as conn:
            rows = store.listing(conn, message_id, state)
            ids = {r["a_message"] for r in rows} | {r["b_message"] for r in rows}
            areas = messages.ids_of_type(conn, ids, AREA_TYPE)
        return [_row_out(r, areas) for r in rows]

    def volumes(self, message_id: str | None = None) -> list[dict[str, Any]]:
        """Every volume's current version and every proposal, with its state."""
        now = self.line.clock.now()
        vols = self.picture().volumes
        out = [v.to_json(now) | {"kind": "volume"} for v in vols.lines.values()]
        out += [p.to_json(now) | {"kind": "proposal"} for p in vols.proposals.values()]
        if message_id:
            out = [v for v in out if message_id in (v["message_id"], v["version_message_id"])]
        return out

    def negotiation(self, message_id: str) -> dict[str, Any]:
        """A negotiation (named by any of its messages): state, rounds, volumes, conflicts."""
        picture = self.picture()
        vols, now = picture.volumes, self.line.clock.now()
        neg = vols.negotiations.get(vols.rounds.get(message_id, message_id))
        if neg is None:
            raise NotFound(
                f"no negotiation with message {message_id!r} on this node",
                hint="give the id of a deconfliction request, answer or concurrence",
            )
        concerns = []
        for key, version in neg.concerns:
            line = vols.lines.get(key)
            entry = {"key": key, "version": version}
            if line is not None:
                entry |= {"owner": line.owner, "current_version": line.version,
                          "state": line.state_at(now)}  # fmt: skip
            concerns.append(entry)
        proposals = [vols.proposals[pid].to_json(now) | {"id": pid} for pid in neg.proposals]
        open_ = [vols.proposals[pid] for pid in neg.pending]
        found = [
            self._describe(r, picture)
            for r in self._proposal_conflicts(picture, now)
            if any(p.key in (r.a, r.b) for p in open_)
        ]
        return {
            "id": neg.id,
            "requester": neg.requester,
            "state": neg.state,
            "reason": neg.reason,
            "concerns": concerns,
            "quoted": neg.quoted,
            "proposals": proposals,
            "rounds": neg.rounds,
            "proposal_conflicts": found,
        }

    def volumes_geojson(self) -> dict[str, Any]:
        """Every volume (current version) and open proposal as a GeoJSON FeatureCollection.

        Each Feature's properties add ``state``, ``version`` and ``message_id`` (the notice
        that first declared it) to the volume's own.
        """
        now = self.line.clock.now()
        vols = self.picture().volumes
        features = []
        for v in [*vols.lines.values(), *vols.proposed(now)]:
            origin = v.key.partition("/")[0]
            feature = v.volume.to_geojson(v.owner, id_prefix=origin)
            feature["properties"].update(
                message_id=origin, state=v.state_at(now), version=v.version
            )
            features.append(feature)
        return {"type": "FeatureCollection", "features": features}

    def areas_geojson(self) -> dict[str, Any]:
        """The protected areas in force, own and peers', as a GeoJSON FeatureCollection."""
        return {"type": "FeatureCollection", "features": [a.to_geojson() for a in self.areas()]}


def refuse_bad(sent: Sent) -> None:
    """Refuse a notice whose volumes or areas the engine refuses, before anything is kept.

    The engine checks more than a notice's model does (self-crossing rings, a reach over
    2,000 km): such a notice is refused before it is sent, and its receipt refused.
    """
    body = sent.body
    if isinstance(body, NoticeAmendment):
        body = body.notice
    carried: list[Volume] = []
    for name in ("volumes", "proposed"):
        for v in getattr(body, name, None) or ():
            if isinstance(v, WireVolume):  # a cancellation's volumes are ids
                carried.append(volume_from_notice(v, sent.party, id_prefix=sent.message_id))
    if isinstance(body, ProtectedAreas):
        wire = body.model_dump(mode="json", exclude_none=True)
        declared = fold_areas([(sent.party, sent.message_id, sent.created, wire)])
        carried += [a.volume() for a in declared.values()]
    if carried:
        VolumeSet.from_volumes(carried)


def _pair(record: ConflictRecord) -> tuple[str, str]:
    a, b = sorted((record.a, record.b))
    return a, b


def _row_pair(row: dict[str, Any]) -> tuple[str, str]:
    a, b = sorted(
        (f"{row['a_message']}/{row['a_volume']}", f"{row['b_message']}/{row['b_volume']}")
    )
    return a, b


def _subjects(row: dict[str, Any]) -> list[str]:
    """The alarm subjects an open conflict holds open."""
    return [row["raised_by"]] if row["raised_by"] else [row["a_message"], row["b_message"]]


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
        "state": "open" if row.get("closed_at") is None else "closed",
        "closed_at": row.get("closed_at"),
        "closed_reason": row.get("closed_reason"),
        "closed_detail": row.get("closed_detail"),
        "closed_by": row.get("closed_by"),
    }

"""Conformance monitoring: this party's own tracks checked against the volumes it declared.

What ties a track to a volume: an own track (this party's, reported by this node's feed)
is *tied* to an own declared volume (an activity notice's or deconfliction request's) once
it is seen inside it while the volume is in force; from then on it must stay inside that
volume, or inside another own volume in force, each with the margins of the settings
(``conformance_margin_m`` horizontally, ``conformance_margin_alt_m`` vertically,
``conformance_margin_s`` before and after the time window). A track never seen inside an
own volume is not checked: nothing was declared for it.

Each assessment (each report from the feed, and each scheduler tick) checks every own
track. A tied track outside every own volume in force raises a ``nonconforming`` alarm
at once (subject: the track id) with the volume, why (outside the volume, the band or the
time window, or the volume no longer declared) and how far; the alarm clears itself when
the track is back inside (``back inside <volume>``). When the track's feed stops the alarm
stays open saying ``feed: "lost"``, as the picture's other alarms do
(:mod:`hotline.services.picture.safety`). Ties live in memory; after a restart, the open
``nonconforming`` alarms tie their tracks again.

:meth:`Conformance.notify` tells the other side in one action: a prepared message, in
English and Russian, naming the track, the volume and the notice that declared it, sent
to the peer the notice went to (once per alarm; FLASH is held for a second person as
always).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from hotline.clock import rfc3339
from hotline.config import NodeSettings
from hotline.errors import NotFound, ValidationError
from hotline.geo import conformance as geo
from hotline.geo.volumes import Volume
from hotline.render.dtg import format_dtg
from hotline.services.alarms import clear_alarm, raise_alarm
from hotline.services.line.service import Line
from hotline.services.picture import safety
from hotline.services.picture.conflicts import Conflicts
from hotline.storage import alarms as alarm_store
from hotline.storage import messages
from hotline.storage.db import Connection
from hotline.storage.messages import InternalRef

KIND = "nonconforming"
FloatArray = npt.NDArray[np.float64]


class Conformance:
    def __init__(self, line: Line, conflicts: Conflicts, settings: NodeSettings) -> None:
        self.line = line
        self.conflicts = conflicts
        self.settings = settings
        self.party = line.identity.party
        self._ties: dict[str, str] = {}  # track id -> volume id it was last inside
        self._restored = False
        self._lock = threading.Lock()
        self._cache: (
            tuple[tuple[str, ...], list[Volume], geo.Shapes, tuple[FloatArray, FloatArray]] | None
        ) = None
        self.held: Any = None  # the two-person rule, for a FLASH notification (set by the node)

    # -- checking --------------------------------------------------------------------------

    def check(
        self,
        assessment: dict[str, Any],
        *,
        fresh: set[str],
        last: Mapping[str, dict[str, Any]],
    ) -> dict[str, dict[str, Any]]:
        """Check own tracks; raise, refresh and clear ``nonconforming`` alarms. Returns
        the departures found (track id -> alarm detail)."""
        now = self.line.clock.now()
        own = [
            t for t in assessment["tracks"] if t["party"] == self.party and t["source"] == "feed"
        ]
        with self._lock:  # a feed's report and the scheduler's tick may come at once
            if not own and not self._ties and self._restored:
                return {}  # nothing to check, nothing tied: no transaction
            if not self._restored:
                with self.line.db.read() as conn:
                    self._restore(conn)
            # measured outside the write transaction: no writer waits for the geometry
            inside, departures = self._assess(own, now)
            with self.line.db.write() as conn:
                open_now = [s for _k, s in alarm_store.open_subjects(conn, (KIND,))]
                self._update(conn, open_now, inside, departures, fresh, last, rfc3339(now))
            seen = {t["id"] for t in assessment["tracks"]} | set(open_now)
            self._ties = {t: v for t, v in self._ties.items() if t in seen}
        return departures

    def _update(
        self,
        conn: Connection,
        open_now: list[str],
        inside: dict[str, str],
        departures: dict[str, dict[str, Any]],
        fresh: set[str],
        last: Mapping[str, dict[str, Any]],
        at: str,
    ) -> None:
        """Bring the ``nonconforming`` alarms up to date with what was measured."""
        for track_id in open_now:
            if track_id in departures:
                continue
            if track_id not in fresh:  # its feed stopped: kept, saying so
                safety.refresh(
                    conn, KIND, track_id, lambda d, t=track_id: safety.feed_lost(d, last.get(t), at)
                )
            elif track_id in inside:
                clear_alarm(conn, KIND, track_id, at, f"back inside {inside[track_id]}")
            else:
                clear_alarm(conn, KIND, track_id, at, "no longer tied to a volume")
        for track_id, detail in departures.items():
            if track_id not in fresh:
                detail = safety.feed_lost(detail, last.get(track_id), at)
            new = raise_alarm(conn, KIND, track_id, at, **detail)[1]
            if not new:
                safety.refresh(conn, KIND, track_id, lambda d, n=detail: safety.merged(d, n))

    def _restore(self, conn: Connection) -> None:
        """Tie again the tracks of open alarms (after a restart)."""
        for _kind, track_id in alarm_store.open_subjects(conn, (KIND,)):
            alarm = alarm_store.open_alarm(conn, KIND, track_id)
            if alarm is not None and alarm["detail"].get("volume"):
                self._ties.setdefault(track_id, str(alarm["detail"]["volume"]))
        self._restored = True

    def _assess(
        self, own: list[dict[str, Any]], now: datetime
    ) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
        """(track -> volume it is inside, track -> departure detail) for own tracks.

        Each tied track is first measured against its own volume alone; only the tracks
        not inside it (and those not tied yet) are looked up among all volumes in force:
        in steady flight that is one pair per track.
        """
        volumes, shapes, windows = self._shapes()
        s = self.settings
        lat = np.array([t["lat"] for t in own], dtype=np.float64)
        lon = np.array([t["lon"] for t in own], dtype=np.float64)
        alt = np.array([t["alt_m"] for t in own], dtype=np.float64)
        slack, at = float(s.conformance_margin_s), now.timestamp()
        in_force = (windows[0] - slack <= at) & (at <= windows[1] + slack)
        position = {v.id: k for k, v in enumerate(volumes)}
        tie = np.array([position.get(self._ties.get(t["id"], ""), -1) for t in own], np.int64)
        tied = np.flatnonzero(tie >= 0)
        h_tie, v_tie = geo.measure(lat, lon, alt, shapes, tied, tie[tied])
        within = self._within(h_tie, v_tie) & in_force[tie[tied]]
        inside = {own[k]["id"]: volumes[tie[k]].id for k in tied[within].tolist()}
        rest = np.setdiff1d(np.arange(len(own)), tied[within])
        track, volume = geo.candidates(
            lat[rest], lon[rest], shapes, s.conformance_margin_m, np.flatnonzero(in_force)
        )
        track = rest[track]
        h, v = geo.measure(lat, lon, alt, shapes, track, volume)
        ok = self._within(h, v)
        for k, j in zip(track[ok].tolist(), volume[ok].tolist(), strict=True):
            inside.setdefault(own[k]["id"], volumes[j].id)
        self._ties.update(inside)
        measured = {
            k: (float(a), float(b), int(tie[k]))
            for k, a, b in zip(tied.tolist(), h_tie.tolist(), v_tie.tolist(), strict=True)
        }
        departures = {}
        for k, t in enumerate(own):
            if t["id"] in inside or t["id"] not in self._ties:
                continue
            found = measured.get(k)
            where = None
            if found is not None:
                j = found[2]
                where = (volumes[j], (found[0], found[1]), bool(in_force[j]))
            departures[t["id"]] = self._departure(t, self._ties[t["id"]], where, now)
        return inside, departures

    def _within(self, h: Any, v: Any) -> Any:
        """Within the margins, horizontally and vertically."""
        s = self.settings
        return (h <= s.conformance_margin_m) & (v <= s.conformance_margin_alt_m)

    def _departure(
        self,
        track: dict[str, Any],
        tie: str,
        where: tuple[Volume, tuple[float, float], bool] | None,
        now: datetime,
    ) -> dict[str, Any]:
        """What a ``nonconforming`` alarm says."""
        message_id, volume_id = tie.split("/", 1) if "/" in tie else (tie, "")
        detail: dict[str, Any] = {
            "track": track["id"],
            "callsign": track.get("callsign"),
            "volume": tie,
            "message_id": message_id,
            "volume_id": volume_id,
            "lat": track["lat"],
            "lon": track["lon"],
            "alt_m": track["alt_m"],
            "feed": "live",
            "assessed_at": rfc3339(now),
        }
        if where is None:
            return detail | {"reason": "volume no longer declared"}
        volume, (h, v), in_force = where
        s = self.settings
        if h > s.conformance_margin_m:
            reason = "outside the volume"
        elif v > s.conformance_margin_alt_m:
            reason = "above the band" if track["alt_m"] > volume.alt_upper_m else "below the band"
        else:
            reason = "after the time window" if now > volume.end else "before the time window"
        window = [safety.seconds(volume.start), safety.seconds(volume.end)]
        return detail | {
            "reason": reason,
            "distance_m": round(h),
            "vertical_m": round(v),
            "window": window,
            "in_force": in_force,
        }

    def _shapes(self) -> tuple[list[Volume], geo.Shapes, tuple[FloatArray, FloatArray]]:
        """Own declared volumes, their shapes and windows (POSIX seconds), rebuilt only
        when they change."""
        volumes = self.conflicts.declared_volumes(self.party)
        keys = tuple(v.id for v in volumes)
        if self._cache is None or self._cache[0] != keys:
            windows = (
                np.array([v.start.timestamp() for v in volumes], dtype=np.float64),
                np.array([v.end.timestamp() for v in volumes], dtype=np.float64),
            )
            self._cache = (keys, volumes, geo.Shapes.of(volumes), windows)
        return self._cache[1], self._cache[2], self._cache[3]

    # -- telling the other side ------------------------------------------------------------

    def notify(self, alarm_id: int, user: str, precedence: str = "IMMEDIATE") -> dict[str, Any]:
        """Send the prepared bilingual message about a ``nonconforming`` alarm to the peer
        its volume was declared to; once per alarm (sending again returns the same)."""
        with self.line.db.read() as conn:
            alarm = alarm_store.get(conn, alarm_id)
            if alarm is None or alarm["kind"] != KIND:
                raise NotFound(
                    f"no nonconforming alarm {alarm_id}",
                    hint="hotline alarms lists them (kind nonconforming)",
                )
            origin = messages.origin(conn, str(alarm["detail"].get("message_id")))
        if origin is None or origin[0] != "out":
            raise ValidationError(
                f"alarm {alarm_id}: the notice that declared its volume is not on the line",
                hint="tell the other side with an ordinary message",
            )
        peer = origin[1]
        text = notice_text(alarm["detail"], self.line.clock.now())
        ref = f"conformance:{alarm_id}"
        if self.held is not None and self.held.required(precedence):
            held: dict[str, Any] = self.held.hold(
                "text",
                to=peer,
                payload={"text": text},
                precedence=precedence,
                lang=None,
                user=user,
                client_ref=ref,
            )
            return {"held": held, "message": None}
        sent = self.line.send(
            to=peer,
            text=text,
            precedence=precedence,
            lang=self.line.identity.lang,
            user=user,
            client_ref=InternalRef(ref),
        )
        return {"held": None, "message": sent}


def notice_text(detail: dict[str, Any], now: datetime) -> str:
    """The prepared message about a departure, in English then Russian."""
    name = detail["track"] + (f" ({detail['callsign']})" if detail.get("callsign") else "")
    point, alt = f"{detail['lat']:.4f} {detail['lon']:.4f}", round(detail["alt_m"])
    vol, mid = detail["volume_id"], detail["message_id"]
    how = {
        "outside the volume": (
            f"{detail.get('distance_m')} m outside it",
            f"в {detail.get('distance_m')} м за его границей",
        ),
        "above the band": (
            f"{detail.get('vertical_m')} m above its band",
            f"на {detail.get('vertical_m')} м выше его слоя",
        ),
        "below the band": (
            f"{detail.get('vertical_m')} m below its band",
            f"на {detail.get('vertical_m')} м ниже его слоя",
        ),
        "after the time window": ("after its time window", "после окончания его срока"),
        "before the time window": ("before its time window", "до начала его срока"),
    }.get(detail.get("reason", ""), ("no longer declared", "объём больше не объявлен"))
    en = (
        f"NON-CONFORMANCE {format_dtg(now, 'en')}. Our aircraft {name} has left volume {vol} "
        f"declared in our notice {mid}: {how[0]}, at {point}, {alt} m."
    )
    ru = (
        f"НЕСООТВЕТСТВИЕ {format_dtg(now, 'ru')}. Наше воздушное судно {name} вышло из "
        f"объёма {vol}, объявленного в нашем уведомлении {mid}: {how[1]}, "
        f"в точке {point}, высота {alt} м."
    )
    return f"{en}\n\n{ru}"

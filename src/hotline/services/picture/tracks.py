"""The live track picture: tracks reported to this node, their conflicts and incursions.

A track feed (a radar or data-link bridge, ``hotline tracks feed``, or any client of
``POST /api/v1/tracks``) reports tracks of every party as it sees them: id, party,
position, altitude, ground speed, track angle, vertical speed and, optionally, the time
of the report. The node keeps the latest report of each track; a track not reported for
``track_ttl_s`` leaves the picture.

The picture is assessed with the engines of :mod:`hotline.geo`, each track first flown on
from its report to now along its geodesic (dead reckoning):

- tactical: pairs of tracks of different parties predicted to lose separation within
  ``track_lookahead_s`` (protection radius ``track_rpz_m``, half-height ``track_hpz_m``),
  and pairs in loss of separation now;
- incursions: tracks predicted to enter, or already inside, a protected area of another
  party (the areas in force, see :mod:`hotline.services.picture.conflicts`).

Each new report is assessed at once, and each scheduler tick. An incursion (into one of
this party's areas, or by one of this party's aircraft: both sides are alarmed) and a
predicted loss of separation involving one of this party's tracks raise an alarm (one per
track and area, or per pair) that clears itself when no longer predicted, unless the
track's feed stopped (:mod:`hotline.services.picture.safety`). Own tracks are checked
against own declared volumes too (:mod:`hotline.services.picture.conformance`).

Every report taken is recorded in the database first (:mod:`hotline.services.picture.record`);
the picture itself is assessed in the memory of the active process, which rebuilds it from
the record when it becomes active (a restart, a standby taking over): :meth:`TrackPicture.load`.
What the parties say about it goes on the line as incident reports and notices.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely  # type: ignore[import-untyped]

from hotline.clock import Clock, parse_rfc3339, rfc3339
from hotline.config import NodeSettings
from hotline.domain.line import Envelope
from hotline.domain.tracks import (
    MAX_SHARED,
    SharedTrack,
    TrackReport,
    TrackReportBody,
    to_wire,
)
from hotline.errors import MalformedMessage, ValidationError
from hotline.geo import incursions
from hotline.geo.geodesy import GEOD
from hotline.geo.tactical import engine as tactical
from hotline.services.line.service import Line
from hotline.services.picture import safety
from hotline.services.picture.conflicts import ALL_ALTITUDES, AreaInForce, Conflicts
from hotline.services.picture.conformance import Conformance
from hotline.services.picture.record import Record
from hotline.services.picture.record import row as recorded
from hotline.storage import peers
from hotline.storage.db import Connection, after_commit

MAX_TRACKS_PER_REPORT = 100_000


@dataclass(frozen=True)
class _Held:
    report: TrackReport
    at: datetime  # time of the report
    source: str  # "feed" (this node's) or the peer that shared it


class TrackPicture:
    """The latest report of each track, and what the engines make of them."""

    def __init__(self, line: Line, conflicts: Conflicts, settings: NodeSettings) -> None:
        self.line = line
        self.db = line.db
        self.party = line.identity.party
        self.conflicts = conflicts
        self.settings = settings
        self.clock: Clock = line.clock
        self.record = Record(line.db, line.clock, settings)
        self._tracks: dict[str, _Held] = {}
        self._lock = threading.Lock()
        # since the alarms were last brought up to date; True at start, so that the first
        # tick marks the alarms left open by a previous process "feed lost"
        self._changed = True
        self._shared_at: dict[str, float] = {}  # peer -> when own tracks were last shared
        self._areas_cache: tuple[tuple[str, ...], incursions.Areas] | None = None
        #: checks own tracks against own volumes at each assessment (set by the node)
        self.conformance: Conformance | None = None
        line.on_receive("track_report", self._received)

    # -- reports ---------------------------------------------------------------------------

    def report(self, reports: list[TrackReport]) -> dict[str, Any]:
        """Take a batch of reports and assess the picture at once (``POST /api/v1/tracks``);
        returns how many were taken and the assessment's summary."""
        taken = self.take(reports)
        assessment = self.assess()
        self._alarm(assessment)
        self._share()
        return {**taken, **assessment["summary"]}

    def take(self, reports: list[TrackReport]) -> dict[str, int]:
        """Record a batch of reports and put them in the picture, leaving the assessment to
        the next tick (every ``tick_s``): the feed adapters' way, which hand over reports
        several times a second and would otherwise assess the whole picture each time."""
        if len(reports) > MAX_TRACKS_PER_REPORT:
            raise ValidationError(
                f"{len(reports)} tracks in one report; at most {MAX_TRACKS_PER_REPORT}"
            )
        now = self.clock.now()
        ttl = self.settings.track_ttl_s
        skew = self.settings.clock_skew_s
        held = []
        for k, r in enumerate(reports):
            at = now
            if r.time is not None:
                try:
                    at = parse_rfc3339(r.time)
                except ValueError as exc:
                    raise ValidationError(f"tracks[{k}].time: {exc}", field="time") from None
                ahead = (at - now).total_seconds()
                if ahead > skew:
                    raise ValidationError(
                        f"tracks[{k}].time {r.time} is {ahead:.0f} s in the future",
                        hint=f"the node accepts at most {skew} s of skew",
                    )
            held.append(_Held(r, at, "feed"))
        stale = sum(1 for h in held if (now - h.at).total_seconds() > ttl)
        # in the picture first: with the database away the live picture goes on; the
        # failure reaches the caller (503 to a client, a feed keeps the reports and hands
        # them over again), so the record catches up when the database is back
        self._keep(held)
        self.record.add([recorded(h.report, h.at, h.source) for h in held])
        return {"taken": len(held), "stale": stale}

    def _keep(self, held: list[_Held]) -> None:
        with self._lock:
            for h in held:
                old = self._tracks.get(h.report.id)
                if old is None or old.at <= h.at:
                    self._tracks[h.report.id] = h
            self._changed = True

    # -- sharing on the line ---------------------------------------------------------------

    def _share(self, force: bool = False) -> list[str]:
        """Send this party's own fresh tracks to each peer, at most every ``track_share_s``.

        Only tracks of this party that this node's feed reported are shared (never what a
        peer shared); each ``track_report`` is a signed envelope, logged like any other.
        """
        every = self.settings.track_share_s
        if every <= 0:
            return []
        now = self.clock.now()
        ttl = self.settings.track_ttl_s
        with self._lock:
            own = [
                h
                for h in self._tracks.values()
                if h.source == "feed"
                and h.report.party == self.party
                and (now - h.at).total_seconds() <= ttl
            ]
        if not own:
            return []
        rows = [to_wire(h.report, rfc3339(h.at)) for h in sorted(own, key=lambda h: h.report.id)]
        sent = []
        with self.db.read() as conn:
            parties = [p.party for p in peers.all_peers(conn)]
        for peer in parties:
            last = self._shared_at.get(peer)
            if not force and last is not None and now.timestamp() - last < every:
                continue
            self._shared_at[peer] = now.timestamp()
            with self.db.write() as conn:
                for k in range(0, len(rows), MAX_SHARED):
                    body = TrackReportBody(tracks=rows[k : k + MAX_SHARED]).model_dump(mode="json")
                    self.line.enqueue(
                        conn,
                        to=peer,
                        type_="track_report",
                        body=body,
                        precedence="ROUTINE",
                        lang=self.line.identity.lang,
                        user=None,
                    )
            self.line.on_queued(peer)
            sent.append(peer)
        return sent

    def _received(self, conn: Connection, envelope: Envelope, now: str) -> None:
        """A peer's own tracks: kept beside ours (refused if it speaks for another party)."""
        held = []
        # The body passed TrackReportBody's check at the wire; only the party is left.
        for k, row in enumerate(envelope.body["tracks"]):
            report = SharedTrack.model_validate(row)
            if report.party != envelope.from_:
                raise MalformedMessage(
                    f"tracks[{k}] is of party {report.party!r}: a track report from "
                    f"{envelope.from_!r} carries only its own tracks"
                )
            held.append(_Held(report, parse_rfc3339(report.time), envelope.from_))
        self.record.add([recorded(h.report, h.at, h.source) for h in held], conn)
        # into the picture once stored (not for an attempt rolled back or retried);
        # alarms follow at the next tick
        after_commit(conn, lambda: self._keep(held))

    def tick(self) -> None:
        """Bring the alarms up to date when the picture changed or tracks went stale."""
        with self._lock:
            changed, self._changed = self._changed, False
            any_tracks = bool(self._tracks)
        if changed or any_tracks:
            self._alarm(self.assess())
        self._share()  # a feed's tracks are shared from here (take() does not assess)

    def load(self) -> int:
        """Take the picture back from the record: the latest report of each track seen
        within ``track_ttl_s`` (a restarted node, a standby that became the active
        process). Tracks held already keep a newer report. How many tracks were loaded."""
        held = [_Held(r, at, source) for r, at, source in self.record.latest(self.clock.now())]
        self._keep(held)
        return len(held)

    def held(self) -> list[tuple[TrackReport, datetime, str]]:
        """Every track held now: its latest report, the report's time, its source
        (``feed``, or the peer that shared it), by id."""
        with self._lock:
            held = sorted(self._tracks.values(), key=lambda h: h.report.id)
        return [(h.report, h.at, h.source) for h in held]

    def clear(self) -> None:
        """Forget every track (the feed restarts from nothing)."""
        with self._lock:
            self._tracks.clear()

    # -- assessment ------------------------------------------------------------------------

    def _current(
        self, now: datetime
    ) -> tuple[list[TrackReport], np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Tracks still fresh, with their positions and altitudes flown on to ``now``."""
        ttl = self.settings.track_ttl_s
        with self._lock:
            for key in [k for k, h in self._tracks.items() if (now - h.at).total_seconds() > ttl]:
                del self._tracks[key]
                self._changed = True
            held = sorted(self._tracks.values(), key=lambda h: h.report.id)
        reports = [h.report for h in held]
        sources = [h.source for h in held]
        if not held:
            empty = np.empty(0)
            return reports, empty, empty, empty, sources
        age = np.array([max(0.0, (now - h.at).total_seconds()) for h in held])
        lat = np.array([r.lat for r in reports])
        lon = np.array([r.lon for r in reports])
        gs = np.array([r.gs_mps for r in reports])
        trk = np.array([r.trk_deg for r in reports])
        alt = np.array([r.alt_m for r in reports]) + np.array([r.vs_mps for r in reports]) * age
        lon2, lat2, _ = GEOD.fwd(lon, lat, trk, gs * age)
        return reports, np.asarray(lat2), np.asarray(lon2), alt, sources

    def assess(self) -> dict[str, Any]:
        """The picture now: tracks, predicted losses of separation, incursions."""
        now = self.clock.now()  # positions are flown on to it; predictions count from it
        reports, lat, lon, alt, sources = self._current(now)
        s = self.settings
        party = np.array([r.party for r in reports], dtype=object)
        gs = np.array([r.gs_mps for r in reports])
        trk = np.array([r.trk_deg for r in reports])
        vs = np.array([r.vs_mps for r in reports])
        conflicts: list[dict[str, Any]] = []
        los: list[dict[str, Any]] = []
        found: list[dict[str, Any]] = []
        if reports:
            result = tactical.detect(
                lat,
                lon,
                alt,
                gs,
                trk,
                vs,
                rpz_m=s.track_rpz_m,
                hpz_m=s.track_hpz_m,
                lookahead_s=s.track_lookahead_s,
                party=party,
            )
            for k, (i, j) in enumerate(result.pairs.tolist()):
                a, b = sorted((reports[i].id, reports[j].id))
                conflicts.append(
                    {
                        "a": a,
                        "b": b,
                        "parties": sorted({reports[i].party, reports[j].party}),
                        "tcpa_s": round(float(result.tcpa_s[k]), 1),
                        "dcpa_m": round(float(result.dcpa_m[k]), 1),
                        "t_in_s": round(float(result.tin_s[k]), 1),
                        "t_out_s": round(float(result.tout_s[k]), 1),
                    }
                )
            for i, j in result.los.tolist():
                a, b = sorted((reports[i].id, reports[j].id))
                los.append({"a": a, "b": b})
            areas = self.conflicts.areas()
            if areas:
                hits = incursions.detect(
                    lat,
                    lon,
                    alt,
                    gs,
                    trk,
                    vs,
                    areas=self._engine_areas(areas),
                    lookahead_s=s.track_lookahead_s,
                    party=party,
                )
                for t, a, when, la, lo in zip(
                    hits.track.tolist(),
                    hits.area.tolist(),
                    hits.entry_s.tolist(),
                    hits.lat.tolist(),
                    hits.lon.tolist(),
                    strict=True,
                ):
                    area = areas[a]
                    found.append(
                        {
                            "track": reports[t].id,
                            "track_party": reports[t].party,
                            "area": area.area.id,
                            "area_name": area.area.name,
                            "area_party": area.party,
                            "area_message_id": area.message_id,
                            "entry_s": round(float(when), 1),
                            "inside": when == 0.0,
                            "lat": round(float(la), 6),
                            "lon": round(float(lo), 6),
                        }
                    )
        # the fields of each report as given (model_dump(exclude_none=True) without its
        # cost: a third of a second per 100,000 tracks, every tick), where it is now
        tracks = [
            {
                **{k: v for k, v in r.__dict__.items() if v is not None},
                "source": source,
                "lat": round(la, 6),
                "lon": round(lo, 6),
                "alt_m": round(al, 1),
            }
            for r, source, la, lo, al in zip(
                reports, sources, lat.tolist(), lon.tolist(), alt.tolist(), strict=True
            )
        ]
        return {
            "at": rfc3339(now),
            "settings": {
                "rpz_m": s.track_rpz_m,
                "hpz_m": s.track_hpz_m,
                "lookahead_s": s.track_lookahead_s,
                "ttl_s": s.track_ttl_s,
            },
            "summary": {
                "tracks": len(tracks),
                "conflicts": len(conflicts),
                "los": len(los),
                "incursions": len(found),
            },
            "tracks": tracks,
            "conflicts": conflicts,
            "los": los,
            "incursions": found,
        }

    def _engine_areas(self, areas: list[AreaInForce]) -> incursions.Areas:
        """The engine's areas, rebuilt only when the areas in force change (every tick
        assesses the picture; circles become polygons only once)."""
        keys = tuple(a.key for a in areas)
        if self._areas_cache is None or self._areas_cache[0] != keys:
            self._areas_cache = (keys, engine_areas(areas))
        return self._areas_cache[1]

    # -- alarms ----------------------------------------------------------------------------

    def _alarm(self, assessment: dict[str, Any]) -> None:
        """Raise alarms for what concerns this party (an incursion: the area's owner and
        the aircraft's side both); clear those no longer predicted, but keep those whose
        track's feed stopped (:mod:`hotline.services.picture.safety`)."""
        me = self.party
        at = assessment["at"]
        now = parse_rfc3339(at)  # the time the positions were flown on to
        lang = self.line.identity.lang
        positions = {t["id"]: t for t in assessment["tracks"]}
        wanted: dict[tuple[str, str], dict[str, Any]] = {}
        for hit in assessment["incursions"]:
            if me in (hit["area_party"], hit["track_party"]):
                subject = f"{hit['track']}→{hit['area']}"
                track = positions[hit["track"]]
                wanted[("incursion", subject)] = safety.incursion_detail(hit, me, now, lang, track)
        for pair in assessment["conflicts"]:
            if me in pair["parties"]:
                wanted[("track_conflict", f"{pair['a']}×{pair['b']}")] = {
                    "tcpa_s": pair["tcpa_s"],
                    "dcpa_m": pair["dcpa_m"],
                    "feed": "live",
                }
        fresh, last = self._feeds(now)
        with self.db.write() as conn:
            safety.update(conn, wanted, kinds=safety.PICTURE_KINDS, now=at, fresh=fresh, last=last)
        if self.conformance is not None:
            self.conformance.check(assessment, fresh=fresh, last=last)

    def _feeds(self, now: datetime) -> tuple[set[str], Mapping[str, dict[str, Any]]]:
        """Tracks whose feed is live (reported within ``track_stale_s``), and each track
        in the picture as last reported."""
        since = now - timedelta(seconds=self.settings.track_stale_s)
        with self._lock:
            held = dict(self._tracks)
        fresh = {key for key, h in held.items() if h.at >= since}
        return fresh, _LastReports(held)


class _LastReports(Mapping[str, dict[str, Any]]):
    """Each track in the picture as last reported (``time``, ``lat``, ``lon``, ``alt_m``),
    made when asked for: only the tracks of alarms whose feed stopped ever are, and making
    them all took most of a tick with 100,000 tracks."""

    def __init__(self, held: dict[str, _Held]) -> None:
        self._held = held

    def __getitem__(self, key: str) -> dict[str, Any]:
        h = self._held[key]
        return {"time": rfc3339(h.at), "lat": h.report.lat, "lon": h.report.lon,
                "alt_m": h.report.alt_m}  # fmt: skip

    def __iter__(self) -> Iterator[str]:
        return iter(self._held)

    def __len__(self) -> int:
        return len(self._held)


def engine_areas(areas: list[AreaInForce]) -> incursions.Areas:
    """The incursion engine's areas (lon/lat polygons; circles as 128-gons)."""
    shapes = np.empty(len(areas), dtype=object)
    lower = np.empty(len(areas))
    upper = np.empty(len(areas))
    for k, a in enumerate(areas):
        geometry = a.area.area.geometry
        if a.area.area.radius_m is not None:
            centre = geometry.to_geojson()["coordinates"]
            lon0, lat0 = float(centre[0]), float(centre[1])
            azimuths = np.linspace(0.0, 360.0, 129)[:-1]
            lons, lats, _ = GEOD.fwd(
                np.full(128, lon0), np.full(128, lat0), azimuths, np.full(128, a.area.area.radius_m)
            )
            lons = lon0 + (np.asarray(lons) - lon0 + 180.0) % 360.0 - 180.0  # no jump at ±180°
            shapes[k] = shapely.Polygon(np.column_stack([lons, lats]))
        else:
            shapes[k] = shapely.geometry.shape(geometry.to_geojson())
        band = (
            (a.area.alt_lower_m, a.area.alt_upper_m)
            if a.area.alt_lower_m is not None and a.area.alt_upper_m is not None
            else ALL_ALTITUDES
        )
        lower[k], upper[k] = band
    return incursions.Areas(
        ids=tuple(a.key for a in areas),
        party=tuple(a.party for a in areas),
        geometry=shapes,
        alt_lower_m=lower,
        alt_upper_m=upper,
    )

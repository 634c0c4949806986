"""The recorded picture: every position report the node accepted, kept for
``track_record_days`` and queried by window, track and place.

:class:`~hotline.services.picture.tracks.TrackPicture` records each batch of reports it
takes (from ``POST /api/v1/tracks``, the feed adapters, a peer's shared tracks) before it
puts them in the picture, so that

- the picture survives a restart, and a standby that becomes the active process takes it
  over: :meth:`Record.latest` gives the latest report of each track within ``track_ttl_s``
  (:meth:`TrackPicture.load`);
- any window can be looked at again (:meth:`Record.history`: ``GET /api/v1/tracks/history``,
  ``hotline tracks history``) and replayed into a node (:mod:`hotline.services.picture.replay`).

A report is recorded with the time its sensor saw it (or the time the node took it, when
it had none). A scheduled job (:meth:`Record.tick`) prunes what is older than the
retention, in bounded chunks, so a long backlog never holds a transaction for long.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from hotline.clock import Clock, parse_rfc3339, rfc3339
from hotline.config import NodeSettings
from hotline.domain.tracks import TrackReport
from hotline.errors import ValidationError
from hotline.geo.geodesy import GEOD
from hotline.storage import record as store
from hotline.storage.db import Connection, Database

logger = logging.getLogger(__name__)

NM_M = 1852.0  # nautical mile, metres (exact)
#: How often the retention job looks for reports to prune (node clock, seconds).
PRUNE_EVERY_S = 60.0
#: Rows deleted per transaction, and transactions per tick at most: a backlog is worked
#: off over several ticks instead of holding one long transaction.
PRUNE_CHUNK = 20_000
PRUNE_CHUNKS_PER_TICK = 25
#: Reports one history page returns by default, and at most.
PAGE = 10_000
MAX_PAGE = 100_000
MAX_RADIUS_NM = 3000.0
#: A cursor's two numbers: ASCII digits, at most a signed 64-bit integer (``BIGINT``).
_CURSOR_PART = re.compile(r"[0-9]{1,19}")
MAX_INT64 = 2**63 - 1
#: Each report as the record gives it back (and as ``hotline tracks export`` writes it).
REPORT_KEYS = ("id", "party", "source", "time", "lat", "lon", "alt_m", "gs_mps", "trk_deg",
               "vs_mps")  # fmt: skip


def ms(when: datetime) -> int:
    """Milliseconds since the epoch (the record's time key).

    >>> ms(datetime(2026, 12, 7, 4, 0, 0, 123000, tzinfo=UTC))
    1796616000123
    """
    return round(when.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)


def row(report: TrackReport, at: datetime, source: str) -> dict[str, Any]:
    """The record's row for one report seen at ``at``."""
    return {
        "at_ms": ms(at),
        "track": report.id,
        "party": report.party,
        "source": source,
        "lat": report.lat,
        "lon": report.lon,
        "alt_m": report.alt_m,
        "gs_mps": report.gs_mps,
        "trk_deg": report.trk_deg,
        "vs_mps": report.vs_mps,
        "callsign": report.callsign,
    }


def report_of(r: dict[str, Any]) -> tuple[TrackReport, datetime, str]:
    """A recorded row back as (report, time, source). The row was validated when it was
    taken and is read from our own database: it is not validated again (110,000 tracks
    rebuild in well under a second that way)."""
    at = from_ms(int(r["at_ms"]))
    fields = {
        "id": r["track"],
        "party": r["party"],
        "lat": r["lat"],
        "lon": r["lon"],
        "alt_m": r["alt_m"],
        "gs_mps": r["gs_mps"],
        "trk_deg": r["trk_deg"],
        "vs_mps": r["vs_mps"],
        "time": rfc3339(at),
        "callsign": r["callsign"],
    }
    return TrackReport.model_construct(**fields), at, r["source"]


def public(r: dict[str, Any]) -> dict[str, Any]:
    """A recorded row as the history (and a recording file's line) shows it."""
    out = {
        "id": r["track"],
        "party": r["party"],
        "source": r["source"],
        "time": rfc3339(from_ms(int(r["at_ms"]))),
        **{k: r[k] for k in ("lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")},
    }
    if r["callsign"]:
        out["callsign"] = r["callsign"]
    return out


class Record:
    """Record reports, give back the latest of each track, query windows, prune."""

    def __init__(self, db: Database, clock: Clock, settings: NodeSettings) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self._pruned_at: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.track_record_days > 0

    def add(self, rows: list[dict[str, Any]], conn: Connection | None = None) -> None:
        """Record ``rows`` (see :func:`row`): in ``conn``'s transaction if given (a peer's
        shared tracks, stored with its envelope), else in one transaction of their own."""
        if not self.enabled or not rows:
            return
        if conn is not None:
            store.add(conn, rows)
            return
        with self.db.append() as own:
            store.add(own, rows)

    def latest(self, now: datetime) -> list[tuple[TrackReport, datetime, str]]:
        """The latest report of each track seen within ``track_ttl_s`` before ``now``."""
        if not self.enabled:
            return []
        since = ms(now - timedelta(seconds=self.settings.track_ttl_s))
        with self.db.read() as conn:
            rows = store.latest(conn, since)
        return [report_of(r) for r in rows]

    # -- the record's queries ----------------------------------------------------------

    def history(
        self,
        start: str,
        end: str,
        *,
        track: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        radius_nm: float | None = None,
        after: str | None = None,
        limit: int = PAGE,
    ) -> dict[str, Any]:
        """Reports seen from ``start`` to ``end`` (RFC 3339, both included), in time
        order; of one ``track``, and/or within ``radius_nm`` of (``lat``, ``lon``)
        (geodesic distance on WGS84). A page holds at most ``limit``; ``next`` is the
        cursor (``after``) of the next page, or None at the end."""
        t0, t1 = _time("from", start), _time("to", end)
        if t1 < t0:
            raise ValidationError(f"to ({end}) is before from ({start})", field="to")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"limit {limit} is out of range", hint=f"1 to {MAX_PAGE}")
        circle = _circle(lat, lon, radius_nm)
        with self.db.read() as conn:
            rows = store.window(
                conn,
                ms(t0),
                ms(t1),
                track=track,
                box=None if circle is None else _box(*circle),
                after=_cursor(after),
                limit=limit,
            )
        more = len(rows) == limit
        last = rows[-1] if rows else None
        if circle is not None and rows:
            rows = _within(rows, *circle)
        return {
            "from": rfc3339(t0),
            "to": rfc3339(t1),
            "reports": [public(r) for r in rows],
            "next": f"{last['at_ms']}.{last['id']}" if more and last is not None else None,
        }

    def around(
        self,
        centres: list[tuple[float, float]],
        start: datetime,
        end: datetime,
        radius_nm: float,
        *,
        limit: int = MAX_PAGE,
    ) -> list[dict[str, Any]]:
        """Every report seen from ``start`` to ``end`` within ``radius_nm`` of any of the
        ``centres`` (lat, lon), each once, in time order (then recording order); refused
        when more than ``limit`` (a narrower radius or window is needed)."""
        found: dict[int, dict[str, Any]] = {}
        for lat, lon in sorted(set(centres)):
            circle = _circle(lat, lon, radius_nm)
            assert circle is not None
            after = None
            while True:
                with self.db.read() as conn:
                    rows = store.window(
                        conn, ms(start), ms(end), box=_box(*circle), after=after, limit=PAGE
                    )
                for r in _within(rows, *circle) if rows else []:
                    found[int(r["id"])] = r
                if len(found) > limit:
                    raise ValidationError(
                        f"more than {limit} reports within {radius_nm} NM of the events "
                        f"from {rfc3339(start)} to {rfc3339(end)}",
                        hint="give a smaller radius or a shorter window",
                        field="radius_nm",
                    )
                if len(rows) < PAGE:
                    break
                after = (int(rows[-1]["at_ms"]), int(rows[-1]["id"]))
        ordered = sorted(found.values(), key=lambda r: (int(r["at_ms"]), int(r["id"])))
        return [public(r) | {"callsign": r["callsign"]} for r in ordered]

    def newest(self, start: str, end: str, keep: int) -> str | None:
        """The cursor (``after``) from which :meth:`history` gives only the newest ``keep``
        reports of the window, or None when the window holds no more than ``keep``."""
        t0, t1 = _time("from", start), _time("to", end)
        with self.db.read() as conn:
            cut = store.newest_cut(conn, ms(t0), ms(t1), keep)
        return None if cut is None else f"{cut[0]}.{cut[1]}"

    # -- retention ---------------------------------------------------------------------

    def tick(self) -> None:
        """Prune reports older than ``track_record_days``, at most every ``PRUNE_EVERY_S``
        (at once again if the last tick left a backlog)."""
        now = self.clock.now()
        days = self.settings.track_record_days
        if days <= 0:
            return
        if self._pruned_at is not None and (now - self._pruned_at).total_seconds() < PRUNE_EVERY_S:
            return
        pruned, done = self.prune(now - timedelta(days=days))
        self._pruned_at = now if done else None
        if pruned:
            logger.info("track record: %d reports older than %s days pruned", pruned, days)

    def prune(self, before: datetime) -> tuple[int, bool]:
        """Delete reports seen before ``before``; (how many, whether none is left)."""
        total = 0
        for _ in range(PRUNE_CHUNKS_PER_TICK):
            with self.db.append() as conn:
                deleted = store.prune(conn, ms(before), PRUNE_CHUNK)
            total += deleted
            if deleted < PRUNE_CHUNK:
                return total, True
        return total, False


def _time(name: str, text: str) -> datetime:
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise ValidationError(
            f"{name} {text!r}: {exc}",
            field=name,
            hint="an RFC 3339 UTC time, e.g. 2026-12-07T04:00:00Z",
        ) from None


def _cursor(after: str | None) -> tuple[int, int] | None:
    if after is None:
        return None
    at_ms, _, row_id = after.partition(".")
    # ASCII digits only (``isdigit`` takes a superscript two), and within a 64-bit
    # integer (the columns' size): anything else is not a cursor this record gave.
    if not all(_CURSOR_PART.fullmatch(part) for part in (at_ms, row_id)):
        raise ValidationError(f"after {after!r} is not a cursor", hint="give a page's next")
    at, row = int(at_ms), int(row_id)
    if max(at, row) > MAX_INT64:
        raise ValidationError(f"after {after!r} is not a cursor", hint="give a page's next")
    return at, row


def _circle(
    lat: float | None, lon: float | None, radius_nm: float | None
) -> tuple[float, float, float] | None:
    given = [v is not None for v in (lat, lon, radius_nm)]
    if not any(given):
        return None
    if not all(given) or lat is None or lon is None or radius_nm is None:
        raise ValidationError("give lat, lon and radius_nm together", field="radius_nm")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(f"({lat}, {lon}) is not a position", field="lat")
    if not 0 < radius_nm <= MAX_RADIUS_NM:
        raise ValidationError(
            f"radius_nm {radius_nm} is out of range", field="radius_nm",
            hint=f"above 0, at most {MAX_RADIUS_NM:.0f}",
        )  # fmt: skip
    return lat, lon, radius_nm * NM_M


def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lat/lon box holding every point within ``radius_m`` of (lat, lon) (generous:
    a degree of latitude is at least 110.5 km; the exact test follows)."""
    dlat = radius_m / 110_000.0
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = max(abs(south), abs(north))
    if widest >= 89.0:
        return south, -180.0, north, 180.0  # a pole within reach: every longitude
    dlon = dlat / math.cos(math.radians(widest))
    if dlon >= 180.0:
        return south, -180.0, north, 180.0
    west, east = lon - dlon, lon + dlon
    west = west + 360.0 if west < -180.0 else west
    east = east - 360.0 if east > 180.0 else east
    return south, west, north, east


def _within(
    rows: list[dict[str, Any]], lat: float, lon: float, radius_m: float
) -> list[dict[str, Any]]:
    la = np.array([r["lat"] for r in rows])
    lo = np.array([r["lon"] for r in rows])
    _, _, dist = GEOD.inv(np.full(len(rows), lon), np.full(len(rows), lat), lo, la)
    keep = np.asarray(dist) <= radius_m
    return [r for r, k in zip(rows, keep.tolist(), strict=True) if k]

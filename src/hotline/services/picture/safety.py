"""Alarms of the live picture, safety of flight first: who is alarmed, with what, and
what happens when a feed stops.

- An incursion alarms *both* sides: the owner of the area, and the party whose aircraft
  is heading in (it is that side that can still turn it). The alarm says the track, the
  predicted entry time as an RFC 3339 time to the second (``entry_at``) and as a
  date-time group (``entry_dtg``), and the time left (``time_left_s``, as of
  ``assessed_at``). The entry time is the time of the report flown on along the track's
  geodesic, so two nodes holding the same shared tracks predict the same second.
- A predicted loss of separation alarms the parties of the two tracks (as before).
- When a track's feed stops (no report for ``track_stale_s``), its alarms say
  ``feed: "lost"`` and keep its last reported position and the last prediction; when the
  track then leaves the picture (``track_ttl_s``) they stay open as they are, instead of
  clearing as "no longer predicted". Only a fresh report that no longer predicts it, or a
  person, clears such an alarm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import rfc3339
from hotline.render.dtg import format_dtg
from hotline.services.alarms import clear_alarm, open_alarm, raise_alarm
from hotline.storage import alarms as alarm_store
from hotline.storage.db import Connection

#: Alarm kinds of the live picture whose subjects name tracks.
PICTURE_KINDS = ("incursion", "track_conflict")
#: Details that change from tick to tick without making the alarm a different one.
_VOLATILE = ("time_left_s", "assessed_at")


def seconds(at: datetime) -> str:
    """RFC 3339 to the whole second (both nodes round the same prediction the same way).

    >>> from datetime import UTC
    >>> seconds(datetime(2026, 11, 22, 4, 0, 5, 600_000, tzinfo=UTC))
    '2026-11-22T04:00:06Z'
    """
    whole = (at + timedelta(microseconds=500_000)).replace(microsecond=0)
    return rfc3339(whole).replace(".000Z", "Z")


def tracks_of(kind: str, subject: str) -> list[str]:
    """The track ids an alarm's subject names.

    >>> tracks_of("incursion", "R1→PA-1"), tracks_of("track_conflict", "R1×U2")
    (['R1'], ['R1', 'U2'])
    """
    if kind == "incursion":
        return [subject.partition("→")[0]]
    if kind == "track_conflict":
        return subject.split("×")
    return [subject]


def incursion_detail(
    hit: dict[str, Any], me: str, now: datetime, lang: str, track: dict[str, Any]
) -> dict[str, Any]:
    """What an incursion alarm says on this party's node."""
    entry = now + timedelta(seconds=float(hit["entry_s"]))
    whose = "our area" if hit["area_party"] == me else "our aircraft"
    return {
        "track": hit["track"],
        "track_party": hit["track_party"],
        "area": hit["area"],
        "area_party": hit["area_party"],
        "concerns": whose,
        "inside": hit["inside"],
        "entry_at": seconds(entry),
        "entry_dtg": format_dtg(entry, lang),
        "entry_s": hit["entry_s"],
        "time_left_s": max(0, round(float(hit["entry_s"]))),
        "entry_lat": hit["lat"],
        "entry_lon": hit["lon"],
        "lat": track["lat"],
        "lon": track["lon"],
        "alt_m": track["alt_m"],
        "feed": "live",
        "assessed_at": rfc3339(now),
    }


def feed_lost(detail: dict[str, Any], last: dict[str, Any] | None, at: str) -> dict[str, Any]:
    """The detail of an alarm whose track's feed stopped: the last prediction is kept,
    and the last report's position (``last``: the track as last reported) added."""
    out = dict(detail)
    if out.get("feed") != "lost":
        out["feed"] = "lost"
        out["feed_lost_at"] = at
    if last is not None:
        out["last_report"] = {k: last[k] for k in ("time", "lat", "lon", "alt_m") if k in last}
    return out


def update(
    conn: Connection,
    wanted: dict[tuple[str, str], dict[str, Any]],
    *,
    kinds: Iterable[str],
    now: str,
    fresh: set[str],
    last: Mapping[str, dict[str, Any]],
) -> None:
    """Raise or refresh the ``wanted`` alarms; clear the others of ``kinds``, unless one of
    their tracks has lost its feed (not in ``fresh``): those are kept, saying so.

    ``last``: each track still in the picture as last reported (``time``, ``lat`` …).
    """
    for kind, subject in alarm_store.open_subjects(conn, tuple(kinds)):
        if (kind, subject) in wanted:
            continue
        lost = [t for t in tracks_of(kind, subject) if t not in fresh]
        if not lost:
            clear_alarm(conn, kind, subject, now, "no longer predicted")
            continue
        refresh(conn, kind, subject, lambda d, t=lost[0]: feed_lost(d, last.get(t), now))
    for (kind, subject), detail in wanted.items():
        lost = [t for t in tracks_of(kind, subject) if t not in fresh]
        if lost:
            detail = feed_lost(detail, last.get(lost[0]), now)
        new = raise_alarm(conn, kind, subject, now, **detail)[1]
        if not new:
            refresh(conn, kind, subject, lambda d, new_d=detail: merged(d, new_d))


def merged(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The new detail, keeping when the feed was first lost."""
    if before.get("feed") == "lost" and after.get("feed") == "lost":
        return after | {"feed_lost_at": before.get("feed_lost_at", after.get("feed_lost_at"))}
    return after


def refresh(conn: Connection, kind: str, subject: str, change: Any) -> None:
    """Write the alarm's detail again if it changed (not for the clock alone)."""
    alarm = open_alarm(conn, kind, subject)
    if alarm is None:
        return
    before = alarm["detail"]
    after = change(before)
    if _steady(before) != _steady(after) or _ticked(before, after):
        alarm_store.set_detail(conn, int(alarm["id"]), after)


def _steady(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in detail.items() if k not in _VOLATILE}


def _ticked(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the time left moved by a whole second or more (shown to the officer)."""
    return before.get("time_left_s") != after.get("time_left_s")

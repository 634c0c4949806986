"""Alarms: one list of what needs a person's attention, with its history kept.

An alarm is raised once per (kind, subject) while it is open — a link that keeps failing
its tests raises one ``link_down``, not one per test; a peer that refuses message after
message raises one ``delivery_refused`` (subject: the peer) that counts them
(:func:`raise_incident`) — and is cleared either by recovery (``cleared_by = "auto"``,
with how long it lasted) or by a user, who must give a reason.

Durations (``duration_s``) are whole seconds between the two wall-clock times the alarm
records, clamped at 0: an alarm raised before the clock was stepped back lasted "0 s",
never a negative time (:func:`hotline.clock.seconds_between`).
"""

from __future__ import annotations

from typing import Any

from hotline.clock import Clock, rfc3339, seconds_between
from hotline.errors import Conflict, Forbidden, NotFound, ValidationError
from hotline.storage import alarms as store
from hotline.storage import users
from hotline.storage.db import Connection, Database

KINDS = {
    "link_down": "a link test got no valid answer in time, or the peer is unreachable",
    "operator_unanswered": "line up, nobody answering: no officer answered an operator test",
    "ack_overdue": "a message was not acknowledged by its deadline and is escalating on "
    "this side's own ladder (the detail names the rung to alert and the peer's out-of-band "
    "contacts to try)",
    "log_fork": "a peer's log contradicts what this node co-signed (fork or rollback)",
    "conflict": "a received notice puts volumes in force that conflict with others in force "
    "(clears itself when the conflicts end)",
    "delivery_refused": "the peer refused a message, or its receipt did not hold up",
    "incursion": "a live track is inside, or heading into, a protected area",
    "track_conflict": "two live tracks of different parties are predicted to come too close",
    "nonconforming": "one of our own tracks has left the volume we declared for it",
    "safety_warning": "a pre-authorised safety warning went out FLASH without a second person",
    "peer_key_changed": "a peer rotated (or, confirmed, revoked) its signing key",
    "peer_key_pending": "a peer revoked its key: confirm the new fingerprint out of band",
    "feed_stale": "a track feed (ADS-B, AIS, CoT) has said nothing for longer than its setting",
    "attachment_refused": "a peer's attachment is not fetched: over max_attachment_bytes or the "
    "peer's quota, or its chunks kept failing their hashes",
}

#: How loud each kind is: "critical" ones sound until someone acknowledges them (the
#: console's repeating link-down tone); kinds not named here are "warning".
SEVERITY = {
    "link_down": "critical",
    "operator_unanswered": "critical",
    "ack_overdue": "critical",
    "log_fork": "critical",
    "incursion": "critical",
    "track_conflict": "critical",
    "conflict": "warning",
    "delivery_refused": "warning",
    "nonconforming": "warning",
    "safety_warning": "warning",
    "peer_key_changed": "warning",
    "peer_key_pending": "warning",
    "feed_stale": "warning",
    "attachment_refused": "warning",
}


def severity(kind: str) -> str:
    return SEVERITY.get(kind, "warning")


def raise_alarm(
    conn: Connection, kind: str, subject: str, at: str, **detail: Any
) -> tuple[int, bool]:
    """Raise ``kind`` for ``subject`` unless one is open; returns (id, newly raised)."""
    existing = store.open_alarm(conn, kind, subject)
    if existing is not None:
        return int(existing["id"]), False
    return store.insert_alarm(conn, kind, subject, at, detail), True


def raise_incident(
    conn: Connection, kind: str, subject: str, at: str, message_id: str, **detail: Any
) -> tuple[int, bool]:
    """One alarm per incident: raise ``kind`` for ``subject`` (a peer), or, if one is
    open, add ``message_id`` to it; returns (id, newly raised).

    The alarm's detail keeps ``first_message``, ``last_message``, ``messages`` (how many
    messages the incident held up), ``refusals`` (how many times, retries included),
    ``last_at``; the other keys (``code``, ``reason`` …) say the latest refusal.
    """
    existing = store.open_alarm(conn, kind, subject)
    if existing is None:
        counted = {"first_message": message_id, "last_message": message_id, "messages": 1}
        counted |= {"refusals": 1, "last_at": at}
        return store.insert_alarm(conn, kind, subject, at, detail | counted), True
    before = existing["detail"]
    counted = {
        "first_message": before.get("first_message", message_id),
        "last_message": message_id,
        "messages": int(before.get("messages", 1)) + (before.get("last_message") != message_id),
        "refusals": int(before.get("refusals", 1)) + 1,
        "last_at": at,
    }
    store.set_detail(conn, int(existing["id"]), before | detail | counted)
    return int(existing["id"]), False


def note_on_alarm(conn: Connection, kind: str, subject: str, **detail: Any) -> bool:
    """Add ``detail`` to the open alarm for (kind, subject) (e.g. the rung an escalation
    reached); False when none is open."""
    existing = store.open_alarm(conn, kind, subject)
    if existing is None:
        return False
    store.set_detail(conn, int(existing["id"]), existing["detail"] | detail)
    return True


def open_alarm(conn: Connection, kind: str, subject: str) -> dict[str, Any] | None:
    """The open alarm for (kind, subject), if any (its ``detail`` decoded)."""
    return store.open_alarm(conn, kind, subject)


def clear_alarm(conn: Connection, kind: str, subject: str, at: str, reason: str) -> int | None:
    """Clear the open alarm for (kind, subject) on recovery; returns its duration in s
    (never negative). Clears every open one, should there be more than one (two
    processes raising at once, or alarms carried over by migration ``0006_states``)."""
    duration = None
    while (existing := store.open_alarm(conn, kind, subject)) is not None:
        duration = seconds_between(existing["raised_at"], at)
        store.clear(conn, int(existing["id"]), at, "auto", reason, duration)
    return duration


class Alarms:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def listing(self, state: str | None = None) -> list[dict[str, Any]]:
        if state not in (None, "open", "cleared"):
            raise ValidationError("state must be 'open' or 'cleared'", field="state")
        with self.db.read() as conn:
            return store.listing(conn, state=state)

    def clear(self, alarm_id: int, user: str, reason: str) -> dict[str, Any]:
        """A person clears an alarm, saying why."""
        if not reason.strip():
            raise ValidationError("reason: say why the alarm is cleared", field="reason")
        with self.db.write() as conn:
            alarm = store.get(conn, alarm_id)
            if alarm is None:
                raise NotFound(f"no alarm {alarm_id}")
            if alarm["state"] != "open":
                raise Conflict(f"alarm {alarm_id} was already cleared by {alarm['cleared_by']}")
            _may_clear(conn, alarm, user)
            now = rfc3339(self.clock.now())
            store.clear(conn, alarm_id, now, user, reason, seconds_between(alarm["raised_at"], now))
            out = store.get(conn, alarm_id)
        assert out is not None
        return out

    def acknowledge(self, alarm_id: int, user: str) -> dict[str, Any]:
        """A person has seen an open alarm: its sound stops, it stays open until cleared.
        Acknowledging again keeps the first person and time."""
        with self.db.write() as conn:
            alarm = store.get(conn, alarm_id)
            if alarm is None:
                raise NotFound(f"no alarm {alarm_id}")
            if alarm["state"] != "open":
                raise Conflict(f"alarm {alarm_id} was already cleared by {alarm['cleared_by']}")
            if alarm["seen_at"] is None:
                store.mark_seen(conn, alarm_id, rfc3339(self.clock.now()), user)
            out = store.get(conn, alarm_id)
        if out is None:  # read back in the same transaction
            raise NotFound(f"no alarm {alarm_id}")
        return out

    def open_counts(self) -> dict[str, int]:
        with self.db.read() as conn:
            return store.count_open(conn)


#: Alarms that are oversight of one person's act: only a commander other than that person
#: clears them (kind -> the detail key naming the person).
OVERSIGHT = {"safety_warning": "sent_by"}


def _may_clear(conn: Connection, alarm: dict[str, Any], user: str) -> None:
    """Refuse to let the person an oversight alarm watches clear it (the officer who sent a
    warning without a second person would erase its only showing to the commanders)."""
    key = OVERSIGHT.get(alarm["kind"])
    if key is None:
        return
    account = users.get(conn, user)
    if account is None or account.disabled or "commander" not in account.roles:
        raise Forbidden(
            f"{user} may not clear a {alarm['kind']} alarm: it shows the commanders a "
            "warning sent without a second person",
            hint="a commander clears it, once they have seen it",
        )
    if alarm["detail"].get(key) == user:
        raise Forbidden(
            f"{user} sent this warning and may not clear its alarm",
            hint="another commander clears it, once they have seen it",
        )

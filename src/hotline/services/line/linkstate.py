"""One link state per peer and route, fed by every signal: is the line down, since when?

Two routes per peer, because a line can fail one way:

- ``send``: this node's envelopes and checkpoints reach the peer. Failed deliveries (no
  endpoint answered) and failed checkpoint exchanges are its failures; a delivery whose
  receipt verifies, a checkpoint exchange that got an answer, and an answered link test are
  its successes.
- ``answer``: the peer answers this node's link tests (a round trip through its node and
  back). A link test with no valid answer in time, or a garbled one, is its failure, dated
  from the sending of that test; any valid answer is its success.

The machine, per route: ``up`` (or ``unknown`` before any signal) → ``degraded`` at the
first failure, which starts the outage → ``down`` once it has lasted
``link_down_after_s`` (default 60 s) without a success, judged at the failure itself and
by the scheduler's tick every second, so ``link_down`` comes within that time of the first
failure, not at the next scheduled test. Any success brings the route ``up``. A failure
dated before the route's last success is stale (a test that was lost while the peer
restarted, timed out after a later one passed) and changes nothing.

One ``link_down`` alarm per peer, raised when a route goes down (``since``: the first
failure, ``source``, ``reason``: the last error), cleared with the success that brought the
last down route up (``reason`` names it; ``duration_s`` from the first failure).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.clock import parse_rfc3339, seconds_between
from hotline.services.alarms import clear_alarm, open_alarm, raise_alarm
from hotline.storage import alarms as alarm_store
from hotline.storage import links as store
from hotline.storage.db import Connection

ROUTES = ("send", "answer")
#: Which routes each kind of success proves up.
PROVES = {
    "delivery": ("send",),
    "checkpoint": ("send",),
    "link_test": ("send", "answer"),
}
#: Worst first: a peer's state is the worst of its routes'.
ORDER = ("down", "degraded", "up", "unknown")


def note_failure(
    conn: Connection,
    peer: str,
    route: str,
    now: str,
    *,
    source: str,
    error: str,
    down_after_s: float,
    since: str | None = None,
) -> str:
    """A failure on (peer, route), known at ``now``, dating from ``since`` (default
    ``now``); returns the route's state after it."""
    since = since or now
    row = store.link_state(conn, peer, route)
    last_ok = row["last_success_at"] if row else None
    # stale: the route answered after this failure began (a last success in the future
    # is a clock stepped back, and proves nothing about now)
    if last_ok is not None and parse_rfc3339(since) < parse_rfc3339(last_ok) <= _at(now):
        return str(row["state"]) if row else "unknown"
    values: dict[str, Any] = {"last_failure_at": now, "last_error": error[:1000]}
    if row is None or row["state"] in ("up", "unknown"):
        values |= {"state": "degraded", "first_failure_at": since, "source": source}
        values |= {"changed_at": now, "last_success_at": last_ok}
    store.put_link_state(conn, peer, route, values)
    return check_down(conn, peer, route, now, down_after_s)


def check_down(conn: Connection, peer: str, route: str, now: str, down_after_s: float) -> str:
    """A degraded route is down once its outage has lasted ``down_after_s``: raise
    ``link_down`` for the peer (once); returns the route's state."""
    row = store.link_state(conn, peer, route)
    if row is None:
        return "unknown"
    since = row["first_failure_at"]
    if row["state"] == "down":
        # a person cleared the alarm while the outage goes on: a new failure raises anew
        _raise(conn, peer, route, now, row)
        return "down"
    if row["state"] != "degraded":
        return str(row["state"])
    elapsed = (parse_rfc3339(now) - parse_rfc3339(since)).total_seconds()
    if elapsed < 0:
        # the clock was stepped back past the first failure: count again from now, rather
        # than wait (maybe hours) for the clock to catch up with it
        store.put_link_state(conn, peer, route, {"first_failure_at": now})
        return "degraded" if down_after_s > 0 else check_down(conn, peer, route, now, 0)
    if elapsed < down_after_s:
        return "degraded"
    store.put_link_state(conn, peer, route, {"state": "down", "changed_at": now})
    _raise(conn, peer, route, now, row)
    return "down"


def _raise(conn: Connection, peer: str, route: str, now: str, row: dict[str, Any]) -> None:
    raise_alarm(
        conn,
        "link_down",
        peer,
        now,
        since=row["first_failure_at"],
        route=route,
        source=row["source"],
        reason=row["last_error"],
    )


def note_success(conn: Connection, peer: str, now: str, *, source: str) -> None:
    """A success of kind ``source`` (see :data:`PROVES`): its routes are up; the peer's
    ``link_down`` clears once no route is down, saying what brought it back."""
    was_down = False
    for route in PROVES[source]:
        row = store.link_state(conn, peer, route)
        if row is not None and _fresh(row, now):
            continue  # the hot path reads one row and writes at most once a second
        was_down = was_down or (row is not None and row["state"] == "down")
        values = {"state": "up", "first_failure_at": None, "last_success_at": now}
        store.put_link_state(conn, peer, route, values | {"changed_at": now})
    if not was_down and open_alarm(conn, "link_down", peer) is None:
        return
    if any(r["state"] == "down" for r in store.link_states(conn, peer)):
        return  # the other route is still down
    _clear(conn, peer, now, source)


def _clear(conn: Connection, peer: str, now: str, source: str) -> None:
    alarm = alarm_store.open_alarm(conn, "link_down", peer)
    if alarm is None:
        return
    words = {
        "delivery": "a delivery to the peer was receipted",
        "checkpoint": "a checkpoint exchange with the peer succeeded",
        "link_test": "the peer answered a link test",
    }
    # the outage's length runs from its first failure, not from when it was declared
    since = alarm["detail"].get("since", alarm["raised_at"])
    alarm_store.clear(
        conn, int(alarm["id"]), now, "auto", words[source], seconds_between(since, now)
    )
    clear_alarm(conn, "link_down", peer, now, words[source])  # any other open one, too


def _fresh(row: dict[str, Any], now: str) -> bool:
    """Up, with a success recorded less than a second before ``now``."""
    last = row["last_success_at"]
    if row["state"] != "up" or last is None:
        return False
    return 0 <= (_at(now) - _at(last)).total_seconds() < 1


def _at(text: str) -> datetime:
    return parse_rfc3339(text)


def tick(conn: Connection, now: str, down_after_s: float) -> None:
    """Declare down the degraded routes whose outage has lasted ``down_after_s``."""
    for row in store.link_states(conn):
        if row["state"] == "degraded":
            check_down(conn, row["peer"], row["route"], now, down_after_s)


def peer_state(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The peer's state (the worst of its routes') and the routes', for reports."""
    routes = {r["route"]: r for r in rows}
    states = [routes[r]["state"] if r in routes else "unknown" for r in ROUTES]
    worst = min(states, key=ORDER.index)
    failing = [routes[r] for r in ROUTES if r in routes and routes[r]["state"] != "up"]
    since = min((r["first_failure_at"] for r in failing if r["first_failure_at"]), default=None)
    last = max(failing, key=lambda r: r["last_failure_at"] or "", default=None)
    return {
        "state": worst,
        "since": since,
        "last_error": last["last_error"] if last else None,
        "routes": {
            r: {
                "state": routes[r]["state"] if r in routes else "unknown",
                "since": routes[r]["first_failure_at"] if r in routes else None,
                "last_error": routes[r]["last_error"] if r in routes else None,
                "last_success_at": routes[r]["last_success_at"] if r in routes else None,
            }
            for r in ROUTES
        },
    }


def delivery_states(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Say of each outbound message in ``rows`` (listing summaries) how its delivery
    stands: ``receipted`` (the peer's signed receipt is held), ``retrying`` (attempts
    failed, or the route to the peer is failing: ``retrying_since`` the first failure that
    held it up, with ``last_error``), or ``queued`` (waiting its turn, nothing failed).

    ``sent`` alone said nothing of a message no endpoint had taken for an hour; a message
    is ``queued``/``sent`` exactly while it has no receipt (see ``storage/messages.py``).
    """
    waiting = [r for r in rows if r["direction"] == "out" and r["state"] in ("queued", "sent")]
    failed = store.failed_attempts(conn, [r["id"] for r in waiting])
    routes = {r["peer"]: r for r in store.link_states(conn) if r["route"] == "send"}
    for row in rows:
        if row["direction"] != "out":
            continue
        row |= {"delivery": "receipted", "retrying_since": None, "last_error": None}
        if row not in waiting:
            continue
        route = routes.get(row["peer"])
        if row["id"] in failed:
            first, _, error = failed[row["id"]]
            row |= {"delivery": "retrying", "retrying_since": first, "last_error": error}
        elif route is not None and route["state"] in ("degraded", "down"):
            since = max(route["first_failure_at"], row["created"], key=_at)
            row |= {"delivery": "retrying", "retrying_since": since}
            row["last_error"] = route["last_error"]
        else:
            row["delivery"] = "queued"

"""Link tests: is the line up, and how well does it answer?

A test is an ordinary signed envelope of type ``link_test`` carrying pangrams that use
every letter of the English and Russian alphabets and every digit. The peer's node answers
it itself (``link_test_reply``: the test's hash and whether the texts arrived intact), so
no person is needed at 3 a.m. A test with no valid answer within ``link_test_timeout_s``
fails; the first failure raises one ``link_down`` alarm for the peer, and the next valid
answer — even a late one, to a test already failed — clears it: the line carries traffic
again.

An outage runs from the sending of its first failed test to the first valid answer after
it (:func:`outages`). The alarm's ``duration_s``, the report's ``longest_outage_s`` and the
current state all come from that one definition, so they cannot disagree.

Schedules: every ``link_test_interval_s`` (default hourly), or at fixed UTC times of day
(``link_test_times = "06:00,18:00"``). ``tick()`` does everything that is due; the node's
scheduler calls it every second, tests call it with a fake clock.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339, seconds_between
from hotline.domain.line import PARTY_PATTERN, Envelope
from hotline.domain.links import DIGITS, PANGRAM_EN, PANGRAM_RU
from hotline.errors import ConfigError, MalformedMessage, NotFound, ValidationError
from hotline.services.line import availability as uptime
from hotline.services.line import linkstate
from hotline.services.line.service import Line
from hotline.storage import links as store
from hotline.storage import messages, peers
from hotline.storage.db import Connection

#: (start, end) of one outage: the first failed test's ``sent_at`` and the first valid
#: answer's ``reply_at`` after it (None while the link is still down).
Outage = tuple[str, str | None]

#: How far back a new alarm looks for the start of its outage (the report's default window).
OUTAGE_HORIZON = timedelta(days=30)


def parse_times(text: str, setting: str = "link_test_times") -> list[time]:
    """``"06:00,18:00"`` → sorted times of day (UTC); empty text → no fixed times."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            hours, minutes = (int(x) for x in part.split(":"))
            out.append(time(hours, minutes))
        except ValueError:
            raise ConfigError(f"{setting}: {part!r} is not HH:MM (UTC)") from None
    return sorted(out)


@dataclass(frozen=True)
class Schedule:
    """When one peer's link is tested: fixed UTC times of day, or else every ``interval``."""

    interval: timedelta
    times: tuple[time, ...] = ()

    def next_at(self, last: datetime | None, started: datetime) -> datetime:
        """When the next test is due, given the last one sent (None: none yet)."""
        if self.times:
            return next_fixed(last or started, list(self.times))
        return started if last is None else last + self.interval

    def due(self, last: datetime | None, started: datetime, now: datetime) -> bool:
        return self.next_at(last, started) <= now

    def describe(self) -> str:
        """``"06:00, 18:00 UTC"`` or ``"every 3600 s"``, for the report."""
        if self.times:
            return ", ".join(t.strftime("%H:%M") for t in self.times) + " UTC"
        return f"every {self.interval.total_seconds():.0f} s"

    @property
    def period(self) -> timedelta:
        """The longest gap between two tests (for how far back to look for the state)."""
        return timedelta(days=1) if self.times else self.interval


def parse_peer_schedules(text: str, default: Schedule) -> dict[str, Schedule]:
    """``"ru=06:00,18:00; ua=1800"`` → each peer's own schedule: UTC times, or seconds.

    Peers not named keep the node's schedule (``link_test_interval_s`` /
    ``link_test_times``).
    """
    out: dict[str, Schedule] = {}
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        peer, sep, rule = (x.strip() for x in entry.partition("="))
        if not sep or not re.fullmatch(PARTY_PATTERN, peer) or not rule:
            raise ConfigError(
                f"link_test_peers: {entry!r} is not PEER=SCHEDULE",
                hint='e.g. "ru=06:00,18:00; ua=1800" (UTC times, or seconds between tests)',
            )
        if peer in out:
            raise ConfigError(f"link_test_peers: {peer} is given twice")
        if rule.isdigit():
            if int(rule) < 1:
                raise ConfigError(f"link_test_peers: {peer}: an interval is at least 1 s")
            out[peer] = Schedule(timedelta(seconds=int(rule)))
        else:
            times = parse_times(rule, f"link_test_peers: {peer}")
            out[peer] = Schedule(default.interval, tuple(times))
    return out


def next_fixed(after: datetime, times: list[time]) -> datetime:
    """The first of ``times`` (UTC, any day) strictly after ``after``."""
    day = after.date()
    for offset in range(2):
        for at in times:
            when = datetime.combine(day + timedelta(days=offset), at, tzinfo=after.tzinfo)
            if when > after:
                return when
    raise AssertionError("unreachable: two days always hold a next time")


class LinkTests:
    def __init__(self, line: Line) -> None:
        self.line = line
        settings = line.settings
        self.timeout = timedelta(seconds=settings.link_test_timeout_s)
        self.default = Schedule(
            timedelta(seconds=settings.link_test_interval_s),
            tuple(parse_times(settings.link_test_times)),
        )
        self.schedules = parse_peer_schedules(settings.link_test_peers, self.default)
        self.started = line.clock.now()
        line.on_receive("link_test", self._answer)
        line.on_receive("link_test_reply", self._record_reply)

    # -- sending and schedule --------------------------------------------------------------

    def send_test(self, peer: str) -> dict[str, Any]:
        """Send one test to ``peer`` now; returns its record (state ``pending``)."""
        test_id = str(uuid.uuid4())
        body = {
            "test_id": test_id,
            "pangram_en": PANGRAM_EN,
            "pangram_ru": PANGRAM_RU,
            "digits": DIGITS,
        }

        def work(conn: Connection) -> dict[str, Any]:
            if peers.get(conn, peer) is None:
                raise NotFound(f"no peer {peer!r} is pinned on this node")
            message_id = self.line.enqueue(
                conn,
                to=peer,
                type_="link_test",
                body=body,
                precedence="IMMEDIATE",
                lang=self.line.identity.lang,
                user=None,
            )
            store.insert_test(conn, test_id, peer, message_id, self.line.now())
            record = store.get_test(conn, test_id)
            assert record is not None  # just inserted in this transaction
            return record

        record = self.line.db.transaction(work)  # retried whole on a deadlock or busy database
        self.line.on_queued(peer)  # after the commit, once
        return record

    def schedule(self, peer: str) -> Schedule:
        """``peer``'s own schedule (``link_test_peers``), else the node's."""
        return self.schedules.get(peer, self.default)

    def lookback(self, peer: str) -> timedelta:
        """How far back the current state and outage are looked for: two schedule periods
        and a timeout hold the latest failures and answers however the window is chosen."""
        return 2 * self.schedule(peer).period + self.timeout

    def due(self, peer: str, now: datetime) -> bool:
        with self.line.db.read() as conn:
            last = store.last_test(conn, peer)
        last_at = parse_rfc3339(last["sent_at"]) if last else None
        return self.schedule(peer).due(last_at, self.started, now)

    def tick(self) -> None:
        """Send the tests that are due and fail those whose answer is late."""
        now = self.line.clock.now()
        with self.line.db.read() as conn:
            parties = [p.party for p in peers.all_peers(conn)]
        for party in parties:
            self._expire(party, now)
            if self.due(party, now):
                self.send_test(party)
        self._degraded_down(now)

    def _degraded_down(self, now: datetime) -> None:
        """``link_down`` within ``link_down_after_s`` of the first failure, whatever the
        schedule of tests: a degraded route that got no success meanwhile goes down."""
        with self.line.db.read() as conn:  # every second: lock only when a link is degraded
            rows = store.link_states(conn)
        if not any(r["state"] == "degraded" for r in rows):
            return
        after = self.line.settings.link_down_after_s
        self.line.db.transaction(lambda conn: linkstate.tick(conn, rfc3339(now), after))

    def _expire(self, peer: str, now: datetime) -> None:
        cutoff = rfc3339(now - self.timeout)
        with self.line.db.read() as conn:  # every second: lock only when something is late
            if not store.pending_before(conn, peer, cutoff):
                return

        def work(conn: Connection) -> None:
            for test in store.pending_before(conn, peer, cutoff):  # again, under the lock
                reason = f"no answer within {self.timeout.total_seconds():.0f} s"
                store.fail_test(conn, test["id"], rfc3339(now), reason)
                self._raise(conn, peer, rfc3339(now), test, reason)

        self.line.db.transaction(work)  # retried whole on a deadlock or busy database

    def _raise(
        self,
        conn: Connection,
        peer: str,
        now: str,
        test: dict[str, Any],
        reason: str,
        *,
        at_once: bool = False,
    ) -> None:
        """A failed test is a failure of the ``answer`` route dating from its sending
        (:mod:`~hotline.services.line.linkstate` raises ``link_down``, once per outage);
        ``at_once``: a certain failure (garbled texts), down without waiting."""
        down_after = 0.0 if at_once else self.line.settings.link_down_after_s
        linkstate.note_failure(
            conn,
            peer,
            "answer",
            now,
            source="link_test",
            error=f"link test {test['id']}: {reason}",
            down_after_s=down_after,
            since=test["sent_at"],
        )

    def _clear(self, conn: Connection, peer: str, now: str) -> None:
        """A valid answer, however late: both routes are up, and the alarm clears."""
        linkstate.note_success(conn, peer, now, source="link_test")

    # -- the two receive hooks -------------------------------------------------------------

    def _answer(self, conn: Connection, envelope: Envelope, now: str) -> None:
        """The peer tested us: answer at once, saying whether the texts are intact."""
        body = envelope.body
        intact = (body["pangram_en"], body["pangram_ru"], body["digits"]) == (
            PANGRAM_EN,
            PANGRAM_RU,
            DIGITS,
        )
        row = messages.get(conn, envelope.id)
        assert row is not None  # stored just before the hooks run
        self.line.enqueue(
            conn,
            to=envelope.from_,
            type_="link_test_reply",
            precedence="IMMEDIATE",
            body={"test_id": body["test_id"], "test_hash": row["hash"], "intact": intact},
            lang=self.line.identity.lang,
            user=None,
        )

    def _record_reply(self, conn: Connection, envelope: Envelope, now: str) -> None:
        body = envelope.body
        test = store.get_test(conn, body["test_id"])
        if test is None or test["peer"] != envelope.from_:
            raise MalformedMessage(f"link_test_reply names unknown test {body['test_id']}")
        sent = messages.get(conn, test["message_id"])
        if sent is None or sent["hash"] != body["test_hash"]:
            raise MalformedMessage("link_test_reply names the wrong test hash")
        if test["state"] == "passed":
            return
        rtt = round((parse_rfc3339(now) - parse_rfc3339(test["sent_at"])).total_seconds() * 1000)
        # The column is a 32-bit INTEGER of milliseconds (24.8 days): an answer later than
        # that (after a long outage) is recorded as that long; it never counts as a pass.
        # A clock stepped back since the test was sent gives 0, never a negative time.
        rtt = max(0, min(rtt, 2**31 - 1))
        if not body["intact"]:
            reason = "the pangrams arrived garbled"
            store.fail_test(conn, test["id"], now, reason)
            self._raise(conn, envelope.from_, now, test, reason, at_once=True)
            return
        # A late answer does not turn a failed test into a pass, but it does show the line
        # carries traffic again: the link is up and the alarm clears either way.
        store.record_reply(conn, test["id"], now, rtt, passed=test["state"] == "pending")
        self._clear(conn, envelope.from_, now)

    # -- reading ---------------------------------------------------------------------------

    def _state_and_availability(
        self, conn: Connection, peer: str, since: datetime, now: datetime, *, figures: bool
    ) -> dict[str, Any]:
        """The link state (the worst of its routes', from every signal) and availability
        as time up over time observed, from signed evidence (``availability.py``); the
        share of tests passed is kept as ``tests_passed_pct``."""
        out: dict[str, Any] = {}
        rows = store.link_states(conn, peer)
        if rows:
            state = linkstate.peer_state(rows)
            out |= {"state": state["state"] if state["state"] != "unknown" else None}
            out |= {k: state[k] for k in ("since", "last_error", "routes")}
        else:
            out |= {"since": None, "last_error": None, "routes": None}
        if figures:  # reads every message of the window: not for each metrics scrape
            late = self.line.settings.link_down_after_s
            counted = uptime.availability(conn, peer, since, now, late)
            out["availability_pct"] = counted.pop("availability_pct")
            out["availability"] = counted
        return {k: v for k, v in out.items() if v is not None or k != "state"}

    def get_test(self, peer: str, test_id: str) -> dict[str, Any]:
        with self.line.db.read() as conn:
            test = store.get_test(conn, test_id)
        if test is None or test["peer"] != peer:
            raise NotFound(f"no link test {test_id} to {peer}")
        return test

    def report(
        self, peer: str | None = None, since_s: int = 30 * 86400, *, availability: bool = True
    ) -> list[dict[str, Any]]:
        """Per peer: state, availability, tests sent and passed, round trips, longest outage.

        The figures count the last ``since_s`` seconds; the current state comes from the
        link state whatever the window. ``availability=False`` leaves availability out
        (its time-based figures read every message of the window).
        """
        now = self.line.clock.now()
        since_dt = now - timedelta(seconds=since_s)
        since = rfc3339(since_dt)
        with self.line.db.read() as conn:
            parties = [p.party for p in peers.all_peers(conn) if peer in (None, p.party)]
            if peer and not parties:
                raise NotFound(f"no peer {peer!r} is pinned on this node")
            out = []
            for party in parties:
                last = store.last_test(conn, party)
                anchor = parse_rfc3339(last["sent_at"]) if last else now
                back = rfc3339(anchor - self.lookback(party))
                loaded = store.tests_since(conn, party, min(since, back))
                window = [t for t in loaded if t["sent_at"] >= since]
                figures = summarise(party, window, recent=loaded)
                figures |= self._state_and_availability(
                    conn, party, since_dt, now, figures=availability
                )
                schedule = self.schedule(party)
                last_at = parse_rfc3339(last["sent_at"]) if last else None
                figures["schedule"] = schedule.describe()
                figures["next_test"] = rfc3339(schedule.next_at(last_at, self.started))
                out.append(figures)
            return out


def parse_since(text: str) -> int:
    """``30d``, ``12h``, ``90m``, ``45s`` → seconds."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    try:
        return int(text[:-1]) * units[text[-1]]
    except (KeyError, ValueError, IndexError):
        raise ValidationError(f"since: {text!r} is not like 30d, 12h, 90m or 45s") from None


def summarise(
    peer: str, tests: list[dict[str, Any]], recent: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Figures for one peer from its tests, oldest first (pending ones are not counted).

    ``recent``: the latest tests whatever the report's window, for the current state
    (default: ``tests``).
    """
    done = [t for t in tests if t["state"] != "pending"]
    passed = [t for t in done if t["state"] == "passed"]
    rtts = sorted(t["rtt_ms"] for t in passed)
    return {
        "peer": peer,
        "sent": len(tests),
        "passed": len(passed),
        "failed": len(done) - len(passed),
        "tests_passed_pct": round(100 * len(passed) / len(done), 2) if done else None,
        "rtt_ms": {
            "p50": _percentile(rtts, 50),
            "p95": _percentile(rtts, 95),
            "max": rtts[-1] if rtts else None,
        },
        "last_rtt_ms": passed[-1]["rtt_ms"] if passed else None,
        "longest_outage_s": longest_outage(done),
        "state": link_state(tests if recent is None else recent),
        "last_test": tests[-1]["sent_at"] if tests else None,
    }


def _percentile(sorted_values: list[int], pct: int) -> int | None:
    """Nearest-rank percentile (the value a person can find in the list), in ms."""
    if not sorted_values:
        return None
    rank = max(1, -(-pct * len(sorted_values) // 100))  # ceil(pct/100 * n)
    return sorted_values[rank - 1]


def outages(tests: list[dict[str, Any]]) -> list[Outage]:
    """The outages in ``tests``, oldest first: each from the sending of its first failed
    test to the first valid answer after that failure (a pass or a late answer to a failed
    test; a garbled answer is a failure), or ``None`` while it goes on.

    Events are taken in time order, a failure before an answer at the same instant. A
    failure declared after the link had already answered a later test (a test lost while
    the peer restarted, timed out only after the next one passed) starts no outage: the
    answer, after that test was sent, already showed the link up.
    """
    events = [(t["failed_at"], 0, t["sent_at"]) for t in tests if t.get("failed_at")]
    events += [(t["reply_at"], 1, "") for t in tests if t.get("reply_at")]
    events.sort(key=lambda e: (parse_rfc3339(e[0]), e[1]))
    spans: list[Outage] = []
    start: str | None = None
    last_answer: datetime | None = None
    for at, kind, sent_at in events:
        if kind == 0 and start is None:
            if last_answer is None or parse_rfc3339(sent_at) > last_answer:
                start = sent_at
        elif kind == 1:
            last_answer = parse_rfc3339(at)
            if start is not None:
                spans.append((start, at))
                start = None
    if start is not None:
        spans.append((start, None))
    return spans


def longest_outage(tests: list[dict[str, Any]]) -> int:
    """The longest of :func:`outages`, in s; one still going on counts to its last failure
    (the last thing known of it)."""
    longest = 0
    for start, end in outages(tests):
        if end is None:
            end = max((t["failed_at"] for t in tests if t.get("failed_at")), key=parse_rfc3339)
        longest = max(longest, seconds_between(start, end))
    return longest


def link_state(tests: list[dict[str, Any]]) -> str:
    """``down`` while an outage goes on, ``up`` once any test was answered validly since
    (however late), ``unknown`` before the first test is decided."""
    spans = outages(tests)
    if spans and spans[-1][1] is None:
        return "down"
    return "up" if any(t.get("reply_at") for t in tests) else "unknown"

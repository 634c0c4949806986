"""Outage detection from every signal, and availability as time up, with a fake clock.

The duty officer's day from the issue: tests at 06:00 and 18:00, delivery to ru failing
from 17:59:40. ``link_down`` must come within ``link_down_after_s`` of that first failure
(18:00:40), not at 18:02 when the 18:00 test times out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.services.line import availability, linkstate
from hotline.services.line.delivery import Courier
from tests.conftest import MakePair, Pair

T0 = datetime(2026, 11, 21, 17, 59, 40, tzinfo=UTC)


@pytest.fixture
def day(make_pair: MakePair, clock: FakeClock) -> Iterator[Pair]:
    clock.set(datetime(2026, 11, 21, 5, 0, tzinfo=UTC))
    settings = {"link_test_times": "06:00,18:00", "link_test_timeout_s": 120}
    with make_pair(us=settings, ru=settings) as made:
        yield made


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def fail_delivery(pair: Pair) -> None:
    """One delivery round to ru with every endpoint refusing the connection."""
    with httpx.Client(transport=httpx.MockTransport(unreachable)) as dead:
        outcome = Courier(pair.us.line, "ru", dead).deliver_once()
    assert outcome is not None and outcome.error is not None and 0 == outcome.delivered


def link_alarms(pair: Pair) -> list[dict[str, Any]]:
    return [a for a in pair.us.alarms.listing() if a["kind"] == "link_down"]


def test_a_failed_delivery_raises_link_down_a_minute_later_not_at_the_next_test(
    day: Pair, clock: FakeClock
) -> None:
    clock.set(T0)
    sent = day.us.line.send(to="ru", text="contact report", precedence="IMMEDIATE", user="duty1")
    fail_delivery(day)  # 17:59:40: no endpoint answers
    day.us.links.tick()
    [row] = [m for m in day.us.line.listing("out") if m["id"] == sent["id"]]
    assert ("sent", "retrying", rfc3339(T0)) == (
        row["state"],
        row["delivery"],
        row["retrying_since"],
    )
    assert "connection refused" in row["last_error"]
    assert ("degraded", []) == (day.us.links.report("ru")[0]["state"], link_alarms(day))
    clock.set(T0 + timedelta(seconds=59))
    day.us.links.tick()  # 18:00:39: the 18:00 test is queued behind, still degraded
    assert [] == link_alarms(day)
    clock.set(T0 + timedelta(seconds=60))
    day.us.links.tick()  # 18:00:40: down, from the first failure
    [alarm] = link_alarms(day)
    assert ("open", rfc3339(T0 + timedelta(seconds=60))) == (alarm["state"], alarm["raised_at"])
    assert {"since": rfc3339(T0), "route": "send", "source": "delivery"} == {
        k: alarm["detail"][k] for k in ("since", "route", "source")
    }
    report = day.us.links.report("ru")[0]
    assert ("down", rfc3339(T0)) == (report["state"], report["since"])
    # 18:33: ru is back; the delivery passes and clears the alarm, saying so
    clock.set(datetime(2026, 11, 21, 18, 33, tzinfo=UTC))
    day.flush()
    [cleared] = link_alarms(day)
    assert ("auto", "a delivery to the peer was receipted", 33 * 60 + 20) == (
        cleared["cleared_by"],
        cleared["clear_reason"],
        cleared["duration_s"],  # from the first failure, 17:59:40
    )
    [row] = [m for m in day.us.line.listing("out") if m["id"] == sent["id"]]
    assert ("delivered", "receipted", None) == (
        row["state"],
        row["delivery"],
        row["retrying_since"],
    )
    assert "up" == day.us.links.report("ru")[0]["state"]


def test_a_success_before_the_setting_keeps_the_link_up(pair: Pair, clock: FakeClock) -> None:
    pair.us.line.send(to="ru", text="one", precedence="ROUTINE", user="duty1")
    fail_delivery(pair)
    clock.advance(30)
    pair.flush()  # the retry passes 30 s later: a blip, not an outage
    clock.advance(60)
    pair.us.links.tick()
    assert ("up", []) == (pair.us.links.report("ru")[0]["state"], link_alarms(pair))


def test_a_failed_checkpoint_exchange_feeds_the_same_state(pair: Pair, clock: FakeClock) -> None:
    pair.us._checkpoint_exchanged("ru", "no endpoint of the peer answered")
    clock.advance(60)
    pair.us.links.tick()
    [alarm] = link_alarms(pair)
    assert ("checkpoint", "checkpoint exchange: no endpoint of the peer answered") == (
        alarm["detail"]["source"],
        alarm["detail"]["reason"],
    )
    clock.advance(5)
    pair.us._checkpoint_exchanged("ru", None)  # the next exchange got an answer
    [cleared] = link_alarms(pair)
    assert ("a checkpoint exchange with the peer succeeded", 65) == (
        cleared["clear_reason"],
        cleared["duration_s"],
    )


def test_a_link_going_one_way_stays_down_while_deliveries_pass(
    pair: Pair, clock: FakeClock
) -> None:
    """ru takes our messages but its answers never come: the ``answer`` route is down,
    and receipted deliveries (route ``send``) do not clear it."""
    pair.us.links.send_test("ru")
    pair.deliver("us", "ru")  # the test is receipted; ru's answer is lost
    clock.advance(120)
    pair.us.links.tick()  # the test fails: dated from its sending, 120 s ago: down at once
    [alarm] = link_alarms(pair)
    assert ("open", "answer") == (alarm["state"], alarm["detail"]["route"])
    pair.us.line.send(to="ru", text="still there?", precedence="ROUTINE", user="duty1")
    clock.advance(1)
    pair.deliver("us", "ru")
    report = pair.us.links.report("ru")[0]
    assert ("down", "up", "down") == (
        report["state"],
        report["routes"]["send"]["state"],
        report["routes"]["answer"]["state"],
    )
    assert "open" == link_alarms(pair)[0]["state"]
    pair.deliver("ru", "us")  # the late answer arrives: both routes up, cleared
    assert ("cleared", "the peer answered a link test") == (
        link_alarms(pair)[0]["state"],
        link_alarms(pair)[0]["clear_reason"],
    )


def test_a_failure_dated_before_the_last_success_changes_nothing(
    pair: Pair, clock: FakeClock
) -> None:
    now = rfc3339(clock.now())
    before = rfc3339(clock.now() - timedelta(seconds=30))

    def work(conn: Any) -> str:
        linkstate.note_success(conn, "ru", now, source="link_test")
        return linkstate.note_failure(
            conn,
            "ru",
            "answer",
            now,
            source="link_test",
            error="lost",
            down_after_s=0,
            since=before,
        )

    assert "up" == pair.us.db.transaction(work)
    assert [] == link_alarms(pair)


# -- availability: time up over time observed ---------------------------------------------


def _out(created: datetime, received: datetime | None) -> dict[str, Any]:
    receipt = None if received is None else json.dumps({"received": rfc3339(received)})
    return {
        "direction": "out",
        "created": rfc3339(created),
        "receipt": receipt,
        "received_at": None,
    }


def _in(created: datetime, received: datetime) -> dict[str, Any]:
    return {
        "direction": "in",
        "created": rfc3339(created),
        "receipt": "{}",
        "received_at": rfc3339(received),
    }


def test_a_33_minute_outage_in_12_hours_is_95_42_percent() -> None:
    """The 06:00 test, a message held up from 12:00:00 to 12:33:00 and the link test
    queued behind it, the 18:00 test: 33 minutes down in 12 hours, on either side."""
    day = datetime(2026, 11, 21, tzinfo=UTC)

    def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
        return day.replace(hour=hour, minute=minute, second=second)

    rows = [
        _out(at(6), at(6, 0, 1)),  # the 06:00 test, answered at once
        _in(at(6, 0, 1), at(6, 0, 2)),
        _out(at(12), at(12, 33)),  # held up 33 minutes
        _out(at(12, 10), at(12, 33)),  # queued behind it: the same outage, counted once
        _in(at(12, 33, 1), at(12, 33, 1)),  # the peer's answer, at once
        _out(at(17, 59, 59), at(18)),  # slow (1 s) but not late: up
    ]
    spans, first = availability.down_spans(rows, at(18), late_s=60)
    assert first == at(6)
    figures = availability.figures(spans, first, at(18))
    assert {
        "availability_pct": 95.42,  # 100 × (720 − 33) / 720 = 95.416…
        "observed_s": 12 * 3600,
        "down_s": 33 * 60,
        "down": [["2026-11-21T12:00:00.000Z", "2026-11-21T12:33:00.000Z"]],
    } == {k: figures[k] for k in ("availability_pct", "observed_s", "down_s", "down")}


def test_late_within_the_setting_is_up_and_a_message_still_waiting_is_down_till_now() -> None:
    start = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    now = start + timedelta(hours=1)
    rows = [
        _out(start, start + timedelta(seconds=59)),  # 59 s: slow, not down (late_s 60)
        _out(start + timedelta(minutes=45), None),  # no receipt for 15 minutes
    ]
    spans, _ = availability.down_spans(rows, now, late_s=60)
    figures = availability.figures(spans, start, now)
    assert (75.0, 15 * 60) == (figures["availability_pct"], figures["down_s"])


def test_overlapping_spans_count_once_and_are_cut_to_the_window() -> None:
    t = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    m = timedelta(minutes=1)
    spans = [(t - 10 * m, t + 10 * m), (t + 5 * m, t + 20 * m), (t + 50 * m, t + 70 * m)]
    figures = availability.figures(spans, t, t + 60 * m)
    assert (
        [[rfc3339(t), rfc3339(t + 20 * m)], [rfc3339(t + 50 * m), rfc3339(t + 60 * m)]],
        50.0,
    ) == (
        figures["down"],
        figures["availability_pct"],
    )


def test_no_message_exchanged_observes_nothing(pair: Pair, clock: FakeClock) -> None:
    report = pair.us.links.report("ru")[0]
    assert (None, None, 0) == (
        report["availability_pct"],
        report["availability"]["observed_from"],
        report["availability"]["observed_s"],
    )


def test_a_clock_stepped_back_does_not_put_off_link_down(pair: Pair, clock: FakeClock) -> None:
    pair.us.line.send(to="ru", text="one", precedence="ROUTINE", user="duty1")
    fail_delivery(pair)
    clock.advance(-3600)  # NTP steps the clock back an hour
    pair.us.links.tick()  # the outage is counted again from now …
    assert [] == link_alarms(pair)
    clock.advance(60)
    pair.us.links.tick()  # … and is down a minute later, not in an hour
    assert ["open"] == [a["state"] for a in link_alarms(pair)]

"""Link tests, acknowledgement deadlines, escalation and alarms, with a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hotline.domain.links import DIGITS, PANGRAM_EN, PANGRAM_RU
from hotline.errors import Conflict, ValidationError
from hotline.services.links import longest_outage, next_fixed, parse_times, summarise
from tests.conftest import MakePair, Pair, token

CONTACTS = [
    {"id": "duty", "role_en": "Duty desk", "role_ru": "Дежурный"},
    {"id": "watch", "role_en": "Watch commander", "role_ru": "Начальник смены"},
    {"id": "chief", "role_en": "Chief of staff", "role_ru": "Начальник штаба"},
]


def test_the_pangrams_use_every_letter_and_digit() -> None:
    assert set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") <= set(PANGRAM_EN)
    assert set("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ") <= set(PANGRAM_RU)
    assert set("0123456789") == set(DIGITS)


def test_next_fixed_time_is_the_next_one_today_or_tomorrow() -> None:
    times = parse_times("18:00, 06:00")
    day = datetime(2026, 11, 21, tzinfo=UTC)
    assert day.replace(hour=6) == next_fixed(day.replace(hour=5, minute=59), times)
    assert day.replace(hour=18) == next_fixed(day.replace(hour=6), times)
    assert day.replace(day=22, hour=6) == next_fixed(day.replace(hour=18), times)


def test_a_bad_time_of_day_is_refused() -> None:
    with pytest.raises(Exception) as caught:
        parse_times("6h00")
    assert "HH:MM" in str(caught.value)


@pytest.fixture
def timed(make_pair: MakePair, clock: Any) -> Iterator[Pair]:
    clock.set(datetime(2026, 11, 21, 5, 0, tzinfo=UTC))
    settings = {"link_test_times": "06:00,18:00", "link_test_timeout_s": 120}
    with make_pair(us=settings, ru=settings) as made:
        yield made


def test_a_schedule_at_fixed_utc_times_fires_exactly_then(timed: Pair, clock: Any) -> None:
    clock.set(datetime(2026, 11, 21, 5, 59, 59, tzinfo=UTC))
    timed.us.links.tick()
    assert 0 == timed.us.links.report("ru")[0]["sent"]
    clock.advance(1)  # 06:00:00
    timed.us.links.tick()
    timed.us.links.tick()
    assert 1 == timed.us.links.report("ru")[0]["sent"]
    timed.flush()
    clock.set(datetime(2026, 11, 21, 17, 59, 59, tzinfo=UTC))
    timed.us.links.tick()
    assert 1 == timed.us.links.report("ru")[0]["sent"]
    clock.advance(1)  # 18:00:00
    timed.us.links.tick()
    report = timed.us.links.report("ru")[0]
    assert (2, "up") == (report["sent"], report["state"])


@pytest.fixture
def hourly(make_pair: MakePair, clock: Any) -> Iterator[Pair]:
    settings = {"link_test_interval_s": 60, "link_test_timeout_s": 10}
    with make_pair(us=settings, ru=settings) as made:
        yield made


def test_a_passed_test_records_its_round_trip(hourly: Pair, clock: Any) -> None:
    test = hourly.us.links.send_test("ru")
    hourly.deliver("us", "ru")
    clock.advance(0.25)
    hourly.deliver("ru", "us")  # the automatic answer
    done = hourly.us.links.get_test("ru", test["id"])
    assert ("passed", 250) == (done["state"], done["rtt_ms"])
    assert [] == hourly.ru.line.listing("in")[1:]  # only the test itself, answered by machine


def test_missed_tests_raise_one_alarm_and_recovery_clears_it(hourly: Pair, clock: Any) -> None:
    hourly.us.links.tick()  # test 1 at t0; the peer gets nothing (no delivery)
    clock.advance(10)
    hourly.us.links.tick()  # t0+10: test 1 fails, alarm raised
    clock.advance(50)
    hourly.us.links.tick()  # t0+60: test 2 sent
    clock.advance(10)
    hourly.us.links.tick()  # t0+70: test 2 fails: still one alarm
    alarms = hourly.us.alarms.listing()
    assert [("link_down", "ru", "open")] == [(a["kind"], a["subject"], a["state"]) for a in alarms]
    clock.advance(5)
    hourly.flush()  # t0+75: the line carries traffic again
    alarm = hourly.us.alarms.listing()[0]
    assert ("cleared", "auto", 65) == (alarm["state"], alarm["cleared_by"], alarm["duration_s"])
    report = hourly.us.links.report("ru")[0]
    assert (2, 0, 2, "down") == (
        report["sent"],
        report["passed"],
        report["failed"],
        report["state"],
    )  # late answers do not turn failures into passes


def test_an_alarm_is_cleared_by_a_person_only_with_a_reason(hourly: Pair, clock: Any) -> None:
    hourly.us.links.tick()
    clock.advance(10)
    hourly.us.links.tick()
    alarm_id = hourly.us.alarms.listing("open")[0]["id"]
    with pytest.raises(ValidationError):
        hourly.us.alarms.clear(alarm_id, "duty1", "  ")
    cleared = hourly.us.alarms.clear(alarm_id, "duty1", "peer announced maintenance")
    assert ("duty1", "peer announced maintenance") == (
        cleared["cleared_by"],
        cleared["clear_reason"],
    )
    with pytest.raises(Conflict):
        hourly.us.alarms.clear(alarm_id, "duty2", "again")
    assert 1 == len(hourly.us.alarms.listing())  # the history is kept


def _test(state: str, sent: str, rtt: int | None = None, end: str | None = None) -> dict[str, Any]:
    base = "2026-11-21T"
    return {
        "state": state,
        "sent_at": base + sent + ".000Z",
        "rtt_ms": rtt,
        "reply_at": base + end + ".000Z" if end and state == "passed" else None,
        "failed_at": base + end + ".000Z" if end and state == "failed" else None,
    }


def test_the_link_report_figures_for_a_known_sequence() -> None:
    tests = [
        _test("passed", "00:00:00", 100, "00:00:01"),
        _test("passed", "01:00:00", 300, "01:00:01"),
        _test("failed", "02:00:00", None, "02:02:00"),
        _test("failed", "03:00:00", None, "03:02:00"),
        _test("passed", "04:00:00", 200, "04:00:30"),
        _test("failed", "05:00:00", None, "05:02:00"),
        _test("passed", "06:00:00", 400, "06:00:10"),
        _test("pending", "07:00:00"),
    ]
    report = summarise("ru", tests)
    assert {
        "peer": "ru",
        "sent": 8,
        "passed": 4,
        "failed": 3,
        "availability_pct": 57.14,
        "rtt_ms": {"p50": 200.0, "p95": 400.0, "max": 400},
        "last_rtt_ms": 400,
        "longest_outage_s": 2 * 3600 + 30,
        "state": "up",
        "last_test": "2026-11-21T07:00:00.000Z",
    } == report


def test_an_outage_still_running_counts_to_its_last_failure() -> None:
    tests = [
        _test("passed", "00:00:00", 100, "00:00:01"),
        _test("failed", "01:00:00", None, "01:02:00"),
        _test("failed", "02:00:00", None, "02:02:00"),
    ]
    assert 3600 + 120 == longest_outage(tests)


# -- deadlines and escalation --------------------------------------------------------------


@pytest.fixture
def ladder(make_pair: MakePair) -> Iterator[Pair]:
    with make_pair(ru={"files": {"contacts.json": CONTACTS}}) as made:
        yield made


def kinds(pair: Pair, message_id: str) -> list[str]:
    return [step["kind"] for step in pair.us.show(message_id)["trail"]]


def test_a_received_message_shows_its_deadline(ladder: Pair) -> None:
    sent = ladder.us.line.send(to="ru", text="FLASH", precedence="FLASH", user="o")
    ladder.flush()
    created = datetime.fromisoformat(sent["created"].replace("Z", "+00:00"))
    expected = (created + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert expected == ladder.ru.line.listing("in")[0]["deadline"] == sent["deadline"]


def test_an_unacknowledged_flash_climbs_the_ladder_until_acknowledged(
    ladder: Pair, clock: Any
) -> None:
    sent = ladder.us.line.send(
        to="ru", text="Missile impact near the border", precedence="FLASH", user="o"
    )
    ladder.flush()
    clock.advance(599)
    ladder.us.deadlines.tick()
    assert ["created", "delivered"] == kinds(ladder, sent["id"])
    assert [] == ladder.us.alarms.listing()
    clock.advance(1)  # 10 min: step 1, to the watch commander
    ladder.us.deadlines.tick()
    ladder.us.deadlines.tick()  # once per step, however often the clock ticks
    ladder.flush()
    assert ["created", "delivered", "escalated"] == kinds(ladder, sent["id"])
    escalated = [m for m in ladder.ru.line.listing("in") if m["type"] == "escalation"]
    assert [("watch", sent["id"])] == [
        (m["body"]["contact_id"], m["body"]["of_message"]) for m in escalated
    ]
    clock.advance(600)  # 20 min: step 2, to the chief of staff
    ladder.us.deadlines.tick()
    ladder.flush()
    assert ["created", "delivered", "escalated", "escalated"] == kinds(ladder, sent["id"])
    assert 1 == len(ladder.us.alarms.listing("open"))
    clock.advance(120)  # the chief of staff acknowledges the escalation: the ladder stops
    ack_time = ladder.ru.line.now()
    chief = next(m for m in ladder.ru.line.listing("in") if m["type"] == "escalation")
    ladder.ru.line.acknowledge(chief["id"], "chief")
    ladder.flush()
    shown = ladder.us.show(sent["id"])
    assert ("acknowledged", "ru:chief", ack_time) == (
        shown["state"],
        shown["acked_by"],
        shown["acked_at"],
    )
    assert [] == ladder.us.alarms.listing("open")
    clock.advance(3600)
    ladder.us.deadlines.tick()
    assert 2 == kinds(ladder, sent["id"]).count("escalated")
    assert all(m["state"] == "acknowledged" for m in ladder.ru.line.listing("in"))


def test_an_acknowledgement_before_the_deadline_stops_everything(ladder: Pair, clock: Any) -> None:
    sent = ladder.us.line.send(to="ru", text="x", precedence="IMMEDIATE", user="o")
    ladder.flush()
    ladder.ru.line.acknowledge(sent["id"], "duty")
    ladder.flush()
    clock.advance(3 * 3600)
    ladder.us.deadlines.tick()
    assert "escalated" not in kinds(ladder, sent["id"])
    assert [] == ladder.us.alarms.listing()


def test_without_contacts_the_alarm_is_raised_and_nothing_is_readdressed(
    pair: Pair, clock: Any
) -> None:
    sent = pair.us.line.send(to="ru", text="x", precedence="FLASH", user="o")
    pair.flush()
    clock.advance(601)
    pair.us.deadlines.tick()
    pair.us.deadlines.tick()
    assert [("ack_overdue", sent["id"])] == [
        (a["kind"], a["subject"]) for a in pair.us.alarms.listing()
    ]
    assert 1 == kinds(pair, sent["id"]).count("escalation_exhausted")


def test_metrics_need_a_token_and_show_the_link_and_alarms(hourly: Pair, clock: Any) -> None:
    hourly.us.links.send_test("ru")
    hourly.flush()
    url = hourly.servers["us"].url + "/metrics"
    assert 401 == httpx.get(url).status_code
    text = httpx.get(url, headers={"Authorization": f"Bearer {token(hourly.us)}"}).text
    assert 'hotline_link_up{peer="ru"} 1.0' in text
    assert 'hotline_unacknowledged_messages{direction="out",precedence="FLASH"} 0.0' in text
    assert "hotline_link_rtt_seconds" in text

"""Link tests, acknowledgement deadlines, escalation and alarms, with a controllable clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hotline.domain.links import DIGITS, PANGRAM_EN, PANGRAM_RU
from hotline.errors import ConfigError, Conflict, ValidationError
from hotline.services import alarms as alarms_service
from hotline.services.line import links as links_service
from hotline.services.line.links import (
    link_state,
    longest_outage,
    next_fixed,
    parse_times,
    summarise,
)
from hotline.testing import HTTP_TIMEOUT_S
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
    with pytest.raises(ConfigError) as caught:
        parse_times("6h00")
    assert "config" == caught.value.code
    assert "HH:MM" in str(caught.value)  # says what a time looks like


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


def test_a_peer_with_its_own_schedule_is_tested_then_and_others_keep_the_nodes() -> None:
    node = links_service.Schedule(timedelta(hours=1))
    own = links_service.parse_peer_schedules("ru=06:00,18:00; ua = 1800", node)
    start = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    ru, ua = own["ru"], own["ua"]

    assert "by" not in own  # not named: the node's schedule applies
    assert not ru.due(None, start, start.replace(hour=5, minute=59, second=59))
    assert ru.due(None, start, start.replace(hour=6))
    assert not ru.due(start.replace(hour=6), start, start.replace(hour=17, minute=59))
    assert ua.due(None, start, start)  # an interval schedule tests at once
    assert not ua.due(start, start, start + timedelta(seconds=1799))
    assert ua.due(start, start, start + timedelta(seconds=1800))
    assert not node.due(start, start, start + timedelta(seconds=1800))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ru", "not PEER=SCHEDULE"),
        ("RU=1800", "not PEER=SCHEDULE"),
        ("ru=", "not PEER=SCHEDULE"),
        ("ru=0", "at least 1 s"),
        ("ru=6h00", "link_test_peers: ru: '6h00' is not HH:MM"),
        ("ru=60; ru=120", "given twice"),
    ],
)
def test_a_bad_peer_schedule_is_refused_saying_what(text: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        links_service.parse_peer_schedules(text, links_service.Schedule(timedelta(hours=1)))
    assert "config" == caught.value.code
    assert words in str(caught.value)  # names the peer and what is wrong


def test_a_node_tests_a_peer_on_the_peers_own_schedule(make_pair: MakePair, clock: Any) -> None:
    clock.set(datetime(2026, 11, 21, 5, 0, tzinfo=UTC))
    us = {"link_test_interval_s": 60, "link_test_peers": "ru=06:00"}
    with make_pair(us=us) as pair:
        pair.us.links.tick()
        clock.advance(30 * 60)  # 05:30: the node's 60 s would have fired long ago
        pair.us.links.tick()
        assert 0 == pair.us.links.report("ru")[0]["sent"]
        before = pair.us.links.report("ru")[0]
        clock.set(datetime(2026, 11, 21, 6, 0, tzinfo=UTC))
        pair.us.links.tick()
        after = pair.us.links.report("ru")[0]
    assert ("06:00 UTC", "2026-11-21T06:00:00.000Z") == (before["schedule"], before["next_test"])
    assert (1, "2026-11-22T06:00:00.000Z") == (after["sent"], after["next_test"])


@pytest.fixture
def hourly(make_pair: MakePair, clock: Any) -> Iterator[Pair]:
    settings = {"link_test_interval_s": 60, "link_test_timeout_s": 10, "link_down_after_s": 10}
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


@pytest.fixture
def scrape(hourly: Pair) -> Callable[[], str]:
    """The ``us`` node's /metrics page, as a logged-in operator's scraper reads it."""
    bearer = token(hourly.us)
    url = hourly.servers["us"].url + "/metrics"
    return lambda: (
        httpx.get(url, headers={"Authorization": f"Bearer {bearer}"}, timeout=HTTP_TIMEOUT_S).text
    )


def test_missed_tests_raise_one_alarm_and_recovery_clears_it(
    hourly: Pair, clock: Any, scrape: Callable[[], str]
) -> None:
    hourly.us.links.tick()  # test 1 at t0; the peer gets nothing (no delivery)
    clock.advance(10)
    hourly.us.links.tick()  # t0+10: test 1 fails, alarm raised
    clock.advance(50)
    hourly.us.links.tick()  # t0+60: test 2 sent
    clock.advance(10)
    hourly.us.links.tick()  # t0+70: test 2 fails: still one alarm
    alarms = hourly.us.alarms.listing()
    assert [("link_down", "ru", "open")] == [(a["kind"], a["subject"], a["state"]) for a in alarms]
    assert "down" == hourly.us.links.report("ru")[0]["state"]
    assert 'hotline_link_up{peer="ru"} 0.0' in scrape().splitlines()
    clock.advance(5)
    hourly.flush()  # t0+75: the line carries traffic again (late answers to both tests)
    alarm = hourly.us.alarms.listing()[0]
    report = hourly.us.links.report("ru")[0]
    # One outage, from test 1's sending (t0) to the first valid answer (t0+75), measured
    # alike by the alarm and by the report.
    assert ("cleared", "auto") == (alarm["state"], alarm["cleared_by"])
    assert 75 == alarm["duration_s"] == report["longest_outage_s"]
    assert (2, 0, 2, "up") == (
        report["sent"],
        report["passed"],
        report["failed"],
        report["state"],
    )  # late answers do not turn failures into passes, but the link is up again
    assert 'hotline_link_up{peer="ru"} 1.0' in scrape().splitlines()


def test_an_answer_after_a_person_cleared_the_alarm_measures_the_whole_outage(
    hourly: Pair, clock: Any
) -> None:
    hourly.us.links.tick()  # test 1 at t0
    clock.advance(10)
    hourly.us.links.tick()  # t0+10: fails, alarm 1
    first = hourly.us.alarms.listing("open")[0]["id"]
    hourly.us.alarms.clear(first, "duty1", "peer announced maintenance")
    clock.advance(50)
    hourly.us.links.tick()  # t0+60: test 2
    clock.advance(10)
    hourly.us.links.tick()  # t0+70: fails, alarm 2 (the outage goes on)
    clock.advance(20)
    hourly.flush()  # t0+90
    second = hourly.us.alarms.listing()[0]
    report = hourly.us.links.report("ru")[0]
    assert ("auto", 90) == (second["cleared_by"], second["duration_s"])
    assert 90 == report["longest_outage_s"]


def test_the_default_link_test_timeout_is_two_minutes(pair: Pair, clock: Any) -> None:
    test = pair.us.links.send_test("ru")
    clock.advance(119)
    pair.us.links.tick()
    assert "pending" == pair.us.links.get_test("ru", test["id"])["state"]
    clock.advance(1)
    pair.us.links.tick()
    failed = pair.us.links.get_test("ru", test["id"])
    assert ("failed", "no answer within 120 s") == (failed["state"], failed["reason"])


def test_a_garbled_pangram_fails_the_test_and_raises_the_alarm(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(links_service, "PANGRAM_RU", PANGRAM_RU.replace("Ё", "Е"))
    test = pair.us.links.send_test("ru")  # as if a letter were lost on the way
    monkeypatch.undo()
    pair.flush()
    reply = next(m for m in pair.ru.line.listing("out") if m["type"] == "link_test_reply")
    failed = pair.us.links.get_test("ru", test["id"])
    assert (False, "failed", "the pangrams arrived garbled") == (
        reply["body"]["intact"],
        failed["state"],
        failed["reason"],
    )
    assert [("link_down", "ru", "open")] == [
        (a["kind"], a["subject"], a["state"]) for a in pair.us.alarms.listing()
    ]
    assert "down" == pair.us.links.report("ru")[0]["state"]


def test_the_current_state_does_not_depend_on_the_report_window(hourly: Pair, clock: Any) -> None:
    hourly.us.links.send_test("ru")
    hourly.flush()
    clock.advance(30)
    report = hourly.us.links.report("ru", since_s=0)[0]
    assert (0, None, "up") == (report["sent"], report["availability_pct"], report["state"])


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
        "tests_passed_pct": 57.14,
        "rtt_ms": {"p50": 200, "p95": 400, "max": 400},
        "last_rtt_ms": 400,
        "longest_outage_s": 2 * 3600 + 30,
        "state": "up",
        "last_test": "2026-11-21T07:00:00.000Z",
    } == report
    assert {int} == {type(v) for v in report["rtt_ms"].values()}  # 200.0 == 200 in Python


def test_a_late_answer_ends_the_outage_and_the_link_is_up() -> None:
    late = _test("failed", "01:00:00", None, "01:02:00") | {
        "reply_at": "2026-11-21T01:40:00.000Z",
        "rtt_ms": 2_400_000,
    }
    tests = [_test("passed", "00:00:00", 100, "00:00:01"), late]
    assert ("up", 40 * 60) == (link_state(tests), longest_outage(tests))
    report = summarise("ru", tests)
    assert (1, 1, 40 * 60) == (report["passed"], report["failed"], report["longest_outage_s"])


def test_a_test_lost_before_a_later_one_passed_starts_no_outage() -> None:
    """A test sent while the peer restarted is declared failed only after its timeout; by
    then the next test, sent later, has passed: the link is up, and was not down after
    that answer (before, the late failure put the link "down" again until the next test)."""
    tests = [
        _test("passed", "00:00:00", 100, "00:00:01"),
        _test("failed", "01:00:00", None, "01:02:00"),  # lost in the restart
        _test("passed", "01:00:30", 150, "01:00:31"),  # sent after it, answered first
    ]
    assert ("up", 0) == (link_state(tests), longest_outage(tests))
    # a failure of a test sent after the last answer still starts one
    tests.append(_test("failed", "01:10:00", None, "01:12:00"))
    assert ("down", 2 * 60) == (link_state(tests), longest_outage(tests))


def test_the_state_before_any_test_is_decided_is_unknown() -> None:
    assert "unknown" == link_state([_test("pending", "00:00:00")])


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
    """Both sides have a ladder: the escalation climbs the SENDER's own (issue 15)."""
    files = {"files": {"contacts.json": CONTACTS}}
    with make_pair(us=files, ru=files) as made:
        yield made


def kinds(pair: Pair, message_id: str) -> list[str]:
    return [step["kind"] for step in pair.us.show(message_id)["trail"]]


def plus(created: str, seconds: int) -> str:
    when = datetime.fromisoformat(created.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_received_message_shows_its_deadline(ladder: Pair) -> None:
    sent = ladder.us.line.send(to="ru", text="FLASH", precedence="FLASH", user="o")
    ladder.flush()
    expected = plus(sent["created"], 600)
    assert expected == ladder.ru.line.listing("in")[0]["deadline"] == sent["deadline"]
    assert expected == ladder.us.show(sent["id"])["envelope"]["ack_by"]  # signed, on the wire


def test_machine_messages_carry_no_deadline_on_the_wire(pair: Pair) -> None:
    test = pair.us.links.send_test("ru")
    shown = pair.us.show(test["message_id"])
    assert (None, False) == (shown["deadline"], "ack_by" in shown["envelope"])


def test_both_sides_show_the_senders_deadline_however_each_is_configured(
    make_pair: MakePair, clock: Any
) -> None:
    with make_pair(us={"ack_flash_s": 300}, ru={"ack_flash_s": 900}) as pair:
        sent = pair.us.line.send(to="ru", text="x", precedence="FLASH", user="o")
        pair.flush()
        received = pair.ru.line.listing("in")[0]
        assert plus(sent["created"], 300) == sent["deadline"] == received["deadline"]
        clock.advance(299)  # the sender's setting, not the default 600 s, decides
        pair.us.deadlines.tick()
        assert [] == pair.us.alarms.listing()
        clock.advance(1)
        pair.us.deadlines.tick()
        [alarm] = pair.us.alarms.listing()
        assert ("ack_overdue", sent["deadline"]) == (alarm["kind"], alarm["detail"]["deadline"])


def test_an_unacknowledged_flash_climbs_our_own_ladder_until_acknowledged(
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
    clock.advance(1)  # 10 min: step 1, to OUR watch commander
    ladder.us.deadlines.tick()
    ladder.us.deadlines.tick()  # once per step, however often the clock ticks
    ladder.flush()
    assert ["created", "delivered", "escalated"] == kinds(ladder, sent["id"])
    step = ladder.us.show(sent["id"])["trail"][-1]["detail"]
    assert ("watch", "Начальник смены", "own", plus(sent["created"], 1200)) == (
        step["contact"],
        step["role_ru"],
        step["side"],
        step["next_at"],
    )
    [alarm] = ladder.us.alarms.listing("open")
    assert ("watch", "Watch commander", 1) == (
        alarm["detail"]["alert"],
        alarm["detail"]["alert_role_en"],
        alarm["detail"]["step"],
    )
    # nothing went to the peer: its inbox holds the original alone, our outbox too
    assert [sent["id"]] == [m["id"] for m in ladder.ru.line.listing("in")]
    assert [sent["id"]] == [m["id"] for m in ladder.us.line.listing("out")]
    clock.advance(600)  # 20 min: step 2, to our chief of staff
    ladder.us.deadlines.tick()
    assert ["created", "delivered", "escalated", "escalated"] == kinds(ladder, sent["id"])
    assert "chief" == ladder.us.alarms.listing("open")[0]["detail"]["alert"]
    clock.advance(600)  # 30 min: no rung left
    ladder.us.deadlines.tick()
    assert "escalation_exhausted" == kinds(ladder, sent["id"])[-1]
    clock.advance(120)  # the peer's duty desk acknowledges the original: the ladder stops
    ack_time = ladder.ru.line.now()
    ladder.ru.line.acknowledge(sent["id"], "duty")
    ladder.flush()
    shown = ladder.us.show(sent["id"])
    assert ("acknowledged", "ru:duty", ack_time) == (
        shown["state"],
        shown["acked_by"],
        shown["acked_at"],
    )
    assert [] == ladder.us.alarms.listing("open")
    clock.advance(3600)
    ladder.us.deadlines.tick()
    assert 2 == kinds(ladder, sent["id"]).count("escalated")
    assert [sent["id"]] == [m["id"] for m in ladder.us.line.listing("out") if m["type"] != "ack"]


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


def samples(text: str, name: str) -> dict[str, float]:
    """``{'kind="link_down"': 1.0, …}``: the sample lines of one metric, by labels."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name) + 1 :].rsplit("} ", 1)
            out[labels] = float(value)
    return out


def test_metrics_need_a_token_and_show_the_link_and_alarms(
    hourly: Pair, clock: Any, scrape: Callable[[], str]
) -> None:
    hourly.us.links.send_test("ru")
    hourly.deliver("us", "ru")
    clock.advance(0.25)
    hourly.deliver("ru", "us")
    hourly.us.line.send(to="ru", text="x", precedence="FLASH", user="o")
    assert (
        401 == httpx.get(hourly.servers["us"].url + "/metrics", timeout=HTTP_TIMEOUT_S).status_code
    )
    text = scrape()
    assert {'peer="ru"': 1.0} == samples(text, "hotline_link_up")
    assert {'peer="ru"': 0.25} == samples(text, "hotline_link_rtt_seconds")
    unacked = samples(text, "hotline_unacknowledged_messages")
    assert (1.0, 0.0) == (
        unacked['direction="out",precedence="FLASH"'],
        unacked['direction="out",precedence="ROUTINE"'],
    )
    nothing_open = {f'kind="{kind}"': 0.0 for kind in alarms_service.KINDS}
    assert nothing_open == samples(text, "hotline_open_alarms")
    clock.advance(601)  # the FLASH is overdue; no contacts, so only the alarm
    hourly.us.deadlines.tick()
    assert nothing_open | {'kind="ack_overdue"': 1.0} == samples(scrape(), "hotline_open_alarms")

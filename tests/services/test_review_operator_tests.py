"""Hostile review of operator tests: one ``operator_unanswered`` alarm per peer, cleared by
the late answer to *any* test. The 06:00 test answered late at 18:15 clears the alarm
although the 18:00 test is still unanswered: the console says somebody answers when
nobody answers now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hotline.clock import FakeClock
from tests.conftest import MakePair, Pair

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


@pytest.fixture
def line(make_pair: MakePair, clock: FakeClock) -> Iterator[Pair]:
    clock.set(T0)
    with make_pair(us={}, ru={}) as made:
        yield made


def test_a_late_answer_to_an_old_test_does_not_clear_a_newer_unanswered_one(
    line: Pair, clock: FakeClock
) -> None:
    morning = line.us.operator_tests.send("ru")
    line.flush()
    clock.set(T0 + timedelta(minutes=11))
    line.us.operator_tests.tick()  # 06:10 passed: unanswered, alarm
    clock.set(T0 + timedelta(hours=12))
    evening = line.us.operator_tests.send("ru")
    line.flush()
    clock.set(T0 + timedelta(hours=12, minutes=11))
    line.us.operator_tests.tick()  # the 18:00 test unanswered too
    states = {t["id"]: t["state"] for t in line.us.operator_tests.listing("out")}
    assert {morning["id"]: "unanswered", evening["id"]: "unanswered"} == states

    clock.set(T0 + timedelta(hours=12, minutes=15))
    line.ru.operator_tests.answer(morning["id"], "ofitser")  # the old one, late
    line.flush()

    states = {t["id"]: t["state"] for t in line.us.operator_tests.listing("out")}
    assert "unanswered" == states[evening["id"]]
    open_now = [
        a["subject"] for a in line.us.alarms.listing("open") if a["kind"] == "operator_unanswered"
    ]
    assert ["ru"] == open_now  # the 18:00 test is still unanswered

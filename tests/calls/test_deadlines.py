"""No answer by the deadline: the request becomes unanswered exactly then, on both nodes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.clock import FakeClock, parse_rfc3339, rfc3339
from hotline.errors import Conflict
from tests.calls.conftest import OFFICER
from tests.conftest import Pair


def ask(pair: Pair, clock: FakeClock, *, answer_in: timedelta) -> dict[str, Any]:
    start = rfc3339(clock.now() + timedelta(days=2))
    made = pair.us.calls.requests.request(
        to="ru",
        principal="secdef",
        counterpart="minister",
        topics=["Communication between the ministries"],
        slots=[{"start": start, "minutes": 60}],
        answer_by=rfc3339(clock.now() + answer_in),
        user=OFFICER,
    )
    pair.flush()
    return made


def states(pair: Pair, request_id: str) -> tuple[str, str]:
    return (
        pair.us.calls.requests.get(request_id)["state"],
        pair.ru.calls.requests.get(request_id)["state"],
    )


def timeline(pair: Pair, party: str, request_id: str) -> list[tuple[str, str, str]]:
    shown = pair.node(party).calls.requests.get(request_id)
    return [(e["at"], e["kind"], e["party"]) for e in shown["timeline"]]


def test_unanswered_exactly_at_the_deadline_not_a_moment_before(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    made = ask(pair, clock, answer_in=timedelta(hours=6))
    deadline = parse_rfc3339(made["answer_by"])

    clock.set(deadline - timedelta(milliseconds=1))
    pair.ru.calls.tick()  # the scheduler's job, on the other node
    assert [] == pair.us.calls.requests.check_deadlines()
    assert ("requested", "requested") == states(pair, made["id"])

    clock.set(deadline)
    with pytest.raises(Conflict, match="has passed"):  # even before any check has run
        pair.ru.calls.requests.answer(made["id"], answer="decline", reason="Late", user=OFFICER)
    assert [made["id"]] == pair.us.calls.requests.check_deadlines()
    pair.ru.calls.tick()
    assert ("unanswered", "unanswered") == states(pair, made["id"])
    last = pair.us.calls.requests.get(made["id"])["timeline"][-1]
    assert ("unanswered", made["answer_by"], "ru") == (last["kind"], last["at"], last["party"])
    assert timeline(pair, "us", made["id"]) == timeline(pair, "ru", made["id"])

    with pytest.raises(Conflict, match="the request is unanswered"):
        pair.ru.calls.requests.answer(made["id"], answer="decline", reason="Late", user=OFFICER)
    assert [] == pair.ru.line.listing("out")


def test_an_answer_made_in_time_counts_even_if_it_arrives_after_the_deadline(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    made = ask(pair, clock, answer_in=timedelta(hours=1))
    clock.advance(timedelta(minutes=59))
    pair.ru.calls.requests.answer(made["id"], answer="decline", reason="Not now", user=OFFICER)
    clock.advance(timedelta(minutes=5))  # the line was slow: us marks it unanswered first
    assert [made["id"]] == pair.us.calls.requests.check_deadlines()
    pair.flush()
    assert ("declined", "declined") == states(pair, made["id"])
    kinds = [e["kind"] for e in pair.us.calls.requests.get(made["id"])["timeline"]]
    assert ["requested", "declined"] == kinds


def test_a_proposal_starts_a_new_deadline_for_the_other_side(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    made = ask(pair, clock, answer_in=timedelta(hours=1))
    other = rfc3339(clock.now() + timedelta(days=3))
    proposed = pair.ru.calls.requests.answer(
        made["id"],
        answer="propose",
        slots=[{"start": other, "minutes": 30}],
        answer_by=rfc3339(clock.now() + timedelta(hours=4)),
        user=OFFICER,
    )
    pair.flush()
    assert ("proposed", "us") == (proposed["state"], proposed["awaiting"])
    clock.advance(timedelta(hours=2))  # past the first deadline, before the second
    assert [] == pair.us.calls.requests.check_deadlines()
    clock.advance(timedelta(hours=2))
    assert [made["id"]] == pair.ru.calls.requests.check_deadlines()
    last = pair.ru.calls.requests.get(made["id"])["timeline"][-1]
    assert ("unanswered", "us") == (last["kind"], last["party"])

"""Steps that cross on the wire leave both nodes in the same state, and refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.calls.conftest import AUDITOR, OFFICER
from tests.conftest import Pair

PEOPLE = [{"party": "us", "name": "A"}, {"party": "ru", "name": "B"}]


def asked(pair: Pair, clock: FakeClock) -> tuple[str, dict[str, Any]]:
    slot = {"start": rfc3339(clock.now() + timedelta(hours=3)), "minutes": 45}
    made = pair.us.calls.requests.request(
        to="ru",
        principal="cjcs",
        counterpart="cgs",
        topics=["Air safety over Syria"],
        slots=[slot],
        answer_by=rfc3339(clock.now() + timedelta(hours=2)),
        user=OFFICER,
    )
    pair.flush()
    return str(made["id"]), slot


def agreed(pair: Pair, request_id: str) -> tuple[Any, Any]:
    """Each node's state and timeline (without local user names)."""

    def seen(party: str) -> Any:
        shown = pair.node(party).calls.requests.get(request_id)
        return shown["state"], [(e["at"], e["kind"], e["party"]) for e in shown["timeline"]]

    return seen("us"), seen("ru")


def test_a_withdrawal_crossing_an_acceptance_leaves_both_withdrawn(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    request_id, slot = asked(pair, clock)
    clock.advance(60)
    pair.us.calls.requests.withdraw(request_id, reason="Overtaken by events", user=OFFICER)
    pair.ru.calls.requests.answer(request_id, answer="accept", slot=slot, user=OFFICER)
    pair.flush()
    us, ru = agreed(pair, request_id)
    assert us == ru
    assert ("withdrawn", ["requested", "accepted", "withdrawn"]) == (
        us[0],
        [kind for _, kind, _ in us[1]],
    )


def test_when_both_sides_record_the_call_the_requesters_record_stands(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    request_id, slot = asked(pair, clock)
    pair.ru.calls.requests.answer(request_id, answer="accept", slot=slot, user=OFFICER)
    pair.flush()
    clock.advance(timedelta(hours=4))
    pair.us.calls.records.record(
        request_id, held_at=slot["start"], minutes=50, participants=PEOPLE, user=OFFICER
    )
    pair.ru.calls.records.record(
        request_id, held_at=slot["start"], minutes=40, participants=PEOPLE, user=OFFICER
    )
    pair.flush()
    records = [pair.node(p).calls.records.get_call(request_id) for p in ("us", "ru")]
    assert [(50, "us"), (50, "us")] == [(r["minutes"], r["recorded_by_party"]) for r in records]
    us, ru = agreed(pair, request_id)
    assert us == ru and "held" == us[0]


def test_a_held_call_stands_against_a_crossing_withdrawal(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    request_id, slot = asked(pair, clock)
    pair.ru.calls.requests.answer(request_id, answer="accept", slot=slot, user=OFFICER)
    pair.flush()
    clock.advance(timedelta(hours=4))
    pair.ru.calls.records.record(
        request_id, held_at=slot["start"], minutes=45, participants=PEOPLE, user=OFFICER
    )
    pair.us.calls.requests.withdraw(request_id, user=OFFICER)
    pair.flush()
    us, ru = agreed(pair, request_id)
    assert us == ru and "held" == us[0]


def test_refusals_name_what_is_wrong(calls_pair: Pair, clock: FakeClock) -> None:
    pair = calls_pair
    request_id, slot = asked(pair, clock)
    twice = [
        pair.us.calls.requests.request(
            to="ru",
            principal="secdef",
            counterpart="minister",
            topics=["Retry after a timeout"],
            slots=[slot],
            answer_by=rfc3339(clock.now() + timedelta(hours=1)),
            user=OFFICER,
            client_ref="retry-1",
        )["id"]
        for _ in range(2)
    ]
    assert twice[0] == twice[1]
    assert 2 == len([m for m in pair.us.line.listing("out") if m["type"] == "call_request"])
    requests = pair.us.calls.requests
    with pytest.raises(Conflict, match="waits for ru's answer"):
        requests.answer(request_id, answer="decline", reason="x", user=OFFICER)
    with pytest.raises(Forbidden, match="only the side that asked"):
        pair.ru.calls.requests.withdraw(request_id, user=OFFICER)
    other = {"start": rfc3339(clock.now() + timedelta(hours=5)), "minutes": 45}
    with pytest.raises(ValidationError, match="not one of the slots on the table"):
        pair.ru.calls.requests.answer(request_id, answer="accept", slot=other, user=OFFICER)
    with pytest.raises(ValidationError, match="'decline' needs reason"):
        pair.ru.calls.requests.answer(request_id, answer="decline", user=OFFICER)
    with pytest.raises(Forbidden, match="needs the role"):
        pair.ru.calls.requests.answer(request_id, answer="decline", reason="x", user=AUDITOR)
    requests.withdraw(request_id, user=OFFICER)
    with pytest.raises(Conflict, match="only an accepted call"):
        pair.us.calls.records.record(
            request_id, held_at=rfc3339(clock.now()), minutes=5, participants=PEOPLE, user=OFFICER
        )
    with pytest.raises(NotFound, match="no principal 'nobody'"):
        requests.request(
            to="ru",
            principal="cjcs",
            counterpart="nobody",
            topics=["x"],
            slots=[slot],
            answer_by=rfc3339(clock.now() + timedelta(hours=1)),
            user=OFFICER,
        )
    with pytest.raises(ValidationError, match="not in the future"):
        requests.request(
            to="ru",
            principal="cjcs",
            counterpart="cgs",
            topics=["x"],
            slots=[slot],
            answer_by=rfc3339(clock.now()),
            user=OFFICER,
        )


def test_a_call_is_held_after_it_was_requested_and_not_in_the_future(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    request_id, slot = asked(pair, clock)
    requested_at = pair.us.calls.requests.get(request_id)["requested_at"]
    pair.ru.calls.requests.answer(request_id, answer="accept", slot=slot, user=OFFICER)
    pair.flush()
    clock.advance(timedelta(hours=4))
    records = pair.us.calls.records
    early = rfc3339(clock.now() - timedelta(days=2))
    with pytest.raises(ValidationError, match=f"before the call was requested \\({requested_at}"):
        records.record(request_id, held_at=early, minutes=5, participants=PEOPLE, user=OFFICER)
    later = rfc3339(clock.now() + timedelta(minutes=1))
    with pytest.raises(ValidationError, match="is in the future"):
        records.record(request_id, held_at=later, minutes=5, participants=PEOPLE, user=OFFICER)
    assert "accepted" == pair.us.calls.requests.get(request_id)["state"]


@pytest.mark.parametrize(
    ("held_at", "problem"),
    [
        (timedelta(days=-2), "before it was requested"),
        (timedelta(hours=1), "in the future"),
    ],
)
def test_a_peers_record_outside_the_call_s_window_is_refused(
    calls_pair: Pair, clock: FakeClock, held_at: timedelta, problem: str
) -> None:
    pair = calls_pair
    request_id, slot = asked(pair, clock)
    pair.ru.calls.requests.answer(request_id, answer="accept", slot=slot, user=OFFICER)
    pair.flush()
    clock.advance(timedelta(hours=4))
    forged = {
        "call_id": request_id,
        "requested_by": "us",
        "held_at": rfc3339(clock.now() + held_at),
        "minutes": 30,
        "participants": PEOPLE,
        "interpreters": [],
    }
    # the service refuses such a record; a misbehaving peer can still put one on the wire
    with pair.ru.db.write() as conn:
        pair.ru.line.enqueue(
            conn,
            to="us",
            type_="call_record",
            body=forged,
            precedence="ROUTINE",
            lang="ru",
            user="mallory",
        )
    outcome = pair.deliver("ru", "us")
    assert outcome is not None and 0 == outcome.delivered
    assert problem in str(outcome.error)
    assert "accepted" == pair.us.calls.requests.get(request_id)["state"]

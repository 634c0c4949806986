"""The whole life of calls between two real nodes, through the operator API over HTTP.

The story follows the source articles: the two defence chiefs speak on 18 February; the
US side then asks again and again — declined, left unanswered — until, on 13 May, "the
first call in 84 days", at the request of the US side. Both sides write their readouts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hotline.clock import FakeClock
from tests.calls.conftest import Api, api
from tests.conftest import Pair

PARTICIPANTS = [
    {"party": "us", "name": "Lloyd Austin", "role": "Secretary of Defense"},
    {"party": "ru", "name": "Sergei Shoigu", "role": "Minister of Defence"},
]


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2022, month, day, hour, minute, tzinfo=UTC)


def request(us: Api, slot: str, answer_by: str, topic: str) -> dict[str, Any]:
    made = us.post(
        "/api/v1/calls/requests",
        {
            "to": "ru",
            "principal": "secdef",
            "counterpart": "minister",
            "topics": [topic],
            "slots": [{"start": slot, "minutes": 60}],
            "answer_by": answer_by,
            "precedence": "PRIORITY",
        },
    )
    assert isinstance(made, dict), made.text
    return made


def shared_state(person: Api, request_id: str) -> dict[str, Any]:
    """What both nodes must agree on about a request (no local-only fields)."""
    shown = person.get(f"/api/v1/calls/requests/{request_id}")
    keep = ("state", "slots", "accepted_slot", "answer_by", "awaiting", "reason", "topics")
    timeline = [{k: e[k] for k in ("at", "kind", "party", "detail")} for e in shown["timeline"]]
    return {**{k: shown[k] for k in keep}, "timeline": timeline}


def readable(view: dict[str, Any]) -> dict[str, list[tuple[str, ...]]]:
    """The readouts of a side-by-side view as a reader sees them."""
    return {
        party: [(r["title"], r["text"], r["lang"], r["published_at"]) for r in readouts]
        for party, readouts in view["sides"].items()
    }


def test_requested_declined_requested_again_accepted_held_and_both_readouts(
    calls_pair: Pair, clock: FakeClock
) -> None:
    us = api(calls_pair, "us", "duty", ["officer"])
    ru = api(calls_pair, "ru", "dezhurny", ["officer"])

    # 18 February: asked on the 10th, accepted, held.
    clock.set(at(2, 10))
    first = request(us, "2022-02-18T15:00:00Z", "2022-02-15T00:00:00Z", "risk reduction")
    calls_pair.flush()
    ru.post(
        f"/api/v1/calls/requests/{first['id']}/answer",
        {"answer": "accept", "slot": {"start": "2022-02-18T15:00:00Z", "minutes": 60}},
    )
    calls_pair.flush()
    clock.set(at(2, 18, 16))
    us.post(
        "/api/v1/calls",
        {
            "request_id": first["id"],
            "held_at": "2022-02-18T15:00:00Z",
            "minutes": 60,
            "participants": PARTICIPANTS,
        },
    )
    calls_pair.flush()

    # 1 March: declined.
    clock.set(at(3, 1))
    declined = request(us, "2022-03-03T15:00:00Z", "2022-03-02T12:00:00Z", "ceasefire")
    calls_pair.flush()
    answered = ru.post(
        f"/api/v1/calls/requests/{declined['id']}/answer",
        {"answer": "decline", "reason": "Not at this time."},
    )
    assert "declined" == answered["state"]
    calls_pair.flush()

    # 24 March: no answer by the deadline.
    clock.set(at(3, 24))
    ignored = request(us, "2022-03-28T15:00:00Z", "2022-03-26T12:00:00Z", "ceasefire")
    calls_pair.flush()
    clock.set(at(3, 26, 12))
    assert [[ignored["id"]], [ignored["id"]]] == [
        calls_pair.us.calls.requests.check_deadlines(),
        calls_pair.ru.calls.requests.check_deadlines(),
    ]

    # 10 May: asked again; the Russian side proposes the 13th instead; accepted; held.
    clock.set(at(5, 10))
    again = request(us, "2022-05-12T15:00:00Z", "2022-05-11T12:00:00Z", "immediate ceasefire")
    calls_pair.flush()
    ru.post(
        f"/api/v1/calls/requests/{again['id']}/answer",
        {
            "answer": "propose",
            "slots": [{"start": "2022-05-13T14:00:00Z", "minutes": 60}],
            "answer_by": "2022-05-12T18:00:00Z",
        },
    )
    calls_pair.flush()
    accepted = us.post(
        f"/api/v1/calls/requests/{again['id']}/answer",
        {"answer": "accept", "slot": {"start": "2022-05-13T14:00:00Z", "minutes": 60}},
    )
    assert ("accepted", None) == (accepted["state"], accepted["awaiting"])
    calls_pair.flush()
    clock.set(at(5, 13, 15, 10))
    held = ru.post(
        "/api/v1/calls",
        {
            "request_id": again["id"],
            "held_at": "2022-05-13T14:00:00Z",
            "minutes": 60,
            "participants": PARTICIPANTS,
            "interpreters": [{"party": "ru", "name": "Interpreter A"}],
        },
    )
    assert "us" == held["principals"]["requester"]["party"]
    calls_pair.flush()

    # Both sides write their own public readout, each in its own language.
    us.post(
        f"/api/v1/calls/{again['id']}/readouts",
        {
            "title": "Readout of Secretary Austin's call with Minister Shoigu",
            "text": "Secretary Austin urged an immediate ceasefire.",
            "visibility": "public",
        },
    )
    ru.post(
        f"/api/v1/calls/{again['id']}/readouts",
        {
            "title": "О телефонном разговоре",
            "text": "Обсуждены актуальные вопросы международной безопасности.",
            "visibility": "public",
        },
    )
    calls_pair.flush()

    for request_id in (first["id"], declined["id"], ignored["id"], again["id"]):
        assert shared_state(us, request_id) == shared_state(ru, request_id)

    side_by_side = us.get(f"/api/v1/calls/{again['id']}/readouts", visibility="public")
    assert {"us": ["en"], "ru": ["ru"]} == {
        party: [r["lang"] for r in readouts] for party, readouts in side_by_side["sides"].items()
    }
    on_ru = ru.get(f"/api/v1/calls/{again['id']}/readouts", visibility="public")
    assert readable(side_by_side) == readable(on_ru)

    clock.set(at(5, 20))
    history = us.get("/api/v1/calls/history", peer="ru", principal="secdef", counterpart="minister")
    assert [None, 84] == [c["days_since_previous"] for c in history["calls"]]
    assert ("2022-05-13T14:00:00.000Z", 7) == (
        history["last_contact"],
        history["days_since_last_contact"],
    )
    assert [declined["id"]] == [d["request_id"] for d in history["declined"]]
    assert [ignored["id"]] == [u["request_id"] for u in history["unanswered"]]
    assert {"held": 2, "declined": 1, "unanswered": 1} == history["by_state"]
    assert [
        "requested",
        "accepted",
        "held",
        "requested",
        "declined",
        "requested",
        "unanswered",
        "requested",
        "proposed",
        "accepted",
        "held",
    ] == [e["kind"] for e in history["timeline"]]
    theirs = ru.get("/api/v1/calls/history", peer="us", principal="minister", counterpart="secdef")
    assert history["timeline"] == theirs["timeline"]
    assert history["calls"] == theirs["calls"]

"""A FLASH call request is held for a second person like a FLASH message (two-person rule):
nothing is signed, sent or stored as a request until another person approves it, and then
it is the requester's request, with the hold and the approval in its message's trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hotline.clock import FakeClock, rfc3339
from hotline.storage.tables.core import users
from tests.calls.conftest import PRINCIPALS, Api, api, outbound_envelopes
from tests.conftest import MakePair, Pair


def call_request(clock: FakeClock, **changes: Any) -> dict[str, Any]:
    return {
        "to": "ru",
        "principal": "cjcs",
        "counterpart": "cgs",
        "topics": ["Missile launch notification", "Arctic exercise"],
        "slots": [{"start": rfc3339(clock.now() + timedelta(days=2)), "minutes": 45}],
        "answer_by": rfc3339(clock.now() + timedelta(days=1)),
        "precedence": "FLASH",
        "internal_note": "Principal wants this today",
    } | changes


def answered(who: Api, body: dict[str, Any]) -> httpx.Response:
    """The node's whole answer to a call request (``Api`` keeps only a success's JSON)."""
    who.get("/api/v1/held")  # logged in
    return who._send("POST", "/api/v1/calls/requests", body)


def officers(pair: Pair) -> tuple[Api, Api]:
    return api(pair, "us", "alpha", ["officer"]), api(pair, "us", "bravo", ["officer"])


def nothing_left_us(pair: Pair) -> None:
    """Nothing was signed nor stored as a request, and the peer received nothing."""
    pair.flush()
    assert [] == outbound_envelopes(pair.us)
    assert [] == pair.us.calls.requests.listing()
    assert [] == pair.ru.line.listing("in")
    assert [] == pair.ru.calls.requests.listing()


def test_a_flash_call_request_is_held_until_a_second_officer_approves_it(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    alpha, bravo = officers(pair)
    answer = answered(alpha, call_request(clock))
    assert 202 == answer.status_code, answer.text
    held = answer.json()
    assert ("held", "call", "alpha", "FLASH") == (
        held["state"],
        held["kind"],
        held["requested_by"],
        held["precedence"],
    )
    assert ["Missile launch notification", "Arctic exercise"] == held["payload"]["topics"]
    nothing_left_us(pair)

    own = alpha.post(f"/api/v1/held/{held['id']}/approve")
    assert (403, "forbidden") == (own.status_code, own.json()["error"]["code"])
    nothing_left_us(pair)

    approved = bravo.post(f"/api/v1/held/{held['id']}/approve")
    assert ("sent", "bravo") == (approved["state"], approved["decided_by"])
    [made] = pair.us.calls.requests.listing()
    assert ("alpha", "FLASH", approved["message_id"]) == (
        made["created_by"],
        made["precedence"],
        made["message_id"],
    )
    assert "Principal wants this today" == made["internal_note"]
    shown = pair.us.calls.requests.get(made["id"])
    assert [("requested", "us", "alpha")] == [
        (e["kind"], e["party"], e["user"]) for e in shown["timeline"]
    ]
    trail = pair.us.line.show(made["message_id"])["trail"]
    assert [("created", "alpha"), ("held", "alpha"), ("approved", "bravo")] == [
        (s["kind"], (s["detail"] or {}).get("by")) for s in trail
    ]

    pair.flush()
    [received] = pair.ru.calls.requests.listing()
    assert (made["id"], "requested", "FLASH") == (
        received["id"],
        received["state"],
        received["precedence"],
    )
    assert PRINCIPALS["us"][0]["name_en"] == received["requester"]["name_en"]
    assert received["internal_note"] is None  # the note stays on the requester's node
    # approving again sends nothing more
    assert made["message_id"] == pair.us.calls.requests.send_held(approved)
    assert 1 == len(outbound_envelopes(pair.us))


def test_a_rejected_flash_call_request_is_never_sent(calls_pair: Pair, clock: FakeClock) -> None:
    pair = calls_pair
    alpha, bravo = officers(pair)
    held = alpha.post("/api/v1/calls/requests", call_request(clock))
    rejected = bravo.post(f"/api/v1/held/{held['id']}/reject", {"reason": "Not now"})
    late = bravo.post(f"/api/v1/held/{held['id']}/approve")
    assert ("rejected", "Not now") == (rejected["state"], rejected["reason"])
    assert 409 == late.status_code
    nothing_left_us(pair)


def test_approval_after_the_answer_deadline_is_refused_and_it_stays_held(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    alpha, bravo = officers(pair)
    body = call_request(clock, answer_by=rfc3339(clock.now() + timedelta(hours=1)))
    held = alpha.post("/api/v1/calls/requests", body)

    clock.advance(timedelta(hours=1))
    late = bravo.post(f"/api/v1/held/{held['id']}/approve")

    assert (409, "conflict") == (late.status_code, late.json()["error"]["code"])
    assert body["answer_by"] in late.json()["error"]["message"]  # names the deadline
    assert "held" == pair.us.held.get(held["id"])["state"]  # still to be rejected
    nothing_left_us(pair)
    rejected = bravo.post(f"/api/v1/held/{held['id']}/reject", {"reason": "Too late"})
    assert "rejected" == rejected["state"]


def test_approval_is_refused_when_the_requester_is_disabled(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    alpha, bravo = officers(pair)
    held = alpha.post("/api/v1/calls/requests", call_request(clock))
    with pair.us.db.write() as conn:
        conn.execute(update(users).where(users.c.name == "alpha").values(disabled=1))

    refused = bravo.post(f"/api/v1/held/{held['id']}/approve")

    assert (409, "conflict") == (refused.status_code, refused.json()["error"]["code"])
    assert "alpha" in refused.json()["error"]["message"]  # names who is disabled
    assert "held" == pair.us.held.get(held["id"])["state"]
    nothing_left_us(pair)


@pytest.mark.parametrize(
    ("changes", "roles", "status", "says"),
    [
        ({"counterpart": "nobody"}, ["officer"], 404, "ru has no principal 'nobody'"),
        ({"principal": "nobody"}, ["officer"], 404, "'nobody' is not one of this party's"),
        ({"answer_by": "2020-01-01T00:00:00Z"}, ["officer"], 422, "is not in the future"),
        ({"to": "xx"}, ["officer"], 404, "no peer 'xx'"),
        ({}, ["auditor"], 403, "may not request a call"),
    ],
)
def test_a_bad_flash_call_request_is_refused_when_held_not_at_approval(
    calls_pair: Pair,
    clock: FakeClock,
    changes: dict[str, Any],
    roles: list[str],
    status: int,
    says: str,
) -> None:
    asker = api(calls_pair, "us", "asker", roles)
    answer = asker.post("/api/v1/calls/requests", call_request(clock, **changes))
    code = {404: "not_found", 422: "invalid", 403: "forbidden"}[status]
    assert (status, code) == (answer.status_code, answer.json()["error"]["code"]), answer.text
    assert says in answer.json()["error"]["message"]  # names what is wrong
    assert [] == calls_pair.us.held.listing()


def test_holding_is_idempotent_on_the_client_reference(calls_pair: Pair, clock: FakeClock) -> None:
    alpha, _bravo = officers(calls_pair)
    first = alpha.post("/api/v1/calls/requests", call_request(clock, client_ref="c-1"))
    again = alpha.post("/api/v1/calls/requests", call_request(clock, client_ref="c-1"))
    assert first["id"] == again["id"]
    assert [first["id"]] == [h["id"] for h in calls_pair.us.held.listing()]


@pytest.mark.parametrize("precedence", ["ROUTINE", "IMMEDIATE"])
def test_other_precedences_go_at_once(calls_pair: Pair, clock: FakeClock, precedence: str) -> None:
    alpha, _bravo = officers(calls_pair)
    answer = answered(alpha, call_request(clock, precedence=precedence))
    assert (201, "requested", precedence) == (
        answer.status_code,
        answer.json()["state"],
        answer.json()["precedence"],
    )
    assert [] == calls_pair.us.held.listing()
    calls_pair.flush()
    assert [answer.json()["id"]] == [r["id"] for r in calls_pair.ru.calls.requests.listing()]


def test_with_the_rule_off_a_flash_call_request_goes_at_once(
    make_pair: MakePair, clock: FakeClock
) -> None:
    files = {party: {"files": {"principals.json": PRINCIPALS[party]}} for party in PRINCIPALS}
    with make_pair(us=files["us"] | {"flash_two_person": False}, ru=files["ru"]) as pair:
        alpha, _bravo = officers(pair)
        answer = answered(alpha, call_request(clock))
        assert (201, "FLASH") == (answer.status_code, answer.json()["precedence"])
        assert [] == pair.us.held.listing()
        pair.flush()
        assert [answer.json()["id"]] == [r["id"] for r in pair.ru.calls.requests.listing()]

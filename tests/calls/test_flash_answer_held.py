"""The answer to a peer's FLASH call request goes out FLASH, so it is held for a second
person like every FLASH: nothing is signed or sent until another person approves it, and
then it is the answerer's answer, with the hold and the approval in its trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.errors import Forbidden
from hotline.services.auth import User
from tests.calls.conftest import PRINCIPALS, api, outbound_envelopes
from tests.conftest import MakePair, Pair
from tests.web.conftest import log_in

PASSWORD = "correct horse battery"


@pytest.fixture
def flash_pair(make_pair: MakePair) -> Iterator[Pair]:
    """A pair whose ru side sends FLASH at once (its own rule off): a FLASH request to us."""
    files = {
        party: {"files": {"principals.json": PRINCIPALS[party]}, "token_ttl_s": 10**9}
        for party in PRINCIPALS
    }
    with make_pair(us=files["us"], ru=files["ru"] | {"flash_two_person": False}) as made:
        yield made


def flash_request(pair: Pair, clock: FakeClock) -> dict[str, Any]:
    asker = api(pair, "ru", "ivanov", ["officer"])
    made = asker.post(
        "/api/v1/calls/requests",
        {
            "to": "us",
            "principal": "cgs",
            "counterpart": "cjcs",
            "topics": ["Missile launch notification"],
            "slots": [{"start": rfc3339(clock.now() + timedelta(days=2)), "minutes": 30}],
            "answer_by": rfc3339(clock.now() + timedelta(days=1)),
            "precedence": "FLASH",
        },
    )
    pair.flush()
    return dict(made)


def test_an_answer_to_a_flash_call_request_is_held_until_a_second_person_approves(
    flash_pair: Pair, clock: FakeClock
) -> None:
    pair = flash_pair
    request = flash_request(pair, clock)
    alpha, bravo = api(pair, "us", "alpha", ["officer"]), api(pair, "us", "bravo", ["officer"])
    alpha.get("/api/v1/held")  # logged in
    slot = request["slots"][0]

    held = alpha._send(
        "POST", f"/api/v1/calls/requests/{request['id']}/answer", {"answer": "accept", "slot": slot}
    )
    assert 202 == held.status_code, held.text
    row = held.json()
    assert ("held", "answer", "alpha", "FLASH") == (
        row["state"],
        row["kind"],
        row["requested_by"],
        row["precedence"],
    )
    assert [] == outbound_envelopes(pair.us)  # nothing signed
    assert "requested" == pair.us.calls.requests.get(request["id"])["state"]

    own = alpha.post(f"/api/v1/held/{row['id']}/approve")
    assert (403, "forbidden") == (own.status_code, own.json()["error"]["code"])

    approved = bravo.post(f"/api/v1/held/{row['id']}/approve")
    assert ("sent", "bravo") == (approved["state"], approved["decided_by"])
    shown = pair.us.line.show(approved["message_id"])
    assert ("call_answer", "FLASH", "alpha") == (
        shown["type"],
        shown["precedence"],
        shown["created_by"],
    )
    assert [("created", "alpha"), ("held", "alpha"), ("approved", "bravo")] == [
        (s["kind"], (s["detail"] or {}).get("by")) for s in shown["trail"]
    ]
    # approving again sends nothing more
    assert approved["message_id"] == pair.us.calls.requests.send_held_answer(approved)
    assert 1 == len(outbound_envelopes(pair.us))
    pair.flush()
    assert "accepted" == pair.ru.calls.requests.get(request["id"])["state"]


def test_a_bad_held_answer_is_refused_when_held(flash_pair: Pair, clock: FakeClock) -> None:
    pair = flash_pair
    request = flash_request(pair, clock)
    alpha = api(pair, "us", "alpha", ["officer"])
    alpha.get("/api/v1/held")
    other = {"start": rfc3339(clock.now() + timedelta(days=9)), "minutes": 30}
    answer = alpha._send(
        "POST",
        f"/api/v1/calls/requests/{request['id']}/answer",
        {"answer": "accept", "slot": other},
    )
    assert (422, "invalid") == (answer.status_code, answer.json()["error"]["code"])
    assert [] == pair.us.held.listing()


def test_the_service_refuses_an_unheld_flash_answer(flash_pair: Pair, clock: FakeClock) -> None:
    pair = flash_pair
    request = flash_request(pair, clock)
    pair.us.auth.add_user("alpha", PASSWORD, ["officer"])
    with pytest.raises(Forbidden):
        pair.us.calls.requests.answer(
            request["id"], answer="decline", reason="no", user=User("alpha", ("officer",))
        )
    assert [] == outbound_envelopes(pair.us)


def test_the_console_holds_a_flash_answer_for_the_watch(flash_pair: Pair, clock: FakeClock) -> None:
    pair = flash_pair
    request = flash_request(pair, clock)
    pair.us.auth.add_user("alpha", PASSWORD, ["officer"])
    pair.us.auth.add_user("bravo", PASSWORD, ["officer"])
    alpha = log_in(pair.servers["us"].url, "alpha", PASSWORD)
    bravo = log_in(pair.servers["us"].url, "bravo", PASSWORD)
    try:
        sent = alpha.post(
            f"/console/calls/requests/{request['id']}/answer",
            {"answer": "decline", "reason": "Not this week"},
        )
        [held] = pair.us.held.listing()
        assert (303, f"/console#held-{held['id']}") == (sent.status_code, sent.headers["location"])
        assert ("answer", "decline") == (held["kind"], held["payload"]["answer"])
        assert [] == outbound_envelopes(pair.us)
        assert f"approve-{held['id']}" in bravo.get("/console").text
        assert 303 == bravo.post(f"/console/held/{held['id']}/approve").status_code
    finally:
        alpha.http.close()
        bravo.http.close()
    pair.flush()
    assert "declined" == pair.ru.calls.requests.get(request["id"])["state"]

"""The two-person rule for FLASH: held, approved by a second person (never the requester),
or rejected with a reason; bad messages refused when held; the rule can be turned off."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hotline.errors import ConfigError, ValidationError
from hotline.storage.messages import OUT
from tests.conftest import MakePair, Pair
from tests.services.test_notices import example
from tests.web.conftest import log_in

PASSWORD = "correct horse"


@contextlib.contextmanager
def officers(pair: Pair) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two people on watch at the US node, each with their own token."""
    clients = []
    for name in ("alpha", "bravo"):
        pair.us.auth.add_user(name, PASSWORD, ["officer"])
        token = pair.us.auth.login(name, PASSWORD)[0]
        clients.append(
            httpx.Client(
                base_url=pair.servers["us"].url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        )
    try:
        yield clients[0], clients[1]
    finally:
        for client in clients:
            client.close()


def flash(text: str = "Missile launch detected; is it yours?") -> dict[str, Any]:
    return {"to": "ru", "text": text, "precedence": "FLASH", "lang": "en"}


def test_a_flash_is_held_until_a_second_person_approves_it(pair: Pair) -> None:
    with officers(pair) as (alpha, bravo):
        held = alpha.post("/api/v1/messages", json=flash())
        assert 202 == held.status_code
        row = held.json()
        assert ("held", "alpha", "text") == (row["state"], row["requested_by"], row["kind"])
        assert [] == pair.us.line.listing(OUT)  # nothing queued, nothing signed

        own = alpha.post(f"/api/v1/held/{row['id']}/approve")
        assert (403, "forbidden") == (own.status_code, own.json()["error"]["code"])

        approved = bravo.post(f"/api/v1/held/{row['id']}/approve").json()
        again = bravo.post(f"/api/v1/held/{row['id']}/approve")

    assert ("sent", "bravo") == (approved["state"], approved["decided_by"])
    assert (409, "conflict") == (again.status_code, again.json()["error"]["code"])
    assert "bravo" in again.json()["error"]["message"]  # names who sent it
    [sent] = pair.us.line.listing(OUT)
    assert (sent["id"], "FLASH") == (approved["message_id"], sent["precedence"])
    shown = pair.us.line.show(sent["id"])
    assert ["created", "held", "approved"] == [s["kind"] for s in shown["trail"]]
    assert ({"by": "alpha"}, {"by": "bravo"}) == (
        shown["trail"][1]["detail"],
        shown["trail"][2]["detail"],
    )
    assert "alpha" == shown["created_by"]
    pair.flush()
    [received] = pair.ru.line.listing("in")
    assert ("Missile launch detected; is it yours?", "FLASH") == (
        received["body"]["text"],
        received["precedence"],
    )


def test_a_rejected_flash_is_never_sent(pair: Pair) -> None:
    with officers(pair) as (alpha, bravo):
        row = alpha.post("/api/v1/messages", json=flash()).json()
        no_reason = bravo.post(f"/api/v1/held/{row['id']}/reject", json={"reason": " "})
        rejected = bravo.post(
            f"/api/v1/held/{row['id']}/reject", json={"reason": "Not confirmed by radar"}
        ).json()
        late = bravo.post(f"/api/v1/held/{row['id']}/approve")
        listed = alpha.get("/api/v1/held", params={"state": "all"}).json()

    assert 422 == no_reason.status_code
    assert ("rejected", "bravo", "Not confirmed by radar") == (
        rejected["state"],
        rejected["decided_by"],
        rejected["reason"],
    )
    assert 409 == late.status_code
    assert [] == pair.us.line.listing(OUT)
    assert [("rejected", None)] == [(r["state"], r["message_id"]) for r in listed]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({**flash(), "to": "xx"}, 404, "no peer 'xx'"),
        ({**flash(""), "text": ""}, 422, "text"),
        ({"to": "ru", "code": 9999, "precedence": "FLASH"}, 422, "unknown code 9999"),
    ],
)
def test_a_bad_flash_is_refused_when_held_not_at_approval(
    pair: Pair, body: dict[str, Any], status: int, says: str
) -> None:
    with officers(pair) as (alpha, _bravo):
        answer = alpha.post("/api/v1/messages", json=body)
        held = alpha.get("/api/v1/held").json()
    code = {404: "not_found", 422: "invalid"}[status]
    assert (status, code) == (answer.status_code, answer.json()["error"]["code"]), answer.text
    assert says in answer.json()["error"]["message"]  # names what is wrong
    assert [] == held


def test_holding_is_idempotent_on_the_client_reference(pair: Pair) -> None:
    with officers(pair) as (alpha, _bravo):
        first = alpha.post("/api/v1/messages", json={**flash(), "client_ref": "k-1"}).json()
        second = alpha.post("/api/v1/messages", json={**flash(), "client_ref": "k-1"}).json()
        held = alpha.get("/api/v1/held").json()
    assert first["id"] == second["id"]
    assert [first["id"]] == [h["id"] for h in held]


def test_a_flash_notice_is_held_then_sent_with_its_rules_and_rendering(pair: Pair) -> None:
    notice = example("incident_report")
    with officers(pair) as (alpha, bravo):
        row = alpha.post(
            "/api/v1/notices", json={"to": "ru", "notice": notice, "precedence": "FLASH"}
        ).json()
        done = bravo.post(f"/api/v1/held/{row['id']}/approve").json()
    pair.flush()
    [received] = pair.ru.line.listing("in")
    assert (done["message_id"], "incident_report") == (received["id"], received["type"])
    assert "INCIDENT REPORT" in pair.ru.show(received["id"])["rendering"]["en"]


def test_with_the_rule_off_a_flash_goes_at_once(make_pair: MakePair) -> None:
    with make_pair(us={"flash_two_person": False}) as pair, officers(pair) as (alpha, _bravo):
        answer = alpha.post("/api/v1/messages", json=flash())
    assert (201, "queued") == (answer.status_code, answer.json()["state"])


def test_the_console_holds_a_flash_and_a_second_officer_approves_it(pair: Pair) -> None:
    for name in ("alpha", "bravo"):
        pair.us.auth.add_user(name, PASSWORD, ["officer"])
    alpha = log_in(pair.servers["us"].url, "alpha", PASSWORD)
    bravo = log_in(pair.servers["us"].url, "bravo", PASSWORD)
    form = {"to": "ru", "text": "Break off the intercept", "precedence": "FLASH", "lang": "en"}

    sent = alpha.post("/console/compose/text", form)
    [held] = pair.us.held.listing()
    alpha_view = alpha.get("/console").text
    bravo_view = bravo.get("/console").text
    approved = bravo.post(f"/console/held/{held['id']}/approve")

    assert (303, f"/console#held-{held['id']}") == (sent.status_code, sent.headers["location"])
    assert "You asked for this message" in alpha_view and f"approve-{held['id']}" not in alpha_view
    assert f"approve-{held['id']}" in bravo_view and "Break off the intercept" in bravo_view
    [message] = pair.us.line.listing(OUT)
    assert 303 == approved.status_code
    assert f"/console/messages/{message['id']}" == approved.headers["location"]
    assert [] == pair.us.held.listing()


def test_other_capabilities_register_their_kinds_once_and_short(pair: Pair) -> None:
    requests = pair.us.calls.requests
    assert ("text", "code", "notice", "call", "answer") == pair.us.held.kinds
    for kind in ("call", "text", "call_request"):  # taken, or longer than the column
        with pytest.raises(ConfigError) as refused:
            pair.us.held.register(kind, requests.check_held, requests.send_held)
        assert "config" == refused.value.code
    with pytest.raises(ValidationError, match="one of text, code, notice, call, answer, not 'fax'"):
        pair.us.held.hold("fax", to="ru", payload={}, precedence="FLASH", lang=None, user="alpha")

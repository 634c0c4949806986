"""The operator API over real HTTP: authentication, validation, and the message life."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hotline.app import create_app
from hotline.services import policy
from hotline.testing import HTTP_TIMEOUT_S, ServerThread
from tests.api.test_policy import routes
from tests.conftest import MakeNode, Pair, token
from tests.services.test_line import stored


@pytest.fixture
def served(pair: Pair) -> Iterator[tuple[Pair, httpx.Client]]:
    """The ``us`` node of a pair with an operator logged in."""
    bearer = token(pair.us)
    with httpx.Client(
        base_url=pair.servers["us"].url,
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=HTTP_TIMEOUT_S,
    ) as client:
        yield pair, client


SAMPLE_ID = "6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


def operator_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) the app serves to operators, path parameters filled in.

    Read from the app itself, so a route added later is covered without a list to keep.
    Left out: ``/health`` and logging in (open by design), ``/console`` (cookie sessions,
    tested in ``tests/web``) and ``/federation`` (peers prove themselves by signature).
    """
    found = []
    for path, route in routes(app.routes):
        if path == "/health" or path.startswith(("/console", "/federation")):
            continue
        concrete = re.sub(r"\{(\w+)\}", lambda m: "ru" if m[1] == "peer" else SAMPLE_ID, path)
        found += [
            (method, concrete)
            for method in sorted(route.methods - {"HEAD"})
            if (method, path) not in policy.OPEN
        ]
    return found


def test_every_route_but_health_needs_a_token(pair: Pair) -> None:
    protected = operator_routes(pair.servers["us"].server.config.app)
    assert {("POST", "/api/v1/messages"), ("GET", "/metrics")} <= set(protected)
    assert len(protected) > 50
    before = stored(pair.us)
    let_through = []
    for method, path in protected:
        url = pair.servers["us"].url + path
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = httpx.request(
                method, url, headers=headers, json={"to": "ru", "text": "x"}, timeout=HTTP_TIMEOUT_S
            )
            answer = (
                response.status_code,
                response.json()["error"]["code"],
                response.headers.get("www-authenticate"),
            )
            if (401, "unauthenticated", "Bearer") != answer:
                let_through.append((method, path, headers, answer))
    assert [] == let_through
    assert before == stored(pair.us)


def test_health_needs_no_token(pair: Pair) -> None:
    response = httpx.get(pair.servers["us"].url + "/health", timeout=HTTP_TIMEOUT_S)
    assert (200, "ok", "us") == (
        response.status_code,
        response.json()["status"],
        response.json()["party"],
    )


def test_login_with_a_wrong_password_is_refused(pair: Pair) -> None:
    token(pair.us, "officer", "correct horse")
    response = httpx.post(
        pair.servers["us"].url + "/api/v1/login",
        json={"user": "officer", "password": "wrong"},
        timeout=HTTP_TIMEOUT_S,
    )
    assert (401, "unauthenticated") == (response.status_code, response.json()["error"]["code"])
    # the words are the behaviour: they do not say which of the two was wrong
    assert "wrong user name or password" == response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"text": "no recipient"}, 422, "to: Field required"),
        ({"to": "ru"}, 422, "give either text or code"),
        ({"to": "ru", "text": "x", "code": 1}, 422, "give either text or code"),
        ({"to": "ru", "code": 99999}, 422, "code"),
        ({"to": "ru", "text": "x", "precedence": "URGENT"}, 422, "precedence"),
        ({"to": "ru", "text": "x", "lang": "de"}, 422, "lang"),
        ({"to": "ru", "text": "x", "colour": "red"}, 422, "colour"),
        ({"to": "ua", "text": "x"}, 404, "no peer 'ua'"),
        ({"to": "ru", "text": ""}, 422, "text"),
    ],
)
def test_malformed_sends_say_what_is_wrong_and_store_nothing(
    served: tuple[Pair, httpx.Client], body: dict[str, Any], status: int, words: str
) -> None:
    pair, client = served
    before = stored(pair.us)
    response = client.post("/api/v1/messages", json=body)
    code = {422: "invalid", 404: "not_found"}[status]
    assert (status, code) == (response.status_code, response.json()["error"]["code"])
    assert words in response.json()["error"]["message"]  # names what is wrong
    assert before == stored(pair.us)


def test_a_body_that_is_not_json_is_refused(served: tuple[Pair, httpx.Client]) -> None:
    pair, client = served
    before = stored(pair.us)
    response = client.post(
        "/api/v1/messages", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert (422, "invalid") == (response.status_code, response.json()["error"]["code"])
    assert "JSON" in response.json()["error"]["message"]  # names what is wrong
    assert before == stored(pair.us)


def test_an_oversized_request_is_refused(served: tuple[Pair, httpx.Client]) -> None:
    pair, client = served
    before = stored(pair.us)
    response = client.post("/api/v1/messages", json={"to": "ru", "text": "x" * 2_000_000})
    assert (413, "too_large") == (response.status_code, response.json()["error"]["code"])
    assert before == stored(pair.us)


def test_send_list_show_and_acknowledge_through_the_api(
    served: tuple[Pair, httpx.Client],
) -> None:
    pair, client = served
    created = client.post(
        "/api/v1/messages", json={"to": "ru", "text": "Hello", "precedence": "IMMEDIATE"}
    )
    assert 201 == created.status_code
    message = created.json()
    assert [("queued", "IMMEDIATE")] == [
        (m["state"], m["precedence"]) for m in client.get("/api/v1/outbox").json()
    ]
    pair.flush()
    assert "delivered" == client.get(f"/api/v1/messages/{message['id']}").json()["state"]

    ru_token = token(pair.ru, "ofitser", "правильный пароль")
    with httpx.Client(
        base_url=pair.servers["ru"].url,
        headers={"Authorization": f"Bearer {ru_token}"},
        timeout=HTTP_TIMEOUT_S,
    ) as ru:
        inbox = ru.get("/api/v1/inbox").json()
        assert [message["id"]] == [m["id"] for m in inbox]
        assert "acknowledged" == ru.post(f"/api/v1/messages/{message['id']}/ack").json()["state"]
    pair.flush()
    shown = client.get(f"/api/v1/messages/{message['id']}").json()
    assert ("acknowledged", "ru:ofitser") == (shown["state"], shown["acked_by"])
    assert ["created", "delivered", "acknowledged"] == [s["kind"] for s in shown["trail"]]


def test_acknowledging_an_unknown_message_is_404(served: tuple[Pair, httpx.Client]) -> None:
    _pair, client = served
    response = client.post("/api/v1/messages/6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b/ack")
    assert (404, "not_found") == (response.status_code, response.json()["error"]["code"])


def test_openapi_is_served_to_operators(served: tuple[Pair, httpx.Client]) -> None:
    _pair, client = served
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/messages", "/api/v1/inbox", "/federation/v1/envelopes"} <= set(schema["paths"])


def test_logout_revokes_the_token(served: tuple[Pair, httpx.Client]) -> None:
    _pair, client = served
    assert 200 == client.post("/api/v1/logout").status_code
    assert 401 == client.get("/api/v1/status").status_code


def test_a_standalone_node_serves_its_card(make_node: MakeNode) -> None:
    node = make_node("us")
    bearer = token(node)
    with ServerThread(create_app(node, start_workers=False)) as server:
        card = httpx.get(
            server.url + "/api/v1/card",
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=HTTP_TIMEOUT_S,
        ).json()
    assert (node.identity.fingerprint, "us") == (card["fingerprint"], card["party"])


def test_an_alarm_is_cleared_through_the_api_only_with_a_reason_and_only_once(
    served: tuple[Pair, httpx.Client], clock: Any
) -> None:
    pair, client = served
    pair.us.links.send_test("ru")  # never delivered: it fails after the timeout
    clock.advance(120)
    pair.us.links.tick()
    [alarm] = client.get("/api/v1/alarms", params={"state": "open"}).json()
    url = f"/api/v1/alarms/{alarm['id']}/clear"
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        refused = client.post(url, json=body)
        assert (422, "open") == (refused.status_code, pair.us.alarms.listing()[0]["state"])
    clock.advance(30)
    cleared = client.post(url, json={"reason": "peer announced maintenance"})
    assert 200 == cleared.status_code
    assert ("cleared", "officer", "peer announced maintenance", 30) == (
        cleared.json()["state"],
        cleared.json()["cleared_by"],
        cleared.json()["clear_reason"],
        cleared.json()["duration_s"],
    )
    again = client.post(url, json={"reason": "again"})
    assert (409, "conflict") == (again.status_code, again.json()["error"]["code"])
    assert "officer" in again.json()["error"]["message"]  # names who cleared it
    missing = client.post("/api/v1/alarms/999999/clear", json={"reason": "x"})
    assert (404, "not_found") == (missing.status_code, missing.json()["error"]["code"])
    assert [alarm["id"]] == [a["id"] for a in client.get("/api/v1/alarms").json()]


def test_an_alarm_is_acknowledged_seen_by_apart_from_cleared(
    served: tuple[Pair, httpx.Client], clock: Any
) -> None:
    pair, client = served
    pair.us.links.send_test("ru")  # never delivered: it fails after the timeout
    clock.advance(120)
    pair.us.links.tick()
    [alarm] = client.get("/api/v1/alarms", params={"state": "open"}).json()
    assert (None, None) == (alarm["seen_by"], alarm["seen_at"])
    url = f"/api/v1/alarms/{alarm['id']}/seen"
    clock.advance(5)
    seen = client.post(url)
    assert 200 == seen.status_code
    assert ("open", "officer") == (seen.json()["state"], seen.json()["seen_by"])
    first_at = seen.json()["seen_at"]
    clock.advance(5)
    again = client.post(url)  # keeps who saw it first, and when
    assert (200, first_at, "officer") == (
        again.status_code,
        again.json()["seen_at"],
        again.json()["seen_by"],
    )
    client.post(f"/api/v1/alarms/{alarm['id']}/clear", json={"reason": "peer back"})
    cleared = client.post(url)
    assert (409, "conflict") == (cleared.status_code, cleared.json()["error"]["code"])
    missing = client.post("/api/v1/alarms/999999/seen")
    assert (404, "not_found") == (missing.status_code, missing.json()["error"]["code"])
    [row] = client.get("/api/v1/alarms").json()
    assert ("cleared", "officer", first_at) == (row["state"], row["seen_by"], row["seen_at"])

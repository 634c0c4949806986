"""The operator API over real HTTP: authentication, validation, and the message life."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hotline.app import create_app
from hotline.testing import ServerThread
from tests.conftest import MakeNode, Pair, token
from tests.services.test_line import stored

PROTECTED = [
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/card"),
    ("GET", "/api/v1/peers"),
    ("GET", "/api/v1/inbox"),
    ("GET", "/api/v1/outbox"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/messages/6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"),
    ("POST", "/api/v1/messages"),
    ("POST", "/api/v1/messages/6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b/ack"),
    ("POST", "/api/v1/logout"),
]


@pytest.fixture
def served(pair: Pair) -> Iterator[tuple[Pair, httpx.Client]]:
    """The ``us`` node of a pair with an operator logged in."""
    bearer = token(pair.us)
    with httpx.Client(
        base_url=pair.servers["us"].url, headers={"Authorization": f"Bearer {bearer}"}
    ) as client:
        yield pair, client


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_route_but_health_needs_a_token(pair: Pair, method: str, path: str) -> None:
    before = stored(pair.us)
    url = pair.servers["us"].url + path
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = httpx.request(method, url, headers=headers, json={"to": "ru", "text": "x"})
        assert 401 == response.status_code
        assert "unauthenticated" == response.json()["error"]["code"]
        assert "Bearer" == response.headers["www-authenticate"]
    assert before == stored(pair.us)


def test_health_needs_no_token(pair: Pair) -> None:
    response = httpx.get(pair.servers["us"].url + "/health")
    assert (200, "ok", "us") == (
        response.status_code,
        response.json()["status"],
        response.json()["party"],
    )


def test_login_with_a_wrong_password_is_refused(pair: Pair) -> None:
    token(pair.us, "officer", "correct horse")
    response = httpx.post(
        pair.servers["us"].url + "/api/v1/login", json={"user": "officer", "password": "wrong"}
    )
    assert (401, "wrong user name or password") == (
        response.status_code,
        response.json()["error"]["message"],
    )


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
    assert status == response.status_code
    assert words in response.json()["error"]["message"]
    assert before == stored(pair.us)


def test_a_body_that_is_not_json_is_refused(served: tuple[Pair, httpx.Client]) -> None:
    _pair, client = served
    response = client.post(
        "/api/v1/messages", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert 422 == response.status_code
    assert "JSON" in response.json()["error"]["message"]


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
        base_url=pair.servers["ru"].url, headers={"Authorization": f"Bearer {ru_token}"}
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
            server.url + "/api/v1/card", headers={"Authorization": f"Bearer {bearer}"}
        ).json()
    assert (node.identity.fingerprint, "us") == (card["fingerprint"], card["party"])

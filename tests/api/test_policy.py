"""Roles are enforced at both edges from one table, and no action escapes the table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute

from hotline.app import create_app
from hotline.clock import FakeClock
from hotline.services import policy
from tests.conftest import MakeNode, Pair
from tests.web.conftest import log_in

PASSWORD = "correct horse"


def routes(items: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path, through included routers (FastAPI nests them)."""
    for item in items:
        if isinstance(item, APIRoute):
            yield prefix + item.path, item
        elif hasattr(item, "original_router"):
            inner = prefix + (item.include_context.prefix or "")
            yield from routes(item.original_router.routes, inner)


def test_every_action_of_the_api_and_the_console_has_a_rule(make_node: MakeNode) -> None:
    app = create_app(make_node("us"), start_workers=False)
    actions = {
        (method, path)
        for path, route in routes(app.routes)
        if path.startswith(("/api/", "/console"))
        for method in route.methods
        if method not in ("GET", "HEAD")
    }

    assert len(actions) > 40
    assert [] == sorted(a for a in actions - set(policy.RULES) if a not in policy.OPEN)
    assert [] == sorted(set(policy.RULES) - actions)  # no rule for an action that is gone


def login(pair: Pair, name: str, roles: list[str]) -> dict[str, str]:
    pair.us.auth.add_user(name, PASSWORD, roles)
    return {"Authorization": f"Bearer {pair.us.auth.login(name, PASSWORD)[0]}"}


@pytest.mark.parametrize(
    ("roles", "send", "read", "tracks"),
    [
        (["officer"], 201, 200, 200),
        (["translator"], 403, 200, 403),
        (["auditor"], 403, 200, 403),
        (["feed"], 403, 403, 200),
    ],
)
def test_each_role_may_do_what_it_is_for_and_nothing_else(
    pair: Pair, roles: list[str], send: int, read: int, tracks: int
) -> None:
    headers = login(pair, "user1", roles)
    url = pair.servers["us"].url
    message = {"to": "ru", "text": "Test", "precedence": "ROUTINE"}
    track = {"id": "T1", "party": "us", "lat": 1.0, "lon": 1.0, "alt_m": 1000.0,
             "gs_mps": 100.0, "trk_deg": 0.0}  # fmt: skip

    sent = pair.http.post(url + "/api/v1/messages", json=message, headers=headers)
    outbox = pair.http.get(url + "/api/v1/outbox", headers=headers)
    reported = pair.http.post(url + "/api/v1/tracks", json={"tracks": [track]}, headers=headers)

    assert (send, read, tracks) == (sent.status_code, outbox.status_code, reported.status_code)
    if send == 403:
        assert "forbidden" == sent.json()["error"]["code"]
        assert "may not do POST /api/v1/messages" in sent.json()["error"]["message"]  # names it
        assert [] == pair.us.line.listing("out")  # nothing was queued


def test_a_translator_cannot_acknowledge_at_the_console(pair: Pair) -> None:
    pair.ru.line.send(to="us", text="Привет", precedence="ROUTINE", user="duty")
    pair.flush()
    [received] = pair.us.line.listing("in")
    pair.us.auth.add_user("ivanova", PASSWORD, ["translator"])
    console = log_in(pair.servers["us"].url, "ivanova", PASSWORD)

    answer = console.post(f"/console/messages/{received['id']}/ack")
    page = console.get(f"/console/messages/{received['id']}")  # reading is allowed

    assert 403 == answer.status_code
    assert "ivanova (translator) may not do POST" in answer.text
    assert 200 == page.status_code
    assert pair.us.line.show(received["id"])["acked_at"] is None


def test_guessing_passwords_is_paused_then_allowed_again(pair: Pair, clock: FakeClock) -> None:
    pair.us.auth.add_user("duty1", PASSWORD, ["officer"])
    url = pair.servers["us"].url + "/api/v1/login"
    wrong = {"user": "duty1", "password": "not the password"}

    answers = [pair.http.post(url, json=wrong).status_code for _ in range(5)]
    paused = pair.http.post(url, json={"user": "duty1", "password": PASSWORD})
    console = pair.http.post(
        pair.servers["us"].url + "/console/login", data={"user": "duty1", "password": PASSWORD}
    )
    clock.advance(timedelta(seconds=301))
    after = pair.http.post(url, json={"user": "duty1", "password": PASSWORD})

    assert [401] * 5 == answers
    assert (429, "too_many_attempts") == (paused.status_code, paused.json()["error"]["code"])
    assert 0 < int(paused.headers["Retry-After"]) <= 300
    assert 429 == console.status_code and "logging in is paused" in console.text
    assert 200 == after.status_code

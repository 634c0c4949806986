"""The whole life of calls between two real ``hotline serve`` processes, over HTTP.

The story of the source articles, on the two nodes' own clocks: the defence chiefs speak;
ten days later the US side asks again and is declined; it asks once more and, 84 days
after the first, the call is held ("the first call in 84 days"). Both sides write their
readouts; each node's contact history shows the gap in days.

The processes' time is moved with the test clock (``HOTLINE_CLOCK_OFFSET_FILE``, see
``hotline.clock.OffsetClock``); both share one offset file, so they stay in step and each
still checks the other's envelopes against its own clock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.clock import OffsetClock, parse_rfc3339, rfc3339
from hotline.node import Node, init_node
from hotline.testing import (
    DatabaseFactory,
    NodeProcess,
    free_port,
    running,
    tls_node_settings,
    verify_for,
    wait_for,
)
from tests.calls.conftest import PRINCIPALS
from tests.conftest import NAMES

PASSWORD = "calls-e2e-password"


class Person:
    """An officer at one served node, talking to its operator API about one pair."""

    def __init__(self, url: str, peer: str, principal: str, counterpart: str) -> None:
        self.url = url
        self.pair = {"peer": peer, "principal": principal, "counterpart": counterpart}
        self.http = httpx.Client(timeout=30, verify=verify_for(url))
        login = {"user": "officer", "password": PASSWORD}
        token = self.http.post(url + "/api/v1/login", json=login).json()["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(self.url + path, params=params)
        assert response.is_success, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.http.post(self.url + path, json=body)
        assert response.is_success, response.text
        return response.json()

    def history(self) -> dict[str, Any]:
        return dict(self.get("/api/v1/calls/history", **self.pair))

    def now(self) -> datetime:
        """The node's own time (the contact history says it)."""
        return parse_rfc3339(self.history()["now"])


#: How long delivery between the two processes may take on a busy machine (s).
DELIVERY_S = 120


@pytest.fixture
def offset_file(tmp_path: Path) -> Path:
    return tmp_path / "clock-offset"


@pytest.fixture
def nodes(
    tmp_path: Path, databases: DatabaseFactory, offset_file: Path
) -> Iterator[dict[str, NodeProcess]]:
    """Two initialised nodes with principals on their cards, pinned to each other."""
    urls = {party: f"https://127.0.0.1:{free_port()}" for party in ("us", "ru")}
    operator_ports = {party: free_port() for party in ("us", "ru")}
    opened: dict[str, Node] = {}
    for party in ("us", "ru"):
        name_en, name_ru, lang = NAMES[party]
        init_node(
            tmp_path / party,
            party=party,
            name_en=name_en,
            name_ru=name_ru,
            lang=lang,
            endpoints=[urls[party]],
            database_url=databases.new(party),
            settings=tls_node_settings(operator_ports[party]),
        ).db.dispose()
        principals = tmp_path / party / "principals.json"
        principals.write_text(json.dumps(PRINCIPALS[party]), encoding="utf-8")
        opened[party] = Node.open(tmp_path / party)  # its card now names its principals
        opened[party].auth.add_user("officer", PASSWORD, ["officer"])
    opened["us"].add_peer(opened["ru"].identity.card().wire())
    opened["ru"].add_peer(opened["us"].identity.card().wire())
    for node in opened.values():
        node.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_CLOCK_OFFSET_FILE=str(offset_file),
        HOTLINE_TOKEN_TTL_S=str(1000 * 86400),  # the clocks jump by weeks
        HOTLINE_RETRY_CAP_S="1",
        HOTLINE_RETRY_BASE_S="0.1",
        HOTLINE_TICK_S="0.5",
    )
    yield {
        party: NodeProcess(
            tmp_path / party,
            f"https://127.0.0.1:{operator_ports[party]}",
            env,
            federation_url=urls[party],
        )
        for party in ("us", "ru")
    }


def request(us: Person, slot: datetime, answer_by: datetime, topic: str) -> str:
    made = us.post(
        "/api/v1/calls/requests",
        {
            "to": "ru",
            "principal": "secdef",
            "counterpart": "minister",
            "topics": [topic],
            "slots": [{"start": rfc3339(slot), "minutes": 60}],
            "answer_by": rfc3339(answer_by),
            "precedence": "PRIORITY",
        },
    )
    return str(made["id"])


def pending(person: Person) -> list[str]:
    """Ids of the node's envelopes not yet delivered to its peer."""
    outbox = person.get("/api/v1/outbox", system="true")
    return [m["id"] for m in outbox if m["state"] in ("queued", "sent")]


def state_at(person: Person, request_id: str) -> str | None:
    response = person.http.get(f"{person.url}/api/v1/calls/requests/{request_id}")
    return response.json()["state"] if response.is_success else None


def test_requested_declined_requested_again_accepted_held_both_readouts_and_the_gap(
    production_backend: None, nodes: dict[str, NodeProcess], offset_file: Path
) -> None:
    with running(nodes["us"], nodes["ru"]):
        us = Person(nodes["us"].url, "ru", "secdef", "minister")
        ru = Person(nodes["ru"].url, "us", "minister", "secdef")

        def move_to(when: datetime) -> None:
            """Set both processes' clocks to about ``when`` (they tick on from there).

            First the line goes quiet: weeks pass in a moment here, and an envelope in
            flight across the jump (a link test) would arrive weeks old, as it never does
            on a real line.
            """
            wait_for(
                lambda: not (pending(us) or pending(ru)),
                "both outboxes to drain",
                timeout=DELIVERY_S,
            )
            OffsetClock.write(offset_file, round((when - datetime.now(UTC)).total_seconds()))

        start = us.now()
        # on the hour, so "N days later" never straddles a midnight
        first_slot = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)

        # day 0: requested, accepted, held
        first = request(us, first_slot, start + timedelta(minutes=30), "risk reduction")
        wait_for(
            lambda: state_at(ru, first) == "requested", "the request at ru", timeout=DELIVERY_S
        )
        accept = {"start": rfc3339(first_slot), "minutes": 60}
        ru.post(f"/api/v1/calls/requests/{first}/answer", {"answer": "accept", "slot": accept})
        wait_for(
            lambda: state_at(us, first) == "accepted", "the acceptance at us", timeout=DELIVERY_S
        )
        move_to(first_slot + timedelta(hours=1))
        record = {
            "request_id": first,
            "held_at": rfc3339(first_slot),
            "minutes": 60,
            "participants": [{"party": "us", "name": "A"}, {"party": "ru", "name": "B"}],
        }
        us.post("/api/v1/calls", record)
        wait_for(
            lambda: state_at(ru, first) == "held", "the first call held at ru", timeout=DELIVERY_S
        )

        # day 10: asked again, declined
        move_to(first_slot + timedelta(days=10))
        now = us.now()
        declined = request(us, now + timedelta(days=1), now + timedelta(hours=6), "exercises")
        wait_for(
            lambda: state_at(ru, declined) == "requested",
            "the second request at ru",
            timeout=DELIVERY_S,
        )
        ru.post(
            f"/api/v1/calls/requests/{declined}/answer",
            {"answer": "decline", "reason": "The minister is unavailable."},
        )
        wait_for(
            lambda: state_at(us, declined) == "declined", "the decline at us", timeout=DELIVERY_S
        )

        # day 83: asked once more, for the same hour 84 days after the first call
        move_to(first_slot + timedelta(days=83))
        now = us.now()
        second_slot = first_slot + timedelta(days=84)
        again = request(us, second_slot, now + timedelta(hours=12), "de-confliction")
        wait_for(
            lambda: state_at(ru, again) == "requested",
            "the third request at ru",
            timeout=DELIVERY_S,
        )
        accept = {"start": rfc3339(second_slot), "minutes": 60}
        ru.post(f"/api/v1/calls/requests/{again}/answer", {"answer": "accept", "slot": accept})
        wait_for(
            lambda: state_at(us, again) == "accepted", "the acceptance at us", timeout=DELIVERY_S
        )
        move_to(second_slot + timedelta(hours=1))
        us.post("/api/v1/calls", {**record, "request_id": again, "held_at": rfc3339(second_slot)})
        wait_for(lambda: state_at(ru, again) == "held", "the call held at ru", timeout=DELIVERY_S)

        # both readouts, each side's own
        for person, text in ((us, "Discussed risk reduction."), (ru, "Обсудили деконфликтинг.")):
            person.post(
                f"/api/v1/calls/{again}/readouts",
                {"title": "Readout", "text": text, "visibility": "public"},
            )

        def both_sides(person: Person) -> dict[str, list[str]] | None:
            view = person.get(f"/api/v1/calls/{again}/readouts", visibility="public")
            texts = {party: [r["text"] for r in side] for party, side in view["sides"].items()}
            return texts if all(texts.values()) else None

        expected = {"us": ["Discussed risk reduction."], "ru": ["Обсудили деконфликтинг."]}
        assert expected == wait_for(
            lambda: both_sides(us), "ru's readout at us", timeout=DELIVERY_S
        )
        assert expected == wait_for(
            lambda: both_sides(ru), "us's readout at ru", timeout=DELIVERY_S
        )

        move_to(second_slot + timedelta(days=6, minutes=10))  # on the hour: the same date
        ours, theirs = us.history(), ru.history()
        for history in (ours, theirs):
            assert [None, 84] == [c["days_since_previous"] for c in history["calls"]]
            assert [declined] == [d["request_id"] for d in history["declined"]]
            assert rfc3339(second_slot) == history["last_contact"]
        assert 6 == ours["days_since_last_contact"]
        assert [
            "requested", "accepted", "held",
            "requested", "declined",
            "requested", "accepted", "held",
        ] == [e["kind"] for e in ours["timeline"]]  # fmt: skip
        assert [e["at"] for e in ours["timeline"]] == [e["at"] for e in theirs["timeline"]]
    for node in nodes.values():
        assert "TEST CLOCK ACTIVE" in (node.directory / "serve.log").read_text()

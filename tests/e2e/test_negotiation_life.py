"""A negotiation between two real ``hotline serve`` processes on TLS, over their APIs.

RU declares R1; US declares A1, 2 km from it (a conflict on both sides). US asks RU to move
R1, naming it by reference: no phantom conflict on either side. RU counter-proposes R1
moved (version 2, proposed, on both nodes); US concurs (agreed on both); the conflict
closes, amended, on both, and RU's alarm clears. RU then amends its notice back next to A1
(a new conflict, an alarm at US) and withdraws R1 (the conflict closes, withdrawn, and the
alarm clears). Both nodes show the same negotiation throughout.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx

from hotline.testing import verify_for, wait_for
from tests.e2e.conftest import PASSWORDS, Processes
from tests.services.test_conflicts import corridor_notice

#: How long delivery between the two processes may take on a busy machine (s).
DELIVERY_S = 90
WINDOW = {"start": "2027-01-10T09:00:00Z", "end": "2027-01-10T15:00:00Z"}


class Officer:
    """The duty officer at one served node, on its operator API."""

    def __init__(self, url: str, party: str) -> None:
        self.url, self.party = url, party
        self.http = httpx.Client(timeout=30, verify=verify_for(url))
        login = {"user": "officer", "password": PASSWORDS[party]}
        token = self.http.post(url + "/api/v1/login", json=login).json()["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(self.url + path, params=params)
        assert response.is_success, response.text
        return response.json()

    def holds(self, path: str) -> bool:
        """Whether the node answers ``path`` (404 until the message has arrived)."""
        response = self.http.get(self.url + path)
        assert response.status_code in (200, 404), response.text
        return response.status_code == 200

    def send(self, notice: dict[str, Any]) -> str:
        to = "ru" if self.party == "us" else "us"
        body = {
            "to": to,
            "notice": notice,
            "precedence": "PRIORITY",
            # declarations in conflict go with a reason: the negotiation starts from one
            "accept_conflict": "declared in conflict to negotiate it",
        }
        response = self.http.post(self.url + "/api/v1/notices", json=body)
        assert response.is_success, response.text
        return str(response.json()["message"]["id"])

    def conflicts(self) -> list[tuple[str, str | None]]:
        rows = sorted(self.get("/api/v1/conflicts"), key=lambda c: c["id"])
        return [(c["state"], c["closed_reason"]) for c in rows]

    def states(self) -> dict[str, tuple[int, str]]:
        shown = self.get("/api/v1/volumes/states")
        listed = [v for v in shown if v["kind"] == "volume"]
        listed += [v for v in shown if v["kind"] == "proposal" and v["state"] == "proposed"]
        return {v["volume_id"]: (v["version"], v["state"]) for v in listed}

    def open_alarms(self) -> list[str]:
        alarms = self.get("/api/v1/alarms")
        return [a["subject"] for a in alarms if a["kind"] == "conflict" and a["state"] == "open"]

    def close(self) -> None:
        self.http.close()


def circle(volume_id: str, lon: str, lat: str, alt: tuple[int, int]) -> dict[str, Any]:
    notice = corridor_notice(volume_id, lon, lat, alt)
    notice["volumes"][0]["properties"].update(WINDOW)
    return notice


def reached(officer: Officer, what: str, check: Any) -> None:
    wait_for(lambda: bool(check()), f"{what} at {officer.party.upper()}", timeout=DELIVERY_S)


def test_two_served_nodes_negotiate_to_agreement_and_close_their_conflicts(
    production_backend: None,
    processes: Processes,
) -> None:
    processes.us.start()
    processes.ru.start()
    us, ru = Officer(processes.us.url, "us"), Officer(processes.ru.url, "ru")
    try:
        play(us, ru)
    finally:
        us.close()
        ru.close()


def play(us: Officer, ru: Officer) -> None:
    r1 = circle("R1", "36.0000000", "35.0000000", (0, 3000))
    ru_notice = ru.send(r1)
    reached(us, "RU's notice", lambda: "R1" in us.states())
    us.send(circle("A1", "36.0000000", "35.1080000", (1000, 5000)))
    reached(ru, "the conflict", lambda: [("open", None)] == ru.conflicts())
    assert [("open", None)] == us.conflicts()

    request_id = us.send(
        {
            "type": "deconfliction_request",
            "refers_to": ru_notice,
            "concerns": [{"message_id": ru_notice, "volume_id": "R1", "version": 1}],
            "concern": "R1 is 2 km from our A1. Request you move it east.",
        }
    )
    reached(ru, "the request", lambda: ru.holds(f"/api/v1/negotiations/{request_id}"))
    # a request declares nothing: still the one conflict, on both sides
    assert [("open", None)] == us.conflicts() == ru.conflicts()
    assert {"R1": (1, "declared"), "A1": (1, "declared")} == us.states() == ru.states()

    moved = circle("R1", "40.0000000", "35.0000000", (0, 3000))["volumes"]
    answer = {
        "type": "deconfliction_answer",
        "refers_to": request_id,
        "answer": "counter_proposal",
        "volumes": moved,
        "reason": "R1 moved 400 km east.",
    }
    answer_id = ru.send(answer)
    reached(us, "the counter-proposal", lambda: us.states().get("R1") == (2, "proposed"))
    assert {"R1": (2, "proposed"), "A1": (1, "declared")} == ru.states()

    us.send({"type": "deconfliction_concurrence", "refers_to": answer_id, "reason": "Agreed."})
    reached(ru, "the agreement", lambda: ru.states().get("R1") == (2, "agreed"))
    reached(us, "the closed conflict", lambda: [("closed", "amended")] == us.conflicts())
    assert [("closed", "amended")] == ru.conflicts()
    assert [] == ru.open_alarms()
    shown = {o.party: o.get(f"/api/v1/negotiations/{answer_id}") for o in (us, ru)}
    assert "agreed" == shown["us"]["state"]
    assert shown["us"] == shown["ru"]

    back = copy.deepcopy(r1)
    amendment_id = ru.send(
        {
            "type": "notice_amendment",
            "refers_to": ru_notice,
            "notice": back,
            "reason": "Operation moved back.",
        }
    )
    reached(us, "the amendment's conflict", lambda: [amendment_id] == us.open_alarms())
    expected = [("closed", "amended"), ("open", None)]
    assert expected == us.conflicts() == ru.conflicts()

    ru.send(
        {
            "type": "notice_cancellation",
            "refers_to": ru_notice,
            "volumes": ["R1"],
            "reason": "Operation cancelled.",
        }
    )
    reached(us, "the withdrawal", lambda: [] == us.open_alarms())
    expected = [("closed", "amended"), ("closed", "withdrawn")]
    assert expected == us.conflicts() == ru.conflicts()
    assert {"R1": (3, "withdrawn"), "A1": (1, "declared")} == us.states() == ru.states()

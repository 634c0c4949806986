"""The fold of a line's notices into the state of every volume (pure, no node)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.domain.notices.lifecycle import Sent, fold
from hotline.domain.notices.models import parse_notice

from .conftest import load_example

T0 = "2026-11-21T10:00:00.000Z"


def sent(party: str, mid: str, body: dict[str, Any], at: str = T0) -> Sent:
    return Sent(party, mid, at, parse_notice(body))


def launch() -> dict[str, Any]:
    return load_example("activity_notice_missile_launch.json")


def test_a_request_of_the_older_form_quotes_and_declares_nothing() -> None:
    legacy = load_example("deconfliction_answer.json")  # any body with a polygon volume
    request = {
        "type": "deconfliction_request",
        "refers_to": "n1",
        "volumes": legacy["volumes"],
        "concern": "x",
    }

    volumes = fold([sent("ru", "n1", launch()), sent("us", "q1", request)])

    assert ["n1/V1"] == list(volumes.lines)
    assert ["q1/V1"] == volumes.negotiations["q1"].quoted


def test_an_amendment_by_the_other_side_changes_nothing() -> None:
    moved = copy.deepcopy(launch())
    moved["volumes"][0]["properties"]["alt_upper_m"] = 1000
    amendment = {"type": "notice_amendment", "refers_to": "n1", "notice": moved, "reason": "x"}

    volumes = fold([sent("ru", "n1", launch()), sent("us", "a1", amendment)])

    assert (1, "declared") == (volumes.lines["n1/V1"].version, volumes.lines["n1/V1"].state)


def test_the_same_messages_in_any_order_of_arrival_give_the_same_state() -> None:
    cancel = {"type": "notice_cancellation", "refers_to": "n1", "reason": "off"}
    first = sent("ru", "n1", launch(), "2026-11-21T10:00:00.000Z")
    later = sent("ru", "c1", cancel, "2026-11-21T11:00:00.000Z")

    assert fold([first, later]).lines == fold([later, first]).lines
    assert "withdrawn" == fold([later, first]).lines["n1/V1"].state


def test_a_volume_expires_when_its_window_has_ended() -> None:
    line = fold([sent("ru", "n1", launch())]).lines["n1/V1"]
    end = line.volume.properties.end

    assert "declared" == line.state_at(end - timedelta(seconds=1))
    assert "expired" == line.state_at(end)
    assert "expired" == line.to_json(datetime(2030, 1, 1, tzinfo=UTC))["state"]


def test_a_side_cannot_answer_its_own_request() -> None:
    moved = load_example("deconfliction_answer.json")["volumes"]
    request = {
        "type": "deconfliction_request",
        "refers_to": "n1",
        "concerns": [{"message_id": "n1", "volume_id": "V1", "version": 1}],
        "proposed": moved,
        "concern": "x",
    }
    own_answer = {"type": "deconfliction_answer", "refers_to": "q1", "answer": "concur"}

    volumes = fold(
        [sent("ru", "n1", launch()), sent("us", "q1", request), sent("us", "a1", own_answer)]
    )

    assert "requested" == volumes.negotiations["q1"].state
    assert (1, "declared") == (volumes.lines["n1/V1"].version, volumes.lines["n1/V1"].state)
    assert ["proposed"] == [p.state for p in volumes.proposals.values()]

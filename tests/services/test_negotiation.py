"""A negotiation between two nodes, to agreement; amendments, cancellations and expiry
that close conflicts by themselves, with their reason, on both sides alike."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.clock import FakeClock
from hotline.errors import ValidationError
from hotline.node import Node
from tests.cli.test_links import PASSWORD, Cli
from tests.conftest import Pair
from tests.services.test_conflicts import corridor_notice
from tests.services.test_notices import example

# RU's R1 and US's A1 are 12 km apart centre to centre (5 km circles): 2 km between the
# edges, under the 3 NM minimum. Far: 400 km away.
NEAR = ("36.0000000", "35.1080000")
FAR = ("40.0000000", "35.0000000")


def send(pair: Pair, party: str, body: dict[str, Any]) -> str:
    """``party`` sends ``body`` to the other side and both channels drain; its message id.

    Declarations in conflict go with a reason (they are refused without one): the
    negotiation below starts from such a conflict."""
    to = "ru" if party == "us" else "us"
    sent = pair.node(party).notices.send(
        to,
        body,
        precedence="PRIORITY",
        lang="en",
        user="o",
        accept_conflict="declared in conflict to negotiate it",
    )
    pair.flush()
    return str(sent["message"]["id"])


def conflicts(node: Node) -> list[tuple[str, str, str | None, str | None]]:
    """Each recorded conflict, oldest first: (a volume, b volume, state, closed reason)."""
    rows = sorted(node.conflicts.listing(), key=lambda c: c["id"])
    return [
        (
            *sorted((c["a"]["volume_id"], c["b"]["volume_id"])),
            c["state"],
            c["closed_reason"],
        )
        for c in rows
    ]


def states(node: Node) -> dict[str, tuple[int, str]]:
    """Each volume, or its open proposal, by its volume id: (version, state)."""
    shown = node.conflicts.volumes()
    listed = [v for v in shown if v["kind"] == "volume"]
    listed += [v for v in shown if v["kind"] == "proposal" and v["state"] == "proposed"]
    return {v["volume_id"]: (v["version"], v["state"]) for v in listed}


def open_alarms(node: Node) -> list[str]:
    return [a["subject"] for a in node.alarms.listing("open") if a["kind"] == "conflict"]


def r1_moved(lon: str, lat: str) -> dict[str, Any]:
    volume: dict[str, Any] = corridor_notice("R1", lon, lat, (0, 3000))["volumes"][0]
    return volume


def declare_r1_and_a1(pair: Pair) -> tuple[str, str]:
    ru_notice = send(pair, "ru", corridor_notice("R1", "36.0000000", "35.0000000", (0, 3000)))
    us_notice = send(pair, "us", corridor_notice("A1", *NEAR, (1000, 5000)))
    return ru_notice, us_notice


def test_a_full_negotiation_to_agreement_then_an_amendment_and_a_withdrawal(
    pair: Pair,
) -> None:
    ru_notice, us_notice = declare_r1_and_a1(pair)
    assert [("A1", "R1", "open", None)] == conflicts(pair.us) == conflicts(pair.ru)
    assert [us_notice] == open_alarms(pair.ru)

    # US asks RU to move R1, quoting it by reference: nothing new is declared anywhere
    request = {
        "type": "deconfliction_request",
        "refers_to": ru_notice,
        "concerns": [{"message_id": ru_notice, "volume_id": "R1", "version": 1}],
        "concern": "R1 is 2 km from our A1. Request you move it 400 km east.",
    }
    assert [] == pair.us.notices.prepare("ru", request).conflicts
    request_id = send(pair, "us", request)
    assert [("A1", "R1", "open", None)] == conflicts(pair.us) == conflicts(pair.ru)
    assert {"R1": (1, "declared"), "A1": (1, "declared")} == states(pair.us) == states(pair.ru)

    # RU counter-proposes R1 moved: version 2, proposed, on both nodes
    answer = {
        "type": "deconfliction_answer",
        "refers_to": request_id,
        "answer": "counter_proposal",
        "volumes": [r1_moved(*FAR)],
        "reason": "R1 moved 400 km east.",
    }
    answer_id = send(pair, "ru", answer)
    proposals = [
        (v["key"], v["version"], v["state"], v["kind"]) for v in pair.us.conflicts.volumes()
    ]
    assert (f"{ru_notice}/R1", 2, "proposed", "proposal") in proposals
    assert pair.us.conflicts.volumes() == pair.ru.conflicts.volumes()
    neg = pair.us.conflicts.negotiation(request_id)
    assert ("counter_proposed", [], "us") == (
        neg["state"],
        neg["proposal_conflicts"],
        neg["requester"],
    )
    assert neg == pair.ru.conflicts.negotiation(answer_id)

    # US concurs: R1 version 2 agreed on both; the conflict closes as amended, everywhere
    concurrence = {
        "type": "deconfliction_concurrence",
        "refers_to": answer_id,
        "reason": "Agreed: R1 as moved.",
    }
    concurrence_id = send(pair, "us", concurrence)
    assert {"R1": (2, "agreed"), "A1": (1, "declared")} == states(pair.us) == states(pair.ru)
    assert [("A1", "R1", "closed", "amended")] == conflicts(pair.us) == conflicts(pair.ru)
    for node in (pair.us, pair.ru):
        [closed] = node.conflicts.listing(state="closed")
        assert concurrence_id == closed["closed_by"]
    assert [] == open_alarms(pair.ru)
    [cleared] = [a for a in pair.ru.alarms.listing("cleared") if a["kind"] == "conflict"]
    assert (us_notice, "auto") == (cleared["subject"], cleared["cleared_by"])
    assert "amended" in cleared["clear_reason"]
    neg = pair.ru.conflicts.negotiation(concurrence_id)
    assert ("agreed", ["request", "answer", "concurrence"]) == (
        neg["state"],
        [r["type"] for r in neg["rounds"]],
    )
    assert neg == pair.us.conflicts.negotiation(request_id)

    # RU amends its notice, moving R1 back next to A1: a new conflict and a new alarm on US
    amended = corridor_notice("R1", "36.0000000", "35.0000000", (0, 3000))
    amendment = {
        "type": "notice_amendment",
        "refers_to": ru_notice,
        "notice": amended,
        "reason": "Operation moved back.",
    }
    assert 1 == len(pair.ru.notices.prepare("us", amendment).conflicts)
    amendment_id = send(pair, "ru", amendment)
    assert {"R1": (3, "declared"), "A1": (1, "declared")} == states(pair.us) == states(pair.ru)
    expected = [("A1", "R1", "closed", "amended"), ("A1", "R1", "open", None)]
    assert expected == conflicts(pair.us) == conflicts(pair.ru)
    assert [amendment_id] == open_alarms(pair.us)

    # RU withdraws R1: the conflict ends, withdrawn, and the alarm clears
    cancellation = {
        "type": "notice_cancellation",
        "refers_to": ru_notice,
        "volumes": ["R1"],
        "reason": "Operation cancelled.",
    }
    send(pair, "ru", cancellation)
    expected = [("A1", "R1", "closed", "amended"), ("A1", "R1", "closed", "withdrawn")]
    assert expected == conflicts(pair.us) == conflicts(pair.ru)
    assert {"R1": (3, "withdrawn"), "A1": (1, "declared")} == states(pair.us) == states(pair.ru)
    assert [] == open_alarms(pair.us)
    last = pair.us.conflicts.listing(state="closed")[0]
    assert "cancelled: Operation cancelled." == last["closed_detail"]


def test_both_sides_accepting_a_conflict_close_it_with_their_reason(pair: Pair) -> None:
    ru_notice, us_notice = declare_r1_and_a1(pair)
    request_id = send(
        pair,
        "us",
        {
            "type": "deconfliction_request",
            "refers_to": ru_notice,
            "concerns": [
                {"message_id": ru_notice, "volume_id": "R1", "version": 1},
                {"message_id": us_notice, "volume_id": "A1", "version": 1},
            ],
            "concern": "R1 and A1 are 2 km apart. We can keep 1,000 m vertically.",
        },
    )
    reason = "Accepted: 2 km apart, separated by radio on 121.500 MHz."
    send(
        pair,
        "ru",
        {
            "type": "deconfliction_answer",
            "refers_to": request_id,
            "answer": "concur",
            "reason": reason,
        },
    )

    for node in (pair.us, pair.ru):
        [closed] = node.conflicts.listing()
        assert ("closed", "accepted", reason) == (
            closed["state"],
            closed["closed_reason"],
            closed["closed_detail"],
        )
    assert {"R1": (1, "agreed"), "A1": (1, "agreed")} == states(pair.us) == states(pair.ru)
    assert [] == open_alarms(pair.ru)


def test_a_denied_request_withdraws_its_proposals(pair: Pair) -> None:
    ru_notice, us_notice = declare_r1_and_a1(pair)
    moved_a1 = corridor_notice("A1", *FAR, (1000, 5000))["volumes"][0]
    request_id = send(
        pair,
        "us",
        {
            "type": "deconfliction_request",
            "refers_to": ru_notice,
            "concerns": [{"message_id": us_notice, "volume_id": "A1", "version": 1}],
            "proposed": [moved_a1],
            "concern": "We offer to move A1 if you hold R1 below 1,000 m.",
        },
    )
    assert {"R1": (1, "declared"), "A1": (2, "proposed")} == states(pair.ru) == states(pair.us)
    send(
        pair,
        "ru",
        {
            "type": "deconfliction_answer",
            "refers_to": request_id,
            "answer": "do_not_concur",
            "reason": "R1 cannot be lowered.",
        },
    )
    for node in (pair.us, pair.ru):
        neg = node.conflicts.negotiation(request_id)
        assert ("denied", "R1 cannot be lowered.") == (neg["state"], neg["reason"])
        assert ["withdrawn"] == [p["state"] for p in neg["proposals"]]
    assert [("A1", "R1", "open", None)] == conflicts(pair.us) == conflicts(pair.ru)


def test_expiry_closes_a_conflict_and_clears_its_alarm(pair: Pair, clock: FakeClock) -> None:
    _, us_notice = declare_r1_and_a1(pair)
    assert [us_notice] == open_alarms(pair.ru)

    clock.set(datetime(2026, 12, 3, 15, 0, 1, tzinfo=UTC))  # both windows end at 15:00
    for node in (pair.us, pair.ru):
        node.conflicts.tick()

    assert [("A1", "R1", "closed", "expired")] == conflicts(pair.us) == conflicts(pair.ru)
    assert {"R1": (1, "expired"), "A1": (1, "expired")} == states(pair.us)
    assert [] == open_alarms(pair.ru)


def test_a_restarted_node_folds_the_same_state(pair: Pair) -> None:
    ru_notice, _ = declare_r1_and_a1(pair)
    send(pair, "ru", {"type": "notice_cancellation", "refers_to": ru_notice, "reason": "Off."})
    reopened = Node(pair.us.settings, pair.us.clock)
    try:
        assert states(pair.us) == states(reopened)
        assert {"R1": (1, "withdrawn"), "A1": (1, "declared")} == states(reopened)
    finally:
        reopened.db.dispose()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"version": 2}, "has no version 2"),
        ({"volume_id": "R9"}, "no volume R9"),
    ],
)
def test_a_request_naming_a_volume_not_on_the_line_is_refused(
    pair: Pair, change: dict[str, Any], says: str
) -> None:
    ru_notice, _ = declare_r1_and_a1(pair)
    ref = {"message_id": ru_notice, "volume_id": "R1", "version": 1} | change
    request = {
        "type": "deconfliction_request",
        "refers_to": ru_notice,
        "concerns": [ref],
        "concern": "x",
    }
    with pytest.raises(ValidationError) as refused:
        pair.us.notices.prepare("ru", request)
    assert says in refused.value.message


def test_only_the_sender_amends_its_notice_and_only_with_one_of_its_type(pair: Pair) -> None:
    ru_notice, us_notice = declare_r1_and_a1(pair)
    exercise = copy.deepcopy(
        {
            "type": "notice_amendment",
            "refers_to": ru_notice,
            "notice": corridor_notice("A1", *FAR, (0, 1000)),
            "reason": "x",
        }
    )
    with pytest.raises(ValidationError) as other_side:
        pair.us.notices.prepare("ru", exercise)
    assert "sent by this node" in other_side.value.message
    exercise["refers_to"] = us_notice
    exercise["notice"] = {
        "type": "protected_areas",
        "withdrawn": ["PA-1"],
    }
    with pytest.raises(ValidationError) as wrong_type:
        pair.us.notices.prepare("ru", exercise)
    assert "its amendment must be one too" in wrong_type.value.message


@pytest.fixture
def officer(pair: Pair) -> Cli:
    """The ``hotline`` command on either node, as operator duty1."""
    for node in (pair.us, pair.ru):
        node.auth.add_user("duty1", PASSWORD)
    return Cli(pair)


def test_the_cli_shows_the_same_negotiation_and_conflict_history_on_both_nodes(
    pair: Pair, officer: Cli
) -> None:
    cli = officer
    ru_notice, _ = declare_r1_and_a1(pair)
    request_id = send(
        pair,
        "us",
        {
            "type": "deconfliction_request",
            "refers_to": ru_notice,
            "concerns": [{"message_id": ru_notice, "volume_id": "R1", "version": 1}],
            "concern": "Move R1.",
        },
    )
    answer_id = send(
        pair,
        "ru",
        {
            "type": "deconfliction_answer",
            "refers_to": request_id,
            "answer": "counter_proposal",
            "volumes": [r1_moved(*FAR)],
            "reason": "Moved.",
        },
    )
    send(pair, "us", {"type": "deconfliction_concurrence", "refers_to": answer_id})

    shown = {
        party: json.loads(cli.ok("notice", "negotiation", answer_id, "--json", party=party))
        for party in ("us", "ru")
    }
    assert shown["us"] == shown["ru"]
    assert ("agreed", request_id) == (shown["us"]["state"], shown["us"]["id"])
    text = cli.ok("notice", "negotiation", request_id, party="ru")
    assert f"negotiation {request_id} (US): agreed" == text.splitlines()[0]
    closed = json.loads(cli.ok("notice", "conflicts", "--state", "closed", "--json"))
    assert [("closed", "amended")] == [(c["state"], c["closed_reason"]) for c in closed]
    assert [] == json.loads(cli.ok("notice", "conflicts", "--state", "open", "--json"))
    listing = cli.ok("notice", "conflicts", party="ru")
    assert ", amended: " in listing
    volumes = json.loads(cli.ok("notice", "volumes", "--json", "--message", ru_notice))
    assert [(2, "agreed")] == [(v["version"], v["state"]) for v in volumes if v["kind"] == "volume"]


def test_protected_areas_are_amended_and_cancelled_like_any_notice(pair: Pair) -> None:
    areas = example("protected_areas")
    declared = send(pair, "ru", areas)
    assert ["PA-1", "PA-2"] == sorted(a.area.id for a in pair.us.conflicts.areas())

    fewer = copy.deepcopy(areas)
    fewer["areas"] = [a for a in fewer["areas"] if a["id"] == "PA-2"]
    send(
        pair,
        "ru",
        {"type": "notice_amendment", "refers_to": declared, "notice": fewer, "reason": "x"},
    )
    for node in (pair.us, pair.ru):
        assert ["PA-2"] == [a.area.id for a in node.conflicts.areas()]

    send(pair, "ru", {"type": "notice_cancellation", "refers_to": declared, "reason": "y"})
    assert [] == pair.us.conflicts.areas() == pair.ru.conflicts.areas()


def test_a_proposal_is_checked_for_its_proposer_but_is_no_conflict_of_record(
    pair: Pair,
) -> None:
    ru_notice = send(pair, "ru", corridor_notice("R1", "36.0000000", "35.0000000", (0, 3000)))
    request = {
        "type": "deconfliction_request",
        "refers_to": ru_notice,
        "concerns": [{"message_id": ru_notice, "volume_id": "R1", "version": 1}],
        "proposed": [corridor_notice("A9", *NEAR, (1000, 5000))["volumes"][0]],
        "concern": "We propose A9 beside R1.",
    }

    preview = pair.us.notices.prepare("ru", request).conflicts
    request_id = send(pair, "us", request)

    assert [("A9", "R1")] == [
        tuple(sorted((c["a"]["volume_id"], c["b"]["volume_id"]))) for c in preview
    ]
    assert [] == pair.us.conflicts.listing() == pair.ru.conflicts.listing()
    shown = [node.conflicts.negotiation(request_id) for node in (pair.us, pair.ru)]
    assert shown[0] == shown[1]
    assert 1 == len(shown[0]["proposal_conflicts"])
    assert [] == open_alarms(pair.ru)

"""Watch levels: the ladder, the two-person rule, notifying the peer, history with times."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from hotline.app import create_app
from hotline.clock import FakeClock
from hotline.errors import ConfigError, Conflict, Forbidden, ValidationError
from hotline.node import Node
from hotline.testing import ServerThread
from tests.calls.conftest import AUDITOR, COMMANDER, OFFICER, SECOND_COMMANDER, Api
from tests.conftest import MakeNode, Pair


def level(node: Node) -> str:
    return str(node.calls.watch.status()["current"]["level"]["id"])


def test_the_default_ladder_is_normal_possible_imminent(make_node: MakeNode) -> None:
    status = make_node("us").calls.watch.status()
    assert [
        ("normal", "NORMAL", "ОБЫЧНЫЙ", 0),
        ("possible-crisis", "POSSIBLE CRISIS", "ВОЗМОЖНЫЙ КРИЗИС", 1),
        (
            "potential-imminent-crisis",
            "POTENTIAL IMMINENT CRISIS",
            "ВЕРОЯТНЫЙ НЕМИНУЕМЫЙ КРИЗИС",
            2,
        ),
    ] == [(r["id"], r["name_en"], r["name_ru"], r["rank"]) for r in status["ladder"]]
    assert ("normal", None) == (status["current"]["level"]["id"], status["current"]["since"])


def test_a_ladder_comes_from_watch_levels_json(make_node: MakeNode) -> None:
    ladder = [
        {"id": "green", "name_en": "GREEN", "name_ru": "ЗЕЛЁНЫЙ"},
        {"id": "red", "name_en": "RED", "name_ru": "КРАСНЫЙ"},
    ]
    node = make_node("us", files={"watch_levels.json": ladder})
    assert ["green", "red"] == [r["id"] for r in node.calls.watch.status()["ladder"]]
    with pytest.raises(ValidationError, match="not on this party's watch-level ladder"):
        node.calls.watch.propose("normal", reason="x", user=COMMANDER)


def test_a_ladder_file_with_a_repeated_id_is_refused(make_node: MakeNode) -> None:
    rung = {"id": "green", "name_en": "GREEN", "name_ru": "ЗЕЛЁНЫЙ"}
    with pytest.raises(ConfigError, match="share an id"):
        make_node("us", files={"watch_levels.json": [rung, rung]})


def test_a_change_takes_effect_only_with_a_second_persons_approval(
    make_node: MakeNode, clock: FakeClock
) -> None:
    node = make_node("us")
    watch = node.calls.watch
    proposed = watch.propose("possible-crisis", reason="Troops massing", user=COMMANDER)
    assert ("pending", False, "normal") == (proposed["state"], proposed["in_effect"], level(node))

    with pytest.raises(Forbidden, match="proposed a watch-level change cannot approve it"):
        watch.approve(proposed["id"], user=COMMANDER)
    with pytest.raises(Forbidden, match="needs the role commander"):
        watch.approve(proposed["id"], user=OFFICER)
    assert "normal" == level(node)
    assert proposed["id"] == watch.status()["pending"]["id"]

    clock.advance(timedelta(minutes=7))
    approved = watch.approve(proposed["id"], user=SECOND_COMMANDER, note="Concur")
    assert ("approved", "deputy", True) == (
        approved["state"],
        approved["decided_by"],
        approved["in_effect"],
    )
    current = watch.status()["current"]
    assert ("possible-crisis", approved["decided_at"]) == (current["level"]["id"], current["since"])


def test_a_rejected_change_never_takes_effect(make_node: MakeNode) -> None:
    node = make_node("us")
    watch = node.calls.watch
    proposed = watch.propose("possible-crisis", reason="Exercise", user=OFFICER)
    watch.reject(proposed["id"], user=OFFICER, note="Withdrawn by its proposer")
    with pytest.raises(Conflict, match="already rejected"):
        watch.approve(proposed["id"], user=SECOND_COMMANDER)
    assert "normal" == level(node)
    assert ["rejected"] == [c["state"] for c in watch.history()["changes"]]


def test_one_pending_change_at_a_time_and_never_to_the_same_level(make_node: MakeNode) -> None:
    watch = make_node("us").calls.watch
    with pytest.raises(Conflict, match="already normal"):
        watch.propose("normal", reason="x", user=COMMANDER)
    watch.propose("possible-crisis", reason="x", user=COMMANDER)
    with pytest.raises(Conflict, match="still waiting for approval"):
        watch.propose("potential-imminent-crisis", reason="y", user=SECOND_COMMANDER)
    with pytest.raises(Forbidden):
        watch.propose("potential-imminent-crisis", reason="y", user=AUDITOR)


def test_an_approved_change_is_notified_to_the_peer_with_its_history(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    watch = pair.us.calls.watch
    for target in ("possible-crisis", "potential-imminent-crisis"):
        change = watch.propose(
            target,
            reason="Buildup on the border",
            notify="ru",
            user=COMMANDER,
            message="Raised for the coming week.",
        )
        clock.advance(timedelta(hours=1))
        watch.approve(change["id"], user=SECOND_COMMANDER)
        pair.flush()
        clock.advance(timedelta(days=1))

    history = pair.ru.calls.watch.history()["peers"]
    assert [
        ("normal", "possible-crisis", 1, 3),
        ("possible-crisis", "potential-imminent-crisis", 2, 3),
    ] == [(h["previous"]["id"], h["level"]["id"], h["rank"], h["of_levels"]) for h in history]
    ours = pair.us.calls.watch.history()["changes"]
    assert [c["decided_at"] for c in ours] == [h["effective_at"] for h in history]
    latest = pair.ru.calls.watch.status()["peers"]["us"]
    assert ("ВЕРОЯТНЫЙ НЕМИНУЕМЫЙ КРИЗИС", "Raised for the coming week.") == (
        latest["level"]["name_ru"],
        latest["message"],
    )
    sent = [m["body"] for m in pair.us.line.listing("out") if m["type"] == "watch_level"]
    assert [False, False] == ["Buildup on the border" in json.dumps(body) for body in sent]


def test_the_two_person_rule_holds_over_http(make_node: MakeNode) -> None:
    node = make_node("us")
    with ServerThread(create_app(node, start_workers=False)) as server:
        http = httpx.Client(timeout=10)
        proposer = Api(node, server.url, http, "alpha", ["commander"])
        approver = Api(node, server.url, http, "bravo", ["commander"])
        change = proposer.post(
            "/api/v1/watch/changes", {"level": "possible-crisis", "reason": "Buildup"}
        )
        refused = proposer.post(f"/api/v1/watch/changes/{change['id']}/approve")
        assert (403, "forbidden") == (refused.status_code, refused.json()["error"]["code"])
        assert "normal" == proposer.get("/api/v1/watch")["current"]["level"]["id"]
        approver.post(f"/api/v1/watch/changes/{change['id']}/approve")
        assert "possible-crisis" == proposer.get("/api/v1/watch")["current"]["level"]["id"]
        http.close()


def test_a_pending_change_to_be_notified_sends_nothing_before_its_approval(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    watch = pair.us.calls.watch

    def notices(party: str, direction: str) -> list[str]:
        node = pair.node(party)
        return [m["type"] for m in node.line.listing(direction) if m["type"] == "watch_level"]

    change = watch.propose(
        "possible-crisis", reason="Buildup", notify="ru", message="Raised.", user=COMMANDER
    )
    clock.advance(timedelta(hours=1))
    pair.flush()
    assert ([], [], {}) == (
        notices("us", "out"),
        notices("ru", "in"),
        pair.ru.calls.watch.status()["peers"],
    )
    watch.approve(change["id"], user=SECOND_COMMANDER)
    pair.flush()
    assert (["watch_level"], ["watch_level"]) == (notices("us", "out"), notices("ru", "in"))


def test_the_approver_sees_the_notification_and_previous_reveals_only_notified_changes(
    calls_pair: Pair,
) -> None:
    """Normal → possible crisis (not notified) → imminent crisis (notified): the
    notification names NORMAL as the previous level, never the unnotified change; the
    pending change shows the commander exactly what approving it sends, to whom, en and ru."""
    pair = calls_pair
    watch = pair.us.calls.watch
    quiet = watch.propose("possible-crisis", reason="Exercise nearby", user=COMMANDER)
    assert quiet["outgoing"] is None  # nothing will be sent
    watch.approve(quiet["id"], user=SECOND_COMMANDER)
    loud = watch.propose(
        "potential-imminent-crisis", reason="Buildup", notify="ru", user=COMMANDER,
        message="Raised for 48 hours.",
    )  # fmt: skip
    outgoing = watch.status()["pending"]["outgoing"]
    assert ("ru", "normal", "potential-imminent-crisis") == (
        outgoing["to"],
        outgoing["body"]["previous"]["id"],
        outgoing["body"]["level"]["id"],
    )
    english, russian = outgoing["rendering"]["en"], outgoing["rendering"]["ru"]
    assert "TO: RU" in english and "NEW LEVEL: POTENTIAL IMMINENT CRISIS (level 3 of 3)" in english
    assert "PREVIOUS LEVEL: NORMAL" in english and "POSSIBLE CRISIS" not in english
    assert "MESSAGE: Raised for 48 hours." in english
    assert "НОВЫЙ УРОВЕНЬ: ВЕРОЯТНЫЙ НЕМИНУЕМЫЙ КРИЗИС (уровень 3 из 3)" in russian
    assert "{" not in english + russian  # words, not JSON

    approved = watch.approve(loud["id"], user=SECOND_COMMANDER)
    pair.flush()
    [sent] = [m for m in pair.us.line.listing("out") if m["type"] == "watch_level"]
    assert (approved["message_id"], outgoing["body"]["previous"]) == (
        sent["id"],
        sent["body"]["previous"],
    )
    [theirs] = pair.ru.calls.watch.history()["peers"]
    assert ("normal", "potential-imminent-crisis") == (
        theirs["previous"]["id"],
        theirs["level"]["id"],
    )

"""Readouts: each side's own, privacy by mutual agreement, approval, Markdown export."""

from __future__ import annotations

import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.calls.conftest import COMMANDER, OFFICER, SECOND_COMMANDER, api
from tests.calls.test_never_leaves import held_call
from tests.conftest import Pair


def test_details_are_private_by_mutual_agreement_once_both_sides_ask(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock, private=True)
    views = [pair.us.calls.records.get_call(call_id), pair.ru.calls.records.get_call(call_id)]
    assert [(["us"], False), (["us"], False)] == [
        (v["private_requested_by"], v["details_private"]) for v in views
    ]
    pair.ru.calls.records.set_private(call_id, True, user=OFFICER)
    pair.flush()
    views = [pair.us.calls.records.get_call(call_id), pair.ru.calls.records.get_call(call_id)]
    assert [(["ru", "us"], True), (["ru", "us"], True)] == [
        (v["private_requested_by"], v["details_private"]) for v in views
    ]


def test_a_public_readout_of_a_private_call_waits_for_a_second_person(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock, private=True)
    records = pair.us.calls.records
    written = records.write_readout(
        call_id,
        title="Readout",
        text="The two discussed several security-related issues of concern.",
        visibility="public",
        issued_by="Joint Staff Spokesman",
        user=COMMANDER,
    )
    pair.flush()
    assert ("public", "awaiting_approval") == (written["visibility"], written["status"])
    assert {"us": [], "ru": []} == pair.ru.calls.records.readouts(call_id, "shared")["sides"]
    assert [] == records.readouts(call_id, "public")["sides"]["us"]

    with pytest.raises(Forbidden, match="wrote a readout cannot also approve it"):
        records.approve(written["id"], user=COMMANDER)
    with pytest.raises(Forbidden, match="needs the role commander"):
        records.approve(written["id"], user=OFFICER)
    approved = records.approve(written["id"], user=SECOND_COMMANDER)
    pair.flush()
    assert ("sent", "deputy") == (approved["status"], approved["approved_by"])
    theirs = pair.ru.calls.records.readouts(call_id, "public")["sides"]["us"]
    assert [("Joint Staff Spokesman", "received")] == [
        (r["issued_by"], r["status"]) for r in theirs
    ]
    with pytest.raises(Conflict, match="not awaiting approval"):
        records.approve(written["id"], user=SECOND_COMMANDER)


def test_a_shared_readout_of_a_private_call_goes_without_approval_and_stays_its_sides(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock, private=True)
    pair.us.calls.records.write_readout(
        call_id, title="For the peer", text="As agreed.", visibility="shared", user=OFFICER
    )
    pair.flush()
    shared = pair.ru.calls.records.readouts(call_id, "shared")["sides"]["us"]
    assert ["As agreed."] == [r["text"] for r in shared]
    assert [] == pair.ru.calls.records.readouts(call_id, "public")["sides"]["us"]
    with pytest.raises(Forbidden, match="peer's readout"):
        pair.ru.calls.records.publish(shared[0]["id"], "public", user=OFFICER)
    with pytest.raises(NotFound, match="no held call"):
        pair.us.calls.records.write_readout(
            "00000000-0000-4000-8000-000000000000",
            title="x",
            text="y",
            visibility="internal",
            user=OFFICER,
        )


def test_public_readouts_export_to_markdown_side_by_side(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock)
    pair.us.calls.records.write_readout(
        call_id,
        title="Readout of the Chairman's call",
        text="Discussed risk reduction and operational de-confliction.",
        visibility="public",
        issued_by="Col. Dave Butler",
        user=OFFICER,
    )
    pair.us.calls.records.write_readout(
        call_id,
        title="Not for the press",
        text="INTERNAL ONLY",
        visibility="internal",
        user=OFFICER,
    )
    pair.flush()
    reader = api(pair, "us", "press", ["auditor"])

    english = reader.get(f"/api/v1/calls/{call_id}/readouts.md", lang="en")
    russian = reader.get(f"/api/v1/calls/{call_id}/readouts.md", lang="ru")
    assert english.headers["content-type"].startswith("text/markdown")
    assert english.text.startswith("# Readouts of the call of 2026-11-21 16:30 UTC\n")
    assert "## Readout of United States" in english.text
    assert "### Readout of the Chairman's call" in english.text
    assert "original in English. — Col. Dave Butler*" in english.text
    assert "No public readout from Russian Federation." in english.text
    assert "INTERNAL ONLY" not in english.text + russian.text
    assert "## Сообщение стороны: Соединённые Штаты Америки" in russian.text
    assert "Российская Федерация: публичного сообщения нет." in russian.text
    assert "Discussed risk reduction and operational de-confliction." in russian.text


def test_a_shared_readout_widened_to_public_stays_shared_while_approval_is_awaited(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock, private=True)
    records = pair.us.calls.records
    written = records.write_readout(
        call_id, title="For the peer", text="As agreed.", visibility="shared", user=COMMANDER
    )
    pair.flush()
    widened = records.publish(written["id"], "public", user=COMMANDER)
    assert ("public", "awaiting_approval", "shared") == (
        widened["visibility"],
        widened["status"],
        widened["sent_as"],
    )

    def seen(party: str, visibility: str) -> list[tuple[str, str | None]]:
        sides = pair.node(party).calls.records.readouts(call_id, visibility)["sides"]
        return [(r["text"], r["sent_as"]) for r in sides["us"]]

    assert [("As agreed.", "shared")] == seen("us", "shared")
    assert [] == seen("us", "public")
    assert [("As agreed.", "shared")] == seen("ru", "shared")

    records.approve(written["id"], user=SECOND_COMMANDER)
    pair.flush()
    assert ([("As agreed.", "public")], [("As agreed.", "public")]) == (
        seen("us", "public"),
        seen("ru", "public"),
    )


def test_a_held_public_readout_rejected_by_a_second_person_is_never_sent(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock, private=True)
    records = pair.us.calls.records
    written = records.write_readout(
        call_id, title="Readout", text="Too much detail.", visibility="public", user=COMMANDER
    )
    with pytest.raises(Forbidden, match="cannot also decide on it"):
        records.reject(written["id"], reason="mine", user=COMMANDER)
    with pytest.raises(Forbidden, match="needs the role commander"):
        records.reject(written["id"], reason="no", user=OFFICER)
    with pytest.raises(ValidationError, match="say why"):
        records.reject(written["id"], reason=" ", user=SECOND_COMMANDER)

    clock.advance(60)
    rejected = records.reject(written["id"], reason="Names the interpreters", user=SECOND_COMMANDER)
    pair.flush()
    assert ("internal", "kept", None) == (
        rejected["visibility"],
        rejected["status"],
        rejected["sent_as"],
    )
    assert [("deputy", rfc3339(clock.now()), "Names the interpreters")] == [
        (r["by"], r["at"], r["reason"]) for r in rejected["rejections"]
    ]
    with pytest.raises(Conflict, match="not awaiting approval"):
        records.approve(written["id"], user=SECOND_COMMANDER)
    assert {"us": [], "ru": []} == pair.ru.calls.records.readouts(call_id, "shared")["sides"]
    sent = [m["type"] for m in pair.us.line.listing("out") if m["type"] == "call_readout"]
    assert [] == sent
    shown = pair.us.calls.requests.get(call_id)["timeline"]
    assert ["requested", "accepted", "held"] == [e["kind"] for e in shown]


def test_a_rejected_widening_leaves_a_shared_readout_shared(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock, private=True)
    records = pair.us.calls.records
    written = records.write_readout(
        call_id, title="For the peer", text="As agreed.", visibility="shared", user=COMMANDER
    )
    records.publish(written["id"], "public", user=COMMANDER)
    rejected = records.reject(written["id"], reason="Not for the press", user=SECOND_COMMANDER)
    pair.flush()
    assert ("shared", "sent", "shared") == (
        rejected["visibility"],
        rejected["status"],
        rejected["sent_as"],
    )
    theirs = pair.ru.calls.records.readouts(call_id, "shared")["sides"]["us"]
    assert [("As agreed.", "shared")] == [(r["text"], r["visibility"]) for r in theirs]


def test_a_held_readout_is_rejected_over_http_by_a_second_commander(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock, private=True)
    writer = api(pair, "us", "alpha", ["commander"])
    second = api(pair, "us", "bravo", ["commander"])
    first = writer.post(
        f"/api/v1/calls/{call_id}/readouts",
        {"title": "Readout", "text": "Draft one.", "visibility": "public"},
    )
    refused = writer.post(f"/api/v1/readouts/{first['id']}/reject", {"reason": "mine"})
    assert (403, "forbidden") == (refused.status_code, refused.json()["error"]["code"])
    rejected = second.post(f"/api/v1/readouts/{first['id']}/reject", {"reason": "Too early"})
    assert ("internal", ["Too early"]) == (
        rejected["visibility"],
        [r["reason"] for r in rejected["rejections"]],
    )

"""Readouts: each side's own, privacy by mutual agreement, approval, Markdown export."""

from __future__ import annotations

import pytest

from hotline.clock import FakeClock
from hotline.errors import Conflict, Forbidden, NotFound
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

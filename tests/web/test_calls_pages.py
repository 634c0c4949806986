"""The calls, readouts and watch-level pages over real HTTP, between two real nodes.

Everything an operator does here goes through the console's forms; the services behind
them (and the signed messages between the nodes) do the rest. The story follows the
source articles: a call asked for, declined, asked again, accepted, held, and each side's
readout; a watch level raised under the two-person rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.clock import FakeClock
from tests.calls.conftest import PRINCIPALS, everything_stored, outbound_envelopes
from tests.conftest import MakePair, Pair
from tests.web.conftest import PASSWORD, Console, log_in

PEOPLE = {
    "us": {"duty": ["officer"], "cmd1": ["commander"], "cmd2": ["commander"]},
    "ru": {"dezhurny": ["officer"], "komandir": ["commander"]},
}


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2022, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def calls_pair(make_pair: MakePair, clock: FakeClock) -> Iterator[Pair]:
    """Two nodes with principals on their cards; sessions that outlive the clock's jumps."""
    clock.set(at(2, 10))
    files = {
        party: {"files": {"principals.json": PRINCIPALS[party]}, "token_ttl_s": 10**9}
        for party in PRINCIPALS
    }
    with make_pair(us=files["us"], ru=files["ru"]) as made:
        for party, people in PEOPLE.items():
            for name, roles in people.items():
                made.node(party).auth.add_user(name, PASSWORD, roles)
        yield made


@pytest.fixture
def desks(calls_pair: Pair) -> Iterator[dict[str, Console]]:
    """A logged-in console per person, named after the person."""
    made = {
        name: log_in(calls_pair.servers[party].url, name)
        for party, people in PEOPLE.items()
        for name in people
    }
    yield made
    for console in made.values():
        console.http.close()


def request_call(desk: Console, slot: str, answer_by: str, topic: str) -> str:
    """Ask ru's minister for a call with secdef, from the calls page's form; the request id."""
    response = desk.post(
        "/console/calls/requests",
        {
            "principal": "secdef",
            "counterpart": "ru:minister",
            "topics": topic,
            "precedence": "PRIORITY",
            "slot-0-start": slot,
            "slot-0-minutes": "60",
            "answer_by": answer_by,
            "message": "At the request of the Secretary.",
        },
    )
    assert 303 == response.status_code, response.text
    found = re.fullmatch(r"/console/calls/requests/([0-9a-f-]+)", response.headers["location"])
    assert found is not None
    return found.group(1)


def offered_slot(desk: Console, request_id: str) -> str:
    """The first time offered by the answer form of the request's page (a radio's value)."""
    page = desk.get(f"/console/calls/requests/{request_id}").text
    found = re.search(r'name="slot" value="([^"]+)"', page)
    assert found is not None, "the answer form offers the proposed times"
    return found.group(1)


def states(pair: Pair, request_id: str) -> tuple[str, str]:
    return (
        pair.us.calls.requests.get(request_id)["state"],
        pair.ru.calls.requests.get(request_id)["state"],
    )


def hold_a_call(pair: Pair, desks: dict[str, Console], clock: FakeClock) -> str:
    """Request, accept and record a call through the consoles; the call's id."""
    clock.set(at(5, 10))
    request_id = request_call(desks["duty"], "2022-05-13 14:00", "2022-05-12 12:00", "ceasefire")
    pair.flush()
    slot = offered_slot(desks["dezhurny"], request_id)
    desks["dezhurny"].post(
        f"/console/calls/requests/{request_id}/answer", {"answer": "accept", "slot": slot}
    )
    pair.flush()
    clock.set(at(5, 13, 15, 10))
    recorded = desks["duty"].post(
        f"/console/calls/requests/{request_id}/record",
        {
            "held_at": "2022-05-13 14:00",
            "minutes": "60",
            "part-0-name": "Lloyd Austin",
            "part-0-role": "Secretary of Defense",
            "part-0-party": "us",
            "part-1-name": "Sergei Shoigu",
            "part-1-party": "ru",
            "interp-0-name": "Interpreter A",
            "interp-0-party": "ru",
        },
    )
    assert (303, f"/console/calls/{request_id}") == (
        recorded.status_code,
        recorded.headers["location"],
    )
    pair.flush()
    return request_id


def test_requested_declined_requested_again_accepted_held_and_readouts_across_two_nodes(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock
) -> None:
    us, ru = desks["duty"], desks["dezhurny"]
    first = request_call(us, "2022-03-03 15:00", "2022-03-02 12:00", "risk reduction")
    calls_pair.flush()
    waiting = ru.get("/console/calls").text
    assert f"/console/calls/requests/{first}" in waiting  # open on the other side

    declined = ru.post(
        f"/console/calls/requests/{first}/answer",
        {"answer": "decline", "reason": "Not at this time."},
    )
    calls_pair.flush()
    assert 303 == declined.status_code
    assert ("declined", "declined") == states(calls_pair, first)

    call_id = hold_a_call(calls_pair, desks, clock)
    assert ("held", "held") == states(calls_pair, call_id)

    for desk, title, text, lang in (
        (us, "Readout of the Secretary's call", "Secretary Austin urged a ceasefire.", "en"),
        (ru, "О телефонном разговоре", "Обсуждены вопросы международной безопасности.", "ru"),
    ):
        written = desk.post(
            f"/console/calls/{call_id}/readouts",
            {"title": title, "text": text, "visibility": "public", "lang": lang},
        )
        assert 303 == written.status_code, written.text
    calls_pair.flush()

    for desk in (us, ru):
        page = desk.get(f"/console/calls/{call_id}").text
        side_by_side = page[page.index('id="h-sides"') : page.index('id="h-ours"')]
        assert "Secretary Austin urged a ceasefire." in side_by_side
        assert "Обсуждены вопросы международной безопасности." in side_by_side
        assert 'lang="ru"' in side_by_side and 'lang="en"' in side_by_side

    clock.set(at(5, 20, 8))
    history = us.get("/console/calls").text
    assert re.search(r'id="days-1">7<', history), "7 days since the call of 13 May"
    assert "Not at this time." in history  # the declined request, with its reason


def test_the_days_since_last_contact_count_calendar_days_and_no_call_shows_none(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock
) -> None:
    request_call(desks["duty"], "2022-02-18 15:00", "2022-02-15 00:00", "risk reduction")
    calls_pair.flush()
    assert "no call held yet" in desks["duty"].get("/console/calls").text

    hold_a_call(calls_pair, desks, clock)
    clock.set(at(8, 5, 23, 59))

    page = desks["duty"].get("/console/calls").text
    assert re.search(r'id="days-1">84<', page), "13 May to 5 August: 84 days"


def test_proposing_other_times_then_withdrawing_reaches_the_other_node(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock
) -> None:
    request_id = request_call(desks["duty"], "2022-02-18 15:00", "2022-02-15 00:00", "talks")
    calls_pair.flush()

    proposed = desks["dezhurny"].post(
        f"/console/calls/requests/{request_id}/answer",
        {
            "answer": "propose",
            "slot-0-start": "2022-02-19 10:00",
            "slot-0-minutes": "30",
            "answer_by": "2022-02-16 18:00",
            "reason": "The minister is travelling.",
        },
    )
    calls_pair.flush()
    assert 303 == proposed.status_code, proposed.text
    assert "2022-02-19T10:00:00.000Z/30" == offered_slot(desks["duty"], request_id)

    desks["duty"].post(f"/console/calls/requests/{request_id}/withdraw", {"reason": "Overtaken."})
    calls_pair.flush()

    assert ("withdrawn", "withdrawn") == states(calls_pair, request_id)


def test_an_answer_the_service_refuses_is_shown_as_a_page_not_applied(
    calls_pair: Pair, desks: dict[str, Console]
) -> None:
    request_id = request_call(desks["duty"], "2022-02-18 15:00", "2022-02-15 00:00", "talks")
    calls_pair.flush()

    # the requesting side cannot answer its own request
    refused = desks["duty"].post(
        f"/console/calls/requests/{request_id}/answer",
        {"answer": "decline", "reason": "no"},
    )

    assert 409 == refused.status_code and "error" in refused.text
    assert ("requested", "requested") == states(calls_pair, request_id)


def test_an_internal_readout_never_reaches_the_peer(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock
) -> None:
    call_id = hold_a_call(calls_pair, desks, clock)
    secret = "INTERNAL: the minister sounded tired; follow up through the attaché."

    desks["duty"].post(
        f"/console/calls/{call_id}/readouts",
        {"title": "Internal note on the call", "text": secret, "visibility": "internal"},
    )
    calls_pair.flush()

    ours = desks["duty"].get(f"/console/calls/{call_id}").text
    theirs = desks["dezhurny"].get(f"/console/calls/{call_id}").text
    assert secret in ours[ours.index('id="h-ours"') :]  # kept, listed among our readouts
    assert secret not in ours[ours.index('id="h-sides"') : ours.index('id="h-ours"')]
    assert secret not in theirs
    assert secret not in everything_stored(calls_pair.ru)
    assert not any(secret in envelope for envelope in outbound_envelopes(calls_pair.us))


def a_held_public_readout(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock, text: str
) -> tuple[str, dict[str, Any]]:
    """A call both sides keep private, and cmd1's public readout of it, held for approval."""
    call_id = hold_a_call(calls_pair, desks, clock)
    desks["duty"].post(f"/console/calls/{call_id}/privacy", {"details_private": "yes"})
    desks["dezhurny"].post(f"/console/calls/{call_id}/privacy", {"details_private": "yes"})
    calls_pair.flush()
    desks["cmd1"].post(
        f"/console/calls/{call_id}/readouts",
        {"title": "Public readout", "text": text, "visibility": "public"},
    )
    (held,) = calls_pair.us.calls.records.readouts(call_id)["sides"]["us"]
    return call_id, held


def test_a_public_readout_of_a_private_call_waits_for_a_second_commander(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock
) -> None:
    call_id, held = a_held_public_readout(calls_pair, desks, clock, "The two discussed Ukraine.")

    page = desks["cmd1"].get(f"/console/calls/{call_id}").text
    own_approval = desks["cmd1"].post(
        f"/console/readouts/{held['id']}/approve", {"call_id": call_id}
    )
    calls_pair.flush()
    before = desks["dezhurny"].get(f"/console/calls/{call_id}").text
    approved = desks["cmd2"].post(f"/console/readouts/{held['id']}/approve", {"call_id": call_id})
    calls_pair.flush()
    after = desks["dezhurny"].get(f"/console/calls/{call_id}").text

    assert "Details kept private by mutual agreement" in page
    assert "awaiting a second approval" in page and f'id="approve-{held["id"]}"' not in page
    assert 403 == own_approval.status_code
    assert "The two discussed Ukraine." not in before
    assert 303 == approved.status_code
    assert "The two discussed Ukraine." in after


def test_a_held_public_readout_is_rejected_on_the_console_with_a_reason(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock
) -> None:
    call_id, held = a_held_public_readout(calls_pair, desks, clock, "Not for the press yet.")
    reviewer_page = desks["cmd2"].get(f"/console/calls/{call_id}").text

    own = desks["cmd1"].post(
        f"/console/readouts/{held['id']}/reject", {"call_id": call_id, "reason": "mine"}
    )
    no_reason = desks["cmd2"].post(f"/console/readouts/{held['id']}/reject", {"call_id": call_id})
    rejected = desks["cmd2"].post(
        f"/console/readouts/{held['id']}/reject",
        {"call_id": call_id, "reason": "Agreed to keep it private."},
    )
    calls_pair.flush()

    assert f'id="reject-{held["id"]}"' in reviewer_page
    assert 403 == own.status_code and 422 == no_reason.status_code
    assert 303 == rejected.status_code
    page = desks["cmd2"].get(f"/console/calls/{call_id}").text
    assert "publication rejected by cmd2: Agreed to keep it private." in page
    (after,) = calls_pair.us.calls.records.readouts(call_id)["sides"]["us"]
    assert ("internal", "kept") == (after["visibility"], after["status"])
    assert "Not for the press yet." not in everything_stored(calls_pair.ru)


def test_a_watch_level_change_takes_effect_only_when_a_second_commander_approves(
    calls_pair: Pair, desks: dict[str, Console]
) -> None:
    proposed = desks["cmd1"].post(
        "/console/watch-level/changes",
        {"level": "possible-crisis", "reason": "Missile fell in Poland.", "notify": "ru"},
    )
    assert 303 == proposed.status_code, proposed.text
    change_id = calls_pair.us.calls.watch.status()["pending"]["id"]

    pending_page = desks["cmd1"].get("/console/watch-level").text
    approver_page = desks["cmd2"].get("/console/watch-level").text
    self_approval = desks["cmd1"].post(f"/console/watch-level/changes/{change_id}/approve")
    officer_approval = desks["duty"].post(f"/console/watch-level/changes/{change_id}/approve")
    still = calls_pair.us.calls.watch.status()["current"]["level"]["id"]
    header_before = desks["duty"].get("/console/links").text

    approved = desks["cmd2"].post(
        f"/console/watch-level/changes/{change_id}/approve", {"note": "Agreed."}
    )
    calls_pair.flush()

    assert "Change awaiting approval" in pending_page and 'id="approve-change"' not in pending_page
    # the approving commander sees what approving sends, to whom, in both languages
    shown = approver_page[approver_page.index('id="outgoing-notification"') :]
    assert 'id="approve-change"' in approver_page
    assert "Approving sends this notification to RU" in shown
    assert "NEW LEVEL: POSSIBLE CRISIS (level 2 of 3)" in shown
    assert "НОВЫЙ УРОВЕНЬ: ВОЗМОЖНЫЙ КРИЗИС" in shown
    assert (403, 403, "normal") == (
        self_approval.status_code,
        officer_approval.status_code,
        still,
    )
    assert 'id="watch-chip"' not in header_before
    assert 303 == approved.status_code
    assert "possible-crisis" == calls_pair.us.calls.watch.status()["current"]["level"]["id"]
    header_after = desks["duty"].get("/console/links").text
    chip = header_after[header_after.index('id="watch-chip"') :][:600]
    assert "US POSSIBLE CRISIS" in chip
    history = desks["duty"].get("/console/watch-level").text
    assert "Missile fell in Poland." in history and "cmd2" in history
    peer_page = desks["dezhurny"].get("/console/watch-level").text
    assert "ВОЗМОЖНЫЙ КРИЗИС" in peer_page[peer_page.index('id="wl-peer-us"') :][:300]


def test_the_calls_pages_speak_russian_on_the_russian_console(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock
) -> None:
    call_id = hold_a_call(calls_pair, desks, clock)
    ru = desks["dezhurny"]  # the ru node's own language is Russian

    calls_page = ru.get("/console/calls").text
    call_page = ru.get(f"/console/calls/{call_id}").text
    watch_page = ru.get("/console/watch-level").text

    assert '<html lang="ru">' in calls_page
    for label in ("Звонки", "Уровень готовности", "Доказательства", "Запросить разговор"):
        assert label in calls_page
    assert "дней с последнего контакта" in calls_page
    assert "Сообщения сторон" in call_page and "Написать сообщение о разговоре" in call_page
    assert "ОБЫЧНЫЙ" in watch_page and "Предложить изменение" in watch_page


def test_a_flash_call_request_from_the_form_waits_for_a_second_person(
    calls_pair: Pair, desks: dict[str, Console], clock: FakeClock
) -> None:
    pair = calls_pair
    form = {
        "principal": "cjcs",
        "counterpart": "ru:cgs",
        "topics": "Launch notification\nArctic exercise",
        "precedence": "FLASH",
        "slot-0-start": "2022-02-12 14:00",
        "slot-0-minutes": "30",
        "answer_by": "2022-02-11 12:00",
    }
    sent = desks["duty"].post("/console/calls/requests", form)
    [held] = pair.us.held.listing()
    assert (303, f"/console#held-{held['id']}") == (sent.status_code, sent.headers["location"])
    pair.flush()
    assert [] == pair.us.calls.requests.listing() == pair.ru.calls.requests.listing()

    own_view = desks["duty"].get("/console").text
    second_view = desks["cmd1"].get("/console").text
    assert "You asked for this message" in own_view and f"approve-{held['id']}" not in own_view
    assert f"approve-{held['id']}" in second_view
    assert "cjcs → RU:cgs · Topics: Launch notification; Arctic exercise" in second_view

    approved = desks["cmd1"].post(f"/console/held/{held['id']}/approve")
    [made] = pair.us.calls.requests.listing()
    assert f"/console/messages/{made['message_id']}" == approved.headers["location"]
    assert ("duty", "FLASH") == (made["created_by"], made["precedence"])
    pair.flush()
    assert [made["id"]] == [r["id"] for r in pair.ru.calls.requests.listing()]

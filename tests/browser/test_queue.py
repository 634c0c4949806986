"""The queue and the answer, in a real browser against two real nodes (issue 17, items 3, 4).

An overdue PRIORITY stands above an IMMEDIATE with time left, with its countdown in
``h:mm:ss`` and the deadline's date-time group beside it; an older peer's escalation is
shown on the message it escalates, not as a row of its own, and goes with one
acknowledgement; a deconfliction request is answered from its message page (the form
pre-filled; sent; it arrives at the peer referring to the request). The clicks and
seconds of both paths are printed for the closing note (``-s`` shows them).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from hotline.domain.bodies import check_body
from hotline.testing import DatabaseFactory
from tests.browser.conftest import CONTACTS, PASSWORD, Consoles, log_in
from tests.conftest import MakePair
from tests.services.test_conflicts import corridor_notice

pytestmark = pytest.mark.browser

COMPOSE_BOUNDS = """() => { const m = document.getElementById('compose-map').hotlineMap;
  const b = m.getBounds(); return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }"""
WAIT_MS = 30_000


@pytest.fixture
def queue_consoles(
    databases: DatabaseFactory, make_pair: MakePair, browser: Browser
) -> Iterator[Consoles]:
    """The pair on the real clock, RU giving a PRIORITY 2 seconds (so one is soon overdue)."""
    if databases.backend != "sqlite":
        pytest.skip("browser tests run on SQLite only (see tests/browser/conftest.py)")
    options = {"real_clock": True, "files": {"contacts.json": CONTACTS}}
    with make_pair(us=options, ru=options | {"ack_priority_s": 2}) as pair:
        for node in (pair.us, pair.ru):
            node.auth.add_user("duty", PASSWORD)
        contexts = [browser.new_context(viewport={"width": 1440, "height": 900}) for _ in range(2)]
        pages = [context.new_page() for context in contexts]
        for page, party in zip(pages, ("us", "ru"), strict=True):
            page.set_default_timeout(WAIT_MS)
            log_in(page, pair.servers[party].url)
        try:
            yield Consoles(pair, pages[0], pages[1])
        finally:
            for context in contexts:
                context.close()


def test_an_overdue_priority_is_above_an_immediate_and_its_escalation_is_on_it(
    queue_consoles: Consoles,
) -> None:
    us, pair = queue_consoles.us, queue_consoles.pair
    url = pair.servers["us"].url
    late = pair.ru.line.send(to="us", text="Late PRIORITY.", precedence="PRIORITY", user="d")
    fresh = pair.ru.line.send(to="us", text="Fresh IMMEDIATE.", precedence="IMMEDIATE", user="d")
    pair.flush()
    with pair.ru.db.write() as conn:  # as an older node escalated it
        body = {
            "of_message": late["id"],
            "of_hash": pair.ru.line.show(late["id"])["hash"],
            "step": 1,
            "contact_id": "watch",
            "contact_role_en": "Watch commander",
            "contact_role_ru": "Начальник смены",
        }
        escalation_id = pair.ru.line.enqueue(
            conn,
            to="us",
            type_="escalation",
            body=check_body("escalation", body),
            precedence="PRIORITY",
            lang="ru",
            user="d",
        )
    pair.flush()

    us.goto(url + "/console")
    rows = us.locator("#inbox section[aria-labelledby=h-action] tr.needs-action")
    # the PRIORITY's 2 seconds run out: it goes red and, reloaded live, to the top
    expect(us.locator(".own-overdue")).to_be_visible(timeout=WAIT_MS)
    expect(rows).to_have_count(2)
    assert [f"row-{late['id']}", f"row-{fresh['id']}"] == [
        rows.nth(i).get_attribute("id") for i in range(2)
    ]
    expect(rows.nth(0).locator(".countdown")).to_have_class(re.compile(r"\boverdue\b"))
    assert re.fullmatch(r"−0:00:\d\d", rows.nth(0).locator(".cd-value").inner_text())
    assert re.fullmatch(r"0:(29|30):\d\d", rows.nth(1).locator(".cd-value").inner_text())
    assert re.fullmatch(r"\d{6}Z [A-Z]{3} \d\d", rows.nth(1).locator(".cd-dtg").inner_text())
    expect(rows.nth(0).locator(".escalated")).to_have_text("Escalated: step 1 → Watch commander")
    expect(us.locator(f"#row-{escalation_id}")).to_have_count(0)
    queue_consoles.shot(us, "queue-overdue-first")

    us.click(f"#row-{late['id']} .c-subject a")
    expect(us.locator("#message-head .escalated")).to_have_text(
        "Escalated: step 1 → Watch commander"
    )
    queue_consoles.shot(us, "message-escalated")
    us.click(f"#ack-{late['id']}")
    expect(us.locator(f"#ack-{late['id']}")).to_have_count(0)
    assert "duty" == pair.us.line.show(escalation_id)["acked_by"]  # acknowledged with it

    us.goto(f"{url}/console/messages/{late['id']}")
    us.emulate_media(media="print")  # the print view (PDF = the browser's print)
    expect(us.locator(".print-marking").first).to_have_text(
        re.compile(r"^UNCLASSIFIED · PRIORITY · Free text")  # the line's marking first
    )
    expect(us.locator(".print-marking").last).to_have_text(re.compile(r"^UNCLASSIFIED · PRIORITY"))
    expect(us.locator(".marking-bar").first).to_be_hidden()  # the message's lines carry it
    expect(us.locator(".mainnav")).to_be_hidden()
    queue_consoles.shot(us, "message-print", full=True)


def test_a_deconfliction_request_is_answered_from_its_message_page(
    queue_consoles: Consoles,
) -> None:
    ru, pair = queue_consoles.ru, queue_consoles.pair
    notice = pair.ru.notices.send(
        "us",
        corridor_notice("R1", "36.0000000", "35.0000000", (0, 3000)),
        precedence="PRIORITY",
        lang="ru",
        user="duty",
    )["message"]["id"]
    pair.flush()
    request = {
        "type": "deconfliction_request",
        "refers_to": notice,
        "concerns": [{"message_id": notice, "volume_id": "R1", "version": 1}],
        "concern": "R1 is 2 km from our A1. Request you move it east.",
    }
    request_id = pair.us.notices.send(
        "ru", request, precedence="IMMEDIATE", lang="en", user="duty"
    )["message"]["id"]
    ru.goto(pair.servers["ru"].url + "/console")
    ru.evaluate("window.__sameDocument = true")
    pair.flush()

    row = ru.locator(f"#row-{request_id}")
    expect(row).to_be_visible(timeout=WAIT_MS)
    received, clicks = time.monotonic(), 0
    row.locator(".c-subject a").click()
    clicks += 1
    ru.click(f"#answer-{request_id}")
    clicks += 1
    expect(ru.locator("#refers_to")).to_have_value(request_id)  # pre-filled
    expect(ru.locator("#to")).to_have_value("us")
    expect(ru.locator("input[name=precedence][value=IMMEDIATE]")).to_be_checked()
    expect(ru.locator(".answering-volumes tbody tr")).to_have_count(1)
    expect(ru.locator(".answering-volumes")).to_contain_text("R1")
    # the request's volume copied into an editable row; the map framed on it
    expect(ru.locator("#vol-0-id")).to_have_value("R1")
    expect(ru.locator("#vol-0-shape")).to_have_value("circle")
    expect(ru.locator("#vol-0-size_m")).to_have_value("5000")
    expect(ru.locator("#vol-0-coords")).to_have_value("35.0000000, 36.0000000")
    expect(ru.locator("#compose-map[data-framed='request']")).to_have_count(1, timeout=WAIT_MS)
    south, west, north, east = ru.evaluate(COMPOSE_BOUNDS)
    assert south < 35.0 < north and west < 36.0 < east and north - south < 2, (south, north)
    queue_consoles.shot(ru, "answer-pre-filled", full=True)
    ru.select_option("#answer", "counter_proposal")
    ru.fill("#reason", "Move it 20 km east.")
    ru.fill("#vol-0-coords", "35.0000000, 36.2200000")  # the copied row, edited
    ru.click("#send-notice")
    clicks += 1
    ru.wait_for_url(re.compile(r".*/console/messages/[0-9a-f-]+$"))
    answered = time.monotonic() - received
    pair.flush()

    answers = [m for m in pair.us.line.listing("in") if m["type"] == "deconfliction_answer"]
    assert [(request_id, "counter_proposal")] == [
        (m["body"]["refers_to"], m["body"]["answer"]) for m in answers
    ]
    [proposed] = answers[0]["body"]["volumes"]
    assert ("R1", 5000, 0, 3000) == tuple(
        proposed["properties"][k] for k in ("id", "radius_m", "alt_lower_m", "alt_upper_m")
    )
    assert ["36.2200000", "35.0000000"] == proposed["geometry"]["coordinates"]
    print(f"\nFIGURE deconfliction request received → answered: {clicks} clicks, {answered:.1f} s")


def test_a_flash_is_acknowledged_from_the_top_of_the_queue_in_one_click(
    queue_consoles: Consoles,
) -> None:
    us, pair = queue_consoles.us, queue_consoles.pair
    us.goto(pair.servers["us"].url + "/console")
    pair.ru.line.send(to="us", text="Routine first.", precedence="ROUTINE", user="d")
    flash = pair.ru.line.send(to="us", text="Turn away now.", precedence="FLASH", user="d")
    pair.flush()

    first = us.locator("#inbox section[aria-labelledby=h-action] tr.needs-action").first
    expect(first).to_have_id(f"row-{flash['id']}", timeout=WAIT_MS)  # live, at the top
    arrived = time.monotonic()
    us.click(f"#ack-{flash['id']}")
    expect(us.locator(f"#ack-{flash['id']}")).to_have_count(0)
    acknowledged = time.monotonic() - arrived

    assert "duty" == pair.us.line.show(flash["id"])["acked_by"]
    print(f"\nFIGURE FLASH arrival → acknowledged: 1 click, {acknowledged:.1f} s")

"""Hostile review of the case page: a peer's free text must reach the map as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from hotline.domain.notices.base import format_utc
from tests.browser.conftest import Consoles
from tests.services.test_cases import account, event
from tests.services.test_notices import sent_example

MARKUP = '<b id="peer-markup">ALL CLEAR</b>'


def test_a_peer_event_label_is_shown_as_text_on_the_case_map(consoles: Consoles) -> None:
    pair = consoles.pair
    report = sent_example(pair, "us", "incident_report")
    at = format_utc(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20))
    case_id = "3c1d2e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
    ours = account(case_id, report, [event("closest_approach", at, "32.5000000", "43.2500000")])
    opened = pair.us.notices.send("ru", ours, precedence="IMMEDIATE", lang=None, user="duty")
    pair.flush()
    # ru's label (a ShortText: any characters but control ones) is markup
    theirs = account(case_id, report, [event("other", at, "32.5100000", "43.2500000")])
    theirs["events"][0]["label"] = MARKUP
    theirs["joins"] = opened["message"]["id"]
    pair.ru.notices.send("us", theirs, precedence="IMMEDIATE", lang=None, user="duty")
    pair.flush()
    page = consoles.us

    page.goto(pair.servers["us"].url + f"/console/cases/{case_id}")
    expect(page.locator("#case-map")).to_have_attribute("data-markers", "2")
    for marker in page.locator("#case-map path.leaflet-interactive").all():
        marker.dispatch_event("mouseover")  # each event's tooltip opens

    expect(page.locator(".leaflet-tooltip", has_text="RU")).to_contain_text(MARKUP)
    assert 0 == page.locator("#peer-markup").count()  # today: Leaflet sets it as HTML


def test_two_positions_either_side_of_the_antimeridian_are_drawn_close(
    consoles: Consoles,
) -> None:
    # an incident in the Bering Sea: the two sides' positions are 0.3 NM apart, on either
    # side of 180°; the map must not join them with a line around the whole world
    pair = consoles.pair
    report = sent_example(pair, "us", "incident_report")
    at = format_utc(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20))
    case_id = "4d2e3f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6"
    ours = account(case_id, report, [event("closest_approach", at, "179.9950000", "60.0000000")])
    opened = pair.us.notices.send("ru", ours, precedence="IMMEDIATE", lang=None, user="duty")
    pair.flush()
    theirs = account(case_id, report, [event("closest_approach", at, "-179.9950000", "60.0000000")])
    theirs["joins"] = opened["message"]["id"]
    pair.ru.notices.send("us", theirs, precedence="IMMEDIATE", lang=None, user="duty")
    pair.flush()
    (row,) = pair.us.cases.show(case_id)["differences"]["both"]
    assert row["distance_nm"] < 0.5  # the numbers are right (GeographicLib)
    page = consoles.us

    page.goto(pair.servers["us"].url + f"/console/cases/{case_id}")
    expect(page.locator(".case-delta")).to_contain_text(" NM, +0 s")
    line = page.locator("#case-map path.leaflet-interactive[stroke-dasharray]")
    box = line.bounding_box()

    assert box is not None and box["width"] < 200, box  # today: ~the width of the world

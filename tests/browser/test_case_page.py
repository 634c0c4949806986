"""The case page in Chromium: both sides' positions on the map, the delta, the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from hotline.domain.notices.base import format_utc
from tests.browser.conftest import Consoles
from tests.browser.test_accessibility import axe
from tests.services.test_cases import account, event, one_nm_east
from tests.services.test_notices import sent_example


def test_the_case_page_draws_both_accounts_and_their_difference(consoles: Consoles) -> None:
    pair = consoles.pair
    report = sent_example(pair, "us", "incident_report")
    seen = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    at, later = format_utc(seen), format_utc(seen + timedelta(seconds=17))
    lon, lat = one_nm_east("32.5000000", "43.2500000")
    case_id = "0b6f7d2a-1c3e-4f5a-8b9c-0d1e2f3a4b5c"
    ours = account(
        case_id,
        report,
        [
            event("closest_approach", at, "32.5000000", "43.2500000"),
            event("warning_issued", format_utc(seen - timedelta(minutes=2)), "32.49", "43.24"),
        ],
        title="Unsafe approach, Black Sea",
    )
    opened = pair.us.notices.send("ru", ours, precedence="IMMEDIATE", lang=None, user="duty")
    pair.flush()
    theirs = account(case_id, report, [event("closest_approach", later, lon, lat)])
    theirs["joins"] = opened["message"]["id"]
    pair.ru.notices.send("us", theirs, precedence="IMMEDIATE", lang=None, user="duty")
    pair.flush()
    page = consoles.us

    page.goto(pair.servers["us"].url + f"/console/cases/{case_id}")

    expect(page.locator("#case-map")).to_have_attribute("data-markers", "3")
    expect(page.locator("#case-map")).to_have_attribute("data-countries", "241")
    expect(page.locator(".case-delta")).to_contain_text("1.000 NM, +17 s")
    expect(page.locator("#case-differences")).to_contain_text("stated by US only")
    consoles.shot(page, "case", full=True)
    assert [] == axe(page)

"""The case page in Chromium: both sides' positions on the map, the delta, the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from hotline.domain.notices.base import format_utc
from tests.attachments.test_attachments import png
from tests.browser.conftest import Consoles
from tests.browser.test_accessibility import axe
from tests.services.test_casefiles import pull_both
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
    photo = pair.ru.attachments.upload(png(3000), name="bridge.png", declared="image/png")
    refs = pair.ru.attachments.refs([{"sha256": photo["sha256"], "name": "bridge.png"}])
    pair.ru.notices.send(
        "us", theirs, precedence="IMMEDIATE", lang=None, user="duty", attachments=refs
    )
    pair.flush()
    pull_both(pair)  # us fetches ru's photograph
    page = consoles.us

    page.goto(pair.servers["us"].url + f"/console/cases/{case_id}")

    expect(page.locator("#case-map")).to_have_attribute("data-markers", "3")
    expect(page.locator("#case-map")).to_have_attribute("data-countries", "241")
    expect(page.locator(".case-delta")).to_contain_text("1.000 NM, +17 s")
    expect(page.locator("#case-differences")).to_contain_text("stated by US only")
    files = page.locator("#files-ru li")  # ru's file: name, type, size, SHA-256, state
    for shown in ("bridge.png", "image/png", f"{photo['size']} bytes", photo["sha256"][:16]):
        expect(files).to_contain_text(shown)
    expect(files.locator(".ok-text")).to_have_text("verified")
    expect(files.locator("a[download]")).to_have_attribute(
        "href", f"/console/attachments/{photo['sha256']}"
    )
    expect(files.locator("img.attachment-preview")).to_be_visible()
    assert page.evaluate("document.querySelector('#files-ru img').naturalWidth") > 0
    consoles.shot(page, "case", full=True)
    assert [] == axe(page)

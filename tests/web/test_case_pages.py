"""The incident case pages: opened from a report's page, joined, shown side by side."""

from __future__ import annotations

import json
import re

from tests.attachments.test_attachments import png
from tests.conftest import Pair
from tests.services.test_casefiles import pull_both
from tests.services.test_cases import _at, event
from tests.services.test_notices import sent_example
from tests.web.conftest import Console


def test_a_case_opened_and_joined_in_the_console_shows_both_accounts_and_the_delta(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    us, ru = consoles["us"], consoles["ru"]
    report = sent_example(pair, "us", "incident_report")
    page = us.get(f"/console/messages/{report}")
    (link,) = re.findall(r'id="open-case" href="([^"]+)"', page.text)
    form = us.get(link.replace("&amp;", "&"))
    assert 200 == form.status_code and "closest_approach" in form.text  # the report's event
    seen, later = _at(pair, -300), _at(pair, -283)
    ours = [event("closest_approach", seen, "32.5000000", "43.2500000")]
    opened = us.post(
        "/console/cases",
        {"to": "ru", "origin": "incident_report", "ref": report, "events": json.dumps(ours),
         "title": "Unsafe approach", "en": "Crossed our bow."},
    )  # fmt: skip
    assert 303 == opened.status_code, opened.text
    case_path = opened.headers["location"]
    pair.flush()
    theirs = [event("closest_approach", later, "32.5100000", "43.2500000")]
    joined = ru.post(f"{case_path}/account", {"events": json.dumps(theirs), "ru": "Манёвр."})
    assert 303 == joined.status_code, joined.text
    pair.flush()

    shown = us.get(case_path).text

    assert "+17 s" in shown and "0.438 NM (812.1 m)" in shown  # 0.01° of longitude at 43.25° N
    assert shown.count('class="tag">') >= 2  # each side's version
    assert "Unsafe approach" in us.get("/console/cases").text
    refused = us.post(
        f"{case_path}/account",
        {"events": json.dumps([event("separation", _at(pair, 3600), "1", "2")])},
    )
    assert 400 == refused.status_code and "is in the future" in refused.text


def test_the_case_page_lists_each_sides_files_and_attaches_our_track_history(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    us, ru = consoles["us"], consoles["ru"]
    report = sent_example(pair, "us", "incident_report")
    ours = [event("closest_approach", _at(pair, -300), "32.5000000", "43.2500000")]
    form = {"csrf": us.csrf, "to": "ru", "origin": "incident_report", "ref": report,
            "events": json.dumps(ours)}  # fmt: skip
    photo = png(3000)
    opened = us.http.post(
        "/console/cases", data=form, files=[("files", ("bridge.png", photo, "image/png"))]
    )
    assert 303 == opened.status_code, opened.text
    case_path = opened.headers["location"]
    pair.flush()
    theirs = [event("closest_approach", _at(pair, -283), "32.5100000", "43.2500000")]
    joined = ru.http.post(
        f"{case_path}/account",
        data={"csrf": ru.csrf, "events": json.dumps(theirs)},
        files=[("files", ("log.csv", b"t,lat,lon\n", "text/csv"))],
    )
    assert 303 == joined.status_code, joined.text
    pair.flush()
    pull_both(pair)

    attached = us.post(f"{case_path}/tracks")  # the button
    assert 303 == attached.status_code, attached.text
    amended = us.post(f"{case_path}/account", {"events": json.dumps(ours)})  # no new file
    assert 303 == amended.status_code, amended.text
    pair.flush()
    shown = us.get(case_path).text
    case = pair.us.casefiles.show(case_path.rsplit("/", 1)[1])

    (photo_ref, history) = case["accounts"]["us"]["versions"][-1]["attachments"]  # both kept
    assert 3 == case["accounts"]["us"]["current"]
    assert ("bridge.png", "application/geo+json") == (photo_ref["name"], history["content_type"])
    (csv,) = case["accounts"]["ru"]["versions"][-1]["attachments"]
    for ref in (photo_ref, history, csv):
        assert f'href="/console/attachments/{ref["sha256"]}" download="{ref["name"]}"' in shown
        assert ref["sha256"][:16] in shown and ref["content_type"] in shown
        assert "verified" == case["files"][ref["sha256"]]["state"]
    assert f"{len(photo)} bytes" in shown and "10 bytes" in shown
    assert f'src="/console/attachments/{photo_ref["sha256"]}?inline=1"' in shown  # previewed
    assert 'id="case-tracks"' in shown and 'name="files"' in shown

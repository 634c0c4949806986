"""The incident case pages: opened from a report's page, joined, shown side by side."""

from __future__ import annotations

import json
import re

from tests.conftest import Pair
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

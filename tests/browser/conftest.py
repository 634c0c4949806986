"""Browser fixtures: Debian's Chromium driven by Playwright against two real nodes.

The nodes are the suite's usual pair (``make_pair``: two in-process uvicorn servers on
loopback, delivery stepped by hand with ``pair.flush()``), on the real clock so the
console's countdowns move. Each side has an operator logged in in its own browser context.

Browser tests run on SQLite only: everything they add over ``tests/web`` (which runs on
both backends) is in the browser — rendering, scripts, live updates — and none of it
depends on the database. The ``databases`` fixture still parametrises them, so on a
machine with PostgreSQL the PostgreSQL run is reported as skipped, with this reason.

Screenshots of every page go to ``test-artifacts/console/`` (git-ignored).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from hotline.testing import DatabaseFactory
from tests.conftest import MakePair, Pair

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PASSWORD = "correct horse battery"
CONTACTS = [
    {"id": "duty", "role_en": "Duty desk", "role_ru": "Дежурный"},
    {"id": "watch", "role_en": "Watch commander", "role_ru": "Начальник смены"},
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `bash scripts/setup.sh` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@dataclass
class Consoles:
    """Both nodes and a logged-in console page for each."""

    pair: Pair
    us: Page
    ru: Page

    def shot(self, page: Page, name: str, *, full: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if full:  # from the top, so the sticky header sits where it belongs
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=full)
        return path


def log_in(page: Page, url: str, user: str = "duty") -> None:
    page.goto(url + "/console/login")
    page.fill("#user", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/console")


@pytest.fixture
def consoles(
    databases: DatabaseFactory, make_pair: MakePair, browser: Browser
) -> Iterator[Consoles]:
    if databases.backend != "sqlite":
        pytest.skip("browser tests run on SQLite only (see tests/browser/conftest.py)")
    files = {"contacts.json": CONTACTS}
    options = {"real_clock": True, "files": files}
    with make_pair(us=options, ru=options) as pair:
        for node in (pair.us, pair.ru):
            node.auth.add_user("duty", PASSWORD)
        contexts = [browser.new_context(viewport={"width": 1440, "height": 900}) for _ in range(2)]
        pages = [context.new_page() for context in contexts]
        for page, party in zip(pages, ("us", "ru"), strict=True):
            page.set_default_timeout(15_000)
            log_in(page, pair.servers[party].url)
        try:
            yield Consoles(pair, pages[0], pages[1])
        finally:
            for context in contexts:  # close the event streams before the servers stop
                context.close()


def activity_notice(corners: list[tuple[float, float]], start: str, end: str) -> dict[str, object]:
    """An air-operations notice over one polygon (corners as (lat, lon))."""
    ring = [[f"{lon:.7f}", f"{lat:.7f}"] for lat, lon in [*corners, corners[0]]]
    return json.loads(
        json.dumps(
            {
                "type": "activity_notice",
                "activity": "air_operations",
                "units": [{"designation": "Су-27", "kind": "aircraft", "count": 4}],
                "volumes": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                        "properties": {
                            "id": "R1",
                            "alt_lower_m": 0,
                            "alt_upper_m": 12000,
                            "datum": "MSL",
                            "start": start,
                            "end": end,
                        },
                    }
                ],
            }
        )
    )

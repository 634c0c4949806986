"""Every screen for every person, in a real browser against two real nodes: keyboard
shortcuts (j/k, a, o, ?) and the focus staying where the officer is after acknowledging;
axe-core (vendored from npm) on every page in English and Russian, at 1920 and 390 px,
with no critical or serious violation; no horizontal scroll at 390 px; the Russian
navigation in at most two rows at 1366 px; screenshots of every page at 1920 and 390 px
in both languages (into ``test-artifacts/console/``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from hotline.services.alarms import raise_alarm
from hotline.testing import wait_for
from tests.browser.conftest import ARTIFACTS, Consoles

pytestmark = pytest.mark.browser

AXE = "/console/static/vendor/axe-core/axe.min.js"
# Violations people cannot work around: the ones the brief allows none of.
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
    .map(v => v.id + ' (' + v.impact + '): '
      + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""
OVERFLOW = """() => { const d = document.documentElement;
  if (d.scrollWidth <= d.clientWidth) { return null; }
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(e => !e.closest('.leaflet-container'))
    .filter(e => e.getBoundingClientRect().right > d.clientWidth + 1);
  const leaves = wide.filter(e => !wide.some(o => o !== e && e.contains(o)));
  return [d.scrollWidth, leaves.slice(0, 5).map(e => e.tagName + '.' + e.getAttribute('class')
    + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))]; }"""
NAV_ROWS = """() => { const tops = new Set(Array.from(document.querySelectorAll('nav.mainnav a'))
  .map(a => Math.round(a.getBoundingClientRect().top))); return tops.size; }"""


def set_lang(page: Page, lang: str) -> None:
    page.click(f"button[name=lang][value={lang}]")
    expect(page.locator("html")).to_have_attribute("lang", lang)


def pages_of(consoles: Consoles) -> dict[str, str]:
    pair = consoles.pair
    flash = pair.ru.line.send(to="us", text="Turn away now. " * 12, precedence="FLASH", user="duty")
    pair.ru.line.send(to="us", text="Наши самолёты в районе.", precedence="ROUTINE", user="duty")
    pair.flush()
    with pair.us.db.write() as conn:
        raise_alarm(conn, "ack_overdue", flash["id"], pair.us.line.now(), reason="example")
    return {
        "watch": "/console",
        "message": f"/console/messages/{flash['id']}",
        "compose-text": "/console/compose?tab=text",
        "compose-code": "/console/compose?tab=code",
        "compose-notice": "/console/compose?tab=notice&type=activity_notice",
        "map": "/console/map",
        "links": "/console/links",
        "calls": "/console/calls",
        "watch-level": "/console/watch-level",
        "evidence": "/console/evidence",
        "alarms": "/console/alarms",
        "handover": "/console/handover",
        "watch-search": "/console?direction=in&state=unacknowledged&q=%D0%B0",
    }


def axe(page: Page) -> list[str]:
    page.add_script_tag(url=AXE)
    found: list[str] = page.evaluate(RUN_AXE)
    return found


def test_every_page_passes_axe_fits_390_px_and_is_photographed(consoles: Consoles) -> None:
    us, url = consoles.us, consoles.pair.servers["us"].url
    pages = pages_of(consoles)
    problems: dict[str, Any] = {}
    for lang in ("en", "ru"):
        us.goto(url + "/console")
        set_lang(us, lang)
        for width, height in ((1920, 1080), (390, 844)):
            us.set_viewport_size({"width": width, "height": height})
            for name, path in pages.items():
                us.goto(url + path)
                us.wait_for_load_state("networkidle")
                key = f"{name}-{lang}-{width}"
                consoles.shot(us, key, full=True)
                if width == 390 and (overflow := us.evaluate(OVERFLOW)):
                    problems[key + " overflow"] = overflow
                if violations := axe(us):  # at both widths
                    problems[key + " axe"] = violations
        us.set_viewport_size({"width": 1366, "height": 768})
        us.goto(url + "/console")
        if lang == "ru":
            assert us.evaluate(NAV_ROWS) <= 2
        us.keyboard.press("?")
        expect(us.locator("#shortcut-help")).to_be_visible()
        if violations := axe(us):
            problems[f"help-{lang} axe"] = violations
        consoles.shot(us, f"shortcut-help-{lang}")
        us.keyboard.press("Escape")
    (ARTIFACTS / "accessibility-problems.json").write_text(json.dumps(problems, indent=1), "utf-8")
    assert {} == problems


def test_the_login_page_passes_axe_and_fits_390_px_in_both_languages(consoles: Consoles) -> None:
    browser = consoles.us.context.browser
    assert browser is not None
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems: dict[str, Any] = {}
    try:
        page.goto(consoles.pair.servers["us"].url + "/console/login")
        for lang in ("en", "ru"):
            set_lang(page, lang)
            if overflow := page.evaluate(OVERFLOW):
                problems[f"login-{lang} overflow"] = overflow
            if violations := axe(page):
                problems[f"login-{lang} axe"] = violations
            consoles.shot(page, f"login-{lang}-390", full=True)
    finally:
        context.close()
    assert {} == problems


def focused_row(page: Page) -> str:
    row: str = page.evaluate(
        "() => { const r = document.activeElement && document.activeElement.closest('tr.msg');"
        " return r ? r.id : ''; }"
    )
    return row


def test_shortcuts_move_acknowledge_open_and_keep_the_focus(consoles: Consoles) -> None:
    us, pair = consoles.us, consoles.pair
    sent = [
        pair.ru.line.send(to="us", text=f"Message {n}", precedence="IMMEDIATE", user="duty")
        for n in range(3)
    ]
    pair.flush()
    us.goto(pair.servers["us"].url + "/console")
    expect(us.locator("tr.needs-action")).to_have_count(3, timeout=30_000)
    rows = us.evaluate("() => Array.from(document.querySelectorAll('tr.msg')).map(r => r.id)")

    us.keyboard.press("j")
    assert rows[0] == focused_row(us)
    us.keyboard.press("j")
    us.keyboard.press("j")
    us.keyboard.press("k")
    assert rows[1] == focused_row(us)
    expect(us.locator("tr.msg.kb-selected")).to_have_attribute("id", rows[1])

    us.keyboard.press("a")
    expect(us.locator("tr.needs-action")).to_have_count(2, timeout=30_000)
    acked = rows[1].removeprefix("row-")
    assert "acknowledged" == pair.us.line.show(acked)["state"]
    # the focus is still in the queue, on the row now where the acknowledged one was
    expect(us.locator("tr.msg.kb-selected")).to_have_count(1)
    now_rows = us.evaluate("() => Array.from(document.querySelectorAll('tr.msg')).map(r => r.id)")
    assert now_rows[1] == focused_row(us)

    us.keyboard.press("?")
    expect(us.locator("#shortcut-help")).to_be_visible()
    expect(us.locator("#shortcut-help")).to_contain_text("Acknowledge the selected message")
    us.keyboard.press("?")
    expect(us.locator("#shortcut-help")).to_be_hidden()

    us.keyboard.press("o")
    opened = now_rows[1].removeprefix("row-")
    us.wait_for_url(f"**/console/messages/{opened}")
    assert {m["id"] for m in sent} >= {acked, opened}
    expect(us.locator(f"#ack-{opened}")).to_be_visible()
    us.keyboard.press("a")  # on a message page: that message
    wait_for(
        lambda: pair.us.line.show(opened)["state"] == "acknowledged",
        "the opened message acknowledged by its key",
        timeout=60,
    )

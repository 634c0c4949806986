"""The operator console in a real browser, against two real nodes.

What a duty officer does on a shift: log in, see a FLASH message arrive without reloading
the page and its deadline count down, acknowledge it from the keyboard, and see the
sender's console show the acknowledgement; draw a volume on the map, check it (rules,
renderings, conflicts) and send it, and find it on the other side's map; switch the whole
interface to Russian. Every page is photographed into ``test-artifacts/console/``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hotline.services.alarms import raise_alarm
from tests.browser.conftest import Consoles, activity_notice

pytestmark = pytest.mark.browser

# The label of every visible form control: a <label for>, a wrapping <label>, or aria-label.
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => e.type !== 'hidden' && !e.closest('template'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id || e.outerHTML.slice(0, 60))"""


def send_flash_from_the_console(page: Page, url: str, text: str) -> None:
    """Compose a FLASH: it is held on the Watch page for a second person's approval."""
    page.goto(url + "/console/compose?tab=text")
    page.check("input[name=precedence][value=FLASH]")
    page.fill("#text", text)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/console#held-[0-9a-f-]+$"))


def tab_to(page: Page, id_prefix: str, limit: int = 80) -> str:
    """Press Tab until the focused element's id starts with ``id_prefix``; return the id."""
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.id") or ""
        if focused.startswith(id_prefix):
            return str(focused)
    raise AssertionError(f"no element with an id starting {id_prefix!r} in the tab order")


def draw_polygon_round_the_middle(page: Page) -> None:
    """Arm volume 0 for drawing and click four corners round the middle of the map."""
    page.click("[data-draw='0']")
    box = page.locator("#compose-map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-70, -50), (70, -50), (70, 50), (-70, 50)):
        page.mouse.click(cx + dx, cy + dy)
    page.click("#draw-finish")


def test_a_flash_arrives_live_is_acknowledged_by_keyboard_and_the_sender_sees_it(
    consoles: Consoles,
) -> None:
    us, ru, pair = consoles.us, consoles.ru, consoles.pair
    us_url, ru_url = pair.servers["us"].url, pair.servers["ru"].url
    us.goto(us_url + "/console")
    us.evaluate("window.__sameDocument = true")

    send_flash_from_the_console(ru, ru_url, "Unidentified aircraft closing your ship. Turn away.")
    expect(ru.locator(".held-panel .held-item")).to_contain_text("Turn away.")
    expect(ru.locator(".held-panel button")).to_have_count(0)  # not for the one who asked
    consoles.shot(ru, "flash-held")
    # the two-person rule: the RU watch's second officer approves it (from their own console)
    [held] = pair.ru.held.listing()
    pair.ru.held.approve(held["id"], "duty2")
    ru.goto(ru_url + "/console")
    pair.flush()

    row = us.locator("tr.needs-action.prec-row-flash")
    expect(row).to_be_visible()
    expect(us.locator(".flash-banner")).to_contain_text("Turn away.")
    expect(us.locator("body[data-flash-chimes='1']")).to_have_count(1)  # heard, once
    first = row.locator(".cd-value").inner_text()
    assert re.fullmatch(r"0:(0\d|10):\d\d", first)  # of the 10 minutes a FLASH has (h:mm:ss)
    # the countdown ticks: wait for it to change (a loaded machine may delay one tick)
    expect(row.locator(".cd-value")).not_to_have_text(first, timeout=5000)
    assert us.evaluate("window.__sameDocument") is True  # no reload happened
    consoles.shot(us, "watch-flash")

    ack_id = tab_to(us, "ack-")
    us.keyboard.press("Enter")
    expect(us.locator("tr.needs-action")).to_have_count(0)
    row_id = ack_id.removeprefix("ack-")
    pair.flush()

    expect(ru.locator(f"#row-{row_id} .acked")).to_contain_text("us:duty")
    expect(ru.locator(f"#row-{row_id} .state")).to_have_class("state state-acknowledged")
    consoles.shot(ru, "sender-sees-acknowledgement")


def test_a_polygon_drawn_on_the_map_is_checked_sent_and_shown_on_the_peer_map(
    consoles: Consoles,
) -> None:
    us, ru, pair = consoles.us, consoles.ru, consoles.pair
    now = datetime.now(UTC).replace(microsecond=0)
    window = [(now + timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ") for d in (3, 6)]
    theirs = activity_notice([(54.2, 17.5), (54.2, 21.5), (56.2, 21.5), (56.2, 17.5)], *window)
    pair.ru.notices.send("us", theirs, precedence="PRIORITY", lang="ru", user="duty")
    pair.flush()

    us.goto(pair.servers["us"].url + "/console/compose?tab=notice&type=activity_notice")
    expect(us.locator("#compose-map[data-countries]")).to_have_count(1)
    us.fill("#unit-0-designation", "F-16 flight")
    draw_polygon_round_the_middle(us)
    assert 4 == len(us.input_value("#vol-0-coords").splitlines())

    us.click("#check-button")
    check = us.locator("#check-result .check")
    expect(check).to_contain_text("ACTIVITY NOTICE")
    expect(check).to_contain_text("УВЕДОМЛЕНИЕ О ДЕЯТЕЛЬНОСТИ")
    expect(check.locator(".conflict")).to_contain_text("Volume V1 conflicts with RU volume R1")
    consoles.shot(us, "compose-notice-checked", full=True)

    us.fill("#accept-conflict", "Agreed with RU by phone")  # a conflict is sent only with a reason
    us.click("#send-notice")
    us.wait_for_url(re.compile(r".*/console/messages/[0-9a-f-]+$"))
    pair.flush()

    ru.goto(pair.servers["ru"].url + "/console/map")
    # Both volumes are drawn: RU's own and the one drawn at the US console; where the node
    # has a conflicts service (node.conflicts) the conflict between them is listed too.
    expect(ru.locator("#situation-map[data-volumes='2']")).to_have_count(1)
    has_service = getattr(pair.ru, "conflicts", None) is not None
    if has_service:
        pair_text = re.compile(r"(RU R1 ↔ US V1|US V1 ↔ RU R1)")
        expect(ru.locator("#conflict-list .conflict strong")).to_have_text(pair_text)
    else:
        expect(ru.locator("#conflict-list")).to_contain_text("No conflicts.")
    consoles.shot(ru, "map-peer")


def test_the_whole_interface_switches_to_russian_and_stays_russian(consoles: Consoles) -> None:
    us, pair = consoles.us, consoles.pair
    pair.ru.line.send(
        to="us", text="Проверка линии. Подтвердите.", precedence="IMMEDIATE", user="duty"
    )
    pair.flush()
    us.goto(pair.servers["us"].url + "/console")

    us.click("button[name=lang][value=ru]")

    expect(us.locator("html")).to_have_attribute("lang", "ru")
    expect(us.locator("nav.mainnav")).to_contain_text("Дежурство")
    expect(us.locator("#h-action")).to_contain_text("Требуют подтверждения")
    expect(us.locator(".prec").first).to_have_text("СРОЧНО")
    consoles.shot(us, "watch-ru")
    us.goto(pair.servers["us"].url + "/console/links")
    expect(us.locator("h1")).to_have_text("Состояние связи")


def test_every_page_has_labelled_controls_and_is_photographed(consoles: Consoles) -> None:
    us, pair = consoles.us, consoles.pair
    url = pair.servers["us"].url
    text = pair.ru.line.send(
        to="us", text="Наши самолёты в районе.", precedence="ROUTINE", user="duty"
    )
    pair.us.links.send_test("ru")
    pair.flush()
    with pair.us.db.write() as conn:
        raise_alarm(conn, "ack_overdue", text["id"], pair.us.line.now(), reason="example")
    pages = {
        "watch": "/console",
        "message": f"/console/messages/{text['id']}",
        "compose-text": "/console/compose?tab=text",
        "compose-code": "/console/compose?tab=code",
        "compose-incident": "/console/compose?tab=notice&type=incident_report",
        "compose-json": "/console/compose?tab=notice&type=exercise_notification",
        "map": "/console/map",
        "links": "/console/links",
        "alarms": "/console/alarms",
    }
    for name, path in pages.items():
        us.goto(url + path)
        us.wait_for_load_state("networkidle")
        assert [] == us.evaluate(UNLABELLED), name
        consoles.shot(us, name, full=True)

    us.goto(url + "/console/compose?tab=code")
    us.select_option("#code", "7")
    expect(us.locator("#code-preview")).to_contain_text("Наша деятельность является учением")


def test_the_login_page_is_labelled_and_refuses_a_wrong_password(consoles: Consoles) -> None:
    page = consoles.us.context.browser.new_page()  # type: ignore[union-attr]
    try:
        page.goto(consoles.pair.servers["us"].url + "/console/login")
        assert [] == page.evaluate(UNLABELLED)
        consoles.shot(page, "login")
        page.fill("#user", "duty")
        page.fill("#password", "not the password")
        page.click("button[type=submit]")
        expect(page.locator(".error-box")).to_contain_text("Wrong user name or password.")
    finally:
        page.close()


def test_the_map_shows_protected_areas_live_tracks_and_a_predicted_incursion(
    consoles: Consoles,
) -> None:
    from hotline.domain.tracks import TrackReport
    from tests.services.test_picture import declare, picture_tracks

    us, pair = consoles.us, consoles.pair
    declare(pair)
    pair.us.tracks.report([TrackReport.model_validate(t) for t in picture_tracks()])

    us.goto(pair.servers["us"].url + "/console/map")
    expect(us.locator("#situation-map[data-tracks='4']")).to_have_count(1)
    expect(us.locator("#track-list")).to_contain_text("Incursion: U1 → RU PA-1")
    expect(us.locator("#track-list")).to_contain_text("Predicted conflict: R1 ↔ U2")
    us.locator(".leaflet-marker-icon[title='U1']").click()
    expect(us.locator("#selected")).to_contain_text("Track U1")
    # the node's 2525 code, the one its CoT output types the track with
    expect(us.locator("#selected")).to_contain_text("SFAP----------- · a-f-A")
    with us.expect_download() as download:
        us.click("#download-geojson")
    saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert 4 == sum(f["properties"]["kind"] == "track" for f in saved["features"])
    scale = us.locator(".leaflet-control-scale-line").first
    wide = scale.text_content()
    us.locator("#track-list button", has_text="Incursion").focus()
    us.keyboard.press("Enter")  # frames the track and its entry point
    expect(scale).not_to_have_text(wide or "")
    us.wait_for_timeout(500)  # the end of the zoom animation
    consoles.shot(us, "map-tracks-incursion")

"""The situation map in a real browser against two real nodes: it opens on the area of
current activity (not continental scale), ``?focus=<message id>`` frames that message's
volumes, layer toggles and the altitude filter hide what they say, the measure tool gives
the WGS-84 geodesic distance and bearing (checked against pyproj) by mouse and by
keyboard, the time slider marks "now" and goes there, and full screen fills
the window. One pair of nodes for the whole story: browser tests are heavy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from hotline.geo.geodesy import GEOD
from tests.browser.conftest import Consoles, activity_notice

pytestmark = pytest.mark.browser

BOUNDS = """() => { const b = document.getElementById('situation-map').hotlineMap.getBounds();
  return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }"""
# In force now, off the Polish coast; and a later one 150 km north of it.
NOW_BOX = [(54.2, 18.6), (54.2, 19.4), (54.6, 19.4), (54.6, 18.6)]
THEATRE = (50.0, 14.0, 56.0, 24.0)  # south, west, north, east
LATER_BOX = [(55.6, 18.6), (55.6, 19.4), (56.0, 19.4), (56.0, 18.6)]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def bounds(page: Page) -> list[float]:
    value: list[float] = page.evaluate(BOUNDS)
    return value


def contains(outer: list[float], box: list[tuple[float, float]]) -> bool:
    south, west, north, east = outer
    return all(south <= lat <= north and west <= lon <= east for lat, lon in box)


def send_notices(consoles: Consoles) -> dict[str, Any]:
    pair = consoles.pair
    now = datetime.now(UTC).replace(microsecond=0)
    in_force = activity_notice(
        NOW_BOX, stamp(now - timedelta(minutes=30)), stamp(now + timedelta(days=1))
    )
    later = activity_notice(
        LATER_BOX, stamp(now + timedelta(days=3)), stamp(now + timedelta(days=4))
    )
    first = pair.ru.notices.send("us", in_force, precedence="PRIORITY", lang="ru", user="duty")
    second = pair.ru.notices.send("us", later, precedence="ROUTINE", lang="ru", user="duty")
    pair.flush()
    return {"now": first, "later": second}


def test_the_map_opens_on_the_theatre_then_on_activity_and_focus_frames_one_message(
    consoles: Consoles,
) -> None:
    us, pair = consoles.us, consoles.pair
    url = pair.servers["us"].url
    # Nothing declared yet: the map opens on the theatre setting, not on the world.
    pair.us.settings = pair.us.settings.replace(map_theatre=",".join(map(str, THEATRE)))
    us.goto(url + "/console/map")
    expect(us.locator("#situation-map[data-framed='theatre']")).to_have_count(1, timeout=30_000)
    framed = bounds(us)
    assert contains(framed, [(THEATRE[0], THEATRE[1]), (THEATRE[2], THEATRE[3])]), framed
    assert framed[2] - framed[0] < 2 * (THEATRE[2] - THEATRE[0]), framed

    sent = send_notices(consoles)

    us.goto(url + "/console/map")
    expect(us.locator("#situation-map[data-framed='activity']")).to_have_count(1, timeout=30_000)
    framed = bounds(us)
    assert contains(framed, NOW_BOX), framed
    assert not contains(framed, LATER_BOX), framed  # not in force: not framed
    assert framed[2] - framed[0] < 5 and framed[3] - framed[1] < 10, framed  # not continental
    expect(us.locator(".leaflet-tooltip.map-label", has_text="RU R1").first).to_be_visible()
    consoles.shot(us, "map-activity-1440")

    us.goto(url + f"/console/map?focus={sent['later']['message']['id']}")
    expect(us.locator("#situation-map[data-framed='focus']")).to_have_count(1, timeout=30_000)
    framed = bounds(us)
    assert contains(framed, LATER_BOX), framed
    assert framed[2] - framed[0] < 5, framed


def test_layers_altitude_measure_and_full_screen(consoles: Consoles) -> None:
    us, pair = consoles.us, consoles.pair
    send_notices(consoles)
    us.goto(pair.servers["us"].url + "/console/map")
    volumes = us.locator("#situation-map[data-volumes]")
    expect(us.locator("#situation-map[data-volumes='2']")).to_have_count(1, timeout=30_000)

    # Zoomed out, the two labels would overlap: the declutter hides one of them.
    expect(us.locator("#situation-map[data-labels-hidden='0']")).to_have_count(1)
    us.evaluate(
        "document.getElementById('situation-map').hotlineMap"
        ".setView([55.2, 19], 3, { animate: false })"
    )
    expect(us.locator("#situation-map[data-labels-hidden='1']")).to_have_count(1)
    expect(us.locator(".leaflet-tooltip.map-label:not(.label-hidden)")).to_have_count(1)

    us.uncheck("[data-layer=peer]")
    expect(us.locator("#situation-map[data-volumes='0']")).to_have_count(1)
    us.check("[data-layer=peer]")
    us.fill("#alt-min", "15000")  # both volumes are 0–12000 m
    expect(us.locator("#situation-map[data-volumes='0']")).to_have_count(1)
    us.fill("#alt-min", "11000")
    expect(us.locator("#situation-map[data-volumes='2']")).to_have_count(1)
    assert volumes.count() == 1

    us.click("#map-measure")
    expect(us.locator("#measure-result")).to_contain_text("Click two points on the map")
    box = us.locator("#situation-map").bounding_box()
    assert box is not None
    points = [(box["width"] * 0.3, box["height"] * 0.4), (box["width"] * 0.7, box["height"] * 0.6)]
    for x, y in points:
        us.mouse.click(box["x"] + x, box["y"] + y)
    result = us.locator("#measure-result")
    expect(result).to_contain_text(" km, bearing ")
    lat1, lon1, lat2, lon2 = (
        float(v) for v in (result.get_attribute("data-points") or "").split(",")
    )
    azimuth, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    assert abs(float(result.get_attribute("data-metres") or "nan") - metres) < 0.01
    assert abs(float(result.get_attribute("data-bearing") or "nan") - azimuth % 360) < 1e-6
    expect(result).to_have_text(f"{metres / 1000:.2f} km, bearing {azimuth % 360:.1f}°")

    # From the keyboard: Enter marks the map's centre, the arrows move the map.
    us.focus("#situation-map")
    us.keyboard.press("Enter")
    expect(result).to_have_text("Now the second point.")
    for _ in range(3):
        us.keyboard.press("ArrowRight")
    us.keyboard.press("Enter")
    expect(result).to_contain_text(" km, bearing ")
    lat1, lon1, lat2, lon2 = (
        float(v) for v in (result.get_attribute("data-points") or "").split(",")
    )
    azimuth, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    assert lon2 > lon1 and metres > 1000  # the map moved east between the two marks
    assert abs(float(result.get_attribute("data-metres") or "nan") - metres) < 0.01
    us.click("#map-measure")  # off

    # The time slider's "now": marked where the present falls, and a button to go there.
    now_mark = us.locator("#time-now")
    expect(now_mark).to_be_visible()
    fraction = float(now_mark.get_attribute("data-fraction") or "nan")
    assert 0 < fraction < 0.05  # 30 min into a range of four days and a half
    us.click("#time-to-now")
    expect(us.locator("#time-all")).not_to_be_checked()
    expect(us.locator("#situation-map[data-volumes='1']")).to_have_count(1)  # only in force
    consoles.shot(us, "map-time-now")

    us.click("#map-fullscreen")
    expect(us.locator("#map-main.map-fullscreen")).to_have_count(1)
    expect(us.locator("#map-fullscreen")).to_have_text("Exit full screen")
    map_box = us.locator("#situation-map").bounding_box()
    assert map_box is not None and map_box["height"] > 900 * 0.75
    consoles.shot(us, "map-fullscreen")
    us.keyboard.press("Escape")
    expect(us.locator("#map-main.map-fullscreen")).to_have_count(0)

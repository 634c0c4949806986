"""The console's live state over real HTTP, on both backends: the link chips and the
link-down banner in English and Russian, an alarm acknowledged (seen by) apart from
cleared, the stream's heartbeat. The browser side (watchdog, sound) is in
``tests/browser/test_live_state.py``."""

from __future__ import annotations

from hotline.services.alarms import raise_alarm
from hotline.web import queries
from tests.conftest import Pair
from tests.web.conftest import Console


def raise_link_down(pair: Pair) -> int:
    with pair.us.db.write() as conn:
        alarm, _new = raise_alarm(
            conn, "link_down", "ru", pair.us.line.now(), since="2026-12-07T03:00:00Z"
        )
    return alarm


def test_a_link_down_is_in_the_header_until_acknowledged_in_both_languages(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    us = consoles["us"]
    alarm = raise_link_down(pair)
    page = us.get("/console").text
    assert "LINK DOWN" in page
    assert "Link to RU down since 2026-12-07 03:00:00Z" in page
    assert f'action="/console/alarms/{alarm}/seen"' in page
    assert 'data-unseen="1"' in page
    assert 'data-open-alarms="1"' in page  # the nav badge's live source
    assert "NO CONNECTION TO THE NODE" in page  # hidden until the stream stops
    assert 'data-word-refused="Not sent: there is no connection to the node.' in page
    stamp = queries.change_stamp(pair.us)

    seen = us.post(f"/console/alarms/{alarm}/seen", {"back": "/console"})

    assert (303, "/console") == (seen.status_code, seen.headers["location"])
    assert stamp != queries.change_stamp(pair.us)  # consoles reload their banner
    page = us.get("/console").text
    assert 'data-unseen="0"' in page
    assert "seen by duty at " in page
    [row] = pair.us.alarms.listing("open")
    assert ("duty", "open") == (row["seen_by"], row["state"])

    us.post("/console/lang", {"lang": "ru", "back": "/console"})
    page = us.get("/console").text
    assert "СВЯЗЬ ПОТЕРЯНА" in page
    assert "Связь с RU потеряна с 2026-12-07 03:00:00Z" in page
    assert "видел duty в " in page
    assert "НЕТ СВЯЗИ С УЗЛОМ" in page  # the node-lost banner, hidden until the stream stops
    assert 'data-word-refused="Не отправлено: нет связи с узлом.' in page
    alarms = us.get("/console/alarms").text
    assert "критическая" in alarms
    assert "Важность" in alarms


def test_acknowledging_from_the_banner_returns_the_banner_and_a_cleared_alarm_is_refused(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    us = consoles["us"]
    alarm = raise_link_down(pair)
    htmx = {"HX-Request": "true", "X-CSRF-Token": us.csrf}

    banner = us.post(f"/console/alarms/{alarm}/seen", {"back": "/console"}, headers=htmx)

    assert 200 == banner.status_code
    assert 'class="link-down-banner"' in banner.text
    assert "seen by duty at " in banner.text
    us.post(f"/console/alarms/{alarm}/clear", {"reason": "peer back"})
    again = us.post(f"/console/alarms/{alarm}/seen")
    assert 409 == again.status_code
    assert "already cleared by duty" in again.text


def test_the_alarms_page_offers_acknowledge_then_says_who_saw_it(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    us = consoles["us"]
    alarm = raise_link_down(pair)
    page = us.get("/console/alarms").text
    assert "Acknowledge (silence)" in page
    assert "critical" in page

    us.post(f"/console/alarms/{alarm}/seen")  # back: the alarms page

    page = us.get("/console/alarms").text
    assert "seen by duty at " in page
    assert f'action="/console/alarms/{alarm}/seen"' not in page


def test_the_link_chip_shows_state_and_the_next_test(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    pair.us.links.send_test("ru")
    pair.flush()  # the test and its answer: the link is up
    page = consoles["us"].get("/console").text
    assert 'data-peer="ru" data-state="up"' in page
    assert "last test" in page
    assert "next" in page


def test_the_event_stream_beats_when_nothing_changed(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    stamp = "-".join(str(n) for n in queries.change_stamp(pair.us))
    with consoles["us"].http.stream("GET", f"/console/events?since={stamp}") as stream:
        lines = []
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data:"):
                break

    assert ["event: beat", f"data: {stamp}"] == lines[-2:]

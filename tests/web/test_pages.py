"""The console's pages over real HTTP: inbox order, acknowledging, messages, compose, map data,
link health, alarms, live updates and the vendored files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from hotline.clock import FakeClock
from hotline.services.alarms import raise_alarm, raise_incident
from hotline.testing import HTTP_TIMEOUT_S
from tests.conftest import MakePair, Pair
from tests.web.conftest import PASSWORD, Console, log_in

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "notices"


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="msg[^"]*" id="row-([0-9a-f-]+)"', html)


def send_from_ru(pair: Pair, text: str, precedence: str) -> str:
    message = pair.ru.line.send(to="us", text=text, precedence=precedence, user="duty")
    return str(message["id"])


def test_the_inbox_puts_unacknowledged_messages_first_by_precedence(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    routine = send_from_ru(pair, "routine", "ROUTINE")
    flash = send_from_ru(pair, "flash", "FLASH")
    priority = send_from_ru(pair, "priority", "PRIORITY")
    pair.flush()
    pair.us.line.acknowledge(priority, "duty")

    html = consoles["us"].get("/console/fragments/inbox").text

    assert [flash, routine, priority] == [
        i for i in row_ids(html) if i in (flash, routine, priority)
    ]
    assert 'data-deadline="' in html and "Acknowledge" in html


def test_a_flash_message_raises_the_banner_on_every_page(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    send_from_ru(pair, "Turn away now.", "FLASH")
    pair.flush()

    page = consoles["us"].get("/console/links").text

    assert "flash-banner" in page and "Turn away now." in page


def test_acknowledging_from_the_console_reaches_the_sender(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    flash = send_from_ru(pair, "flash", "FLASH")
    pair.flush()

    response = consoles["us"].post(f"/console/messages/{flash}/ack", headers={"HX-Request": "true"})
    pair.flush()

    assert 200 == response.status_code and f'id="ack-{flash}"' not in response.text
    assert ("acknowledged", "us:duty") == (
        pair.ru.line.show(flash)["state"],
        pair.ru.line.show(flash)["acked_by"],
    )
    assert "✓ us:duty" in consoles["ru"].get("/console/fragments/inbox").text


def test_the_message_page_shows_both_renderings_findings_and_the_trail(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    notice = json.loads((EXAMPLES / "incident_report.json").read_text("utf-8"))
    sent = pair.ru.notices.send("us", notice, precedence="PRIORITY", lang="ru", user="duty")
    pair.flush()

    page = consoles["us"].get(f"/console/messages/{sent['message']['id']}").text

    assert "INCIDENT REPORT" in page and "ДОНЕСЕНИЕ ОБ ИНЦИДЕНТЕ" in page
    assert "received and verified" in page


def test_a_machine_draft_says_none_is_available(pair: Pair, consoles: dict[str, Console]) -> None:
    message = send_from_ru(pair, "Проверка связи.", "ROUTINE")
    pair.flush()

    page = consoles["us"].post(f"/console/messages/{message}/draft", {"lang": "en"}).text

    assert "no machine translation available" in page


def test_a_translation_is_certified_by_a_translator_not_its_own(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    """Certifying takes the translator role: an officer sees no Certify button and is
    refused; a translator certifies another's translation, never their own."""
    message = send_from_ru(pair, "Проверка связи.", "ROUTINE")
    pair.flush()
    pair.us.auth.add_user("linguist", PASSWORD, ["translator"])
    translator = log_in(pair.servers["us"].url, "linguist")
    us, us2 = consoles["us"], consoles["us2"]
    us.post(f"/console/messages/{message}/translations", {"lang": "en", "text": "Line check."})
    translator.post(f"/console/messages/{message}/translations", {"lang": "en", "text": "Check."})
    by_duty, by_linguist = (t["id"] for t in pair.us.show(message)["translations"])
    certify = f"/console/translations/{by_duty}/certify"

    officer_page = us2.get(f"/console/messages/{message}").text
    by_officer = us2.post(certify, {"message_id": message})
    own = translator.post(f"/console/translations/{by_linguist}/certify", {"message_id": message})
    translator_page = translator.get(f"/console/messages/{message}").text
    done = translator.post(certify, {"message_id": message})
    translator.http.close()

    assert certify not in officer_page and "a translator must certify" in officer_page
    assert 403 == by_officer.status_code
    assert 403 == own.status_code and "cannot certify their own" in own.text
    assert certify in translator_page
    assert 303 == done.status_code
    assert "certified by linguist" in us.get(f"/console/messages/{message}").text


def test_free_text_is_sent_once_however_often_the_form_is_sent(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    form = {"to": "ru", "text": "Test of the line.", "precedence": "IMMEDIATE", "client_ref": "c-1"}
    first = consoles["us"].post("/console/compose/text", form)
    second = consoles["us"].post("/console/compose/text", form)

    assert first.headers["location"] == second.headers["location"]
    assert 1 == len([m for m in pair.us.line.listing("out") if m["type"] == "text"])


def test_a_coded_message_shows_its_full_text_in_both_languages(
    consoles: dict[str, Console],
) -> None:
    preview = consoles["us"].get("/console/compose/code-preview?code=7").text

    assert "Our activity is an exercise, not a threat." in preview
    assert "Наша деятельность является учением и не представляет угрозы." in preview


def test_sending_a_coded_message(pair: Pair, consoles: dict[str, Console]) -> None:
    response = consoles["us"].post("/console/compose/code", {"to": "ru", "code": "1"})

    assert 303 == response.status_code
    assert ["coded_message"] == [m["type"] for m in pair.us.line.listing("out")]


def activity_form(coords: str, **extra: str) -> dict[str, object]:
    return {
        "to": "ru",
        "notice_type": "activity_notice",
        "activity": "air_operations",
        "unit-0-designation": "F-16",
        "unit-0-kind": "aircraft",
        "unit-0-count": "2",
        "vol-0-id": "A1",
        "vol-0-shape": "polygon",
        "vol-0-coords": coords,
        "vol-0-alt_lower_m": "0",
        "vol-0-alt_upper_m": "9000",
        "vol-0-datum": "MSL",
        "vol-0-start": "2027-01-10 06:00",
        "vol-0-end": "2027-01-10 12:00",
        **extra,
    }


SQUARE = "54.8, 19.0\n54°48'00\"N 021°00'00\"E\n34U EG 00000 61562\n55.6, 19.0"


def test_checking_a_notice_shows_findings_renderings_and_conflicts(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    theirs = json.loads((EXAMPLES / "activity_notice_hazardous_activity.json").read_text("utf-8"))
    theirs["volumes"][0]["geometry"]["coordinates"] = [["19.5", "55.0"], ["20.5", "55.0"]]
    theirs["volumes"][0]["properties"] |= {
        "start": "2027-01-10T08:00:00Z",
        "end": "2027-01-10T09:00:00Z",
    }
    pair.ru.notices.send("us", theirs, precedence="ROUTINE", lang="en", user="duty")
    pair.flush()

    page = consoles["us"].post("/console/compose/check", activity_form(SQUARE)).text

    assert "ACTIVITY NOTICE" in page and "УВЕДОМЛЕНИЕ О ДЕЯТЕЛЬНОСТИ" in page
    assert "Volume A1 conflicts with RU volume G1" in page
    assert '"type": "FeatureCollection"' in page


def test_a_notice_in_conflict_is_sent_from_the_console_only_with_a_reason(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    theirs = json.loads((EXAMPLES / "activity_notice_hazardous_activity.json").read_text("utf-8"))
    theirs["volumes"][0]["geometry"]["coordinates"] = [["19.5", "55.0"], ["20.5", "55.0"]]
    theirs["volumes"][0]["properties"] |= {
        "start": "2027-01-10T08:00:00Z",
        "end": "2027-01-10T09:00:00Z",
    }
    pair.ru.notices.send("us", theirs, precedence="ROUTINE", lang="en", user="duty")
    pair.flush()
    checked = consoles["us"].post("/console/compose/check", activity_form(SQUARE)).text
    refused = consoles["us"].post(
        "/console/compose/notice", activity_form(SQUARE), headers={"HX-Request": "true"}
    )
    sent = consoles["us"].post(
        "/console/compose/notice", activity_form(SQUARE, accept_conflict="agreed by phone")
    )

    assert "It is sent only with a reason for sending it in conflict" in checked
    assert (409, True) == (refused.status_code, "conflicts with the other side" in refused.text)
    assert 303 == sent.status_code
    [message] = [r for r in pair.us.line.listing("out") if r["type"] == "activity_notice"]
    trail = pair.us.show(message["id"])["trail"]
    assert ["agreed by phone"] == [
        e["detail"]["reason"] for e in trail if e["kind"] == "conflict_accepted"
    ]


def test_a_wrong_volume_is_refused_naming_the_field(consoles: dict[str, Console]) -> None:
    form = activity_form("54.8, 19.0\n55.6, 19.0\n55.6, 21.0", **{"vol-0-end": "2027-01-10 05:00"})
    response = consoles["us"].post("/console/compose/check", form, headers={"HX-Request": "true"})

    assert 422 == response.status_code
    assert "volumes[0].properties.end" in response.text


def test_a_position_that_is_not_one_is_refused_naming_the_line(
    consoles: dict[str, Console],
) -> None:
    response = consoles["us"].post("/console/compose/check", activity_form("54.8, 19.0\nnowhere"))

    assert "volumes[0].coordinates, line 2" in response.text


def test_sending_a_notice_puts_its_volume_on_the_peer_map(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    response = consoles["us"].post("/console/compose/notice", activity_form(SQUARE))
    pair.flush()

    data = consoles["ru"].get("/console/map/data").json()
    volume = data["volumes"]["features"][0]["properties"]
    assert 303 == response.status_code
    assert ("us", "A1", False) == (volume["party"], volume["volume_id"], volume["own"])


def test_the_reference_pickers_offer_only_what_each_notice_may_answer(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    ours = consoles["us"].post("/console/compose/notice", activity_form(SQUARE))
    pair.flush()
    [sent] = [row for row in pair.us.line.listing("out") if row["type"] == "activity_notice"]

    request_form = consoles["us"].get("/console/compose?tab=notice&type=deconfliction_request")
    answer_form = consoles["us"].get("/console/compose?tab=notice&type=deconfliction_answer")

    assert 303 == ours.status_code
    assert f'<option value="{sent["id"]}">' in request_form.text  # a request may name our notice
    assert f'<option value="{sent["id"]}">' not in answer_form.text  # an answer answers requests


def test_the_link_health_page_charts_the_tests(pair: Pair, consoles: dict[str, Console]) -> None:
    pair.us.links.send_test("ru")
    pair.flush()

    page = consoles["us"].get("/console/links").text

    assert '<svg viewBox="0 0 720 200"' in page and 'class="pass"' in page and "UP" in page


def test_an_alarm_is_cleared_with_a_reason(pair: Pair, consoles: dict[str, Console]) -> None:
    with pair.us.db.write() as conn:
        alarm, _new = raise_alarm(conn, "link_down", "ru", pair.us.line.now(), reason="test")

    refused = consoles["us"].post(f"/console/alarms/{alarm}/clear", {"reason": " "})
    cleared = consoles["us"].post(f"/console/alarms/{alarm}/clear", {"reason": "peer maintenance"})

    assert 422 == refused.status_code
    assert 303 == cleared.status_code
    assert "peer maintenance" in consoles["us"].get("/console/alarms").text


def test_a_delivery_refused_alarm_names_its_peer_and_links_the_message_held_up(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    sent = pair.us.line.send(to="ru", text="Held up", user="duty")
    with pair.us.db.write() as conn:
        raise_incident(conn, "delivery_refused", "ru", pair.us.line.now(), sent["id"], peer="ru")

    page = consoles["us"].get("/console/alarms").text

    assert f'RU <a href="/console/messages/{sent["id"]}" class="mono small">' in page


def test_the_event_stream_says_when_something_changed(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    send_from_ru(pair, "news", "ROUTINE")
    pair.flush()  # the stamp moves on from the one the page was drawn with
    with consoles["us"].http.stream("GET", "/console/events?since=0-0-0") as stream:
        lines = []
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data:"):
                break

    assert "event: changed" in lines


@pytest.mark.parametrize(
    "path",
    [
        "/console/static/vendor/htmx.org/dist/htmx.min.js",
        "/console/static/vendor/leaflet/dist/leaflet.js",
        "/console/static/vendor/topojson-client/dist/topojson-client.min.js",
        "/console/static/vendor/milsymbol/dist/milsymbol.js",
        "/console/static/vendor/world-atlas/countries-50m.json",
        "/console/static/console.js",
    ],
)
def test_every_script_and_the_map_data_are_served_by_the_node(pair: Pair, path: str) -> None:
    response = httpx.get(pair.servers["us"].url + path, timeout=HTTP_TIMEOUT_S)

    assert 200 == response.status_code and len(response.content) > 1000


def test_an_overdue_message_says_which_of_our_rungs_to_alert(
    make_pair: MakePair, clock: FakeClock
) -> None:
    contacts = [
        {"id": "duty", "role_en": "Duty desk", "role_ru": "Дежурный"},
        {"id": "watch", "role_en": "Watch commander", "role_ru": "Начальник смены"},
    ]
    with make_pair(us={"files": {"contacts.json": contacts}}) as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        pair.us.line.send(to="ru", text="Answer now.", precedence="FLASH", user="duty")
        pair.flush()
        clock.advance(601)  # past the FLASH allowance: our own ladder climbs
        pair.us.deadlines.tick()
        pair.flush()
        us = log_in(pair.servers["us"].url, "duty")

        english = us.post("/console/lang", {"lang": "en"}) and us.get("/console/alarms").text
        russian = us.post("/console/lang", {"lang": "ru"}) and us.get("/console/alarms").text
        us.http.close()
        assert [] == [m for m in pair.ru.line.listing("in") if m["type"] == "escalation"]

    assert (
        "Alert our Watch commander; then try the other side off the line: hotline escalation show"
    ) in english
    assert (
        "Оповестите: Начальник смены; затем свяжитесь с другой стороной вне линии: "
        "hotline escalation show"
    ) in russian


def test_the_map_data_carries_protected_areas_and_the_live_picture(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    from hotline.domain.tracks import TrackReport
    from tests.services.test_picture import declare, picture_tracks

    sent = declare(pair)
    pair.us.tracks.report([TrackReport.model_validate(t) for t in picture_tracks()])

    data = consoles["us"].get("/console/map/data").json()
    areas = [f["properties"] for f in data["areas"]["features"]]
    assert [
        (f"{sent['message']['id']}/PA-1", "ru", False),
        (f"{sent['message']['id']}/PA-2", "ru", False),
    ] == [(p["id"], p["party"], p["own"]) for p in areas]
    tracks = {t["id"]: t for t in data["picture"]["tracks"]}
    assert (True, False) == (tracks["U1"]["own"], tracks["R1"]["own"])
    assert tracks["U1"]["ahead"][0] > tracks["U1"]["lon"]  # flying east
    assert ["U1"] == [i["track"] for i in data["picture"]["incursions"]]
    assert [("R1", "U2")] == [(c["a"], c["b"]) for c in data["picture"]["conflicts"]]


def test_the_message_page_lists_the_peers_phones_and_records_an_attempt(
    make_pair: MakePair, clock: FakeClock
) -> None:
    from tests.services.test_escalation import RU_CONTACTS

    with make_pair(ru={"files": {"contacts.json": RU_CONTACTS}}) as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        sent = pair.us.line.send(to="ru", text="Call us.", precedence="FLASH", user="duty")
        us = log_in(pair.servers["us"].url, "duty")
        page = us.get(f"/console/messages/{sent['id']}").text
        assert "+870 77 000 0003" in page and "not tried yet" in page
        form = {"contact": "watch/sat", "result": "no_answer", "note": "rang out"}
        us.post(f"/console/messages/{sent['id']}/escalation/attempts", form)
        russian = (
            us.post("/console/lang", {"lang": "ru"})
            and us.get(f"/console/messages/{sent['id']}").text
        )
        us.http.close()
        [attempt] = pair.us.escalation.checklist(sent["id"])["attempts"]

    assert ("duty", "no_answer", "rang out") == (
        attempt["officer"],
        attempt["result"],
        attempt["note"],
    )
    assert "нет ответа · rang out" in russian
    assert "Inmarsat, начальник смены" in russian

"""Pre-authorised safety warnings: FLASH in one action, without a second person, each use
recorded and shown; everything else FLASH keeps the two-person rule."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from hotline.clock import FakeClock, rfc3339
from tests.conftest import Pair, token
from tests.services.test_picture import api


def commander(pair: Pair) -> str:
    pair.us.auth.add_user("cdr", "correct horse", ["commander"])
    return pair.us.auth.login("cdr", "correct horse")[0]


def authorise(client: httpx.Client, clock: FakeClock, **changes: Any) -> httpx.Response:
    body = {
        "to": "ru",
        "code": 11,
        "aircraft": "R1",
        "area": "PA-1",
        "valid_from": rfc3339(clock.now() - timedelta(minutes=1)),
        "valid_until": rfc3339(clock.now() + timedelta(hours=2)),
        "note": "Su-24 sorties near the border tonight",
    } | changes
    return client.post("/api/v1/safety/preauth", json=body)


def test_a_preauthorised_warning_goes_flash_in_one_action_and_is_shown(
    pair: Pair, clock: FakeClock
) -> None:
    with api(pair, "us", commander(pair)) as cdr, api(pair, "us", token(pair.us)) as officer:
        made = authorise(cdr, clock)
        assert 201 == made.status_code, made.text
        preauth = made.json()
        assert (True, [], "cdr") == (
            preauth["valid_now"],
            preauth["uses"],
            preauth["authorised_by"],
        )

        warned = officer.post(f"/api/v1/safety/preauth/{preauth['id']}/warn")
        # anything else FLASH is still held for a second person
        other = officer.post(
            "/api/v1/messages", json={"to": "ru", "code": 11, "precedence": "FLASH"}
        )
        listed = officer.get("/api/v1/safety/preauth").json()

    assert 201 == warned.status_code, warned.text
    message = warned.json()["message"]
    assert ("FLASH", "coded_message", 11) == (
        message["precedence"],
        message["body"]["type"],
        message["body"]["code"],
    )
    assert (202, "held") == (other.status_code, other.json()["state"])
    pair.flush()
    [received] = [m for m in pair.ru.line.listing("in", limit=50) if m["type"] == "coded_message"]
    assert (message["id"], "FLASH") == (received["id"], received["precedence"])

    # each use recorded: beside the authorisation, in the trail, as an alarm for commanders
    assert [(message["id"], "officer")] == [
        (u["message_id"], u["used_by"]) for u in listed[0]["uses"]
    ]
    trail = pair.us.show(message["id"])["trail"]
    assert ["preauthorised"] == [e["kind"] for e in trail if e["kind"] == "preauthorised"]
    [alarm] = [a for a in pair.us.alarms.listing("open") if a["kind"] == "safety_warning"]
    assert (message["id"], "cdr", "officer", "R1", "PA-1") == (
        alarm["subject"],
        alarm["detail"]["authorised_by"],
        alarm["detail"]["sent_by"],
        alarm["detail"]["aircraft"],
        alarm["detail"]["area"],
    )


def test_only_commanders_authorise_and_a_revoked_or_expired_one_is_refused(
    pair: Pair, clock: FakeClock
) -> None:
    with api(pair, "us", commander(pair)) as cdr, api(pair, "us", token(pair.us)) as officer:
        by_officer = authorise(officer, clock)
        too_long = authorise(cdr, clock, valid_until=rfc3339(clock.now() + timedelta(days=8)))
        unknown_code = authorise(cdr, clock, code=999)
        first = authorise(cdr, clock).json()
        second = authorise(cdr, clock).json()
        revoked = cdr.post(
            f"/api/v1/safety/preauth/{first['id']}/revoke", json={"reason": "sorties over"}
        )
        after_revoke = officer.post(f"/api/v1/safety/preauth/{first['id']}/warn")
        clock.advance(timedelta(hours=2, seconds=1))
        expired = officer.post(f"/api/v1/safety/preauth/{second['id']}/warn")

    assert 403 == by_officer.status_code
    assert 422 == too_long.status_code and "at most 7 days" in too_long.text
    assert unknown_code.status_code in (404, 422) and "999" in unknown_code.text
    assert (200, "cdr") == (revoked.status_code, revoked.json()["revoked_by"])
    assert 409 == after_revoke.status_code and "revoked by cdr: sorties over" in after_revoke.text
    assert 409 == expired.status_code and "not now" in expired.text
    assert [] == [m for m in pair.us.line.listing("out", limit=50) if m["precedence"] == "FLASH"]


def test_the_cli_authorises_warns_and_lists(pair: Pair, clock: FakeClock) -> None:
    from tests.cli.test_line import invoke

    pair.us.auth.add_user("cdr1", "long watch password", ["commander"])
    pair.us.auth.add_user("duty1", "long watch password")
    us_dir = str(pair.us.settings.directory)
    cdr = {"HOTLINE_USER": "cdr1", "HOTLINE_PASSWORD": "long watch password"}
    duty = {"HOTLINE_USER": "duty1", "HOTLINE_PASSWORD": "long watch password"}
    window = (
        rfc3339(clock.now() - timedelta(minutes=1)),
        rfc3339(clock.now() + timedelta(hours=1)),
    )
    made = invoke(
        "safety", "authorise", "--to", "ru", "--code", "11", "--aircraft", "R24",
        "--area", "PA-1", "--valid-from", window[0], "--valid-until", window[1],
        "--dir", us_dir, env=cdr,
    )  # fmt: skip
    preauth_id = made.split()[1].rstrip(":")
    sent = invoke("safety", "warn", preauth_id, "--dir", us_dir, env=duty)
    listed = json.loads(invoke("safety", "list", "--dir", us_dir, "--json", env=duty))

    assert sent.startswith("FLASH sent: message ") and "to ru" in sent
    assert [(preauth_id, ["duty1"])] == [
        (r["id"], [u["used_by"] for u in r["uses"]]) for r in listed
    ]


def test_a_retried_warning_is_sent_and_recorded_once(pair: Pair, clock: FakeClock) -> None:
    with api(pair, "us", commander(pair)) as cdr, api(pair, "us", token(pair.us)) as officer:
        preauth = authorise(cdr, clock).json()
        path = f"/api/v1/safety/preauth/{preauth['id']}/warn"
        first = officer.post(path, json={"client_ref": "r1"})
        again = officer.post(path, json={"client_ref": "r1"})  # the answer was lost: retried
        other = officer.post(path, json={"client_ref": "r2"})  # a second warning, on purpose
        listed = officer.get("/api/v1/safety/preauth").json()

    assert (201, 201, 201) == (first.status_code, again.status_code, other.status_code)
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    assert first.json()["use"]["id"] == again.json()["use"]["id"]
    assert other.json()["message"]["id"] != first.json()["message"]["id"]
    assert 2 == len(listed[0]["uses"])
    flash = [m for m in pair.us.line.listing("out", limit=50) if m["precedence"] == "FLASH"]
    assert 2 == len(flash)
    alarms = [a for a in pair.us.alarms.listing("open") if a["kind"] == "safety_warning"]
    assert 2 == len(alarms)

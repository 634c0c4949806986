"""The Su-24 case on two real node processes sharing their tracks: an aircraft of RU heads
into a protected area of US. Both sides are alarmed, with the same predicted entry time; a
warning US's commander authorised in advance goes out FLASH in one action, while any other
FLASH message is still held for a second person; when RU's feed stops, US's alarm stays
open as "feed lost" with the last position."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from hotline.clock import rfc3339
from hotline.testing import api, wait_for
from tests.e2e.conftest import PASSWORDS, Processes

AREAS = Path(__file__).resolve().parents[2] / "examples" / "notices" / "protected_areas.json"
PA1 = (35.4011, 35.9481)  # lat, lon of the example's PA-1: 25 km radius, 0-15,000 m MSL


def login(procs: Processes, party: str, user: str = "officer") -> httpx.Client:
    with api(procs.node(party)) as anonymous:
        answer = anonymous.post("/api/v1/login", json={"user": user, "password": PASSWORDS[party]})
        answer.raise_for_status()
    return api(procs.node(party), answer.json()["token"])


def incursion(client: httpx.Client) -> dict[str, Any] | None:
    for alarm in client.get("/api/v1/alarms").json():
        if (alarm["kind"], alarm["subject"], alarm["state"]) == ("incursion", "R24→PA-1", "open"):
            return dict(alarm)
    return None


def test_su24_both_sides_alarmed_warning_preauthorised_and_feed_lost_kept(
    production_backend: None,
    processes: Processes,
) -> None:
    # both sides share their own tracks; feeds are lost after 3 s, tracks leave after 8 s
    processes.us.env.update(
        HOTLINE_TRACK_SHARE_S="1", HOTLINE_TRACK_STALE_S="3", HOTLINE_TRACK_TTL_S="8"
    )
    processes.us.start()
    processes.ru.start()
    with (
        login(processes, "us") as us,
        login(processes, "us", "commander") as us_cdr,
        login(processes, "ru") as ru,
    ):
        areas = json.loads(AREAS.read_text(encoding="utf-8"))
        sent = us.post(
            "/api/v1/notices", json={"to": "ru", "notice": areas, "precedence": "PRIORITY"}
        )
        assert 201 == sent.status_code, sent.text
        wait_for(
            lambda: any(
                f["properties"]["id"] == "PA-1" and f["properties"]["party"] == "us"
                for f in ru.get("/api/v1/areas").json()["features"]
            ),
            "US's protected areas in force on RU",
            timeout=120,
        )

        # RU's radar sees its own Su-24 60 km west of PA-1, flying east at 250 m/s
        seen = datetime.now(UTC).replace(microsecond=0)
        su24 = {
            "id": "R24",
            "party": "ru",
            "lat": PA1[0],
            "lon": PA1[1] - 0.66,
            "alt_m": 5000,
            "gs_mps": 250,
            "trk_deg": 90,
            "time": rfc3339(seen),
            "callsign": "SU-24",
        }
        taken = ru.post("/api/v1/tracks", json={"tracks": [su24]})
        assert 200 == taken.status_code, taken.text
        theirs = wait_for(lambda: incursion(us), "the incursion alarm on US", timeout=120)
        ours = wait_for(lambda: incursion(ru), "the incursion alarm on RU", timeout=120)
        assert ("our area", "our aircraft") == (
            theirs["detail"]["concerns"],
            ours["detail"]["concerns"],
        )
        assert theirs["detail"]["entry_at"] == ours["detail"]["entry_at"]
        entry = datetime.fromisoformat(theirs["detail"]["entry_at"].replace("Z", "+00:00"))
        assert timedelta(seconds=125) < entry - seen < timedelta(seconds=150)

        # US's commander authorised the warning beforehand: one officer sends it FLASH
        preauth = us_cdr.post(
            "/api/v1/safety/preauth",
            json={
                "to": "ru",
                "code": 11,
                "aircraft": "R24",
                "area": "PA-1",
                "valid_from": rfc3339(seen - timedelta(minutes=5)),
                "valid_until": rfc3339(seen + timedelta(hours=1)),
            },
        )
        assert 201 == preauth.status_code, preauth.text
        warned = us.post(f"/api/v1/safety/preauth/{preauth.json()['id']}/warn")
        assert 201 == warned.status_code, warned.text
        held = us.post(
            "/api/v1/messages",
            json={"to": "ru", "text": "Turn away now", "precedence": "FLASH"},
        )
        assert (202, "held") == (held.status_code, held.json()["state"])
        message_id = warned.json()["message"]["id"]
        received = wait_for(
            lambda: [m for m in ru.get("/api/v1/inbox").json() if m["id"] == message_id],
            "the FLASH warning on RU",
            timeout=120,
        )
        assert ("FLASH", 11) == (received[0]["precedence"], received[0]["body"]["code"])
        assert [] == [m for m in ru.get("/api/v1/inbox").json() if m["type"] == "text"]

        # RU's feed stops: US's alarm says so, keeps the last position, and stays open
        def lost() -> dict[str, Any] | None:
            alarm = incursion(us)
            return alarm if alarm and alarm["detail"]["feed"] == "lost" else None

        kept = wait_for(lost, "feed lost on US's incursion alarm", timeout=120)
        assert (PA1[0], PA1[1] - 0.66) == (
            kept["detail"]["last_report"]["lat"],
            kept["detail"]["last_report"]["lon"],
        )
        wait_for(
            lambda: us.get("/api/v1/tracks").json()["tracks"] == [],
            "the track leaving US's picture",
            timeout=120,
        )
        time.sleep(3)  # six more ticks after the track left: none clears the alarm
        after = incursion(us)
        assert after is not None
        assert ("lost", theirs["detail"]["entry_at"]) == (
            after["detail"]["feed"],
            after["detail"]["entry_at"],
        )

"""The case file: files on accounts, track history exported from the record, both compared.

Known inputs, known deltas: US records a ship every 10 s around the closest approach; RU
records the same ship 1 NM east, 2 s later. Each side attaches its track history to its
account; both nodes then show the same case, files verified, and the comparison gives
1852 m (1.000 NM) at each of US's times, RU's report 2000 ms later.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.notices.base import format_utc
from hotline.domain.tracks import TrackReport
from hotline.errors import Conflict, ValidationError
from hotline.geo.casetracks import FORMAT
from hotline.geo.geodesy import GEOD
from hotline.node import Node
from hotline.services.attachments.pull import HttpFetch, Puller
from tests.conftest import Pair
from tests.services.test_cases import account, event
from tests.services.test_notices import sent_example

SHIP = "mmsi:273312340"
LAT, LON = 43.25, 32.5


def east(lat: float, lon: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return lat2, lon2


def feed(node: Node, rows: list[tuple[str, float, float, datetime]]) -> None:
    """Record reports (track id, lat, lon, time) as the node's feed would hand them over."""
    node.tracks.take(
        [
            TrackReport.model_validate(
                {
                    "id": track,
                    "party": "ru",
                    "lat": lat,
                    "lon": lon,
                    "alt_m": 0.0,
                    "gs_mps": 8.0,
                    "trk_deg": 90.0,
                    "time": rfc3339(at),
                }
            )
            for track, lat, lon, at in rows
        ]
    )


def pull_both(pair: Pair) -> None:
    for node in (pair.us, pair.ru):
        Puller(node.line, HttpFetch(node.line, None)).run()


def open_case(pair: Pair, seen: datetime) -> str:
    """US reports, opens a case (closest approach at ``seen``); RU joins with its own."""
    report = sent_example(pair, "us", "incident_report")
    opened = pair.us.cases.new_account(
        opened_from={"kind": "incident_report", "ref": report},
        events=[event("closest_approach", format_utc(seen), f"{LON:.7f}", f"{LAT:.7f}")],
    )
    pair.us.notices.send("ru", opened, precedence="IMMEDIATE", lang=None, user="o")
    pair.flush()
    later = format_utc(seen + timedelta(seconds=17))
    joined = account(
        opened["case"], report, [event("closest_approach", later, "32.5100000", "43.2500000")]
    ) | pair.ru.cases.join_fields(pair.ru.cases.show(opened["case"]))
    pair.ru.notices.send("us", joined, precedence="IMMEDIATE", lang=None, user="o")
    pair.flush()
    return str(opened["case"])


def attach_tracks(node: Node, case_id: str, **params: Any) -> dict[str, Any]:
    to, body, refs = node.casefiles.tracks_account(case_id, **params)
    return node.notices.send(
        to, body, precedence="IMMEDIATE", lang=None, user="o", attachments=refs
    )


def test_track_histories_attached_by_both_sides_are_compared_with_known_deltas(
    pair: Pair,
) -> None:
    now = pair.us.line.clock.now().replace(microsecond=0)
    seen = now - timedelta(minutes=30)
    case_id = open_case(pair, seen)
    times = [seen + timedelta(seconds=s) for s in range(-60, 61, 10)]
    feed(pair.us, [(SHIP, LAT, LON + 0.001 * k, t) for k, t in enumerate(times)])
    feed(pair.us, [("far", LAT + 1.0, LON, seen)])  # 60 NM north: outside 20 NM
    feed(pair.us, [(SHIP, LAT, LON, seen - timedelta(minutes=20))])  # before the window
    feed(
        pair.ru,
        [(SHIP, *east(LAT, LON + 0.001 * k, 1852.0), t + timedelta(seconds=2))
         for k, t in enumerate(times)],
    )  # fmt: skip
    feed(pair.ru, [("ru-only", LAT, LON, seen)])

    name, data = pair.us.casefiles.track_history(case_id)
    assert data == pair.us.casefiles.track_history(case_id)[1]  # deterministic, byte for byte
    exported = json.loads(data)
    assert FORMAT == exported["properties"]["format"]
    assert name.endswith("-tracks-us.geojson")
    (ship,) = exported["features"]  # the far track and the report before the window left out
    assert SHIP == ship["id"] and "LineString" == ship["geometry"]["type"]
    assert [rfc3339(t) for t in times] == ship["properties"]["times"]
    assert 13 == exported["properties"]["reports"]

    attach_tracks(pair.us, case_id)
    attach_tracks(pair.ru, case_id)
    pair.flush()
    pull_both(pair)

    ours, theirs = pair.us.casefiles.show(case_id), pair.ru.casefiles.show(case_id)
    assert ours == theirs
    assert {"verified"} == {f["state"] for f in ours["files"].values()}
    assert 2 == len(ours["files"])
    comparison = ours["track_comparison"]
    (compared,) = comparison["tracks"]
    assert (SHIP, 13) == (compared["track"], compared["compared"])
    assert {2000} == {p["time_delta_ms"] for p in compared["points"]}
    assert all(abs(p["distance_m"] - 1852.0) <= 0.5 for p in compared["points"])
    assert 1.0 == compared["max_nm"]
    assert [{"party": "ru", "track": "ru-only"}] == comparison["only"]
    current = ours["accounts"]["us"]["versions"][-1]
    assert ["application/geo+json"] == [a["content_type"] for a in current["attachments"]]
    assert current["body"]["events"] == ours["accounts"]["us"]["versions"][0]["body"]["events"]

    with pytest.raises(Conflict, match="already attached"):
        pair.us.casefiles.tracks_account(case_id)


def test_track_history_is_refused_without_an_account_or_with_a_bad_radius(pair: Pair) -> None:
    seen = pair.us.line.clock.now() - timedelta(minutes=30)
    report = sent_example(pair, "us", "incident_report")
    opened = pair.us.cases.new_account(
        opened_from={"kind": "incident_report", "ref": report},
        events=[event("closest_approach", format_utc(seen), f"{LON:.7f}", f"{LAT:.7f}")],
    )
    pair.us.notices.send("ru", opened, precedence="IMMEDIATE", lang=None, user="o")
    pair.flush()
    case_id = opened["case"]

    with pytest.raises(ValidationError, match="ru has no account"):
        pair.ru.casefiles.tracks_account(case_id)
    with pytest.raises(ValidationError, match="radius_nm"):
        pair.us.casefiles.track_history(case_id, radius_nm=0)
    _name, data = pair.ru.casefiles.track_history(case_id)  # empty record: an empty export
    assert [] == json.loads(data)["features"]
    assert parse_rfc3339(json.loads(data)["properties"]["from"]) == (
        parse_rfc3339(format_utc(seen)) - timedelta(minutes=15)
    )


def test_an_account_with_a_photograph_keeps_it_through_a_flash_hold(pair: Pair) -> None:
    seen = pair.us.line.clock.now() - timedelta(minutes=30)
    report = sent_example(pair, "us", "incident_report")
    png = b"\x89PNG\r\n\x1a\n" + b"bridge camera" * 10
    uploaded = pair.us.attachments.upload(png, name="bridge.png")
    refs = pair.us.attachments.refs([{"sha256": uploaded["sha256"]}])
    opened = pair.us.cases.new_account(
        opened_from={"kind": "incident_report", "ref": report},
        events=[event("closest_approach", format_utc(seen), f"{LON:.7f}", f"{LAT:.7f}")],
    )
    for name in ("writer", "approver"):
        pair.us.auth.add_user(name, "correct horse")
    held = pair.us.held.hold(
        "notice",
        to="ru",
        payload={"notice": opened, "attachments": refs},
        precedence="FLASH",
        lang=None,
        user="writer",
    )
    pair.us.held.approve(held["id"], "approver")
    pair.flush()
    pull_both(pair)

    case = pair.ru.casefiles.show(opened["case"])
    (photo,) = case["accounts"]["us"]["versions"][0]["attachments"]
    assert ("bridge.png", "image/png", len(png)) == (
        photo["name"], photo["content_type"], photo["size"]
    )  # fmt: skip
    assert "verified" == case["files"][uploaded["sha256"]]["state"]
    _info, data = pair.ru.attachments.read(uploaded["sha256"])
    assert png == data

"""Volumes in notices are checked against every other party's: before sending (the sender
is warned) and on receipt (the receiver is alerted); conflicts are stored and listed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hotline.errors import ValidationError
from tests.conftest import Pair
from tests.services.test_notices import example


def corridor_notice(volume_id: str, lon: str, lat: str, alt: tuple[int, int]) -> dict[str, Any]:
    """An activity notice with one circle of 5 km radius at (lon, lat)."""
    notice = copy.deepcopy(example("activity_notice_missile_launch"))
    notice["activity"] = "air_operations"
    notice.pop("launch_area", None)
    notice.pop("impact_area", None)
    volume = notice["volumes"][0]
    volume["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
    volume["properties"].update(id=volume_id, radius_m=5000, alt_lower_m=alt[0], alt_upper_m=alt[1])
    return notice


def test_a_conflicting_notice_is_flagged_to_sender_and_receiver(pair: Pair) -> None:
    mine = corridor_notice("R1", "36.0000000", "35.0000000", (0, 3000))
    sent_ru = pair.ru.notices.send("us", mine, precedence="PRIORITY", lang="ru", user="o")
    assert [] == sent_ru["conflicts"]
    pair.flush()
    # 12 km apart centre to centre: 2 km between the circles' edges, under 3 NM
    theirs = corridor_notice("A1", "36.0000000", "35.1080000", (1000, 5000))
    preview = pair.us.notices.prepare("ru", theirs)
    assert 1 == len(preview.conflicts)
    assert 0 == preview.conflicts[0]["vertical_m"]
    assert 1500 < preview.conflicts[0]["horizontal_m"] < 2500
    sent_us = pair.us.notices.send(
        "ru", theirs, precedence="PRIORITY", lang="en", user="o", accept_conflict="agreed by phone"
    )
    pair.flush()
    received = pair.ru.conflicts.listing()
    assert [(sent_ru["message"]["id"], sent_us["message"]["id"])] == [
        tuple(
            sorted(
                (c["a"]["message_id"], c["b"]["message_id"]),
                key=[sent_ru["message"]["id"], sent_us["message"]["id"]].index,
            )
        )
        for c in received
    ]
    assert {"ru", "us"} == {received[0]["a"]["party"], received[0]["b"]["party"]}
    alarms = pair.ru.alarms.listing("open")
    assert [("conflict", sent_us["message"]["id"])] == [(a["kind"], a["subject"]) for a in alarms]
    assert 1 == len(pair.us.conflicts.listing())  # the sender recorded it too


def test_volumes_far_apart_or_of_one_party_do_not_conflict(pair: Pair) -> None:
    pair.us.notices.send(
        "ru",
        corridor_notice("A1", "36.0000000", "35.0000000", (0, 3000)),
        precedence="ROUTINE",
        lang="en",
        user="o",
    )
    second = pair.us.notices.send(
        "ru",
        corridor_notice("A2", "36.0000000", "35.0100000", (0, 3000)),
        precedence="ROUTINE",
        lang="en",
        user="o",
    )
    assert [] == second["conflicts"]  # same party: never a conflict
    far = corridor_notice("R1", "40.0000000", "35.0000000", (0, 3000))
    assert [] == pair.ru.notices.prepare("us", far).conflicts


def test_the_volume_layer_lists_own_and_peer_volumes(pair: Pair) -> None:
    sent = pair.us.notices.send(
        "ru",
        corridor_notice("A1", "36.0000000", "35.0000000", (0, 3000)),
        precedence="ROUTINE",
        lang="en",
        user="o",
    )
    pair.flush()
    layer = pair.ru.conflicts.volumes_geojson()
    assert [(f"{sent['message']['id']}/A1", "us")] == [
        (f["properties"]["id"], f["properties"]["party"]) for f in layer["features"]
    ]


def test_a_volume_the_engine_refuses_leaves_the_index_whole(pair: Pair) -> None:
    # The notice's model accepts a self-crossing ring; the engine refuses it. The refused
    # volume must not stay behind and break the index when it is next rebuilt.
    bad = corridor_notice("B1", "36.0000000", "35.0000000", (0, 3000))
    ring = [
        ["36.0", "35.0"],
        ["36.1", "35.1"],
        ["36.1", "35.0"],
        ["36.0", "35.1"],
        ["36.0", "35.0"],
    ]
    bad["volumes"][0]["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    del bad["volumes"][0]["properties"]["radius_m"]
    with pytest.raises(ValidationError) as refused:
        pair.ru.conflicts.record_sent("m-bad", bad)
    assert "volume 'm-bad/B1'" == refused.value.context["volume"]
    areas = example("protected_areas")
    pair.ru.conflicts.record_sent("m-areas-1", areas, "2026-11-21T10:00:00Z")
    pair.ru.conflicts.record_sent("m-areas-2", areas, "2026-11-21T11:00:00Z")  # a rebuild

    good = corridor_notice("R1", "40.0000000", "35.0000000", (0, 3000))
    assert [] == pair.ru.conflicts.check_notice(good, "us")

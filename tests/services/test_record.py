"""The recorded picture: every report taken is recorded, pruned after its retention, queried
by window, track and radius, taken back on start and by a standby that becomes active, and
replayed into a node with the same conflicts and incursions as recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.domain.tracks import TrackReport
from hotline.errors import ValidationError
from hotline.node import Node
from hotline.services.picture import record as recording
from hotline.services.picture import replay
from hotline.testing import wait_for
from tests.conftest import MakeNode, Pair, token
from tests.services.test_picture import api, declare, picture_tracks, track


def reports(*rows: dict[str, Any]) -> list[TrackReport]:
    return [TrackReport.model_validate(r) for r in rows]


def flown_on(node: Node) -> list[TrackReport]:
    """The node's tracks as a feed would report them now: where they are, this second."""
    keys = ("id", "party", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
    return reports(*({k: t[k] for k in keys} for t in node.tracks.assess()["tracks"]))


def test_every_report_taken_is_recorded_and_found_by_window_track_and_radius(
    make_node: MakeNode, clock: FakeClock
) -> None:
    node = make_node("us")
    t0 = clock.now()
    for _ in range(3):
        node.tracks.report(
            reports(track("A1", "us", 35.0, 35.0, 90.0), track("B1", "ru", 40.0, 20.0, 0.0))
        )
        clock.advance(1)
    record = node.tracks.record
    end = rfc3339(clock.now())

    whole = record.history(rfc3339(t0), end)
    assert ["A1", "B1"] * 3 == [r["id"] for r in whole["reports"]]
    assert [rfc3339(t0 + timedelta(seconds=k // 2)) for k in range(6)] == [
        r["time"] for r in whole["reports"]
    ]
    first = whole["reports"][0]
    assert ("us", "feed", 35.0, 35.0, 5000.0, 250.0, 90.0) == (
        first["party"], first["source"], first["lat"], first["lon"], first["alt_m"],
        first["gs_mps"], first["trk_deg"],
    )  # fmt: skip
    assert ["B1"] * 3 == [r["id"] for r in record.history(rfc3339(t0), end, track="B1")["reports"]]
    # 10 NM around A1's position: A1 only (B1 is 700 km away); 0.2 NM off: none
    near = record.history(rfc3339(t0), end, lat=35.1, lon=35.0, radius_nm=10)
    assert ["A1"] * 3 == [r["id"] for r in near["reports"]]
    assert [] == record.history(rfc3339(t0), end, lat=35.004, lon=35.0, radius_nm=0.2)["reports"]
    one_second = record.history(
        rfc3339(t0 + timedelta(seconds=1)), rfc3339(t0 + timedelta(seconds=1))
    )
    assert ["A1", "B1"] == [r["id"] for r in one_second["reports"]]

    # page by page: every report once, in order
    paged, after = [], None
    while True:
        page = record.history(rfc3339(t0), end, limit=4, after=after)
        paged += page["reports"]
        after = page["next"]
        if after is None:
            break
    assert whole["reports"] == paged

    for bad in (
        {"start": end, "end": rfc3339(t0)},
        {"start": "yesterday", "end": end},
        {"start": rfc3339(t0), "end": end, "lat": 35.0, "radius_nm": 10},
        {"start": rfc3339(t0), "end": end, "lat": 35.0, "lon": 35.0, "radius_nm": -1},
        {"start": rfc3339(t0), "end": end, "after": "x"},
    ):
        start, stop = bad.pop("start"), bad.pop("end")
        with pytest.raises(ValidationError):
            record.history(start, stop, **bad)


def test_reports_older_than_the_retention_are_pruned_in_chunks(
    make_node: MakeNode, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_node("us", track_record_days=1.0)
    t0 = clock.now()
    node.tracks.report(reports(*(track(f"OLD{k}", "us", 35.0, 35.0, 0.0) for k in range(5))))
    clock.advance(timedelta(days=1, seconds=1))
    node.tracks.report(reports(track("NEW", "us", 35.0, 35.0, 0.0)))
    monkeypatch.setattr(recording, "PRUNE_CHUNK", 2)
    monkeypatch.setattr(recording, "PRUNE_CHUNKS_PER_TICK", 2)
    everything = (rfc3339(t0), rfc3339(clock.now()))

    node.tracks.record.tick()  # 4 of the 5 old ones: the backlog goes on next tick
    assert 2 == len(node.tracks.record.history(*everything)["reports"])
    node.tracks.record.tick()
    assert ["NEW"] == [r["id"] for r in node.tracks.record.history(*everything)["reports"]]


def test_a_node_that_records_nothing_keeps_no_history(
    make_node: MakeNode, clock: FakeClock
) -> None:
    node = make_node("us", track_record_days=0)
    node.tracks.report(reports(track("A1", "us", 35.0, 35.0, 0.0)))
    window = (rfc3339(clock.now() - timedelta(seconds=1)), rfc3339(clock.now()))
    assert [] == node.tracks.record.history(*window)["reports"]
    assert 1 == len(node.tracks.assess()["tracks"])


def test_a_standby_that_becomes_active_takes_the_picture_over_from_the_record(
    make_node: MakeNode, clock: FakeClock
) -> None:
    first = make_node("us")
    first.tracks.report(reports(track("GONE", "us", 35.0, 35.0, 0.0)))
    clock.advance(61)  # GONE is past track_ttl_s (60 s): not taken back
    first.tracks.report(reports(track("A1", "us", 35.0, 35.0, 90.0, callsign="VIPER 1")))
    clock.advance(1)
    first.tracks.report(
        reports(track("A1", "us", 35.0, 35.01, 90.0), track("B1", "ru", 34.0, 34.0, 0.0))
    )
    first.start()
    wait_for(lambda: first.active, "the first process active", timeout=30)
    standby = Node(first.settings, clock)
    try:
        standby.start()  # nothing is reported to it: what it shows, it took from the record
        first.stop()  # the active process ends: the standby takes over within retry_s

        wait_for(lambda: standby.active, "the standby active", timeout=60)
        # "active" is set as it takes over; the picture is loaded in the same step
        taken = wait_for(
            lambda: {t["id"]: t for t in standby.tracks.assess()["tracks"]},
            "the standby's picture",
            timeout=60,
        )
        assert ["A1", "B1"] == sorted(taken)
        assert (35.0, 35.01, "ru") == (taken["A1"]["lat"], taken["A1"]["lon"], taken["B1"]["party"])
    finally:
        standby.stop()


def test_a_replay_of_a_recorded_window_gives_the_same_conflicts_and_incursions(
    pair: Pair, clock: FakeClock
) -> None:
    declare(pair)
    node = pair.ru
    t0 = clock.now()
    node.tracks.report(reports(*picture_tracks()))
    for _ in range(4):  # the feed reports each track again every second
        clock.advance(1)
        node.tracks.report(flown_on(node))
    recorded = node.tracks.assess()
    assert (1, 1) == (len(recorded["conflicts"]), len(recorded["incursions"]))
    with api(pair, "ru", token(pair.ru)) as client:
        answer = client.get(
            "/api/v1/tracks/history", params={"from": rfc3339(t0), "to": rfc3339(clock.now())}
        )
    answer.raise_for_status()
    lines = [_line(r) for r in answer.json()["reports"]]
    assert 20 == len(lines) and answer.json()["next"] is None

    clock.advance(timedelta(hours=3))  # a drill, hours later, on a cleared picture
    node.tracks.clear()
    start = clock.now()
    done = replay.run(
        replay.plan(replay.read(lines)),
        node.tracks.report,
        lambda offset: clock.set(start + timedelta(seconds=offset)),
        start,
    )

    replayed = node.tracks.assess()
    assert (20, 5) == (done["reports"], done["groups"])
    assert recorded["conflicts"] == replayed["conflicts"]
    assert recorded["incursions"] == replayed["incursions"]
    assert [(t["id"], t["lat"], t["lon"]) for t in recorded["tracks"]] == [
        (t["id"], t["lat"], t["lon"]) for t in replayed["tracks"]
    ]


def test_a_bad_recording_is_refused_with_its_line() -> None:
    good = _line({"id": "A1", "party": "us", "lat": 1, "lon": 2, "alt_m": 0, "gs_mps": 0,
                  "trk_deg": 0, "time": "2026-12-07T04:00:00.000Z", "source": "feed"})  # fmt: skip
    for bad, says in (
        ("{not json", "line 2"),
        (good.replace('"lat":1', '"lat":91'), "line 2"),
        (good.replace(',"time":"2026-12-07T04:00:00.000Z"', ""), "line 2: no time"),
    ):
        with pytest.raises(ValidationError, match=says):
            replay.read([good, bad])
    with pytest.raises(ValidationError, match="speed"):
        replay.plan(replay.read([good]), speed=0)


def _line(report: dict[str, Any]) -> str:
    import json

    return json.dumps(report, separators=(",", ":"))


def test_a_peers_shared_tracks_are_recorded_with_the_peer_as_source(
    make_pair: Any, clock: FakeClock
) -> None:
    with make_pair(us={"track_share_s": 1}) as pair:
        pair.us.tracks.report(reports(track("U1", "us", 35.0, 35.0, 90.0)))
        pair.flush()
        window = (rfc3339(clock.now()), rfc3339(clock.now()))
        [shared] = pair.ru.tracks.record.history(*window)["reports"]
        [own] = pair.us.tracks.record.history(*window)["reports"]
    assert ("U1", "us", "us") == (shared["id"], shared["party"], shared["source"])
    assert ("U1", "feed", 35.0) == (own["id"], own["source"], shared["lat"])

"""Protected areas declared on the line, and the live picture: tracks reported to a node,
their predicted conflicts and their incursions into the other side's areas."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import httpx
import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.node import Node
from tests.conftest import MakePair, Pair, token
from tests.services.test_conflicts import corridor_notice
from tests.services.test_notices import example

PA1 = (35.9481, 35.4011)  # centre of the example's circle, radius 25 km, 0-15,000 m MSL


def declare(pair: Pair, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """RU declares its protected areas (the example unless ``body``) and US receives them."""
    sent = pair.ru.notices.send(
        "us",
        body or example("protected_areas"),
        precedence="PRIORITY",
        lang="ru",
        user="o",
        accept_conflict="areas declared over a volume on purpose",  # unused without a conflict
    )
    pair.flush()
    return sent


def area_ids(node: Node) -> list[tuple[str, str]]:
    return [(a.party, a.area.id) for a in node.conflicts.areas()]


def track(id_: str, party: str, lat: float, lon: float, trk: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "party": party,
        "lat": lat,
        "lon": lon,
        "alt_m": extra.pop("alt_m", 5000.0),
        "gs_mps": extra.pop("gs_mps", 250.0),
        "trk_deg": trk,
        "vs_mps": 0.0,
        **extra,
    }


def api(pair: Pair, party: str, tok: str) -> httpx.Client:
    return httpx.Client(
        base_url=pair.servers[party].url, headers={"Authorization": f"Bearer {tok}"}, timeout=30
    )


# -- protected areas --------------------------------------------------------------------------


def test_declared_areas_are_in_force_on_both_nodes_and_listed(pair: Pair) -> None:
    sent = declare(pair)

    assert [("ru", "PA-1"), ("ru", "PA-2")] == area_ids(pair.us) == area_ids(pair.ru)
    with api(pair, "us", token(pair.us)) as client:
        listed = client.get("/api/v1/areas").json()
    props = [f["properties"] for f in listed["features"]]
    assert [
        ("PA-1", "ru", sent["message"]["id"], 25000),
        ("PA-2", "ru", sent["message"]["id"], None),
    ] == [(p["id"], p["party"], p["message_id"], p.get("radius_m")) for p in props]
    assert ("MSL", 15000) == (props[0]["datum"], props[0]["alt_upper_m"])
    assert "datum" not in props[1]  # protected at every altitude
    rendering = pair.us.show(sent["message"]["id"])["rendering"]
    assert "PROTECTED AREAS" in rendering["en"] and "ОХРАНЯЕМЫЕ РАЙОНЫ" in rendering["ru"]


def test_a_volume_in_the_other_sides_area_warns_the_sender_and_alerts_the_receiver(
    pair: Pair,
) -> None:
    declare(pair)
    inside = corridor_notice("A1", f"{PA1[0]:.7f}", f"{PA1[1] + 0.1:.7f}", (1000, 3000))

    preview = pair.us.notices.prepare("ru", inside)
    assert 1 == len(preview.conflicts)
    conflict = preview.conflicts[0]
    assert {"PA-1"} == {conflict[s]["volume_id"] for s in ("a", "b") if conflict[s]["area"]}
    assert 0 == conflict["horizontal_m"] and 0 == conflict["vertical_m"]

    sent = pair.us.notices.send(
        "ru", inside, precedence="PRIORITY", lang="en", user="o", accept_conflict="agreed"
    )
    pair.flush()
    [stored] = pair.ru.conflicts.listing()
    sides = {stored[s]["area"]: stored[s] for s in ("a", "b")}
    assert (sent["message"]["id"], "A1", "us") == (
        sides[False]["message_id"],
        sides[False]["volume_id"],
        sides[False]["party"],
    )
    assert ("PA-1", "ru") == (sides[True]["volume_id"], sides[True]["party"])
    assert [("conflict", sent["message"]["id"])] == [
        (a["kind"], a["subject"]) for a in pair.ru.alarms.listing("open")
    ]


def test_an_area_over_a_declared_volume_conflicts_but_areas_never_conflict_with_each_other(
    pair: Pair,
) -> None:
    volume = corridor_notice("A1", f"{PA1[0]:.7f}", f"{PA1[1]:.7f}", (1000, 3000))
    pair.us.notices.send("ru", volume, precedence="ROUTINE", lang="en", user="o")
    own_area = example("protected_areas")  # US protects exactly the same places
    pair.us.notices.send("ru", own_area, precedence="ROUTINE", lang="en", user="o")
    pair.flush()

    preview = pair.ru.notices.prepare("us", example("protected_areas"))

    assert 1 == len(preview.conflicts)  # the US volume, not the two US areas
    sent = declare(pair)
    assert 1 == len([c for c in pair.ru.conflicts.listing() if c["b"]["area"] or c["a"]["area"]])
    assert ("conflict", sent["message"]["id"]) in {
        (a["kind"], a["subject"]) for a in pair.us.alarms.listing("open")
    }


def test_replaced_and_withdrawn_areas_leave_the_index_and_survive_a_restart(pair: Pair) -> None:
    declare(pair)
    moved = copy.deepcopy(example("protected_areas"))
    moved["areas"] = [moved["areas"][0]]
    moved["areas"][0]["area"]["geometry"]["coordinates"] = ["20.0000000", "10.0000000"]
    moved.pop("remarks")
    declare(pair, moved)
    at_old_place = corridor_notice("A1", f"{PA1[0]:.7f}", f"{PA1[1]:.7f}", (1000, 3000))
    at_new_place = corridor_notice("A2", "20.0000000", "10.0000000", (1000, 3000))

    assert [] == pair.us.notices.prepare("ru", at_old_place).conflicts
    assert 1 == len(pair.us.notices.prepare("ru", at_new_place).conflicts)

    declare(pair, {"type": "protected_areas", "withdrawn": ["PA-2"]})
    assert [("ru", "PA-1")] == area_ids(pair.us) == area_ids(pair.ru)

    reopened = Node(pair.us.settings, pair.us.clock)  # a restart: state folded from the log
    try:
        assert [("ru", "PA-1")] == area_ids(reopened)
        assert 1 == len(reopened.notices.prepare("ru", at_new_place).conflicts)
    finally:
        reopened.db.dispose()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"type": "protected_areas"}, "declare at least one area"),
        ({"type": "protected_areas", "withdrawn": ["PA-1"], "areas": [
            {"id": "PA-1", "name": "x", "area": {
                "geometry": {"type": "Point", "coordinates": ["1.0", "1.0"]}, "radius_m": 5}}
        ]}, "both declared and withdrawn"),
        ({"type": "protected_areas", "areas": [
            {"id": "PA-1", "name": "x", "alt_lower_m": 0, "area": {
                "geometry": {"type": "Point", "coordinates": ["1.0", "1.0"]}, "radius_m": 5}}
        ]}, "given together"),
    ],
)  # fmt: skip
def test_a_bad_declaration_is_refused_with_its_reason(
    pair: Pair, body: dict[str, Any], says: str
) -> None:
    with api(pair, "ru", token(pair.ru)) as client:
        answer = client.post("/api/v1/notices", json={"to": "us", "notice": body})
    assert 422 == answer.status_code
    assert says in answer.text
    assert [] == area_ids(pair.ru)


# -- the live picture -------------------------------------------------------------------------


def picture_tracks() -> list[dict[str, Any]]:
    return [
        # 60 km west of PA-1's centre, flying east at 250 m/s: enters 25 km out, ~140 s
        track("U1", "us", PA1[1], PA1[0] - 0.66, 90.0),
        # head-on pair 27 km apart at the same level: CPA in ~68 s, 0 m apart
        track("U2", "us", 34.0, 33.0, 90.0, gs_mps=200.0, alt_m=6000.0),
        track("R1", "ru", 34.0, 33.3, 270.0, gs_mps=200.0, alt_m=6000.0),
        # far from everything
        track("U3", "us", 10.0, 10.0, 0.0),
    ]


def test_tracks_reported_to_a_node_give_conflicts_incursions_and_alarms(
    pair: Pair, clock: FakeClock
) -> None:
    declare(pair)
    with api(pair, "ru", token(pair.ru)) as client:
        taken = client.post("/api/v1/tracks", json={"tracks": picture_tracks()}).json()
        assert (4, 1, 1) == (taken["tracks"], taken["conflicts"], taken["incursions"])
        picture = client.get("/api/v1/tracks").json()

    [conflict] = picture["conflicts"]
    assert ("R1", "U2", ["ru", "us"]) == (conflict["a"], conflict["b"], conflict["parties"])
    assert 60 < conflict["tcpa_s"] < 75 and conflict["dcpa_m"] < 1
    [hit] = picture["incursions"]
    assert ("U1", "PA-1", "ru", False) == (
        hit["track"],
        hit["area"],
        hit["area_party"],
        hit["inside"],
    )
    assert 125 < hit["entry_s"] < 150
    assert hit["lon"] == pytest.approx(PA1[0] - 0.275, abs=0.01)  # 25 km west of the centre
    assert {("incursion", "U1→PA-1"), ("track_conflict", "R1×U2")} == {
        (a["kind"], a["subject"]) for a in pair.ru.alarms.listing("open")
    }

    # U1 turns away: the incursion is no longer predicted and its alarm clears itself
    clock.advance(timedelta(seconds=5))
    away = [t if t["id"] != "U1" else {**t, "trk_deg": 270.0} for t in picture_tracks()]
    with api(pair, "ru", token(pair.ru, "officer2")) as client:
        again = client.post("/api/v1/tracks", json={"tracks": away}).json()
    assert 0 == again["incursions"]
    cleared = [a for a in pair.ru.alarms.listing("cleared") if a["kind"] == "incursion"]
    assert [("U1→PA-1", "no longer predicted")] == [
        (a["subject"], a["clear_reason"]) for a in cleared
    ]


def test_an_incursion_into_the_other_sides_area_alarms_the_aircrafts_side_too(
    pair: Pair,
) -> None:
    """Safety of flight first: the side whose aircraft can still turn is alarmed."""
    declare(pair)
    us_tracks = [t for t in picture_tracks() if t["id"] in ("U1", "U3")]
    pair.us.tracks.report([_report(t) for t in us_tracks])

    assert ["U1"] == [i["track"] for i in pair.us.tracks.assess()["incursions"]]
    [alarm] = pair.us.alarms.listing("open")
    assert ("incursion", "U1→PA-1", "our aircraft") == (
        alarm["kind"],
        alarm["subject"],
        alarm["detail"]["concerns"],
    )


def test_tracks_fly_on_from_their_report_and_leave_the_picture_when_stale(
    pair: Pair, clock: FakeClock
) -> None:
    reported_at = clock.now() - timedelta(seconds=40)
    moving = track("U3", "us", 10.0, 10.0, 90.0, gs_mps=100.0, time=rfc3339(reported_at))
    pair.us.tracks.report([_report(moving)])

    [now] = pair.us.tracks.assess()["tracks"]
    assert now["lon"] == pytest.approx(10.0 + 4000 / 109_600, abs=2e-4)  # 4 km east
    clock.advance(timedelta(seconds=21))  # 61 s since the report; ttl is 60 s
    assert [] == pair.us.tracks.assess()["tracks"]


def test_bad_track_reports_are_refused_and_change_nothing(pair: Pair, clock: FakeClock) -> None:
    with api(pair, "us", token(pair.us)) as client:
        client.post("/api/v1/tracks", json={"tracks": picture_tracks()}).raise_for_status()
        bad_lat = client.post(
            "/api/v1/tracks", json={"tracks": [track("X1", "us", 91.0, 0.0, 0.0)]}
        )
        future = rfc3339(clock.now() + timedelta(hours=1))
        too_new = client.post(
            "/api/v1/tracks", json={"tracks": [track("X2", "us", 1.0, 0.0, 0.0, time=future)]}
        )
        extra = client.post(
            "/api/v1/tracks", json={"tracks": [track("X3", "us", 1.0, 0.0, 0.0, colour="red")]}
        )
        after = client.get("/api/v1/tracks").json()

    assert (422, 422, 422) == (bad_lat.status_code, too_new.status_code, extra.status_code)
    assert "lat" in bad_lat.text and "future" in too_new.text and "colour" in extra.text
    assert ["R1", "U1", "U2", "U3"] == [t["id"] for t in after["tracks"]]


def test_only_feeds_and_people_on_watch_report_tracks(pair: Pair) -> None:
    pair.us.auth.add_user("translator1", "correct horse", ["translator"])
    tok = pair.us.auth.login("translator1", "correct horse")[0]
    with api(pair, "us", tok) as client:
        refused = client.post("/api/v1/tracks", json={"tracks": picture_tracks()})
        readable = client.get("/api/v1/tracks")
    assert 403 == refused.status_code and "may not do POST /api/v1/tracks" in refused.text
    assert (200, 0) == (readable.status_code, readable.json()["summary"]["tracks"])


def _report(data: dict[str, Any]) -> Any:
    from hotline.domain.tracks import TrackReport

    return TrackReport.model_validate(data)


# -- tracks shared on the line ----------------------------------------------------------------


def reports(party: str) -> list[Any]:
    return [_report(t) for t in picture_tracks() if t["party"] == party]


def test_shared_tracks_give_both_sides_the_same_picture(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair(us={"track_share_s": 5}, ru={"track_share_s": 5}) as pair:
        declare(pair)
        pair.us.tracks.report(reports("us"))
        pair.ru.tracks.report(reports("ru"))
        pair.flush()
        us_view, ru_view = pair.us.tracks.assess(), pair.ru.tracks.assess()
        pair.ru.tracks.tick()  # alarms follow the shared tracks at the next tick

        def same(view: dict[str, Any]) -> tuple[Any, ...]:
            return (
                [t["id"] for t in view["tracks"]],
                [(c["a"], c["b"]) for c in view["conflicts"]],
                [(i["track"], i["area"]) for i in view["incursions"]],
            )

        assert same(us_view) == same(ru_view)
        assert (["R1", "U1", "U2", "U3"], [("R1", "U2")], [("U1", "PA-1")]) == same(us_view)
        sources = {t["id"]: t["source"] for t in ru_view["tracks"]}
        assert {"R1": "feed", "U1": "us", "U2": "us", "U3": "us"} == sources
        assert ("incursion", "U1→PA-1") in {
            (a["kind"], a["subject"]) for a in pair.ru.alarms.listing("open")
        }
        shared = [m for m in pair.us.line.listing("out", limit=50) if m["type"] == "track_report"]
        assert 1 == len(shared)  # signed and logged like any other envelope

        pair.us.tracks.report(reports("us"))  # within 5 s: not shared again
        clock.advance(timedelta(seconds=6))
        pair.us.tracks.report(reports("us"))
        again = [m for m in pair.us.line.listing("out", limit=50) if m["type"] == "track_report"]
        assert 2 == len(again)
        assert "R1" not in {t["id"] for t in again[0]["body"]["tracks"]}  # only our own


def test_a_track_report_that_speaks_for_another_party_is_refused(pair: Pair) -> None:
    from hotline.domain.tracks import TrackReportBody, to_wire

    forged = to_wire(_report(track("R9", "ru", 34.0, 33.0, 90.0)), "2026-11-22T04:00:00.000Z")
    with pair.us.db.write() as conn:
        pair.us.line.enqueue(
            conn,
            to="ru",
            type_="track_report",
            body=TrackReportBody(tracks=[forged]).model_dump(mode="json"),
            precedence="ROUTINE",
            lang="en",
            user=None,
        )
    outcome = pair.deliver("us", "ru")

    assert outcome is not None and 0 == outcome.delivered
    assert "carries only its own tracks" in (outcome.error or "")
    assert [] == pair.ru.tracks.assess()["tracks"]

"""Conformance monitoring (own tracks against own declared volumes) and the picture's
alarms, safety of flight first: both sides alarmed by an incursion, with the same
predicted entry time; alarms of a stopped feed kept as "feed lost"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hotline.clock import FakeClock, rfc3339
from hotline.domain.tracks import TrackReport
from hotline.node import Node
from tests.conftest import MakePair, Pair
from tests.services.test_conflicts import corridor_notice
from tests.services.test_picture import declare, picture_tracks, track

CENTRE = (35.0, 36.0)  # lat, lon of the own volume A1: a circle of 5 km, 0-8,000 m
EAST_7_5_KM = 7500 / 91_290  # degrees of longitude at 35° N


def declare_own_volume(pair: Pair, clock: FakeClock) -> str:
    """US declares volume A1 to RU, in force from an hour ago for two hours."""
    notice = corridor_notice("A1", f"{CENTRE[1]:.7f}", f"{CENTRE[0]:.7f}", (0, 8000))
    window = {
        "start": rfc3339(clock.now() - timedelta(hours=1)).replace(".000Z", "Z"),
        "end": rfc3339(clock.now() + timedelta(hours=2)).replace(".000Z", "Z"),
    }
    notice["volumes"][0]["properties"].update(window)
    sent = pair.us.notices.send(
        "ru",
        notice,
        precedence="PRIORITY",
        lang="en",
        user="o",
        accept_conflict="the test's areas overlap the volume on purpose",
    )
    pair.flush()
    return str(sent["message"]["id"])


def report(node: Node, *tracks: dict[str, Any]) -> None:
    node.tracks.report([TrackReport.model_validate(t) for t in tracks])


def open_alarms(node: Node, kind: str) -> dict[str, dict[str, Any]]:
    return {a["subject"]: a for a in node.alarms.listing("open") if a["kind"] == kind}


def test_an_own_track_leaving_its_volume_alarms_within_one_tick_and_clears_on_return(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair(us={"track_stale_s": 50}) as pair:
        mid = declare_own_volume(pair, clock)
        # inside A1, flying east at 250 m/s: tied to A1, conforming
        report(pair.us, track("U7", "us", *CENTRE, 90.0, callsign="VIPER 7"))
        assert {} == open_alarms(pair.us, "nonconforming")

        clock.advance(timedelta(seconds=30))  # flown on 7.5 km east: 2.5 km outside A1
        pair.us.tracks.tick()

        alarm = open_alarms(pair.us, "nonconforming")["U7"]
        detail = alarm["detail"]
        assert (f"{mid}/A1", "A1", mid, "outside the volume", "VIPER 7", "live") == (
            detail["volume"],
            detail["volume_id"],
            detail["message_id"],
            detail["reason"],
            detail["callsign"],
            detail["feed"],
        )
        assert 2400 <= detail["distance_m"] <= 2600
        assert 0 == detail["vertical_m"]

        # the pilot turns back: reported inside again, the alarm clears with the reason
        report(pair.us, track("U7", "us", *CENTRE, 270.0))
        assert {} == open_alarms(pair.us, "nonconforming")
        cleared = [a for a in pair.us.alarms.listing("cleared") if a["kind"] == "nonconforming"]
        assert [("U7", f"back inside {mid}/A1")] == [
            (a["subject"], a["clear_reason"]) for a in cleared
        ]


def test_above_the_band_and_after_the_window_are_departures_too(
    pair: Pair, clock: FakeClock
) -> None:
    declare_own_volume(pair, clock)
    report(pair.us, track("U8", "us", *CENTRE, 0.0, gs_mps=0.0, alt_m=7000.0))
    report(pair.us, track("U8", "us", *CENTRE, 0.0, gs_mps=0.0, alt_m=8400.0))  # 150 m margin
    detail = open_alarms(pair.us, "nonconforming")["U8"]["detail"]
    assert ("above the band", 400) == (detail["reason"], detail["vertical_m"])

    report(pair.us, track("U8", "us", *CENTRE, 0.0, gs_mps=0.0, alt_m=7000.0))
    assert {} == open_alarms(pair.us, "nonconforming")
    clock.advance(timedelta(hours=2, seconds=61))  # the window ended 61 s ago (60 s margin)
    report(pair.us, track("U8", "us", *CENTRE, 0.0, gs_mps=0.0, alt_m=7000.0))
    detail = open_alarms(pair.us, "nonconforming")["U8"]["detail"]
    assert ("after the time window", 0) == (detail["reason"], detail["distance_m"])


def test_tracks_never_inside_an_own_volume_and_other_parties_tracks_are_not_checked(
    pair: Pair, clock: FakeClock
) -> None:
    declare_own_volume(pair, clock)
    far = (CENTRE[0], CENTRE[1] + 1.0)
    report(pair.us, track("U9", "us", *far, 90.0), track("R9", "ru", *CENTRE, 90.0))
    report(pair.us, track("R9", "ru", *far, 90.0))
    assert {} == open_alarms(pair.us, "nonconforming")


def test_the_officer_tells_the_other_side_in_one_action_in_both_languages(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair(us={"track_stale_s": 50}) as pair:
        mid = declare_own_volume(pair, clock)
        report(pair.us, track("U7", "us", *CENTRE, 90.0, callsign="VIPER 7"))
        report(
            pair.us, track("U7", "us", CENTRE[0], CENTRE[1] + EAST_7_5_KM, 90.0, callsign="VIPER 7")
        )
        alarm = open_alarms(pair.us, "nonconforming")["U7"]

        sent = pair.us.conformance.notify(alarm["id"], "officer")
        again = pair.us.conformance.notify(alarm["id"], "officer")  # sent once
        pair.flush()

        assert sent["message"]["id"] == again["message"]["id"]
        [received] = [m for m in pair.ru.line.listing("in", limit=50) if m["type"] == "text"]
        dtg_en, dtg_ru = "211430Z NOV 26", "211430Z НОЯ 26"
        assert (
            f"NON-CONFORMANCE {dtg_en}. Our aircraft U7 (VIPER 7) has left volume A1 declared "
            f"in our notice {mid}: 2500 m outside it, at 35.0000 36.0822, 5000 m.\n\n"
            f"НЕСООТВЕТСТВИЕ {dtg_ru}. Наше воздушное судно U7 (VIPER 7) вышло из объёма A1, "
            f"объявленного в нашем уведомлении {mid}: в 2500 м за его границей, в точке "
            "35.0000 36.0822, высота 5000 м."
        ) == received["body"]["text"]
        assert "IMMEDIATE" == received["precedence"]


# -- safety of flight first -------------------------------------------------------------------


def test_an_incursion_alarms_both_sides_with_the_same_predicted_entry_time(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair(us={"track_share_s": 5}, ru={"track_share_s": 5}) as pair:
        declare(pair)
        report(pair.us, *[t for t in picture_tracks() if t["party"] == "us"])
        pair.flush()
        clock.advance(timedelta(seconds=1))  # the other node assesses a second later
        pair.ru.tracks.tick()

        ours = open_alarms(pair.us, "incursion")["U1→PA-1"]["detail"]
        theirs = open_alarms(pair.ru, "incursion")["U1→PA-1"]["detail"]
        assert ("our aircraft", "our area") == (ours["concerns"], theirs["concerns"])
        assert ours["entry_at"] == theirs["entry_at"]
        assert 125 < ours["time_left_s"] < 150 and theirs["time_left_s"] == ours["time_left_s"] - 1
        entry = clock.now() - timedelta(seconds=1) + timedelta(seconds=ours["time_left_s"])
        assert rfc3339(entry)[:16] == ours["entry_at"][:16]
        assert ours["entry_dtg"].endswith("Z NOV 26") and theirs["entry_dtg"].endswith("Z НОЯ 26")


def test_a_stopped_feed_keeps_the_alarm_with_its_last_position(
    pair: Pair, clock: FakeClock
) -> None:
    declare(pair)
    report(pair.ru, *[t for t in picture_tracks() if t["id"] == "U1"])
    first = open_alarms(pair.ru, "incursion")["U1→PA-1"]["detail"]
    assert "live" == first["feed"]

    clock.advance(timedelta(seconds=11))  # no report for track_stale_s (10 s)
    pair.ru.tracks.tick()
    lost = open_alarms(pair.ru, "incursion")["U1→PA-1"]["detail"]
    assert "lost" == lost["feed"]
    u1 = picture_tracks()[0]
    assert (u1["lat"], u1["lon"]) == (lost["last_report"]["lat"], lost["last_report"]["lon"])

    clock.advance(timedelta(seconds=60))  # the track leaves the picture (track_ttl_s)
    pair.ru.tracks.tick()
    pair.ru.tracks.tick()
    assert [] == pair.ru.tracks.assess()["tracks"]
    kept = open_alarms(pair.ru, "incursion")["U1→PA-1"]["detail"]
    assert ("lost", first["entry_at"]) == (kept["feed"], kept["entry_at"])
    assert lost["feed_lost_at"] == kept["feed_lost_at"]
    assert [] == [a for a in pair.ru.alarms.listing("cleared") if a["kind"] == "incursion"]


def test_the_cli_notifies_a_nonconforming_alarm(make_pair: MakePair, clock: FakeClock) -> None:
    from tests.cli.test_line import invoke

    with make_pair(us={"track_stale_s": 50}) as pair:
        declare_own_volume(pair, clock)
        report(pair.us, track("U7", "us", *CENTRE, 90.0))
        report(pair.us, track("U7", "us", CENTRE[0], CENTRE[1] + EAST_7_5_KM, 90.0))
        alarm = open_alarms(pair.us, "nonconforming")["U7"]
        pair.us.auth.add_user("duty1", "long watch password")
        duty = {"HOTLINE_USER": "duty1", "HOTLINE_PASSWORD": "long watch password"}
        us_dir = str(pair.us.settings.directory)

        done = invoke("conformance", "notify", str(alarm["id"]), "--dir", us_dir, env=duty)
        held = invoke(
            "conformance", "notify", str(alarm["id"]), "--precedence", "FLASH",
            "--dir", us_dir, env=duty,
        )  # fmt: skip

        listed = invoke("alarms", "--dir", us_dir, env=duty | {"COLUMNS": "250"})

        assert done.startswith("sent: message ") and done.rstrip().endswith("to ru")
        assert "FLASH held" in held  # FLASH keeps the two-person rule
        assert f"outside the volume 2500 m: {alarm['detail']['volume']}" in listed


def test_after_a_restart_open_alarms_say_feed_lost_and_ties_come_back(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair(us={"track_stale_s": 50}) as pair:
        declare(pair)
        mid = declare_own_volume(pair, clock)
        u1 = [t for t in picture_tracks() if t["id"] == "U1"]
        report(pair.us, *u1, track("U7", "us", *CENTRE, 90.0))
        report(pair.us, track("U7", "us", CENTRE[0], CENTRE[1] + EAST_7_5_KM, 90.0))
        assert {"U7"} == set(open_alarms(pair.us, "nonconforming"))

        reopened = Node(pair.us.settings, pair.us.clock)  # a restart: the picture is empty
        try:
            reopened.tracks.tick()
            kept = open_alarms(reopened, "incursion")["U1→PA-1"]["detail"]
            assert "lost" == kept["feed"]
            # U7 reported again, still outside: its alarm stays (tied again from it) ...
            report(reopened, track("U7", "us", CENTRE[0], CENTRE[1] + EAST_7_5_KM, 90.0))
            detail = open_alarms(reopened, "nonconforming")["U7"]["detail"]
            assert ("live", f"{mid}/A1") == (detail["feed"], detail["volume"])
            # ... and clears when it is back inside
            report(reopened, track("U7", "us", *CENTRE, 270.0))
            assert {} == open_alarms(reopened, "nonconforming")
        finally:
            reopened.stop()

"""The feed decoders alone: exact units, Beast framing and CPR, AIS parts, hostile CoT."""

from __future__ import annotations

import pytest

from hotline.protocol.feeds.ais import AisDecoder
from hotline.protocol.feeds.beast import BeastDecoder
from hotline.protocol.feeds.common import FT_M, fpm_mps, kt_mps, sample, track_id
from hotline.protocol.feeds.cot import CotDecoder
from hotline.protocol.feeds.sbs1 import Sbs1Decoder
from tests.feeds.test_feeds import beast_frame

EVEN, ODD = "8D40621D58C382D690C8AC2863A7", "8D40621D58C386435CC412692AD6"


def test_units_are_exact() -> None:
    assert (0.3048, 231.5, 1852.0, -5.20192) == (FT_M, kt_mps(450), kt_mps(3600), fpm_mps(-1024))


def test_samples_of_bad_input_are_safe_and_short() -> None:
    shown = sample(b"MSG,\x1b[2J\x00" + b"A" * 500)
    assert shown.startswith("MSG,\\x1b[2J\\x00AAA") and len(shown) == 81 and shown.endswith("…")


def test_track_ids_keep_to_the_pictures_rules() -> None:
    long = track_id("cot", "x" * 100)
    assert ("icao:ABC123", "cot:a-b-c", 48) == (
        track_id("icao", "abc123"),
        track_id("cot", "a b<c"),
        len(long),
    )
    assert long != track_id("cot", "x" * 99)


def test_beast_single_frame_with_the_receivers_position() -> None:
    decoder = BeastDecoder("us", reference=(52.258, 3.918))
    batch = decoder.feed(beast_frame(EVEN), 100.0)
    assert [("icao:40621D", 52.25720, 3.91937, 11582.4)] == [
        (r.id, round(r.lat, 5), round(r.lon, 5), round(r.alt_m, 1)) for r in batch.reports
    ]


def test_beast_pair_too_far_apart_in_time_waits_for_a_fresh_one() -> None:
    decoder = BeastDecoder("us")
    assert [] == decoder.feed(beast_frame(EVEN), 100.0).reports
    assert [] == decoder.feed(beast_frame(ODD), 111.0).reports  # 11 s: not a pair
    late = decoder.feed(beast_frame(EVEN), 112.0).reports  # odd at 111 and even at 112
    assert [("icao:40621D", 52.25720, 3.91937)] == [
        (r.id, round(r.lat, 5), round(r.lon, 5)) for r in late
    ]


def test_beast_escaped_bytes_and_split_frames() -> None:
    decoder = BeastDecoder("us", reference=(52.258, 3.918))
    stream = beast_frame(EVEN, stamp=b"\x1a\x1a\x1a\x1a\x1a\x1a")
    assert stream.count(b"\x1a") == 13
    first = decoder.feed(stream[:9], 1.0)
    second = decoder.feed(stream[9:] + b"\x1a\x39garbage", 1.0)
    assert (0, 1, 1) == (len(first.reports), len(second.reports), second.messages)
    assert 1 <= second.errors


def test_sbs1_velocity_in_exact_units() -> None:
    decoder = Sbs1Decoder("us")
    lines = (
        b"MSG,3,1,1,ABCDEF,1,,,,,,1000,,,10.0,20.0,,,0,0,0,0\n"
        b"MSG,4,1,1,ABCDEF,1,,,,,,,100,45.0,,,600,,0,0,0,0\n"
    )
    report = decoder.feed(lines, 1.0).reports[-1]
    assert (304.8, 100 * 1852 / 3600, 45.0, 3.048) == (
        report.alt_m,
        report.gs_mps,
        report.trk_deg,
        report.vs_mps,
    )


def test_ais_part_without_its_pair_is_dropped_after_a_while() -> None:
    decoder = AisDecoder("us")
    first = b"!AIVDM,2,1,3,B,55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53,0*3E\n"
    assert 0 == decoder.feed(first, 0.0).errors
    assert 1 == decoder.feed(b"", 11.0).errors  # its second part never came


def test_cot_entity_expansion_is_refused_not_expanded() -> None:
    bomb = (
        b'<event uid="x" type="a-f-G"><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<point lat="1" lon="2"/><detail><contact callsign="&b;"/></detail></event>'
    )
    batch = CotDecoder("us").feed(bomb, 0.0)
    assert (0, 1, []) == (batch.messages, batch.errors, batch.reports)


def test_cot_garbage_and_an_endless_event_are_counted_and_dropped() -> None:
    decoder = CotDecoder("us")
    assert 1 == decoder.feed(b"hello there\n", 0.0).errors
    assert 1 == decoder.feed(b'<event uid="x">' + b" " * 70_000, 0.0).errors
    good = b'<event uid="y" type="a-f-A"><point lat="1.5" lon="2.5" hae="10"/></event>'
    assert [("cot:y", 1.5, 2.5, 10.0)] == [
        (r.id, r.lat, r.lon, r.alt_m) for r in decoder.feed(good, 0.0).reports
    ]


def _tak_events() -> tuple[bytes, bytes]:
    """One CoT event as TAK protocol mesh (UDP) and stream (TCP) messages, by takproto."""
    import takproto

    xml = (
        b'<event version="2.0" uid="ANDROID-7" type="a-f-G-U-C" time="2026-12-07T04:00:00Z" '
        b'start="2026-12-07T04:00:00Z" stale="2099-12-07T04:05:00Z" how="m-g">'
        b'<point lat="35.25" lon="33.5" hae="9999999.0" ce="9.9" le="9999999.0"/>'
        b'<detail><track course="370" speed="3.5"/><contact callsign="BRAVO"/></detail></event>'
    )
    mesh = bytes(takproto.xml2proto(xml, takproto.TAKProtoVer.MESH))
    stream = bytes(takproto.xml2proto(xml, takproto.TAKProtoVer.STREAM))
    return mesh, stream


def test_tak_protobuf_mesh_and_stream_make_the_same_track() -> None:
    mesh, stream = _tak_events()
    assert (b"\xbf\x01\xbf", 0xBF) == (mesh[:3], stream[0])
    expected = [("cot:ANDROID-7", 35.25, 33.5, 0.0, 3.5, 10.0, "BRAVO")]
    for payload in (mesh, stream):
        batch = CotDecoder("us").feed(payload, 0.0)
        assert expected == [
            (r.id, r.lat, r.lon, r.alt_m, r.gs_mps, r.trk_deg, r.callsign) for r in batch.reports
        ]
    decoder = CotDecoder("us")  # a stream cut anywhere, then two messages and garbage
    parts = [decoder.feed(stream[:5], 0.0), decoder.feed(stream[5:] + stream + b"\xbf\x05xx", 0.0)]
    assert (0, 2) == (len(parts[0].reports), len(parts[1].reports))
    broken = CotDecoder("us").feed(b"\xbf\x03\xff\xff\xff", 0.0)  # a bad protobuf, counted
    assert (0, 1) == (broken.messages, broken.errors)


def test_a_flood_of_made_up_aircraft_is_refused_beyond_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("hotline.protocol.feeds.sbs1.MAX_TRACKS", 3)
    decoder = Sbs1Decoder("us")
    lines = b"".join(
        f"MSG,3,1,1,{k:06X},1,,,,,,1000,,,10.0,20.0,,,0,0,0,0\n".encode() for k in range(5)
    )
    batch = decoder.feed(lines, 1.0)
    assert (3, 2, "bad field (too many aircraft)") == (
        len(batch.reports),
        batch.errors,
        batch.samples[0].split(":")[0],
    )

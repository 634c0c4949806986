"""Feeds over real sockets into a running node's picture: SBS-1, Beast, AIS and CoT, their
health, the ``feed_stale`` alarm, reconnection, and ``GET /api/v1/feeds``."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from hotline.app import create_app
from hotline.clock import FakeClock
from hotline.errors import Conflict, NotFound, ValidationError
from hotline.node import Node
from hotline.testing import ServerThread, api, free_port, wait_for
from tests.conftest import token
from tests.feeds.conftest import TcpServer, data, health, tracks, wait_health

ESC = b"\x1a"


def beast_frame(hex_message: str, stamp: bytes = b"\x00\x1a\x02\x03\x04\x05") -> bytes:
    """A Beast long frame: 0x1a '3', 6-byte timestamp, signal, message; 0x1a doubled."""
    body = b"3" + stamp + b"\x80" + bytes.fromhex(hex_message)
    return ESC + body.replace(ESC, ESC + ESC)


def test_sbs1_lines_over_tcp_make_tracks_and_malformed_lines_are_counted(
    live: Node, tcp_server: TcpServer
) -> None:
    live.feeds.add("adsb", kind="sbs1", connect=f"127.0.0.1:{tcp_server.port}", party="own")
    tcp_server.send(data("sbs1.txt"))

    h = wait_health(live, "adsb", "all lines read", lambda h: h["messages"] + h["errors"] == 10)
    assert (7, 3, True) == (h["messages"], h["errors"], h["connected"])
    assert "ZZZZZZ" in h["last_error"] or "not an SBS-1" in h["last_error"]
    got = wait_for(lambda: (t := tracks(live)) and len(t) == 2 and t, "two tracks", timeout=60)
    plane = got["icao:4CA2D6"]
    assert {
        "id": "icao:4CA2D6",
        "party": "us",
        "source": "feed",
        "lat": 35.1,
        "lon": 33.2,
        "alt_m": 10668.0,  # 35,000 ft
        "gs_mps": 231.5,  # 450 kt
        "trk_deg": 90.0,
        "vs_mps": -5.20192,  # -1024 ft/min
        "callsign": "RYR12AB",
    } == {k: pytest.approx(v) if isinstance(v, float) else v for k, v in plane.items()}
    assert (34.875, 33.625, 365.8, 0.0, "DLH4AB") == (
        got["icao:3C6DD4"]["lat"],
        got["icao:3C6DD4"]["lon"],
        got["icao:3C6DD4"]["alt_m"],
        got["icao:3C6DD4"]["gs_mps"],
        got["icao:3C6DD4"]["callsign"],
    )


def test_beast_frames_resolve_an_even_odd_pair_and_skip_bad_frames(
    live: Node, tcp_server: TcpServer
) -> None:
    live.feeds.add("beast", kind="beast", connect=f"127.0.0.1:{tcp_server.port}", party="peer-x")
    bad_crc = "8D40621D58C382D690C8AC2863A8"  # the even frame with its last bit flipped
    stream = (
        beast_frame("8D4840D6202CC371C32CE0576098")  # KLM1023's identification
        + beast_frame("8D40621D58C382D690C8AC2863A7")  # 40621D even, 38,000 ft
        + b"noise"
        + beast_frame(bad_crc)
        + beast_frame("8D485020994409940838175B284F")  # 485020's velocity: no position
    )
    tcp_server.send(stream[:20])  # a frame cut in two by the network
    tcp_server.send(stream[20:])
    wait_health(live, "beast", "four frames", lambda h: h["messages"] == 3 and h["errors"] == 2)
    assert {} == tracks(live)  # one CPR frame alone: no position yet
    tcp_server.send(beast_frame("8D40621D58C386435CC412692AD6"))  # its odd frame
    got = wait_for(lambda: tracks(live).get("icao:40621D"), "40621D's position", timeout=60)
    assert ("peer-x", 52.26578, 3.938913, 11582.4) == (
        got["party"],
        got["lat"],
        got["lon"],
        got["alt_m"],
    )
    assert ["icao:40621D"] == list(tracks(live))


def test_ais_over_udp_gathers_multi_part_messages_and_static_data(live: Node) -> None:
    port = free_port()
    live.feeds.add("ais", kind="ais", listen=f"127.0.0.1:{port}", udp=True, party="third")
    wait_health(live, "ais", "bound", lambda h: h["connected"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for line in data("ais.nmea").splitlines(keepends=True):
            sender.sendto(line, ("127.0.0.1", port))

    h = wait_health(live, "ais", "every sentence", lambda h: h["messages"] + h["errors"] == 8)
    assert (6, 2) == (h["messages"], h["errors"])  # type 5 in two parts is one message
    got = wait_for(lambda: (t := tracks(live)) and len(t) == 3 and t, "three ships", timeout=60)
    sf = got["mmsi:367380120"]
    assert ("third", 37.806948, -122.404333, 0.0) == (
        sf["party"],
        sf["lat"],
        sf["lon"],
        sf["alt_m"],
    )
    assert (pytest.approx(0.1 * 1852 / 3600), 245.2) == (sf["gs_mps"], sf["trk_deg"])
    a = got["mmsi:369190000"]  # class A, named by its two-part type 5
    assert (35.5, 34.25, 90.0, "WDA9674") == (a["lat"], a["lon"], a["trk_deg"], a["callsign"])
    assert pytest.approx(12.5 * 1852 / 3600) == a["gs_mps"]
    b = got["mmsi:367430530"]  # class B (18), named by its type 24 parts A and B
    assert (35.25, 34.0, 180.5, "WDG1234") == (b["lat"], b["lon"], b["trk_deg"], b["callsign"])


def test_cot_events_over_tcp_listen_make_tracks_of_atoms_only(live: Node) -> None:
    port = free_port()
    live.feeds.add("tak", kind="cot", listen=f"127.0.0.1:{port}", party="own")
    with wait_for(lambda: _connect(port), "the node listening", timeout=90) as sender:
        sender.sendall(data("cot.xml"))
        h = wait_health(live, "tak", "five events", lambda h: h["messages"] + h["errors"] == 5)
    assert (4, 1) == (h["messages"], h["errors"])
    got = wait_for(lambda: (t := tracks(live)) and len(t) == 2 and t, "two tracks", timeout=60)
    atak = got["cot:ANDROID-589520ccfcd20f01"]
    assert (35.123457, 33.345679, 152.4, 4.25, 271.5, "ALPHA 1") == (
        atak["lat"],
        atak["lon"],
        atak["alt_m"],
        atak["gs_mps"],
        atak["trk_deg"],
        atak["callsign"],
    )
    assert 0.0 == got["cot:ICAO-4CA2D6"]["alt_m"]  # hae 9999999: unknown


def test_tak_protobuf_over_udp_makes_a_track(live: Node) -> None:
    from tests.feeds.test_decoders import _tak_events

    port = free_port()
    live.feeds.add("tak-mesh", kind="cot", listen=f"127.0.0.1:{port}", udp=True, party="own")
    wait_health(live, "tak-mesh", "bound", lambda h: h["connected"])
    mesh, _stream = _tak_events()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(mesh, ("127.0.0.1", port))
        sender.sendto(b"\xbf\x01\xbf\xff\xff", ("127.0.0.1", port))  # not a protobuf
    h = wait_health(live, "tak-mesh", "two datagrams", lambda h: h["messages"] + h["errors"] == 2)
    assert (1, 1) == (h["messages"], h["errors"])
    got = wait_for(lambda: tracks(live).get("cot:ANDROID-7"), "the TAK track", timeout=60)
    assert (35.25, 33.5, "BRAVO") == (got["lat"], got["lon"], got["callsign"])


def test_a_quiet_source_raises_feed_stale_and_a_restarted_one_is_reconnected(
    live: Node,
) -> None:
    server = TcpServer()
    port = server.port
    live.feeds.add("adsb", kind="sbs1", connect=f"127.0.0.1:{port}", party="own", stale_s=2)
    line = data("sbs1.txt").splitlines(keepends=True)[2]
    server.send(line)
    wait_health(live, "adsb", "one message", lambda h: h["messages"] == 1)
    alarm = wait_for(lambda: _open_alarm(live, "adsb"), "feed_stale", timeout=90)
    assert ("adsb", 2) == (alarm["detail"]["feed"], alarm["detail"]["stale_s"])

    server.close()  # the receiver goes away ...
    wait_health(live, "adsb", "disconnected", lambda h: not h["connected"])
    server = TcpServer(port)  # ... and comes back on the same port
    try:
        server.send(line)
        h = wait_health(live, "adsb", "reconnected", lambda h: h["messages"] == 2)
        assert 2 == h["connects"]
        wait_for(lambda: _open_alarm(live, "adsb") is None, "feed_stale cleared", timeout=90)
        cleared = [a for a in live.alarms.listing(state="cleared") if a["kind"] == "feed_stale"]
        assert "feed adsb speaks again (2 messages in all)" == cleared[-1]["clear_reason"]
    finally:
        server.close()


def test_feeds_are_listed_over_http_with_health(live: Node, tcp_server: TcpServer) -> None:
    live.feeds.add("adsb", kind="sbs1", connect=f"127.0.0.1:{tcp_server.port}", party="own")
    tcp_server.send(data("sbs1.txt"))
    wait_health(live, "adsb", "lines", lambda h: h["messages"] == 7)
    with (
        ServerThread(create_app(live, start_workers=False)) as server,
        api(server.url, token(live)) as client,
    ):
        listed = client.get("/api/v1/feeds").json()["feeds"]
        client.get("/metrics").raise_for_status()
        metrics = client.get("/metrics").text  # a second scrape too
    assert [("adsb", "sbs1", "connect", "us")] == [
        (f["name"], f["kind"], f["mode"], f["party"]) for f in listed
    ]
    assert (7, 3, True) == tuple(
        listed[0]["health"][k] for k in ("messages", "errors", "connected")
    )
    assert 'hotline_feed_decode_errors{feed="adsb",kind="sbs1"} 3.0' in metrics


def test_a_removed_feed_stops_and_bad_settings_are_refused(
    live: Node, tcp_server: TcpServer
) -> None:
    live.feeds.add("adsb", kind="sbs1", connect=f"127.0.0.1:{tcp_server.port}", party="own")
    wait_health(live, "adsb", "connected", lambda h: h["connected"])
    with pytest.raises(Conflict):
        live.feeds.add("adsb", kind="sbs1", connect="127.0.0.1:1", party="own")
    live.feeds.remove("adsb")
    wait_for(lambda: "feed-adsb" not in _alive(live), "the source's thread ended", timeout=90)
    with pytest.raises(NotFound):
        live.feeds.remove("adsb")
    for bad in (
        {"kind": "nmea", "connect": "h:1"},
        {"kind": "ais", "connect": "h:1", "udp": True},
        {"kind": "ais"},
        {"kind": "ais", "listen": "99999"},
        {"kind": "ais", "listen": "1", "party": "Bad Party"},
        {"kind": "beast", "connect": "h:1", "reference": "north"},
    ):
        with pytest.raises(ValidationError):
            live.feeds.add("x", **{"party": "own", **bad})  # type: ignore[arg-type]


def _connect(port: int) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None


def _open_alarm(node: Node, name: str) -> dict | None:  # type: ignore[type-arg]
    with node.db.read() as conn:
        from hotline.services.alarms import open_alarm

        return open_alarm(conn, "feed_stale", name)


def _alive(node: Node) -> list[str]:
    return node.runner.alive if node.runner is not None else []


def test_a_wall_clock_jump_neither_raises_nor_clears_feed_stale(
    live: Node, clock: FakeClock, tcp_server: TcpServer
) -> None:
    live.feeds.add("adsb", kind="sbs1", connect=f"127.0.0.1:{tcp_server.port}", party="own")
    tcp_server.send(data("sbs1.txt"))
    wait_health(live, "adsb", "lines", lambda h: h["messages"] == 7)
    clock.advance(timedelta(days=2))  # the node's clock jumps two days ahead
    before = health(live, "adsb")["quiet_s"]
    wait_health(live, "adsb", "recorded after the jump", lambda h: h["quiet_s"] > before + 1)
    assert (None, False) == (_open_alarm(live, "adsb"), health(live, "adsb")["stale"])

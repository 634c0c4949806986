"""The picture out: Cursor-on-Target to a TAK server (TCP, TLS with a client certificate)
read back by takproto's parser, CoT in over TLS, KML read by fastkml, GeoJSON read by
shapely, and one 2525 symbol for each track in the console and in CoT."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastkml
import pytest
import shapely
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from takproto import parse_proto, xml2proto

from hotline.domain import symbology
from hotline.domain.tracks import TrackReport
from hotline.node import Node
from hotline.protocol.feeds import cot_out
from hotline.services.feeds.output import CotOutput, events_of
from hotline.services.feeds.source import FeedConfig
from hotline.services.feeds.tls import settings
from hotline.services.picture import export
from hotline.services.runtime.jobs import Next
from hotline.testing import free_port, wait_for
from hotline.web.mapdata import track_picture
from tests.conftest import Pair, token
from tests.feeds.conftest import TcpServer, tracks, wait_health
from tests.services.test_conflicts import corridor_notice
from tests.services.test_picture import PA1, api, declare, picture_tracks


def reports(rows: list[dict[str, Any]]) -> list[TrackReport]:
    return [TrackReport.model_validate(r) for r in rows]


def split_events(raw: bytes) -> list[Any]:
    """Each CoT XML event in a TCP stream, parsed by takproto (XML -> TAK protobuf)."""
    chunks = raw.split(b"</event>")
    return [parse_proto(xml2proto(c.strip() + b"</event>")) for c in chunks if b"<event" in c]


def picture(pair: Pair) -> None:
    """US: a volume inside RU's protected area PA-1 (a recorded conflict), tracks with a
    predicted incursion and a predicted conflict, and tracks of every dimension."""
    declare(pair)
    inside = corridor_notice("A1", f"{PA1[0]:.7f}", f"{PA1[1] + 0.1:.7f}", (1000, 3000))
    pair.us.notices.send(
        "ru", inside, precedence="PRIORITY", lang="en", user="o", accept_conflict="agreed"
    )
    pair.flush()
    extra = [
        {"id": "mmsi:273350000", "party": "ru", "lat": 34.5, "lon": 33.5, "alt_m": 0.0,
         "gs_mps": 6.0, "trk_deg": 10.0},
        {"id": "lorry-7", "party": "gr", "lat": 34.9, "lon": 33.0, "alt_m": 20.0,
         "gs_mps": 15.0, "trk_deg": 0.0},
    ]  # fmt: skip
    pair.us.tracks.report(reports(picture_tracks() + extra))


def test_cot_out_over_tcp_carries_volumes_areas_alerts_and_tracks(pair: Pair) -> None:
    picture(pair)
    server = TcpServer()
    try:
        config = FeedConfig("tak", "cot-out", "connect", "127.0.0.1", server.port, False, "us",
                            60, "g1")  # fmt: skip
        out = CotOutput(config, lambda: export.gather(pair.us.tracks), "us")
        assert Next.IDLE == out.step()  # connects and sends the whole picture at once
        wait_for(lambda: server.clients, "the output to connect", timeout=30)
        client = server.clients[-1]
        client.settimeout(10)
        raw = b""
        while out.health.messages == 0 or raw.count(b"</event>") < out.health.messages:
            raw += client.recv(65536)
    finally:
        out.close()
        server.close()

    events = {m.cotEvent.uid: m.cotEvent for m in split_events(raw)}
    assert len(events) == out.health.messages
    [volume] = [e for u, e in events.items() if u.startswith("hotline.us.volume.")]
    assert "u-d-c-c" == volume.type  # the 5 km circle
    assert 'major="5000' in volume.detail.xmlDetail and "1000-3000 m" in volume.detail.xmlDetail
    assert volume.startTime < volume.staleTime  # its window
    areas = sorted(e.type for u, e in events.items() if u.startswith("hotline.us.area."))
    assert ["u-d-c-c", "u-d-f"] == areas  # PA-1 circle, PA-2 polygon
    alerts = {e.type: e for u, e in events.items() if e.type.startswith("b-a-")}
    assert {"b-a-g", "b-a-o-c"} == set(alerts)
    incursion = events["hotline.us.incursion.U1." + pair.us.conflicts.areas()[0].key]
    assert "U1" in incursion.detail.xmlDetail and "PA-1" in incursion.detail.xmlDetail
    assert any("R1" in u and "U2" in u for u in events if ".conflict.tracks." in u)
    assert any(".conflict.volumes." in u for u in events)  # the recorded volume conflict
    kinds = {
        u.removeprefix("hotline.us.track."): e.type
        for u, e in events.items()
        if u.startswith("hotline.us.track.")
    }
    assert {"U1": "a-f-A", "U2": "a-f-A", "U3": "a-f-A", "R1": "a-n-A",
            "mmsi:273350000": "a-n-S", "lorry-7": "a-u-G"} == kinds  # fmt: skip
    u2 = events["hotline.us.track.U2"]
    assert (34.0, 6000.0, 200.0, 90.0) == (
        pytest.approx(u2.lat, abs=0.05),
        u2.hae,
        u2.detail.track.speed,
        u2.detail.track.course,
    )


def test_a_shape_gone_since_the_last_round_is_deleted(pair: Pair) -> None:
    got = export.gather(pair.us.tracks)
    gone = cot_out.uid("us", "volume", "M9/A9")
    events, standing = events_of(got, "us", {gone: "u-d-f"})
    [deleted] = [parse_proto(xml2proto(e)).cotEvent for e in events if b"t-x-d-d" in e]
    assert ("t-x-d-d", {}) == (deleted.type, standing)
    assert f'uid="{gone}"' in deleted.detail.xmlDetail


def test_console_and_cot_give_each_track_the_same_2525_symbol(pair: Pair) -> None:
    picture(pair)
    shown = {t["id"]: t for t in track_picture(pair.us)["tracks"]}
    events, _ = events_of(export.gather(pair.us.tracks), "us", {})
    sent = {
        e.uid.removeprefix("hotline.us.track."): e
        for e in (parse_proto(xml2proto(raw)).cotEvent for raw in events)
        if e.uid.startswith("hotline.us.track.")
    }
    assert set(shown) == set(sent)
    for track_id, t in shown.items():
        cot = sent[track_id]
        assert t["cot_type"] == cot.type
        assert f'sidc="{t["sidc"]}"' in cot.detail.xmlDetail
    # every combination: the SIDC's affiliation and dimension are the CoT type's
    for aff in symbology.AFFILIATIONS:
        for dim in symbology.DIMENSIONS:
            sym = symbology.coded(aff, dim)
            _, a, d = sym.cot_type.split("-")
            assert (a.upper(), d, "P") == (sym.sidc[1], sym.sidc[2], sym.sidc[3])
            assert 15 == len(sym.sidc)


def test_kml_and_geojson_exports_hold_the_picture_of_the_window(pair: Pair) -> None:
    picture(pair)
    now = pair.us.tracks.clock.now()
    # from 5 minutes ago (the tracks) to when the volume has begun (the notice's window)
    window = {
        "from": (now - dt.timedelta(minutes=5)).isoformat(),
        "to": (now + dt.timedelta(days=30)).isoformat(),
    }
    with api(pair, "us", token(pair.us)) as client:
        kml = client.get("/api/v1/export.kml", params=window)
        geo = client.get("/api/v1/export.geojson", params=window)
        later = client.get(
            "/api/v1/export.geojson",
            params={"from": (now + dt.timedelta(days=400)).isoformat()},
        ).json()
        bad = client.get("/api/v1/export.kml", params={"from": "yesterday"})
    assert 200 == kml.status_code and "attachment" in kml.headers["content-disposition"]
    doc = fastkml.KML.from_string(kml.text)
    folders = {f.name: f for f in doc.features[0].features}
    names = {n: sorted(p.name for p in f.features) for n, f in folders.items()}
    assert ["PA-1", "PA-2"] == [n.rpartition("/")[2] for n in names["Areas"]]
    assert [n.endswith("/A1") for n in names["Volumes"]] == [True]
    assert 1 == len(names["Conflicts"])
    assert {"U1", "U2", "U3", "R1", "mmsi:273350000", "lorry-7"} == set(names["Tracks"])

    collection = geo.json()
    by_kind: dict[str, list[Any]] = {}
    for feature in collection["features"]:
        assert feature["geometry"] is not None
        shape = shapely.geometry.shape(feature["geometry"])
        assert shape.is_valid and not shape.is_empty
        by_kind.setdefault(feature["properties"]["kind"], []).append(feature)
    assert {"volume": 1, "area": 2, "conflict": 1, "track": 6} == {
        k: len(v) for k, v in by_kind.items()
    }
    r1 = next(f for f in by_kind["track"] if f["properties"]["id"] == "R1")
    assert ("SNAP-----------", "a-n-A") == (r1["properties"]["sidc"], r1["properties"]["cot_type"])
    # a window after everything: the areas (in force at all times) and nothing else
    assert {"area"} == {f["properties"]["kind"] for f in later["features"]}
    assert (422, "invalid") == (bad.status_code, bad.json()["error"]["code"])


# -- TLS to a TAK server ------------------------------------------------------------------


def _cert(name: str, issuer: tuple[x509.Name, Any] | None, ca: bool) -> tuple[Any, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write(path: Path, cert: Any, key: Any) -> tuple[str, str]:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path.with_suffix(".pem")), str(path.with_suffix(".key"))


class TakTls:
    """A TAK server's TLS port: requires a client certificate from its CA, sends each
    client one CoT event and keeps what each sends."""

    EVENT = (b'<event version="2.0" uid="ALPHA-1" type="a-f-G-U-C" how="m-g" '
             b'time="2026-11-21T14:30:00Z" start="2026-11-21T14:30:00Z" '
             b'stale="2099-01-01T00:00:00Z"><point lat="34.5" lon="33.1" hae="120" '
             b'ce="10" le="10"/><detail><contact callsign="ALPHA"/></detail></event>')  # fmt: skip

    def __init__(self, tmp: Path) -> None:
        ca, ca_key = _cert("tak-ca", None, True)
        server = _cert("tak.example", (ca.subject, ca_key), False)
        client = _cert("hotline-us", (ca.subject, ca_key), False)
        self.ca, _ = _write(tmp / "ca", ca, ca_key)
        server_pem, server_key = _write(tmp / "server", *server)
        self.client = _write(tmp / "client", *client)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(server_pem, server_key)
        self.ctx.load_verify_locations(self.ca)
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(0.2)
        self.received: dict[str, bytes] = {}  # client certificate's CN -> bytes
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            with self.ctx.wrap_socket(raw, server_side=True) as tls:
                cn = tls.getpeercert()["subject"][0][0][1]
                tls.sendall(self.EVENT)
                tls.settimeout(0.2)
                while not self._stop.is_set():
                    try:
                        data = tls.recv(65536)
                    except TimeoutError:
                        continue
                    if not data:
                        return
                    self.received[cn] = self.received.get(cn, b"") + data
        except (OSError, ssl.SSLError):
            return

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        for thread in self._threads:
            thread.join(10)


@pytest.fixture
def tak_tls(tmp_path: Path) -> Iterator[TakTls]:
    server = TakTls(tmp_path)
    yield server
    server.close()


def test_cot_in_and_out_over_tls_with_a_client_certificate(live: Node, tak_tls: TakTls) -> None:
    tls = settings(tak_tls.ca, *tak_tls.client, "tak.example")
    where = f"127.0.0.1:{tak_tls.port}"
    live.feeds.add("tak-in", kind="cot", connect=where, party="own", tls=tls)
    live.feeds.add("tak-out", kind="cot-out", connect=where, tls=tls)
    live.tracks.report(reports([picture_tracks()[1]]))  # U2

    got = wait_for(lambda: tracks(live).get("cot:ALPHA-1"), "the TAK event's track", timeout=60)
    assert (34.5, 33.1, 120.0, "ALPHA") == (got["lat"], got["lon"], got["alt_m"], got["callsign"])
    wait_for(lambda: b"hotline.us.track.U2" in tak_tls.received.get("hotline-us", b""),
             "U2 at the TAK server", timeout=60)  # fmt: skip
    sent = tak_tls.received["hotline-us"]
    assert b"ALPHA-1" not in sent  # a track that came from TAK is not sent back
    h = wait_health(live, "tak-out", "events sent", lambda h: h["messages"] > 0)
    assert (True, 1) == (h["connected"], h["connects"])
    assert {"ca", "cert", "key", "server_name"} == set(
        {f["name"]: f for f in live.feeds.listing()}["tak-out"]["tls"]
    )


def test_tls_settings_are_checked_when_the_source_is_added(live: Node, tmp_path: Path) -> None:
    from hotline.errors import ValidationError

    with pytest.raises(ValidationError, match="--tls-key"):
        settings("ca.pem", "c.pem", None, None)
    with pytest.raises(ValidationError, match="cannot read the CA file"):
        settings(str(tmp_path / "none.pem"), "c.pem", "k.pem", None)
    with pytest.raises(ValidationError, match="connects over TCP"):
        live.feeds.add("ais-tls", kind="ais", connect="127.0.0.1:1", party="own",
                       tls={"ca": "x", "cert": "y", "key": "z"})  # fmt: skip
    with pytest.raises(ValidationError, match="connects"):
        live.feeds.add("out", kind="cot-out", listen="4242")
    assert [] == live.feeds.listing()


def test_picture_export_command_writes_the_file(pair: Pair, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hotline.cli.main import app

    picture(pair)
    token(pair.us, "duty")
    out = tmp_path / "picture.kml"
    env = {"HOTLINE_USER": "duty", "HOTLINE_PASSWORD": "correct horse"}
    result = CliRunner().invoke(
        app,
        ["picture", "export", "--dir", str(pair.us.settings.directory), "--format", "kml",
         "-o", str(out), "--url", pair.servers["us"].url],
        env=env,
    )  # fmt: skip
    assert 0 == result.exit_code, result.output
    names = [p.name for f in fastkml.KML.parse(out).features[0].features for p in f.features]
    assert "U1" in names and any(n.endswith("/A1") for n in names)


def test_cot_out_by_udp_sends_one_event_per_datagram() -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(10)
    row = {"id": "R1", "party": "ru", "lat": 34.0, "lon": 33.3, "alt_m": 6000.0,
           "gs_mps": 200.0, "trk_deg": 270.0}  # fmt: skip
    row |= symbology.coded("neutral", "air")._asdict()
    got = export.Gathered(at="2026-11-21T14:30:00.000Z", tracks={"R1": row})
    port = receiver.getsockname()[1]
    config = FeedConfig("sa", "cot-out", "connect", "127.0.0.1", port, True, "us", 60, "g")
    out = CotOutput(config, lambda: got, "us")
    try:
        assert Next.IDLE == out.step()
        event = parse_proto(xml2proto(receiver.recv(65536).strip())).cotEvent
    finally:
        out.close()
        receiver.close()
    assert ("hotline.us.track.R1", "a-n-A", 1) == (event.uid, event.type, out.health.messages)

"""Text from outside (a peer's or a feed's call signs, names, subjects) in what the node
writes: CoT and KML stay readable whatever it holds, a feed keeps the position of a track
whose call sign it cleans, a peer's track with a control character is refused by name, a
KML or GeoJSON export beyond its cap says so and keeps the newest positions, and a CSV
cell never becomes a formula in a spreadsheet that splits on ``;``."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from xml.etree.ElementTree import fromstring

import pydantic
import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.domain.tracks import TrackReport, TrackReportBody
from hotline.protocol.feeds.cot import CotDecoder
from hotline.protocol.feeds.cot_out import alert_event, track_event
from hotline.protocol.feeds.sbs1 import Sbs1Decoder
from hotline.services.picture import export
from hotline.web.routes.handover import FORMULA_START, safe_cell
from tests.conftest import MakeNode
from tests.services.test_picture import track

HOSTILE = "EVIL\x01\x1b[2J\ufffe"


def test_cot_and_kml_writers_drop_what_xml_cannot_hold() -> None:
    row = {
        "id": "icao:4CA2D6", "party": "ru", "lat": 35.1, "lon": 33.2, "alt_m": 10668.0,
        "gs_mps": 231.5, "trk_deg": 90.0, "cot_type": "a-h-A", "sidc": "SHAP-----------",
        "callsign": HOSTILE,
    }  # fmt: skip
    now, stale = "2026-12-07T04:00:00.000Z", "2026-12-07T04:01:00.000Z"
    event = fromstring(track_event("us", row, now, stale))
    assert "EVIL[2J" == event.find("detail/contact").get("callsign")  # type: ignore[union-attr]
    fromstring(alert_event("us", "k", "b-a-o-c", 35.0, 33.0, HOSTILE, now, stale, {"x": HOSTILE}))

    got = export.Gathered(at=now, affiliation={"ru": "hostile"})
    got.tracks = {row["id"]: row}  # type: ignore[dict-item]
    got.histories = {row["id"]: [{"time": now, "lat": 35.1, "lon": 33.2, "alt_m": 10668.0}]}
    kml = export.to_kml(got)
    assert "EVIL[2J" in kml
    fromstring(kml.encode())


def test_a_feed_cleans_a_call_sign_and_keeps_the_position() -> None:
    sbs1 = Sbs1Decoder("us").feed(
        b"MSG,3,1,1,ABCDEF,1,,,,,EVIL\x01\x1b[2J,1000,,,10.0,20.0,,,0,0,0,0\n", 1.0
    )
    assert (0, ["EVIL[2J"]) == (sbs1.errors, [r.callsign for r in sbs1.reports])
    cot = CotDecoder("us").feed(
        b'<event version="2.0" uid="A1" type="a-f-G" time="2026-12-07T04:00:00Z" '
        b'start="2026-12-07T04:00:00Z" stale="2099-12-07T04:00:00Z" how="m-g">'
        b'<point lat="35.1" lon="33.2" hae="10" ce="1" le="1"/>'
        b'<detail><contact callsign="ALPHA&#9;1&#8238;"/></detail></event>',
        1.0,
    )
    assert ["ALPHA1"] == [r.callsign for r in cot.reports]


def test_a_peers_track_with_a_control_character_is_refused_by_name() -> None:
    wire = {
        "id": "icao:4CA2D6", "party": "ru", "lat": "35.1", "lon": "33.2", "alt_m": "10000.0",
        "gs_mps": "230.00", "trk_deg": "90.00", "time": "2026-12-07T04:00:00.000Z",
        "callsign": "AB\x00CD",
    }  # fmt: skip
    with pytest.raises(pydantic.ValidationError, match=r"(?s)tracks\[0\].*U\+0000"):
        TrackReportBody(tracks=[wire])
    assert "AB CD" == TrackReport.model_validate(wire | {"callsign": "AB CD"}).callsign


def test_an_export_beyond_its_cap_keeps_the_newest_positions_and_says_so(
    make_node: MakeNode, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_node("us")
    now = clock.now()
    times = [rfc3339(now - timedelta(seconds=10 * k)) for k in range(5, 0, -1)]
    node.tracks.report(
        [TrackReport.model_validate(track("U1", "us", 35.0, 33.0 + k / 100, 90.0, time=t))
         for k, t in enumerate(times)]
    )  # fmt: skip
    whole = export.gather(node.tracks)
    assert (5, False) == (len(whole.histories["U1"]), whole.truncated)
    assert export.to_geojson(whole)["truncated"] is False

    monkeypatch.setattr(export, "HISTORY_CAP", 3)
    capped = export.gather(node.tracks)
    assert times[2:] == [p["time"] for p in capped.histories["U1"]]  # the newest three
    geojson = export.to_geojson(capped)
    assert (True, 3) == (geojson["truncated"], geojson["history_cap"])
    description = fromstring(export.to_kml(capped).encode()).find(
        "{http://www.opengis.net/kml/2.2}Document/{http://www.opengis.net/kml/2.2}description"
    )
    assert description is not None and "truncated" in (description.text or "")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_no_csv_cell_becomes_a_formula_whatever_the_spreadsheet_splits_on(
    delimiter: str,
) -> None:
    hostile = [
        "x;=HYPERLINK(\"http://evil\",\"click\")", 'a","=1+2', "b, -2+3", "c\n@SUM(1)",
        "d;\t=1", "e; '+1", "=1", "plain; text, as-is",
    ]  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(["in", *(safe_cell(c) for c in hostile)])
    for row in csv.reader(io.StringIO(out.getvalue()), delimiter=delimiter):
        for cell in row:
            assert not cell.lstrip(' "').startswith(FORMULA_START), (delimiter, cell)
    assert "plain; text, as-is" == safe_cell("plain; text, as-is")

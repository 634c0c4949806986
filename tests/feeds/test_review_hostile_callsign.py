"""Hostile review: a call sign with control characters (a peer's ``track_report`` or a TAK
protobuf feed can carry any string of up to 32 characters: ``TrackReport.callsign`` checks
its length only).

- Cursor-on-Target out and KML write it raw: XML 1.0 cannot hold U+0001 (nor any C0
  control but tab, LF, CR), so the TAK server (or Google Earth) gets a document that does
  not parse, and the whole KML export is unreadable for one hostile call sign.
- A NUL cannot be stored in a PostgreSQL text column: recording the batch fails, and a feed
  that hands the same batch over again fails for ever.

Either refuse such a call sign on the way in (a ``ValidationError``) or keep it out of
what goes out; both pass these tests."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pydantic

from hotline.clock import FakeClock, rfc3339
from hotline.domain.tracks import SharedTrack, TrackReport
from hotline.errors import ValidationError
from hotline.protocol.feeds.cot_out import track_event
from hotline.services.picture.export import gather, to_kml
from tests.conftest import MakeNode
from tests.services.test_picture import track

HOSTILE = "EVIL\x01\x1b[2J"


def _accepted(callsign: str) -> TrackReport | None:
    """The report as the node takes it off the wire, or None when it is refused."""
    wire = {
        "id": "icao:4CA2D6", "party": "ru", "lat": "35.1", "lon": "33.2", "alt_m": "10000.0",
        "gs_mps": "230.00", "trk_deg": "90.00", "time": "2026-12-07T04:00:00.000Z",
        "callsign": callsign,
    }  # fmt: skip
    try:
        return SharedTrack.model_validate(wire)
    except pydantic.ValidationError:
        return None


def test_a_control_character_in_a_call_sign_never_makes_a_cot_event_unparseable() -> None:
    report = _accepted(HOSTILE)
    if report is None:
        return  # refused on the way in: fine
    row = report.model_dump() | {"cot_type": "a-h-A", "sidc": "SHAP-----------"}
    event = track_event("us", row, "2026-12-07T04:00:00.000Z", "2026-12-07T04:01:00.000Z")
    fromstring(event)  # a TAK server must be able to read it


def test_a_control_character_in_a_call_sign_never_makes_the_kml_export_unparseable(
    make_node: MakeNode, clock: FakeClock
) -> None:
    node = make_node("us")
    row = track("icao:4CA2D6", "us", 35.1, 33.2, 90.0, callsign=HOSTILE)
    try:
        node.tracks.report([TrackReport.model_validate(row)])
    except (pydantic.ValidationError, ValidationError):
        return  # refused on the way in: fine
    kml = to_kml(gather(node.tracks))
    fromstring(kml.encode())  # Google Earth must be able to read it


def test_a_nul_in_a_call_sign_is_refused_or_recorded_not_an_endless_failure(
    make_node: MakeNode, clock: FakeClock
) -> None:
    node = make_node("us")
    row = track("icao:4CA2D6", "us", 35.1, 33.2, 90.0, callsign="AB\x00CD")
    try:
        node.tracks.report([TrackReport.model_validate(row)])
    except (pydantic.ValidationError, ValidationError):
        return  # refused with a clear error: fine
    history = node.tracks.record.history("2000-01-01T00:00:00Z", rfc3339(clock.now()))
    assert ["icao:4CA2D6"] == [r["id"] for r in history["reports"]]

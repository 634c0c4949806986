"""Hostile review: a node's own Cursor-on-Target output, echoed back by a TAK server as TAK
protocol (protobuf), is taken again as new tracks.

feeds.md: "Events whose uid starts ``hotline.`` (a Hotline node's own CoT output, echoed back
by a TAK server) are counted and skipped", and TAK protocol is taken "by the same rules as the
XML". The XML path skips them (``protocol/feeds/cot.py``); the protobuf path
(``protocol/feeds/tak.py`` ``_report``) does not, so each own track comes back as a second
track ``cot:hotline.us.track.<id>`` at the same place: a duplicate on the map, and a predicted
loss of separation between a track and its own echo."""

from __future__ import annotations

from hotline.protocol.feeds.cot import CotDecoder
from hotline.protocol.feeds.cot_out import track_event


def test_our_own_cot_output_echoed_as_tak_protobuf_is_skipped() -> None:
    import takproto

    own = {
        "id": "icao:4CA2D6", "party": "us", "lat": 35.1, "lon": 33.2, "alt_m": 10668.0,
        "gs_mps": 231.5, "trk_deg": 90.0, "cot_type": "a-f-A", "sidc": "SFAP-----------",
    }  # fmt: skip
    xml = track_event("us", own, "2026-12-07T04:00:00.000Z", "2099-12-07T04:01:00.000Z")
    xml = xml.split(b"\n", 1)[1]  # the event itself, as a TAK server relays it
    assert [] == CotDecoder("us").feed(xml, 0.0).reports  # control: the XML echo is skipped
    for version in (takproto.TAKProtoVer.MESH, takproto.TAKProtoVer.STREAM):
        echoed = bytes(takproto.xml2proto(xml, version))
        assert [] == [r.id for r in CotDecoder("us").feed(echoed, 0.0).reports]

"""Hostile review of the feed decoders: malformed input must be counted and skipped, never
raise (``services/feeds/source.py``: "Malformed input is counted and logged ...; it never
stops the source"). A decoder that raises loses the whole chunk — the good reports read
with it, before and after — and sends the source into backoff, uncounted."""

from __future__ import annotations

from hotline.protocol.feeds.ais import AisDecoder

GOOD = b"!AIVDM,1,1,,B,15NG6V0P01G?cFhE`R2IU?wn28R>,0*05\n"
#: a valid checksum, one payload character: decodes with no MMSI
POISON = b"!AIVDM,1,1,1,B,C,2*55\n"


def test_an_ais_sentence_without_an_mmsi_is_skipped_not_raised() -> None:
    batch = AisDecoder("us").feed(GOOD + POISON + GOOD, 1_800_000_000.0)
    assert (2, 1) == (len(batch.reports), batch.errors)

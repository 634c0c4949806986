"""Hostile review of the feed decoders: malformed input must be counted and skipped, never
raise (``services/feeds/source.py``: "Malformed input is counted and logged ...; it never
stops the source"). A decoder that raises loses the whole chunk — the good reports read
with it, before and after — and sends the source into backoff, uncounted."""

from __future__ import annotations

import time
from typing import Any

from hotline.clock import rfc3339
from hotline.node import Node
from hotline.protocol.feeds.ais import AisDecoder
from hotline.services.alarms import open_alarm
from hotline.services.feeds.source import FeedConfig, FeedSource
from hotline.storage import feeds as feed_store
from tests.conftest import MakeNode

GOOD = b"!AIVDM,1,1,,B,15NG6V0P01G?cFhE`R2IU?wn28R>,0*05\n"
#: a valid checksum, one payload character: decodes with no MMSI
POISON = b"!AIVDM,1,1,1,B,C,2*55\n"


def test_an_ais_sentence_without_an_mmsi_is_skipped_not_raised() -> None:
    batch = AisDecoder("us").feed(GOOD + POISON + GOOD, 1_800_000_000.0)
    assert (2, 1) == (len(batch.reports), batch.errors)


def test_a_restart_does_not_clear_feed_stale_while_the_feed_is_still_silent(
    make_node: MakeNode,
) -> None:
    """A feed silent for an hour has its ``feed_stale`` alarm open. The node restarts: the
    source is made anew and its quiet time counts from the restart, so the first tick
    finds it "not stale" and clears the alarm saying "feed adsb speaks again (0 messages
    in all)" — though not a byte came. The alarm goes away for ``stale_s`` (and for good,
    if the source is removed meanwhile)."""
    node = make_node("us")
    node.feeds.add("adsb", kind="sbs1", connect="127.0.0.1:9", party="own", stale_s=300)
    with node.db.read() as conn:
        (row,) = feed_store.all_feeds(conn)
    config = FeedConfig.from_row(row)
    before = FeedSource(config, lambda reports: None)
    before.health.started_mono = time.monotonic() - 3600  # silent for an hour
    now = rfc3339(node.clock.now())
    with node.db.write() as conn:
        node.feeds._alarm(conn, before, node.feeds._health(before), now)
    assert _open(node) is not None

    after = FeedSource(config, lambda reports: None)  # the process restarted
    with node.db.write() as conn:
        node.feeds._alarm(conn, after, node.feeds._health(after), now)
    cleared = [a["clear_reason"] for a in node.alarms.listing("cleared")]
    assert ([], True) == (cleared, _open(node) is not None)


def _open(node: Node) -> dict[str, Any] | None:
    with node.db.read() as conn:
        return open_alarm(conn, "feed_stale", "adsb")

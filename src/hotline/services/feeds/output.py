"""Cursor-on-Target out: the picture sent to a TAK server (TCP, or TLS with a client
certificate) or to a UDP address (unicast or a multicast group), kept connected.

A ``cot-out`` source runs as a job of the active process's runner, like a feed
(:mod:`hotline.services.feeds.source`), and keeps the same health (``messages``: events
sent; a source that cannot send for ``stale_s`` raises ``feed_stale``). Every ``PERIOD_S``
it gathers the picture (:func:`hotline.services.picture.export.gather`) and sends:

- every volume (current version and open proposals) in force now or later, and every
  protected area, as drawing shapes (:mod:`hotline.protocol.feeds.cot_out`);
- every open volume conflict, predicted loss of separation between tracks and predicted
  (or current) incursion as an alert, stale two periods later unless sent again;
- every track held (own, the peers' shared ones, the other feeds'), except those read
  from CoT (``cot:`` ids: they came from TAK already);
- a delete event for each shape or alert sent before and gone since.

A TCP peer that closes, or a send that fails, counts as lost: the runner reconnects with
its capped, jittered backoff, and the first round on a new connection sends everything.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from hotline.clock import parse_rfc3339, rfc3339
from hotline.geo.shapes import corridor_outline
from hotline.protocol.feeds import cot_out
from hotline.services.feeds.source import CONNECT_TIMEOUT_S, FeedConfig, Health
from hotline.services.feeds.tls import wrap
from hotline.services.picture.export import Gathered
from hotline.services.runtime.jobs import Next

logger = logging.getLogger(__name__)

PERIOD_S = 5.0  # the whole picture is sent this often
AREA_STALE_S = 24 * 3600  # areas are in force until withdrawn: refreshed well before this
MULTICAST_TTL = 1  # hops: the local network, as ATAK's SA multicast


class CotOutput:
    """Sends the picture to one TAK server or UDP address until :meth:`stop`."""

    def __init__(
        self,
        config: FeedConfig,
        gather: Callable[[], Gathered],
        party: str,
    ) -> None:
        self.config = config
        self.gather = gather
        self.party = party
        self.health = Health()
        self.stopped = threading.Event()
        self._sock: socket.socket | None = None
        self._sent_at = 0.0  # monotonic time of the last round
        self._standing: dict[str, str] = {}  # uid -> type of shapes and alerts sent

    def step(self) -> Next:
        if self.stopped.is_set():
            self.close()
            return Next.DONE
        try:
            self._open()
            if self._closed_by_peer():
                self._lost("the server closed the connection")
                return Next.BACK_OFF
            if time.monotonic() - self._sent_at < PERIOD_S:
                return Next.IDLE
            self._round()
        except OSError as exc:
            self._lost(f"{type(exc).__name__}: {exc}")
            return Next.BACK_OFF
        return Next.IDLE

    def stop(self) -> None:
        self.stopped.set()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        with self.health.lock:
            self.health.connected = False
            self.health.peer = None

    # -- the connection ----------------------------------------------------------------

    def _open(self) -> None:
        c = self.config
        if self._sock is not None:
            return
        if c.udp:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
            sock.connect((c.host, c.port))
            peer = f"udp {c.host}:{c.port}"
        else:
            sock = socket.create_connection((c.host, c.port), timeout=CONNECT_TIMEOUT_S)
            if c.tls:
                try:
                    sock = wrap(sock, c.tls, c.host)
                except OSError:
                    sock.close()
                    raise
            peer = f"{'tls' if c.tls else 'tcp'} {c.host}:{c.port}"
        sock.settimeout(CONNECT_TIMEOUT_S)
        self._sock = sock
        self._standing = {}  # a new connection: send everything again
        self._sent_at = 0.0
        with self.health.lock:
            self.health.connected = True
            self.health.peer = peer
            self.health.connects += 1
        logger.info("feed %s: connected (%s)", c.name, peer)

    def _closed_by_peer(self) -> bool:
        """Whether a TCP server hung up; whatever it sent (TAK pings, others' events) is
        read and dropped."""
        sock = self._sock
        if sock is None or self.config.udp:
            return False
        while select.select([sock], [], [], 0)[0]:
            try:
                data = sock.recv(65536)
            except ssl.SSLWantReadError:
                return False
            if not data:
                return True
            if isinstance(sock, ssl.SSLSocket) and not sock.pending():
                return False
        return False

    def _lost(self, why: str) -> None:
        was = self.health.connected
        self.close()
        with self.health.lock:
            self.health.last_error = why
        if was:
            logger.warning("feed %s: disconnected: %s", self.config.name, why)

    # -- a round -----------------------------------------------------------------------

    def _round(self) -> None:
        got = self.gather()
        events, standing = events_of(got, self.party, self._standing)
        assert self._sock is not None
        if self.config.udp:
            for event in events:
                self._sock.send(event)
        elif events:
            self._sock.sendall(b"".join(events))
        self._standing = standing
        self._sent_at = time.monotonic()
        with self.health.lock:
            h = self.health
            h.messages += len(events)
            h.decoded += len(events)
            h.reports += len(events)
            h.last_message_mono = time.monotonic()
            h.last_message_at = time.time()


def events_of(
    got: Gathered, me: str, standing: dict[str, str]
) -> tuple[list[bytes], dict[str, str]]:
    """The CoT events of one round, and the shapes and alerts standing after it (uid ->
    type); ``standing`` is what stood after the last round (deleted when gone)."""
    now = parse_rfc3339(got.at)
    at = got.at
    soon = rfc3339(now + timedelta(seconds=2 * PERIOD_S))
    events: list[bytes] = []
    keep: dict[str, str] = {}
    for kind, features in (("volume", got.volumes), ("area", got.areas)):
        for f in features:
            p = f["properties"]
            if kind == "volume" and parse_rfc3339(p["end"]) <= now:
                continue
            geometry = f["geometry"]
            if geometry["type"] == "LineString" and p.get("width_m"):
                geometry = corridor_outline(geometry["coordinates"], float(p["width_m"]))
            start, stale = (
                (p["start"], p["end"])
                if kind == "volume"
                else (at, rfc3339(now + timedelta(seconds=AREA_STALE_S)))
            )
            aff = got.affiliation.get(p["party"], "unknown")
            events.append(cot_out.shape_event(me, kind, p, geometry, aff, at, start, stale))
            keep[cot_out.uid(me, kind, p["id"])] = "u-d-c-c" if p.get("radius_m") else "u-d-f"
    for key, type_, lat, lon, text, facts in _alerts(got, now):
        events.append(cot_out.alert_event(me, key, type_, lat, lon, text, at, soon, facts))
        keep[cot_out.uid(me, "incursion" if type_ == cot_out.INCURSION else "conflict", key)] = (
            type_
        )
    stale_track = rfc3339(now + timedelta(seconds=2 * PERIOD_S))
    for track in got.tracks.values():
        if not track["id"].startswith("cot:"):
            events.append(cot_out.track_event(me, track, at, stale_track))
    for uid, type_ in standing.items():
        if uid not in keep:
            events.append(cot_out.delete_event(uid, type_, at, soon))
    return events, keep


Alert = tuple[str, str, float, float, str, dict[str, object]]


def _alerts(got: Gathered, now: datetime) -> list[Alert]:
    """Open volume conflicts, predicted losses of separation and incursions."""
    out: list[Alert] = []
    for c in got.conflicts:
        p = c["properties"]
        if p["state"] != "open" or c["geometry"] is None:
            continue
        lon, lat = c["geometry"]["coordinates"][:2]
        text = f"Conflict: {p['a']} ({p['a_party']}) × {p['b']} ({p['b_party']})"
        out.append((f"volumes.{p['id']}", cot_out.CONFLICT, lat, lon, text, p))
    picture = got.picture
    tracks = {t["id"]: t for t in picture.get("tracks", ())}
    for pair in picture.get("conflicts", ()):
        a, b = tracks.get(pair["a"]), tracks.get(pair["b"])
        if a is None or b is None:
            continue
        lat, lon = cot_out.midpoint((a["lat"], a["lon"]), (b["lat"], b["lon"]))
        text = (
            f"Predicted conflict: {pair['a']} × {pair['b']} in {pair['tcpa_s']:.0f} s, "
            f"{pair['dcpa_m']:.0f} m"
        )
        out.append((f"tracks.{pair['a']}.{pair['b']}", cot_out.CONFLICT, lat, lon, text, pair))
    for hit in picture.get("incursions", ()):
        when = "inside now" if hit["inside"] else f"enters in {hit['entry_s']:.0f} s"
        text = f"Incursion: {hit['track']} → {hit['area_party'].upper()} {hit['area']}, {when}"
        facts = {k: v for k, v in hit.items() if not isinstance(v, float | bool)}
        key = f"{hit['track']}.{hit['area_message_id']}/{hit['area']}"
        out.append((key, cot_out.INCURSION, hit["lat"], hit["lon"], text, facts))
    return out


def tls_text(tls: dict[str, str] | None) -> str | None:
    return None if tls is None else json.dumps(tls, sort_keys=True)

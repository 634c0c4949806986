"""One feed source: a socket kept open (TCP client, TCP listener or UDP listener), its bytes
decoded (:mod:`hotline.protocol.feeds`) and the reports put into the live picture.

A source runs as one job of the active process's runner (:mod:`hotline.services.runtime.jobs`):
each step opens what is missing, reads for at most ``READ_WAIT_S`` and hands what it decoded
on. A TCP source whose server goes away is reconnected with the runner's capped, jittered
backoff; a listener takes one sender at a time (the next once it hangs up). Malformed input
is counted and logged with a short, safe sample; it never stops the source.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.domain.tracks import TrackReport
from hotline.protocol.feeds.ais import AisDecoder
from hotline.protocol.feeds.beast import BeastDecoder
from hotline.protocol.feeds.common import Batch, Decoder
from hotline.protocol.feeds.cot import CotDecoder
from hotline.protocol.feeds.sbs1 import Sbs1Decoder
from hotline.services.feeds.tls import wrap
from hotline.services.runtime.jobs import Next

logger = logging.getLogger(__name__)

READ_WAIT_S = 1.0  # longest a step blocks: how soon a source notices it should stop
CONNECT_TIMEOUT_S = 5.0
FLUSH_S = 0.25  # reports are put into the picture at most this often (latest per track)
#: Sources read (tracks in) and written (``cot-out``: the picture out, ``output.py``).
INPUT_KINDS = ("sbs1", "beast", "ais", "cot")
OUTPUT_KINDS = ("cot-out",)
KINDS = INPUT_KINDS + OUTPUT_KINDS


@dataclass(frozen=True)
class FeedConfig:
    """A configured source, as stored (see ``storage/feeds.py``)."""

    name: str
    kind: str
    mode: str  # connect | listen
    host: str
    port: int
    udp: bool
    party: str
    stale_s: int
    generation: str
    reference: tuple[float, float] | None = None
    tls: str | None = None  # JSON: {"ca", "cert", "key", "server_name"?} (``feeds/tls.py``)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FeedConfig:
        ref = None
        if row.get("reference"):
            lat, lon = str(row["reference"]).split(",")
            ref = (float(lat), float(lon))
        keys = ("name", "kind", "mode", "host", "port", "udp", "party", "stale_s", "generation")
        return cls(**{k: row[k] for k in keys}, reference=ref, tls=row.get("tls"))


def make_decoder(config: FeedConfig) -> Decoder:
    if config.kind == "sbs1":
        return Sbs1Decoder(config.party)
    if config.kind == "beast":
        return BeastDecoder(config.party, reference=config.reference)
    if config.kind == "ais":
        return AisDecoder(config.party)
    return CotDecoder(config.party)


@dataclass
class Health:
    """What a source did; read by the feed manager (under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    connected: bool = False
    peer: str | None = None
    messages: int = 0
    decoded: int = 0  # reports decoded (several of one track may be handed on as one)
    reports: int = 0  # reports handed to the picture
    errors: int = 0
    connects: int = 0
    last_message_mono: float | None = None
    last_message_at: float | None = None  # wall clock (epoch s), for people
    last_error: str | None = None
    started_mono: float = field(default_factory=time.monotonic)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {k: v for k, v in self.__dict__.items() if k != "lock"}


class FeedSource:
    """Reads one configured source until :meth:`stop`; ``sink`` takes decoded reports."""

    def __init__(
        self,
        config: FeedConfig,
        sink: Callable[[list[TrackReport]], object],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.sink = sink
        self.wall = wall
        self.decoder = make_decoder(config)
        self.health = Health()
        self.stopped = threading.Event()
        self._sock: socket.socket | None = None  # the client socket, or the UDP socket
        self._server: socket.socket | None = None  # a TCP listener
        self._pending: dict[str, TrackReport] = {}
        self._flushed = time.monotonic()

    # -- the job's step --------------------------------------------------------------------

    def step(self) -> Next:
        if self.stopped.is_set():
            self.close()
            return Next.DONE
        try:
            if not self._open():
                return Next.AGAIN  # a listener waiting for its sender
            data = self._read()
        except OSError as exc:
            self._lost(f"{type(exc).__name__}: {exc}")
            return Next.BACK_OFF
        if data is None:  # nothing within READ_WAIT_S
            self._flush(force=True)
            return Next.AGAIN
        if data == b"" and self.config.udp:
            return Next.AGAIN  # an empty datagram: nothing to read, nobody to lose
        if data == b"":
            self._lost("the sender closed the connection")
            return Next.AGAIN if self.config.mode == "listen" else Next.BACK_OFF
        self._take(self.decoder.feed(data, self.wall()))
        return Next.AGAIN

    def stop(self) -> None:
        self.stopped.set()

    def close(self) -> None:
        for sock in (self._sock, self._server):
            if sock is not None:
                sock.close()  # never raises for a socket this process opened
        self._sock = self._server = None
        with self.health.lock:
            self.health.connected = False
            self.health.peer = None

    # -- sockets ---------------------------------------------------------------------------

    def _open(self) -> bool:
        """Open what is missing; whether there is a socket to read from."""
        c = self.config
        if self._sock is not None:
            return True
        if c.udp:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _bind(sock, c.host, c.port)
            self._connected(sock, f"udp {c.host}:{c.port}")
            return True
        if c.mode == "connect":
            sock = socket.create_connection((c.host, c.port), timeout=CONNECT_TIMEOUT_S)
            if c.tls:
                try:  # a TAK server's TLS port (8089), with a client certificate
                    sock = wrap(sock, c.tls, c.host)
                except OSError:
                    sock.close()
                    raise
            self._connected(sock, f"{'tls ' if c.tls else ''}{c.host}:{c.port}")
            return True
        if self._server is None:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _bind(server, c.host, c.port)
            server.listen(1)
            server.settimeout(READ_WAIT_S)
            self._server = server
        try:
            client, address = self._server.accept()
        except TimeoutError:
            return False
        self._connected(client, f"{address[0]}:{address[1]}")
        return True

    def _connected(self, sock: socket.socket, peer: str) -> None:
        sock.settimeout(READ_WAIT_S)
        self._sock = sock
        with self.health.lock:
            self.health.connected = True
            self.health.peer = peer
            self.health.connects += 1
        logger.info("feed %s: connected (%s)", self.config.name, peer)

    def _read(self) -> bytes | None:
        if self._sock is None:
            return None
        # reports waiting: wake in time to hand them on, even if the sender pauses
        self._sock.settimeout(FLUSH_S if self._pending else READ_WAIT_S)
        try:
            return self._sock.recv(65536)
        except TimeoutError:
            return None

    def _lost(self, why: str) -> None:
        was = self.health.connected
        client_only = self.config.mode == "listen" and not self.config.udp
        if client_only and self._sock is not None:
            self._sock.close()
            self._sock = None
            with self.health.lock:
                self.health.connected = False
        else:
            self.close()
        with self.health.lock:
            self.health.last_error = why
        if was:
            logger.warning("feed %s: disconnected: %s", self.config.name, why)
        self._flush(force=True)

    # -- what was read ---------------------------------------------------------------------

    def _take(self, batch: Batch) -> None:
        with self.health.lock:
            h = self.health
            h.messages += batch.messages
            h.errors += batch.errors
            h.decoded += len(batch.reports)
            if batch.messages:
                h.last_message_mono = time.monotonic()
                h.last_message_at = self.wall()
            if batch.samples:
                h.last_error = batch.samples[-1]
        for text in batch.samples:
            logger.warning("feed %s: malformed input skipped: %s", self.config.name, text)
        for report in batch.reports:
            self._pending[report.id] = report
        self._flush()

    def _flush(self, force: bool = False) -> None:
        """Hand the latest report of each track to the picture; kept for the next try if
        the picture could not take them (the database away)."""
        if not self._pending or (not force and time.monotonic() - self._flushed < FLUSH_S):
            return
        reports = list(self._pending.values())
        self._flushed = time.monotonic()
        try:
            self.sink(reports)
        except Exception as exc:  # a newer report of a track replaces the one kept
            logger.warning("feed %s: reports not taken: %s", self.config.name, exc)
            with self.health.lock:
                self.health.last_error = f"reports not taken: {exc}"
            return
        self._pending = {}
        with self.health.lock:
            self.health.reports += len(reports)


def _bind(sock: socket.socket, host: str, port: int) -> None:
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise

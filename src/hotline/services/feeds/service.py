"""The node's track feeds: configured in its database, run by its active process.

``hotline feed add`` (or :meth:`Feeds.add`) stores a source; the active process's feed
manager (a job, every ``POLL_S``) starts a :class:`~hotline.services.feeds.source.FeedSource`
job for each source it does not run yet, stops those removed (or re-added: a new
``generation``), writes each source's health to the database (so every process, and the
command line, can list it) and keeps the ``feed_stale`` alarms: raised when a source has
said nothing for its ``stale_s`` (never having spoken counts from when it started), cleared
with the reason when it speaks again or is removed. Quiet time is measured on the
monotonic clock: a wall-clock jump neither raises nor clears the alarm.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from typing import Any

from hotline.clock import Clock, rfc3339
from hotline.domain.line import PARTY_PATTERN
from hotline.errors import Conflict, NotFound, ValidationError
from hotline.services.alarms import clear_alarm, raise_alarm
from hotline.services.feeds.output import CotOutput, tls_text
from hotline.services.feeds.source import KINDS, OUTPUT_KINDS, FeedConfig, FeedSource
from hotline.services.picture import export
from hotline.services.picture.tracks import TrackPicture
from hotline.services.runtime.jobs import Backoff, Runner
from hotline.storage import feeds as store
from hotline.storage.db import Database

logger = logging.getLogger(__name__)

POLL_S = 1.0
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
DEFAULT_STALE_S = 60
#: Who a source's tracks belong to: this node's party, a peer's, or a third party's.
PARTY_HINT = "own (this node's party), or a party id (a peer's, or a third party's)"


class Feeds:
    """Configure, run and watch the node's track feeds."""

    def __init__(self, db: Database, tracks: TrackPicture, clock: Clock, party: str) -> None:
        self.db = db
        self.tracks = tracks
        self.clock = clock
        self.party = party
        self._sources: dict[str, FeedSource | CotOutput] = {}
        self._rates: dict[str, tuple[float, int, float]] = {}  # name -> (mono, messages, rate)
        self._runner: Runner | None = None
        self._lock = threading.Lock()

    # -- configuration ---------------------------------------------------------------------

    def add(
        self,
        name: str,
        *,
        kind: str,
        connect: str | None = None,
        listen: str | None = None,
        udp: bool = False,
        party: str = "own",
        stale_s: int = DEFAULT_STALE_S,
        reference: str | None = None,
        tls: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Store a new source (a running node starts it within ``POLL_S`` or so).

        ``tls`` (see :func:`hotline.services.feeds.tls.settings`): connect over TLS with a
        client certificate (a TAK server's port 8089), for ``cot`` and ``cot-out``.
        """
        row = self._checked(name, kind, connect, listen, udp, party, stale_s, reference)
        row["tls"] = _tls(kind, row, tls)
        with self.db.write() as conn:
            if store.get(conn, name) is not None:
                raise Conflict(
                    f"a feed named {name!r} exists",
                    hint="remove it first (hotline feed remove), or choose another name",
                )
            store.add(conn, row)
        logger.info("feed %s added: %s", name, _where(row))
        return self.show(name)

    def remove(self, name: str) -> None:
        with self.db.write() as conn:
            if not store.remove(conn, name):
                raise NotFound(f"no feed named {name!r}", hint="hotline feed list shows them")
            clear_alarm(conn, "feed_stale", name, rfc3339(self.clock.now()), "feed removed")
        logger.info("feed %s removed", name)

    def show(self, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = store.get(conn, name)
        if row is None:
            raise NotFound(f"no feed named {name!r}", hint="hotline feed list shows them")
        return _public(row)

    def listing(self) -> list[dict[str, Any]]:
        """Every source with its last recorded health."""
        with self.db.read() as conn:
            return [_public(row) for row in store.all_feeds(conn)]

    def _checked(
        self,
        name: str,
        kind: str,
        connect: str | None,
        listen: str | None,
        udp: bool,
        party: str,
        stale_s: int,
        reference: str | None,
    ) -> dict[str, Any]:
        _check_name_kind(name, kind)
        if (connect is None) == (listen is None):
            raise ValidationError(
                "give either --connect HOST:PORT or --listen [HOST:]PORT",
                hint="connect to a receiver's port (dump1090: 30003 or 30005), or listen "
                "for a sender (an AIS receiver, a TAK client)",
            )
        if kind in OUTPUT_KINDS and connect is None:
            raise ValidationError(
                f"a {kind} source connects (or sends datagrams) to HOST:PORT",
                hint="give --connect HOST:PORT: a TAK server (8087, or 8089 with --tls-*), "
                "or with --udp an address or multicast group (239.2.3.1:6969)",
            )
        if udp and connect is not None and kind not in OUTPUT_KINDS:
            raise ValidationError("a UDP feed listens", hint="use --listen [HOST:]PORT --udp")
        host, port = split_address(connect or listen or "", default_host=connect is None)
        who = self.party if party == "own" else party
        if not re.match(PARTY_PATTERN, who):
            raise ValidationError(f"party {party!r} is not allowed", hint=PARTY_HINT)
        if not 1 <= stale_s <= 86_400:
            raise ValidationError(f"stale_s {stale_s} is out of range", hint="1 to 86400 s")
        return {
            "name": name,
            "kind": kind,
            "mode": "connect" if connect is not None else "listen",
            "host": host,
            "port": port,
            "udp": int(udp),
            "party": who,
            "stale_s": stale_s,
            "reference": _reference(reference),
            "added_at": rfc3339(self.clock.now()),
            "generation": str(uuid.uuid4()),
        }

    # -- running (active process only) -----------------------------------------------------

    def attach(self, runner: Runner) -> None:
        """Run the feed manager on ``runner`` (the active process's)."""
        with self._lock:
            self._runner = runner
        runner.add("feeds", self.tick, every=POLL_S, backoff=Backoff(base=1.0, cap=30.0))

    def detach(self) -> None:
        """This process is no longer active: its runner stops the sources' threads."""
        with self._lock:
            self._runner = None
            sources, self._sources = list(self._sources.values()), {}
        for source in sources:
            source.stop()

    def tick(self) -> None:
        """Start new sources, stop removed ones, record health, keep the stale alarms."""
        with self.db.read() as conn:
            configs = {r["name"]: FeedConfig.from_row(r) for r in store.all_feeds(conn)}
        self._sync(configs)
        with self._lock:
            running = dict(self._sources)
        now = rfc3339(self.clock.now())
        with self.db.write() as conn:
            for name, source in running.items():
                health = _carried(conn, source, self._health(source))
                store.set_health(conn, name, source.config.generation, health, now)
                self._alarm(conn, source, health, now)

    def _sync(self, configs: dict[str, FeedConfig]) -> None:
        with self._lock:
            runner = self._runner
            if runner is None:
                return
            for name, source in list(self._sources.items()):
                if configs.get(name) != source.config:
                    source.stop()
                    del self._sources[name]
                    self._rates.pop(name, None)
            for name, config in configs.items():
                if name not in self._sources:
                    source = self._source(config)
                    self._sources[name] = source
                    runner.add(
                        f"feed-{name}",
                        source.step,
                        every=POLL_S,
                        backoff=Backoff(base=0.5, cap=30.0),
                        on_exit=source.close,
                    )
                    logger.info("feed %s started: %s", name, _where(config.__dict__))

    def _source(self, config: FeedConfig) -> FeedSource | CotOutput:
        if config.kind in OUTPUT_KINDS:
            return CotOutput(config, lambda: export.gather(self.tracks), self.party)
        return FeedSource(config, self.tracks.take)

    def _health(self, source: FeedSource | CotOutput) -> dict[str, Any]:
        snap = source.health.snapshot()
        mono = time.monotonic()
        name = source.config.name
        last_mono, last_count, rate = self._rates.get(name, (snap["started_mono"], 0, 0.0))
        if mono - last_mono >= 1.0:
            rate = (snap["messages"] - last_count) / (mono - last_mono)
            self._rates[name] = (mono, snap["messages"], rate)
        heard = snap["last_message_mono"]
        quiet = mono - (heard if heard is not None else snap["started_mono"])
        at = snap["last_message_at"]
        return {
            "connected": snap["connected"],
            "peer": snap["peer"],
            "messages": snap["messages"],
            "decoded": snap["decoded"],
            "reports": snap["reports"],
            "errors": snap["errors"],
            "connects": snap["connects"],
            "rate_per_s": round(rate, 2),
            "last_message_at": None if at is None else rfc3339_epoch(at),
            "quiet_s": round(quiet, 1),
            "stale": quiet > source.config.stale_s,
            "last_error": snap["last_error"],
        }

    def _alarm(
        self, conn: Any, source: FeedSource | CotOutput, health: dict[str, Any], now: str
    ) -> None:
        c = source.config
        if health["stale"]:
            raise_alarm(
                conn,
                "feed_stale",
                c.name,
                now,
                feed=c.name,
                feed_kind=c.kind,
                quiet_s=health["quiet_s"],
                stale_s=c.stale_s,
                connected=health["connected"],
                last_error=health["last_error"],
            )
        elif health["messages"] > 0:
            # only a message heard by this source clears it: a restarted (or re-read)
            # source counts its quiet time from its start, and "not stale yet" after a
            # restart is not "speaks again"
            clear_alarm(
                conn,
                "feed_stale",
                c.name,
                now,
                f"feed {c.name} speaks again ({health['messages']} messages in all)",
            )


def _carried(conn: Any, source: FeedSource | CotOutput, health: dict[str, Any]) -> dict[str, Any]:
    """``health`` with the last message's time carried over from the stored health when
    this source has heard nothing yet (after a restart): people see when the feed last
    spoke, not "never"."""
    if health["last_message_at"] is not None:
        return health
    row = store.get(conn, source.config.name)
    if row is None or row["generation"] != source.config.generation or not row["health"]:
        return health
    return health | {"last_message_at": row["health"].get("last_message_at")}


def _tls(kind: str, row: dict[str, Any], tls: dict[str, str] | None) -> str | None:
    if tls is None:
        return None
    if kind not in ("cot", *OUTPUT_KINDS) or row["mode"] != "connect" or row["udp"]:
        raise ValidationError(
            "TLS is for a cot or cot-out source that connects over TCP",
            hint="a TAK server's TLS port (8089): --kind cot|cot-out --connect HOST:8089",
        )
    return tls_text(tls)


def _check_name_kind(name: str, kind: str) -> None:
    if not re.match(NAME_PATTERN, name):
        raise ValidationError(
            f"feed name {name!r} is not allowed",
            hint="1-32 characters: lowercase letters, digits, '-' and '_'",
        )
    if kind not in KINDS:
        raise ValidationError(f"unknown feed kind {kind!r}", hint=f"one of {', '.join(KINDS)}")


def split_address(text: str, *, default_host: bool) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT`` alone when listening, on 127.0.0.1) as (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        if not default_host:
            raise ValidationError(f"{text!r} has no host", hint="give HOST:PORT")
        host = "127.0.0.1"
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535 or not host:
        raise ValidationError(f"{text!r} is not [HOST:]PORT", hint="e.g. 127.0.0.1:30003")
    return host, port


def _reference(text: str | None) -> str | None:
    if not text:
        return None
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        lat = lon = float("nan")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(
            f"reference {text!r} is not LAT,LON", hint="the receiver's place, e.g. 35.1,33.4"
        )
    return f"{lat:.5f},{lon:.5f}"


def rfc3339_epoch(seconds: float) -> str:
    from datetime import UTC, datetime

    return rfc3339(datetime.fromtimestamp(seconds, UTC))


def _where(row: dict[str, Any]) -> str:
    proto = "udp" if row["udp"] else ("tls" if row.get("tls") else "tcp")
    return f"{row['kind']} {row['mode']} {proto} {row['host']}:{row['port']} party {row['party']}"


def _public(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "kind", "mode", "host", "port", "udp", "party", "stale_s", "reference")
    out = {k: row[k] for k in keys}
    out["tls"] = json.loads(row["tls"]) if row.get("tls") else None
    out["added_at"] = row["added_at"]
    out["health"] = row["health"]
    out["health_at"] = row["health_at"]
    return out

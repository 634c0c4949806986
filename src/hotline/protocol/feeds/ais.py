"""AIS over NMEA 0183 (``!AIVDM``/``!AIVDO`` sentences, one per line), decoded with pyais.

Multi-sentence messages (a type 5 takes two) are gathered by sequence id and channel and
decoded once whole. Position reports of class A (types 1, 2, 3) and B (18, 19) become
reports of ``mmsi:<MMSI>`` tracks at sea level; static data (5, 24; and 19) give the name
and call sign, kept for the next report. "Not available" values (lat 91, lon 181, speed
102.3 kt, course 360) are treated as unknown: no position, no report.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from pyais import NMEAMessage
from pyais.exceptions import AISBaseException
from pydantic import ValidationError as PydanticError

from hotline.domain.tracks import TrackReport
from hotline.protocol.feeds.common import (
    MAX_TRACKS,
    Batch,
    LineBuffer,
    guarded,
    kt_mps,
    label,
    track_id,
)

POSITION_TYPES = frozenset({1, 2, 3, 18, 19})
STATIC_TYPES = frozenset({5, 19, 24})
#: How long the first part of a multi-sentence message waits for the rest (s).
PARTS_WAIT_S = 10.0
MAX_PARTS = 100  # unfinished multi-sentence messages held at once


@dataclass
class _Ship:
    name: str | None = None
    callsign: str | None = None
    ship_type: int | None = None
    seen: float = 0.0


class AisDecoder:
    """Decodes NMEA lines into reports of ``party``'s ships."""

    def __init__(self, party: str, forget_s: float = 3600.0) -> None:
        self.party = party
        self.forget_s = forget_s
        self._lines = LineBuffer()
        self._parts: dict[tuple[str, str], tuple[float, list[NMEAMessage]]] = {}
        self.ships: dict[int, _Ship] = {}

    def feed(self, data: bytes, now: float) -> Batch:
        batch = Batch()
        for line in self._lines.lines(data, batch):
            guarded(batch, line, partial(self.line, line, now, batch))
        for key in [k for k, (t, _) in self._parts.items() if now - t > PARTS_WAIT_S]:
            batch.bad(b"".join(m.raw for m in self._parts.pop(key)[1]), "incomplete message")
        for mmsi in [m for m, s in self.ships.items() if now - s.seen > self.forget_s]:
            del self.ships[mmsi]
        return batch

    def line(self, line: bytes, now: float, batch: Batch) -> None:
        start = line.find(b"!")  # after a tag block (\s:…*hh\), if any
        try:
            if start < 0:
                raise ValueError("no NMEA sentence")
            sentence = NMEAMessage(line[start:])
            if not sentence.is_valid:
                raise ValueError("bad checksum")
        except (AISBaseException, ValueError, IndexError) as exc:
            batch.bad(line, f"not an AIS sentence ({type(exc).__name__})")
            return
        parts = [sentence]
        if sentence.frag_cnt > 1:
            key = (str(sentence.seq_id), str(sentence.channel))
            started, held = self._parts.get(key, (now, []))
            held.append(sentence)
            if len(held) < sentence.frag_cnt:
                if key not in self._parts and len(self._parts) >= MAX_PARTS:
                    batch.bad(line, "too many unfinished messages")
                    return
                self._parts[key] = (started, held)
                return
            self._parts.pop(key, None)
            parts = sorted(held, key=lambda m: m.frag_num)
        try:
            whole = NMEAMessage.assemble_from_iterable(parts) if len(parts) > 1 else parts[0]
            decoded: dict[str, Any] = whole.decode().asdict()
        except (AISBaseException, ValueError, IndexError, KeyError) as exc:
            batch.bad(line, f"undecodable ({type(exc).__name__})")
            return
        if not isinstance(decoded.get("mmsi"), int):  # a sentence too short to name a ship
            batch.bad(line, "no MMSI")
            return
        mmsi = int(decoded["mmsi"])
        if mmsi not in self.ships and len(self.ships) >= MAX_TRACKS:
            batch.bad(line, "too many ships")
            return
        batch.messages += 1
        self._message(decoded, now, line, batch)

    def _message(self, m: dict[str, Any], now: float, line: bytes, batch: Batch) -> None:
        kind = int(m.get("msg_type", 0))
        mmsi = int(m.get("mmsi", 0))
        ship = self.ships.setdefault(mmsi, _Ship())
        ship.seen = now
        if kind in STATIC_TYPES:
            _static(ship, m)
        if kind not in POSITION_TYPES:
            return
        lat, lon = m.get("lat"), m.get("lon")
        if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
            return  # 91 / 181: position not available
        speed = m.get("speed")
        course = m.get("course")
        try:
            batch.reports.append(
                TrackReport(
                    id=track_id("mmsi", str(mmsi)),
                    party=self.party,
                    lat=lat,
                    lon=lon,
                    alt_m=0.0,
                    gs_mps=kt_mps(float(speed)) if speed is not None and speed < 102.3 else 0.0,
                    trk_deg=float(course) if course is not None and course < 360 else 0.0,
                    callsign=(ship.callsign or ship.name or None),
                )
            )
        except PydanticError:
            batch.bad(line, "out of range")


def _static(ship: _Ship, m: dict[str, Any]) -> None:
    name = (m.get("shipname") or "").strip(" @")
    callsign = (m.get("callsign") or "").strip(" @")
    if label(name):
        ship.name = label(name)
    if label(callsign):
        ship.callsign = label(callsign)
    if m.get("ship_type") is not None:
        ship.ship_type = int(m["ship_type"])

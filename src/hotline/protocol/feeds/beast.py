"""Beast binary (dump1090/readsb port 30005): Mode S frames, decoded with pyModeS.

A frame is ``0x1a``, a type (``'1'`` Mode A/C, ``'2'`` Mode S short, ``'3'`` Mode S long,
``'4'`` status), a 6-byte timestamp, a signal byte and the message; a ``0x1a`` inside is
sent twice. Only ADS-B (DF 17/18, long frames with a good CRC) makes tracks, ``icao:<HEX>``.

A position (CPR) frame alone is ambiguous. It is resolved, in this order: with the other
parity's frame of the same aircraft received within ``PAIR_WINDOW_S`` (global decoding);
with the aircraft's own last known position, if recent (local decoding); with the
receiver's position (``reference``), if the source was given one. Until then the frame
is kept and no report goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import pyModeS
from pydantic import ValidationError as PydanticError

from hotline.domain.tracks import TrackReport
from hotline.protocol.feeds.common import (
    FT_M,
    MAX_TRACKS,
    Batch,
    fpm_mps,
    guarded,
    kt_mps,
    label,
    track_id,
)

ESC = 0x1A
LENGTHS = {0x31: 2, 0x32: 7, 0x33: 14, 0x34: 14}  # message bytes after timestamp and signal
PAIR_WINDOW_S = 10.0
LOCAL_WINDOW_S = 30.0
MAX_BUFFER = 1 << 16


@dataclass
class _Aircraft:
    callsign: str | None = None
    alt_ft: float | None = None
    gs_kt: float = 0.0
    trk_deg: float = 0.0
    vr_fpm: float = 0.0
    pos: tuple[float, float] | None = None  # lat, lon
    position_at: float = 0.0
    even: tuple[str, float] | None = None
    odd: tuple[str, float] | None = None
    seen: float = 0.0


class BeastDecoder:
    """Decodes a Beast byte stream into reports of ``party``'s aircraft."""

    def __init__(
        self, party: str, reference: tuple[float, float] | None = None, forget_s: float = 300.0
    ) -> None:
        self.party = party
        self.reference = reference
        self.forget_s = forget_s
        self._buf = bytearray()
        self._aircraft: dict[str, _Aircraft] = {}

    def feed(self, data: bytes, now: float) -> Batch:
        batch = Batch()
        self._buf += data
        for frame_type, message in self._frames(batch):
            if frame_type == 0x33:
                msg = message.hex().upper()
                guarded(batch, msg, partial(self.message, msg, now, batch))
            else:
                batch.messages += 1  # Mode A/C, short Mode S, status: no ADS-B track
        if len(self._buf) > MAX_BUFFER:
            batch.bad(bytes(self._buf), "no Beast frame")
            self._buf.clear()
        for key in [k for k, a in self._aircraft.items() if now - a.seen > self.forget_s]:
            del self._aircraft[key]
        return batch

    def _frames(self, batch: Batch) -> list[tuple[int, bytes]]:
        """Whole frames at the start of the buffer (unescaped); a partial one stays."""
        out: list[tuple[int, bytes]] = []
        buf = self._buf
        while True:
            start = buf.find(ESC)
            if start < 0:
                if buf:
                    batch.bad(bytes(buf), "no Beast frame")
                buf.clear()
                return out
            if start > 0:
                batch.bad(bytes(buf[:start]), "bytes between frames")
                del buf[:start]
            if len(buf) < 2:
                return out
            length = LENGTHS.get(buf[1])
            if length is None:
                batch.bad(bytes(buf[:16]), "unknown Beast frame type")
                del buf[:1]
                continue
            body, used = _unescape(buf, 2, 7 + length)
            if body is None:
                return out  # wait for the rest
            del buf[:used]
            if len(body) < 8 + length:
                batch.bad(body, "short Beast frame")
                continue
            out.append((body[0], body[8:]))
        return out

    def message(self, msg: str, now: float, batch: Batch) -> None:
        try:
            decoded: dict[str, Any] = pyModeS.decode(msg)
        except (pyModeS.DecodeError, ValueError) as exc:
            batch.bad(msg, f"undecodable ({type(exc).__name__})")
            return
        if decoded.get("df") not in (17, 18):
            batch.messages += 1
            return
        if not decoded.get("crc_valid"):
            batch.bad(msg, "bad CRC")
            return
        icao = str(decoded["icao"]).upper()
        if icao not in self._aircraft and len(self._aircraft) >= MAX_TRACKS:
            batch.bad(msg, "too many aircraft")
            return
        batch.messages += 1
        plane = self._aircraft.setdefault(icao, _Aircraft())
        plane.seen = now
        tc = decoded.get("typecode") or 0
        if 1 <= tc <= 4 and decoded.get("callsign"):
            plane.callsign = label(str(decoded["callsign"]).strip("_ "))
        elif 9 <= tc <= 18 or 20 <= tc <= 22:
            if decoded.get("altitude") is not None:
                plane.alt_ft = float(decoded["altitude"])
            if not self._position(plane, msg, decoded, now):
                return
        elif tc == 19:
            plane.gs_kt = float(decoded.get("groundspeed") or 0.0)
            plane.trk_deg = float(decoded.get("track") or 0.0)
            plane.vr_fpm = float(decoded.get("vertical_rate") or 0.0)
        self._report(icao, plane, msg, batch)

    def _position(self, plane: _Aircraft, msg: str, decoded: dict[str, Any], now: float) -> bool:
        """Resolve the CPR position; whether the aircraft's position changed."""
        frame = (msg, now)
        if decoded.get("cpr_format") == 1:
            plane.odd, other = frame, plane.even
        else:
            plane.even, other = frame, plane.odd
        found: dict[str, Any] | None = None
        if other is not None and now - other[1] <= PAIR_WINDOW_S:
            pair = pyModeS.decode([other[0], msg], timestamps=[other[1], now])
            found = pair[-1]
        last = plane.pos if now - plane.position_at <= LOCAL_WINDOW_S else None
        if (not found or found.get("latitude") is None) and last is not None:
            found = pyModeS.decode(msg, reference=last)
        if (not found or found.get("latitude") is None) and self.reference is not None:
            found = pyModeS.decode(msg, reference=self.reference)
        if not found or found.get("latitude") is None or found.get("longitude") is None:
            return False
        plane.pos = float(found["latitude"]), float(found["longitude"])
        plane.position_at = now
        return True

    def _report(self, icao: str, plane: _Aircraft, msg: str, batch: Batch) -> None:
        if plane.pos is None or plane.alt_ft is None:
            return
        try:
            batch.reports.append(
                TrackReport(
                    id=track_id("icao", icao),
                    party=self.party,
                    lat=plane.pos[0],
                    lon=plane.pos[1],
                    alt_m=plane.alt_ft * FT_M,
                    gs_mps=kt_mps(plane.gs_kt),
                    trk_deg=plane.trk_deg,
                    vs_mps=fpm_mps(plane.vr_fpm),
                    callsign=plane.callsign,
                )
            )
        except PydanticError:
            batch.bad(msg, "out of range")


def _unescape(buf: bytearray, start: int, count: int) -> tuple[bytes | None, int]:
    """``count`` unescaped bytes from ``buf[start:]`` (frame type first) and the bytes used;
    (None, 0) if the buffer ends first."""
    out = bytearray([buf[1]])
    k = start
    while len(out) < count + 1:
        if k >= len(buf):
            return None, 0
        byte = buf[k]
        if byte == ESC:
            if k + 1 >= len(buf):
                return None, 0
            if buf[k + 1] != ESC:
                return bytes(out), k  # a new frame began: this one is short (kept short)
            k += 1
        out.append(byte)
        k += 1
    return bytes(out), k

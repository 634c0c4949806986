"""SBS-1 "BaseStation" lines (dump1090/readsb port 30003): ADS-B as comma-separated text.

``MSG,<type>,<session>,<aircraft>,<ICAO hex>,<flight>,<date gen>,<time gen>,<date log>,
<time log>,<callsign>,<altitude ft>,<ground speed kt>,<track deg>,<lat>,<lon>,
<vertical rate ft/min>,<squawk>,<alert>,<emergency>,<SPI>,<on ground>``: each line carries
some fields (type 1 the call sign, 3 the position and altitude, 4 the velocity …). The
fields are merged per aircraft; a report goes out for each line once its position is known.
Other record kinds (``SEL``, ``ID``, ``AIR``, ``STA``, ``CLK``) carry no track: skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from pydantic import ValidationError as PydanticError

from hotline.domain.tracks import TrackReport
from hotline.protocol.feeds.common import (
    FT_M,
    MAX_TRACKS,
    Batch,
    LineBuffer,
    finite,
    fpm_mps,
    guarded,
    kt_mps,
    label,
    track_id,
)

FIELDS = 22
_HEX = frozenset("0123456789ABCDEF")
_OTHER_KINDS = (b"SEL", b"ID", b"AIR", b"STA", b"CLK")


@dataclass
class _Aircraft:
    callsign: str | None = None
    alt_ft: float = 0.0
    gs_kt: float = 0.0
    trk_deg: float = 0.0
    vr_fpm: float = 0.0
    lat: float | None = None
    lon: float | None = None
    seen: float = 0.0


class Sbs1Decoder:
    """Decodes SBS-1 lines into reports of ``party``'s tracks, ids ``icao:<HEX>``."""

    def __init__(self, party: str, forget_s: float = 300.0) -> None:
        self.party = party
        self.forget_s = forget_s
        self._lines = LineBuffer()
        self._aircraft: dict[str, _Aircraft] = {}

    def feed(self, data: bytes, now: float) -> Batch:
        batch = Batch()
        for line in self._lines.lines(data, batch):
            guarded(batch, line, partial(self.line, line, now, batch))
        self._forget(now)
        return batch

    def line(self, line: bytes, now: float, batch: Batch) -> None:
        if line.startswith(_OTHER_KINDS):
            batch.messages += 1
            return
        fields = line.split(b",")
        if fields[0] != b"MSG" or len(fields) < FIELDS:
            batch.bad(line, "not an SBS-1 MSG line")
            return
        try:
            text = [f.decode("ascii").strip() for f in fields]
            hexid = text[4].upper()
            if len(hexid) != 6 or not set(hexid) <= _HEX:
                raise ValueError("ICAO address")
            state = self._aircraft.get(hexid)
            if state is None and len(self._aircraft) >= MAX_TRACKS:
                raise ValueError("too many aircraft")
            state = state or _Aircraft()
            updated = _merge(state, text)
        except (ValueError, UnicodeDecodeError) as exc:
            batch.bad(line, f"bad field ({exc})" if str(exc) else "bad field")
            return
        batch.messages += 1
        self._aircraft[hexid] = updated
        updated.seen = now
        if updated.lat is None or updated.lon is None:
            return
        try:
            batch.reports.append(
                TrackReport(
                    id=track_id("icao", hexid),
                    party=self.party,
                    lat=updated.lat,
                    lon=updated.lon,
                    alt_m=updated.alt_ft * FT_M,
                    gs_mps=kt_mps(updated.gs_kt),
                    trk_deg=updated.trk_deg,
                    vs_mps=fpm_mps(updated.vr_fpm),
                    callsign=updated.callsign or None,
                )
            )
        except PydanticError:
            batch.bad(line, "out of range")

    def _forget(self, now: float) -> None:
        for key in [k for k, a in self._aircraft.items() if now - a.seen > self.forget_s]:
            del self._aircraft[key]


def _number(text: str) -> float | None:
    if not text:
        return None
    value = float(text)
    if not finite(value):
        raise ValueError("not a finite number")
    return value


def _merge(old: _Aircraft, f: list[str]) -> _Aircraft:
    """The aircraft's state with this line's fields (raises ValueError on a bad one)."""
    new = _Aircraft(**old.__dict__)
    callsign = label(f[10])
    if callsign:
        new.callsign = callsign
    for name, index in (("alt_ft", 11), ("gs_kt", 12), ("trk_deg", 13), ("vr_fpm", 16)):
        value = _number(f[index])
        if value is not None:
            setattr(new, name, value)
    lat, lon = _number(f[14]), _number(f[15])
    if (lat is None) != (lon is None):
        raise ValueError("latitude without longitude")
    if lat is not None and lon is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("position out of range")
        new.lat, new.lon = lat, lon
    return new

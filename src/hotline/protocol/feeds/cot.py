"""Cursor-on-Target XML events (TAK: ATAK, WinTAK, a TAK server's plain CoT stream).

``<event uid= type= time= start= stale= how=><point lat= lon= hae= ce= le=/>
<detail><track course= speed=/><contact callsign=/></detail></event>``: one event per
datagram over UDP, events one after another over TCP. Parsed with ``defusedxml`` (no DTD,
no entity expansion: a "billion laughs" event is refused, not expanded). Events of atoms
(``type`` ``a-…``) become ``cot:<uid>`` tracks; others (chat, markers, pings ``t-x-…``)
are counted and skipped, as are events already stale and events a Hotline node wrote
(uid ``hotline.…``: our own output, echoed back by a TAK server). ``hae`` 9999999
(unknown) reads as 0 m; ``speed`` is in m/s and ``course`` in degrees true (CoT's units).

The same source also takes TAK protocol version 1 (protobuf) messages, mesh or stream,
recognised by their first byte ``0xbf`` (:mod:`hotline.protocol.feeds.tak`).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import ParseError, fromstring  # type: ignore[import-untyped]
from pydantic import ValidationError as PydanticError

from hotline.domain.tracks import TrackReport
from hotline.protocol.feeds import tak
from hotline.protocol.feeds.common import (
    OWN_UID_PREFIX,
    Batch,
    finite,
    guarded,
    label,
    track_id,
)

MAX_EVENT = 64 * 1024
UNKNOWN_HAE = 9_999_999.0
_END = (b"</event>", b"/>")


class CotDecoder:
    """Decodes a stream (or datagrams) of CoT XML events into reports of ``party``'s tracks."""

    def __init__(self, party: str) -> None:
        self.party = party
        self._buf = b""

    def feed(self, data: bytes, now: float) -> Batch:
        batch = Batch()
        self._buf += data
        while True:
            if self._buf[:1] == bytes([tak.MAGIC]):
                if not self._protobuf(now, batch):
                    return batch
                continue
            start = self._buf.find(b"<event")
            if start < 0:
                self._drop_junk(batch)
                return batch
            if self._buf[:start].strip(b" \t\r\n\x00") and not self._prolog(self._buf[:start]):
                batch.bad(self._buf[:start], "not a CoT event")
            self._buf = self._buf[start:]
            end = _event_end(self._buf)
            if end < 0:
                if len(self._buf) > MAX_EVENT:
                    batch.bad(self._buf, "event too long")
                    self._buf = b""
                return batch
            raw, self._buf = self._buf[:end], self._buf[end:]
            guarded(batch, raw, partial(self.event, raw, now, batch))

    def _protobuf(self, now: float, batch: Batch) -> bool:
        """Decode the TAK protobuf messages at the buffer's start; whether to go on."""
        try:
            payloads, self._buf = tak.split(self._buf)
        except ValueError as exc:
            batch.bad(self._buf, f"bad TAK header ({exc})")
            self._buf = b""
            return False
        for payload in payloads:
            guarded(batch, payload, partial(tak.decode, payload, self.party, now, batch))
        return bool(payloads) and bool(self._buf)

    def _drop_junk(self, batch: Batch) -> None:
        keep = self._buf[-6:]  # may be the start of "<event"
        junk = self._buf[:-6].strip(b" \t\r\n\x00")
        if junk and not self._prolog(junk):
            batch.bad(junk, "not a CoT event")
        self._buf = keep if b"<" in keep else b""

    @staticmethod
    def _prolog(text: bytes) -> bool:
        text = text.strip()
        return text.startswith(b"<?xml") and text.endswith(b"?>")

    def event(self, raw: bytes, now: float, batch: Batch) -> None:
        try:
            root = fromstring(raw, forbid_dtd=True)
            report = self._report(root, now)
        except (ParseError, DefusedXmlException, ValueError, PydanticError) as exc:
            batch.bad(raw, f"bad event ({type(exc).__name__})")
            return
        batch.messages += 1
        if report is not None:
            batch.reports.append(report)

    def _report(self, root: Element, now: float) -> TrackReport | None:
        if root.tag != "event":
            raise ValueError("not an event")
        uid = root.get("uid") or ""
        if not uid:
            raise ValueError("no uid")
        if not (root.get("type") or "").startswith("a-") or uid.startswith(OWN_UID_PREFIX):
            return None  # not an atom, or a Hotline node's own output coming back
        stale = root.get("stale")
        if stale and _epoch(stale) < now:
            return None
        point = root.find("point")
        if point is None:
            raise ValueError("no point")
        lat, lon = _num(point.get("lat")), _num(point.get("lon"))
        hae = _num(point.get("hae"), UNKNOWN_HAE)
        track = root.find("detail/track")
        course = _num(track.get("course"), 0.0) if track is not None else 0.0
        speed = _num(track.get("speed"), 0.0) if track is not None else 0.0
        contact = root.find("detail/contact")
        callsign = label(contact.get("callsign")) if contact is not None else None
        return TrackReport(
            id=track_id("cot", uid),
            party=self.party,
            lat=lat,
            lon=lon,
            alt_m=0.0 if hae >= UNKNOWN_HAE else hae,
            gs_mps=max(speed, 0.0),
            trk_deg=course % 360.0,
            callsign=callsign,
        )


def _event_end(buf: bytes) -> int:
    """The end of the first event in ``buf`` (which starts with ``<event``), or -1."""
    close = buf.find(b"</event>")
    head_end = buf.find(b">")
    if head_end > 0 and buf[head_end - 1 : head_end] == b"/" and (close < 0 or head_end < close):
        return head_end + 1  # <event .../>
    return close + len(b"</event>") if close >= 0 else -1


def _num(text: str | None, default: float | None = None) -> float:
    if text is None or text == "":
        if default is None:
            raise ValueError("a number is missing")
        return default
    value = float(text)
    if not finite(value):
        raise ValueError("not a finite number")
    return value


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

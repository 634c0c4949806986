"""TAK protocol version 1 (protobuf CoT), decoded with ``takproto``.

Two framings, both starting with the magic byte ``0xbf``: *mesh* (UDP, one message per
datagram) ``0xbf 0x01 0xbf <protobuf>``, and *stream* (TCP) ``0xbf <varint length>
<protobuf>``. The protobuf's ``cotEvent`` carries what a CoT XML event does; it becomes a
``cot:<uid>`` track by the same rules (:mod:`hotline.protocol.feeds.cot`).
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from pydantic import ValidationError as PydanticError
from takproto.proto import TakMessage  # type: ignore[import-untyped]

from hotline.domain.tracks import TrackReport
from hotline.protocol.feeds.common import OWN_UID_PREFIX, Batch, finite, label, track_id

MAGIC = 0xBF
MAX_MESSAGE = 64 * 1024
UNKNOWN_HAE = 9_999_999.0


def varint(buf: bytes, at: int) -> tuple[int, int] | None:
    """The varint at ``buf[at:]`` and the index after it; None if the buffer ends first."""
    value = shift = 0
    while at < len(buf):
        byte = buf[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 35:
            raise ValueError("varint too long")
    return None


def split(buf: bytes) -> tuple[list[bytes], bytes]:
    """Whole TAK messages (protobuf payloads) at the start of ``buf`` (which starts with
    the magic byte), and what is left; raises ValueError on a bad header."""
    out = []
    while buf and buf[0] == MAGIC:
        head = varint(buf, 1)
        if head is None:
            break
        value, at = head
        if value == 1 and buf[at : at + 1] == bytes([MAGIC]):  # mesh: the rest of the datagram
            out.append(buf[at + 1 :])
            return out, b""
        if value > MAX_MESSAGE:
            raise ValueError(f"a TAK message of {value} bytes")
        if len(buf) < at + value:
            break
        out.append(buf[at : at + value])
        buf = buf[at + value :]
    return out, buf


def decode(payload: bytes, party: str, now: float, batch: Batch) -> None:
    """One protobuf TAK message into ``batch``."""
    try:
        message: Any = TakMessage.FromString(payload)
        report = _report(message.cotEvent, party, now) if message.HasField("cotEvent") else None
    except (DecodeError, ValueError, PydanticError) as exc:
        batch.bad(payload, f"bad TAK message ({type(exc).__name__})")
        return
    batch.messages += 1
    if report is not None:
        batch.reports.append(report)


def _report(event: Any, party: str, now: float) -> TrackReport | None:
    if not event.uid:
        raise ValueError("no uid")
    if not event.type.startswith("a-") or event.uid.startswith(OWN_UID_PREFIX):
        return None  # not an atom, or a Hotline node's own output coming back
    if event.staleTime and event.staleTime < now * 1000:
        return None
    numbers = (event.lat, event.lon, event.hae, event.detail.track.speed)
    if not all(finite(x) for x in numbers):
        raise ValueError("not a finite number")
    contact = event.detail.contact.callsign if event.detail.HasField("contact") else ""
    return TrackReport(
        id=track_id("cot", event.uid),
        party=party,
        lat=event.lat,
        lon=event.lon,
        alt_m=0.0 if event.hae >= UNKNOWN_HAE else event.hae,
        gs_mps=max(event.detail.track.speed, 0.0),
        trk_deg=event.detail.track.course % 360.0,
        callsign=label(contact),
    )

"""What every feed decoder shares: exact unit conversions, track ids, safe samples, batches."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hotline.domain.line import HIDDEN_CATEGORIES
from hotline.domain.tracks import TrackReport

FT_M = 0.3048  # international foot, exact
KT_MPS = 1852 / 3600  # knot: one nautical mile (1852 m, exact) per hour
FPM_MPS = FT_M / 60  # foot per minute

#: Longest sample of a malformed input kept for the log and the health listing.
SAMPLE_CHARS = 80
#: Most tracks (aircraft, ships) one decoder remembers: a flood of made-up addresses is
#: refused as malformed beyond it, never grows the node's memory without bound.
MAX_TRACKS = 20_000
#: Events a Hotline node writes (:mod:`hotline.protocol.feeds.cot_out`) have uids starting
#: so: read back from the same TAK server (as CoT XML or as TAK protocol) they are skipped,
#: never tracks of their own.
OWN_UID_PREFIX = "hotline."
#: Most samples of malformed input one batch keeps.
MAX_SAMPLES = 3

_ID_CHARS = re.compile(r"[^A-Za-z0-9._:/-]")
_SHOWN = re.compile(r"[^\x20-\x7e]")


def kt_mps(knots: float) -> float:
    """Knots to m/s, multiplied before dividing so round numbers stay round."""
    return knots * 1852 / 3600


def fpm_mps(feet_per_minute: float) -> float:
    return feet_per_minute * FT_M / 60


def sample(raw: bytes | str) -> str:
    """A malformed input made safe to log: printable ASCII only, truncated.

    >>> sample(b"MSG,3\\x1b[2J" + b"x" * 100)[:16]
    'MSG,3\\\\x1b[2Jxxxx'
    """
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    text = text[: SAMPLE_CHARS * 2]
    shown = _SHOWN.sub(lambda m: f"\\x{ord(m.group()) & 0xFF:02x}", text)
    return shown[:SAMPLE_CHARS] + ("…" if len(shown) > SAMPLE_CHARS else "")


def track_id(prefix: str, raw: str) -> str:
    """A track id ``prefix:raw`` within the picture's id rules (48 characters, no spaces).

    Characters outside the rules become ``-``; a long id keeps its start and a hash of the
    whole, so two long ids never collide.

    >>> track_id("icao", "40621d")
    'icao:40621D'
    >>> track_id("cot", "ANDROID 1")
    'cot:ANDROID-1'
    """
    cleaned = _ID_CHARS.sub("-", raw.strip())
    if prefix == "icao":
        cleaned = cleaned.upper()
    whole = f"{prefix}:{cleaned}"
    if len(whole) <= 48:
        return whole
    digest = hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:12]
    return f"{whole[:35]}~{digest}".replace("~", "-")


def label(text: str | None, limit: int = 32) -> str | None:
    """A call sign or name as a feed gave it, cleaned for the picture: control, formatting
    (bidirectional, zero-width) and surrogate characters dropped (``TrackReport`` refuses
    them, and XML and PostgreSQL cannot hold some), surrounding spaces stripped, at most
    ``limit`` characters; None when nothing is left. The position is kept either way.

    >>> label("EVIL\\x01\\x1b[2J")
    'EVIL[2J'
    >>> label("\\x00") is None
    True
    """
    kept = "".join(c for c in text or "" if unicodedata.category(c) not in HIDDEN_CATEGORIES)
    return kept.strip()[:limit].strip() or None


def finite(value: float) -> bool:
    return math.isfinite(value)


@dataclass
class Batch:
    """What one chunk of input gave: reports, messages understood, malformed ones."""

    reports: list[TrackReport] = field(default_factory=list)
    messages: int = 0
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def bad(self, raw: bytes | str, why: str) -> None:
        self.errors += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(f"{why}: {sample(raw)}")


def guarded(batch: Batch, raw: bytes | str, decode: Callable[[], None]) -> None:
    """Decode one line, frame or event; whatever it raises counts it as malformed (with a
    safe sample) and the next one goes on: no input, however made, takes down a feed or
    loses the good reports read with it.

    >>> batch = Batch()
    >>> guarded(batch, b"C", lambda: int(None))  # type: ignore[arg-type]
    >>> (batch.errors, batch.samples)
    (1, ['decoder fault (TypeError): C'])
    """
    try:
        decode()
    except Exception as exc:  # a decoder's bug must not become the feed's outage
        batch.bad(raw, f"decoder fault ({type(exc).__name__})")


class Decoder(Protocol):
    """A feed decoder: bytes in (a stream chunk or one datagram), reports out."""

    def feed(self, data: bytes, now: float) -> Batch: ...


class LineBuffer:
    """Splits a byte stream into lines; a line longer than ``limit`` is dropped as malformed."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._buf = b""

    def lines(self, data: bytes, batch: Batch) -> list[bytes]:
        self._buf += data
        *whole, self._buf = self._buf.split(b"\n")
        if len(self._buf) > self.limit:
            batch.bad(self._buf, "line too long")
            self._buf = b""
        out = []
        for line in whole:
            line = line.strip(b"\r\x00 \t")
            if not line:
                continue
            if len(line) > self.limit:
                batch.bad(line, "line too long")
                continue
            out.append(line)
        return out

"""Attachments: the signed reference an envelope carries, and what content is allowed.

An envelope names each file it carries by ``{sha256, name, content_type, size}``
(:class:`AttachmentRef`); the bytes travel apart, in chunks (``docs/attachments.md``).
:func:`sniff` decides what a file is from its bytes (magic numbers, then text), never
from the name or the type a client declared; :func:`content_type_of` checks a declared
type against that. Pure functions: no I/O.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

HASH_PATTERN = r"^[0-9a-f]{64}$"  # as domain/line.py (which imports this module)
#: Unicode categories a file name may not hold (as a card's texts: domain/line.py).
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

#: Most attachments one message may carry.
MAX_ATTACHMENTS = 8
#: Hard ceiling on one attachment's size, whatever a node's setting (1 GiB).
MAX_SIZE = 1 << 30

PNG = "image/png"
JPEG = "image/jpeg"
PDF = "application/pdf"
TEXT = "text/plain"
CSV = "text/csv"
JSON = "application/json"
GEOJSON = "application/geo+json"
KML = "application/vnd.google-earth.kml+xml"

#: The allow-list: every content type an attachment may have.
ALLOWED = (PNG, JPEG, PDF, TEXT, CSV, JSON, GEOJSON, KML)
#: Types shown inline in the console (everything else is downloaded).
IMAGES = (PNG, JPEG)

#: What a file sniffed as one kind may be declared as (the first is the default).
COMPATIBLE: dict[str, tuple[str, ...]] = {
    PNG: (PNG,),
    JPEG: (JPEG,),
    PDF: (PDF,),
    KML: (KML, TEXT),
    JSON: (JSON, GEOJSON, TEXT),
    TEXT: (TEXT, CSV),
}
_MAGIC = ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"%PDF-", PDF))


class AttachmentRef(BaseModel):
    """One attachment as the envelope signs it."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    sha256: str = Field(pattern=HASH_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    content_type: str = Field(max_length=100)
    size: int = Field(ge=1, le=MAX_SIZE)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        for char in value:
            if unicodedata.category(char) in _HIDDEN:
                raise ValueError(f"holds the control or formatting character U+{ord(char):04X}")
        if "/" in value or "\\" in value or value in (".", ".."):
            raise ValueError("a file name, not a path: no '/' or '\\'")
        return value

    @field_validator("content_type")
    @classmethod
    def _allowed(cls, value: str) -> str:
        if value not in ALLOWED:
            raise ValueError(f"{value!r} is not an allowed type ({', '.join(ALLOWED)})")
        return value


def check_refs(refs: list[AttachmentRef]) -> list[AttachmentRef]:
    """An envelope's list: 1 to :data:`MAX_ATTACHMENTS`, no file twice."""
    hashes = [ref.sha256 for ref in refs]
    if len(set(hashes)) != len(hashes):
        raise ValueError("the same file is attached twice")
    return refs


def sniff(data: bytes) -> str | None:
    """What the bytes are, by content: a type of :data:`COMPATIBLE`, or None (refused).

    >>> sniff(b"%PDF-1.7 ..."), sniff(b'{"type": "FeatureCollection"}'), sniff(b"\\x00\\x01")
    ('application/pdf', 'application/json', None)
    """
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text) or "\x7f" in text:
        return None  # control characters: not a text file
    head = text.lstrip("\ufeff \t\r\n")[:2048]
    if head.startswith("<") and "<kml" in head:
        return KML
    if head.startswith(("{", "[")) and _is_json(text):
        return JSON
    return TEXT


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def content_type_of(data: bytes, declared: str | None) -> str:
    """The content type to record for ``data``: the declared one if the bytes bear it out,
    else the sniffed kind's default. Raises ``ValueError`` saying what is wrong."""
    kind = sniff(data)
    if kind is None:
        raise ValueError(
            "the content is none of the allowed kinds (PNG, JPEG, PDF, UTF-8 text or CSV, "
            "JSON or GeoJSON, KML)"
        )
    declared = (declared or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        return COMPATIBLE[kind][0]
    if declared not in ALLOWED:
        raise ValueError(f"the declared type {declared!r} is not allowed")
    if declared not in COMPATIBLE[kind]:
        raise ValueError(f"declared {declared}, but the bytes are {kind}")
    return declared


def refs_of(envelope_wire: dict[str, Any]) -> list[AttachmentRef]:
    """The attachment references of an envelope's wire form (none: ``[]``)."""
    return [AttachmentRef.model_validate(item) for item in envelope_wire.get("attachments", [])]

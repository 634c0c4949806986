"""Attachments in evidence bundles: the bytes of each file the message carries, checked
offline against the SHA-256 and size the sender signed in the envelope.

A bundle's ``attachments`` (absent when the message has none, or none is here whole)
holds, for each file in the envelope's order (``position``), its bytes in base64. The
check never trusts the bundle's own copy of the reference: it compares the bytes with
the envelope's signed ``attachments[position]``, so one changed byte is caught and the
file named. A file the envelope names and the bundle lacks is *missing* (not proven),
not a failure. Pure: imports only ``domain`` (the check must run anywhere).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hotline.domain.attachments import MAX_ATTACHMENTS
from hotline.domain.line import HASH_PATTERN, Envelope


class BundleFile(BaseModel):
    """One attachment's bytes in a bundle."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    position: int = Field(ge=0, lt=MAX_ATTACHMENTS)
    sha256: str = Field(pattern=HASH_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    content_type: str = Field(max_length=100)
    size: int = Field(ge=1)
    data: str = Field(min_length=4, max_length=1_500_000_000)  # base64 of the bytes


def bundle_files(refs: list[dict[str, Any]], stored: dict[str, bytes]) -> list[dict[str, Any]]:
    """The ``attachments`` of a bundle: each file of the envelope (``refs``) held whole here
    (``stored``: SHA-256 → bytes)."""
    return [
        {
            "position": position,
            "sha256": ref["sha256"],
            "name": ref["name"],
            "content_type": ref["content_type"],
            "size": ref["size"],
            "data": base64.b64encode(stored[ref["sha256"]]).decode("ascii"),
        }
        for position, ref in enumerate(refs)
        if ref["sha256"] in stored
    ]


def check_files(
    envelope: Envelope, files: list[BundleFile]
) -> tuple[list[str], list[str], list[str]]:
    """Each file against the envelope: (proven, failed, missing), in words."""
    refs = envelope.attachments or []
    proven: list[str] = []
    failed: list[str] = []
    seen: set[int] = set()
    for item in files:
        where = f"attachment {item.position + 1} ({item.name!r})"
        if item.position >= len(refs) or item.position in seen:
            failed.append(f"{where}: the envelope signs no such attachment (or it is there twice)")
            continue
        seen.add(item.position)
        ref = refs[item.position]
        data = _strict_b64(item.data)
        if data is None:
            failed.append(f"{where}: its data is not base64")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != ref.sha256 or len(data) != ref.size:
            failed.append(
                f"{where}: its {len(data)} bytes hash to {digest}, not the SHA-256 "
                f"{ref.sha256} ({ref.size} bytes) signed in the envelope: the file was changed"
            )
            continue
        proven.append(
            f"ATTACHMENT {item.position + 1}: {ref.name!r} ({ref.content_type}, {ref.size} "
            f"bytes) is in the bundle, byte for byte the file signed (SHA-256 {ref.sha256[:16]}…)."
        )
    missing = [
        f"attachment {position + 1} ({ref.name!r}, SHA-256 {ref.sha256[:16]}…) is not in the "
        "bundle: its bytes are NOT PROVEN (the exporter did not hold them whole)"
        for position, ref in enumerate(refs)
        if position not in seen
    ]
    return proven, failed, missing


def _strict_b64(text: str) -> bytes | None:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return raw if base64.b64encode(raw).decode() == text else None

"""Out-of-band attempts in an evidence bundle: what an officer of the exporting node did to
reach the peer off the line about the message, each attempt a signed entry of the
exporter's log (kind ``oob_attempt``, see ``services/line/escalation.py``).

A bundle carries them in ``attempts`` (absent when there are none, so a bundle from before
stays byte for byte what it was). Each is checked like a log entry — leaf hash, inclusion
proof to the checkpoint, canonical JSON — and must be signed by the exporter, name the
bundle's message by its exact hash, and say the exporter tried. They are the exporter's
own word: the peer never saw them, and the verdict says so.

Imports only pure modules (``protocol``, ``domain``): the check must run anywhere.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pydantic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from hotline.domain.line import HASH_PATTERN
from hotline.domain.links import OobAttempt
from hotline.errors import HotlineError
from hotline.protocol import keychange, keys, merkle
from hotline.protocol.canonical import canonical, parse_json
from hotline.protocol.checkpoint import Checkpoint
from hotline.protocol.envelope import describe, signing_bytes
from hotline.protocol.keychange import KeyPeriod

KIND = "oob_attempt"
#: Attempts one bundle may carry (the node records no more per message).
MAX_ATTEMPTS = 200


class AttemptEntry(BaseModel):
    """One attempt's log entry with its position and inclusion proof."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kind: Literal["oob_attempt"]
    index: int = Field(ge=0)
    entry: str = Field(min_length=2, max_length=20_000)  # canonical JSON, as logged
    leaf_hash: str = Field(pattern=HASH_PATTERN)
    proof: list[Annotated[str, Field(pattern=HASH_PATTERN)]] = Field(max_length=64)


def check_attempt(
    item: AttemptEntry,
    *,
    checkpoint: Checkpoint | None,
    exporter: str,
    key: Ed25519PublicKey | None,
    message_id: str,
    message_hash: str | None,
    periods: list[KeyPeriod] | None = None,
) -> tuple[OobAttempt | None, list[str]]:
    """The attempt, if it holds up, and every problem found with it.

    With the exporter's key history (``periods``), the attempt is checked against the key
    it names as valid at its time (an earlier key, after a rotation), not only ``key``."""
    where = f"attempt (entry {item.index})"
    failed: list[str] = []
    entry = item.entry.encode("utf-8")
    leaf = merkle.leaf_hash(entry)
    if leaf.hex() != item.leaf_hash:
        failed.append(f"{where}: the leaf hash is not SHA-256(0x00 || entry bytes)")
    proof = [bytes.fromhex(h) for h in item.proof]
    if checkpoint is not None and not merkle.verify_inclusion_hash(
        leaf, item.index, checkpoint.size, proof, checkpoint.root
    ):
        failed.append(f"{where}: the inclusion proof does not lead to the checkpoint's root")
    try:
        obj = parse_json(entry, where)
        if canonical(obj) != entry:
            failed.append(f"{where}: not canonical JSON, so not the bytes logged")
        attempt = OobAttempt.model_validate(obj)
    except HotlineError as exc:
        return None, [*failed, f"{where}: {exc.message}"]
    except pydantic.ValidationError as exc:
        return None, [*failed, f"{where}: not an attempt record: {describe(exc)}"]
    if attempt.party != exporter:
        failed.append(f"{where}: made by {attempt.party}, not by the exporter {exporter}")
    if periods:
        try:
            period = keychange.key_at(periods, attempt.key, attempt.at, where)
            key = keys.public_from_b64(period.public_key)
        except HotlineError as exc:  # unknown, retired or revoked at its time
            return None, [*failed, exc.message]
    if key is None or not keys.verify(key, attempt.sig, signing_bytes(obj)):
        failed.append(f"{where}: its signature does not verify with {exporter}'s key")
    elif attempt.key != keys.fingerprint(key):
        failed.append(f"{where}: names key {attempt.key}, not {exporter}'s key")
    if attempt.message_id != message_id or (
        message_hash is not None and attempt.message_hash != message_hash
    ):
        failed.append(f"{where}: it is about another message, or another version of it")
    return (None if failed else attempt), failed


def narrate(attempt: OobAttempt, index: int) -> str:
    """One sentence for the verdict: who tried what, when, and what came of it."""
    note = f' ("{attempt.note}")' if attempt.note else ""
    return (
        f"OUT OF BAND: {attempt.party} states (signed, entry {index} of its log) that its "
        f"officer {attempt.officer!r} tried {attempt.peer}'s {attempt.rung} by {attempt.kind} "
        f"{attempt.value} at {attempt.at} by {attempt.party}'s clock: {attempt.result}{note}. "
        f"{attempt.peer} did not sign this."
    )

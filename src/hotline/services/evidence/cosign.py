"""The checkpoint exchange on the wire: the request, the peer's judgement, the HTTP call.

Node A posts ``POST /federation/v1/checkpoints``::

    {"checkpoint": "<note signed by A>", "old_size": m, "proof": ["<base64>", ...]}

``proof`` is the RFC 9162 consistency proof from size ``m`` — the largest checkpoint of
A's log that B co-signed — to the size in the note. B answers ``{"checkpoint": "<the same
note with B's signature added>"}``, or an error: ``log_fork`` (409) for a rollback or a
fork, kept as evidence by B; ``conflict`` (409) with ``context.expected_old_size`` (and
``context.cosigned``, B's copy of that checkpoint) when ``m`` is not what B co-signed
last, so A can send the proof again from there. See ``docs/evidence.md``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import httpx

from hotline.errors import MalformedMessage, Unreachable
from hotline.protocol import merkle, tls
from hotline.protocol.canonical import canonical
from hotline.protocol.checkpoint import Checkpoint
from hotline.storage.evidence import SignedRow

CHECKPOINT_PATH = "/federation/v1/checkpoints"
ORIGIN_PREFIX = "hotline/"
MAX_NOTE_CHARS = 8192
MAX_PROOF_HASHES = 130  # a consistency proof between sizes < 2**63 has at most 2 * 63 + 1


def origin(party: str) -> str:
    """The checkpoint origin (and signed-note key name) of ``party``'s log."""
    return ORIGIN_PREFIX + party


@dataclass(frozen=True)
class CosignRequest:
    """What A sends: its signed note and the proof from what B co-signed last."""

    note: str
    old_size: int
    proof: list[bytes]

    def wire(self) -> dict[str, Any]:
        hashes = [base64.b64encode(h).decode() for h in self.proof]
        return {"checkpoint": self.note, "old_size": self.old_size, "proof": hashes}


def parse_request(payload: Any) -> CosignRequest:
    """Check the shape of a co-signing request (signatures are checked by the caller)."""
    if not isinstance(payload, dict) or set(payload) != {"checkpoint", "old_size", "proof"}:
        raise MalformedMessage(
            'the body must be {"checkpoint": NOTE, "old_size": N, "proof": [HASH, ...]}',
            hint="see docs/evidence.md, the checkpoint exchange",
        )
    note, old_size, proof = payload["checkpoint"], payload["old_size"], payload["proof"]
    if not isinstance(note, str) or not 0 < len(note) <= MAX_NOTE_CHARS:
        raise MalformedMessage(f"checkpoint must be a signed note of 1 to {MAX_NOTE_CHARS} chars")
    if not isinstance(old_size, int) or isinstance(old_size, bool) or old_size < 0:
        raise MalformedMessage("old_size must be an integer >= 0")
    if not isinstance(proof, list) or len(proof) > MAX_PROOF_HASHES:
        raise MalformedMessage(f"proof must be a list of at most {MAX_PROOF_HASHES} hashes")
    return CosignRequest(note, old_size, [_hash(item, i) for i, item in enumerate(proof)])


def _hash(item: Any, index: int) -> bytes:
    try:
        raw = base64.b64decode(item.encode("ascii"), validate=True)
    except (AttributeError, binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != merkle.HASH_SIZE or base64.b64encode(raw).decode() != item:
        raise MalformedMessage(f"proof[{index}] is not a 32-byte hash in canonical base64")
    return raw


#: Verdict kinds that are evidence against the log; ``stale`` is not (see :func:`judge`).
EVIDENCE_KINDS = ("rollback", "fork")


@dataclass(frozen=True)
class Verdict:
    """Why a checkpoint is not co-signed (``rollback``, ``fork`` or ``stale``), in words."""

    kind: str
    detail: str


def judge(last: SignedRow | None, cp: Checkpoint, request: CosignRequest) -> Verdict | None:
    """None when ``cp`` extends ``last`` (what this node co-signed of that log before).

    ``stale`` means the proof starts from another size than ``last``: not evidence of
    anything (the sender may have lost a co-signature), so it is answered, not kept.
    """
    old_size = last.size if last else 0
    old_root = bytes.fromhex(last.root) if last else merkle.EMPTY_ROOT
    since = f"which this node co-signed on {last.at}" if last else ""
    if cp.size < old_size:
        return Verdict(
            "rollback",
            f"{cp.origin} presents size {cp.size}, smaller than size {old_size} {since}: "
            "entries were removed from the log",
        )
    if cp.size == old_size and cp.root != old_root:
        return Verdict(
            "fork",
            f"{cp.origin} presents a different root at size {cp.size}, {since}: "
            "the log was rewritten",
        )
    if cp.size == old_size:
        return None
    if request.old_size != old_size:
        return Verdict(
            "stale",
            f"the proof starts at size {request.old_size}, but the last checkpoint of "
            f"{cp.origin} this node co-signed has size {old_size}",
        )
    if not merkle.verify_consistency(old_size, cp.size, old_root, cp.root, request.proof):
        return Verdict(
            "fork",
            f"{cp.origin}'s consistency proof from size {old_size} ({since or 'empty'}) "
            f"to size {cp.size} does not verify: the new log does not extend the old one",
        )
    return None


def post_checkpoint(
    client: httpx.Client,
    endpoints: tuple[str, ...],
    request: CosignRequest,
    *,
    allow_plain_http: bool = False,
) -> tuple[int, dict[str, Any]]:
    """POST the request to the peer's endpoints in order; the first JSON answer wins.

    An ``http://`` endpoint is skipped unless plain HTTP is allowed (and it is loopback).
    """
    errors = []
    for endpoint in endpoints:
        problem = tls.plain_http_problem([endpoint], allow_plain_http)
        if problem:
            errors.append(f"{endpoint}: not sent: {problem}")
            continue
        url = endpoint.rstrip("/") + CHECKPOINT_PATH
        try:
            response = client.post(
                url,
                content=canonical(request.wire()),
                headers={"content-type": "application/json"},
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            errors.append(f"{endpoint}: {type(exc).__name__}: {exc}")
            continue
        if isinstance(body, dict):
            return response.status_code, body
        errors.append(f"{endpoint}: HTTP {response.status_code}, not a JSON object")
    raise Unreachable(
        "no endpoint of the peer answered the checkpoint exchange: " + "; ".join(errors),
        hint="the next scheduled exchange will try again",
    )

"""Recovery after a restore, on the wire: the signed request, the signed recovery
statement, the HTTP calls (``docs/protocol.md``, "Recovery after a restore").

A restored node R asks its peer P for the signed copies P holds::

    R → P   POST /federation/v1/recovery        {"request": <recovery_request signed by R>}
    P → R   200 {"inbound": [{"envelope", "receipt"}…], "outbound": [...],
                 "heads": {...}, "cosigned": NOTE | null, "more": bool}

then, if its log was rolled back behind a checkpoint P co-signed, has its new log
co-signed from the last checkpoint both still agree on::

    R → P   POST /federation/v1/recovery/checkpoint   {"checkpoint", "base_size", "proof",
                                                       "statement", "index", "inclusion"}
    P → R   200 {"checkpoint": NOTE with P's signature added}
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import httpx

from hotline.domain.line import FINGERPRINT_PATTERN, HASH_PATTERN, PARTY_PATTERN, TIME_PATTERN
from hotline.errors import BadSignature, MalformedMessage, Unreachable
from hotline.protocol import keys, merkle, tls
from hotline.protocol.canonical import canonical
from hotline.protocol.envelope import signing_bytes

RECOVERY_PATH = "/federation/v1/recovery"
RECOVERY_CHECKPOINT_PATH = "/federation/v1/recovery/checkpoint"
#: Copies per channel in one answer; the restored node asks again until ``more`` is false.
PAGE = 256
MAX_PROOF_HASHES = 130

REQUEST_FIELDS = {
    "v",
    "type",
    "from",
    "to",
    "created",
    "in_seq",
    "in_hash",
    "out_seq",
    "out_hash",
    "key",
    "sig",
}
STATEMENT_FIELDS = {
    "v",
    "type",
    "id",
    "party",
    "peer",
    "at",
    "restored",
    "cosigned_before",
    "recovered",
    "heads",
    "lost",
    "key",
    "sig",
}


def sign(unsigned: dict[str, Any], key: Any) -> dict[str, Any]:
    """``unsigned`` with its Ed25519 signature (as envelopes are signed)."""
    return {**unsigned, "sig": keys.sign(key, signing_bytes(unsigned))}


def check_signed(obj: dict[str, Any], public: Any, what: str) -> None:
    if not isinstance(obj.get("sig"), str) or not keys.verify(
        public, obj["sig"], signing_bytes(obj)
    ):
        raise BadSignature(
            f"the {what}'s signature does not verify with the pinned key",
            hint="it was changed after signing, or signed by another key",
        )


def _match(value: Any, pattern: str) -> bool:
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def _seq(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53


def parse_request(payload: Any) -> dict[str, Any]:
    """The signed request's shape (its signature is checked by the caller)."""
    request = payload.get("request") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or set(payload) != {"request"}:
        raise MalformedMessage('the body must be {"request": {...}}')
    if not isinstance(request, dict) or set(request) != REQUEST_FIELDS:
        raise MalformedMessage(
            "the recovery request must have exactly: " + ", ".join(sorted(REQUEST_FIELDS))
        )
    ok = (
        request["v"] == 1
        and request["type"] == "recovery_request"
        and _match(request["from"], PARTY_PATTERN)
        and _match(request["to"], PARTY_PATTERN)
        and _match(request["created"], TIME_PATTERN)
        and _match(request["key"], FINGERPRINT_PATTERN)
        and _seq(request["in_seq"])
        and _seq(request["out_seq"])
        and _match(request["in_hash"], HASH_PATTERN)
        and _match(request["out_hash"], HASH_PATTERN)
    )
    if not ok:
        raise MalformedMessage("the recovery request has a field of the wrong format")
    return dict(request)


def parse_statement(obj: Any) -> dict[str, Any]:
    """A recovery statement's shape (signature checked by the caller)."""
    if not isinstance(obj, dict) or set(obj) != STATEMENT_FIELDS:
        raise MalformedMessage(
            "a recovery statement must have exactly: " + ", ".join(sorted(STATEMENT_FIELDS))
        )
    heads = obj["heads"]
    ok = (
        obj["v"] == 1
        and obj["type"] == "recovery"
        and _match(obj["party"], PARTY_PATTERN)
        and _match(obj["peer"], PARTY_PATTERN)
        and isinstance(heads, dict)
        and all(
            isinstance(heads.get(side), dict)
            and _seq(heads[side].get("seq"))
            and _match(heads[side].get("hash"), HASH_PATTERN)
            for side in ("in", "out")
        )
        and isinstance(obj["restored"], dict)
        and _seq(obj["restored"].get("size"))
        and (obj["cosigned_before"] is None or isinstance(obj["cosigned_before"], str))
    )
    if not ok:
        raise MalformedMessage("the recovery statement has a field of the wrong format")
    return dict(obj)


def hashes_out(proof: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in proof]


def hashes_in(items: Any, what: str) -> list[bytes]:
    if not isinstance(items, list) or len(items) > MAX_PROOF_HASHES:
        raise MalformedMessage(f"{what} must be a list of at most {MAX_PROOF_HASHES} hashes")
    out = []
    for index, item in enumerate(items):
        try:
            raw = base64.b64decode(str(item).encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raw = b""
        if len(raw) != merkle.HASH_SIZE or base64.b64encode(raw).decode() != item:
            raise MalformedMessage(f"{what}[{index}] is not a 32-byte hash in canonical base64")
        out.append(raw)
    return out


def post(
    client: httpx.Client,
    endpoints: tuple[str, ...],
    path: str,
    body: dict[str, Any],
    *,
    allow_plain_http: bool = False,
) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to the peer's endpoints in order; the first JSON object answer wins."""
    errors = []
    for endpoint in endpoints:
        problem = tls.plain_http_problem([endpoint], allow_plain_http)
        if problem:
            errors.append(f"{endpoint}: not sent: {problem}")
            continue
        try:
            response = client.post(
                endpoint.rstrip("/") + path,
                content=canonical(body),
                headers={"content-type": "application/json"},
            )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            errors.append(f"{endpoint}: {type(exc).__name__}: {exc}")
            continue
        if isinstance(answer, dict):
            return response.status_code, answer
        errors.append(f"{endpoint}: HTTP {response.status_code}, not a JSON object")
    raise Unreachable(
        "no endpoint of the peer answered the recovery exchange: " + "; ".join(errors),
        hint="the recovery is tried again shortly",
    )

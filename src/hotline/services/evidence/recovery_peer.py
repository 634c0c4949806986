"""Recovery after a restore, the peer's side: answer a restored node with the signed
copies this node holds, and co-sign its new log once it proves it recovered.

The peer gives nothing it did not receive or send itself: envelopes as stored (signed by
their sender) with their receipts (signed by the other side). It co-signs a log that does
not extend what it co-signed before only when that log carries the restored node's signed
recovery statement naming exactly that checkpoint, extends the last checkpoint both still
agree on, and when the restored node's channel heads are ones this node holds. Then it
sets aside its co-signatures of the lost part (``retired_cosigned``), keeps a
``recovered`` record beside the ``rollback`` evidence, and clears the ``log_fork`` alarm.
See ``docs/evidence.md`` and ``docs/protocol.md``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hotline.clock import parse_rfc3339
from hotline.errors import Conflict, LogFork, MalformedMessage, UnknownKey, ValidationError
from hotline.protocol import keys, merkle
from hotline.protocol.canonical import canonical
from hotline.protocol.checkpoint import add_signature, open_checkpoint
from hotline.services.alarms import clear_alarm
from hotline.services.evidence.cosign import EVIDENCE_KINDS, origin
from hotline.services.evidence.recovery_wire import (
    PAGE,
    check_signed,
    hashes_in,
    parse_request,
    parse_statement,
)
from hotline.services.evidence.service import Evidence
from hotline.services.line.identity import Identity
from hotline.storage import evidence as evidence_store
from hotline.storage import peers
from hotline.storage import recovery as store
from hotline.storage.db import Connection
from hotline.storage.messages import IN, OUT

logger = logging.getLogger(__name__)


class RecoveryDesk:
    """Answers a pinned peer that was restored from a backup."""

    def __init__(
        self, evidence: Evidence, on_caught_up: Callable[[str], None] = lambda _party: None
    ) -> None:
        self.evidence = evidence
        #: called with the asker when its inbound head is this node's last receipted
        #: message: what it refused before (``seq_gap``) is now in order, so this node's
        #: delivery worker need not wait out its backoff
        self.on_caught_up = on_caught_up
        self.db = evidence.db

    @property
    def identity(self) -> Identity:
        """This node's identity as it is now (a key rotation replaces it)."""
        return self.evidence.identity

    def _peer(self, party: Any, key: Any) -> Ed25519PublicKey:
        """The pinned key of ``party``, if ``key`` names it (the caller is a stranger
        until its signature verifies: the answer names neither)."""
        with self.db.read() as conn:
            row = peers.get(conn, party) if isinstance(party, str) else None
        if row is None or row.fingerprint != key or party == self.identity.party:
            raise UnknownKey(
                "the recovery request's sender and key are not pinned on this node",
                hint="the sender's operator: check that this node pins your current card",
            )
        return keys.public_from_b64(row.public_key)

    def answer(self, payload: Any) -> dict[str, Any]:
        """The copies a restored peer may take back, after its signed request."""
        request = parse_request(payload)
        public = self._peer(request["from"], request["key"])
        check_signed(request, public, "recovery request")
        if request["to"] != self.identity.party:
            raise MalformedMessage(f"the recovery request is addressed to {request['to']!r}")
        self._check_fresh(request["created"])
        party = request["from"]
        with self.db.read() as conn:
            _check_head(conn, party, OUT, request["in_seq"], request["in_hash"], "received")
            _check_head(conn, party, IN, request["out_seq"], request["out_hash"], "sent")
            inbound = store.copies(conn, party, OUT, request["in_seq"], PAGE)
            outbound = store.copies(conn, party, IN, request["out_seq"], PAGE)
            last = evidence_store.latest_cosigned(conn, party, self.identity.party)
            in_head = store.receipted_head(conn, party, OUT)
            out_head = store.channel_head(conn, party, IN)
        if in_head[0] > 0 and (request["in_seq"], request["in_hash"]) == in_head:
            self.on_caught_up(party)
        return {
            "inbound": [_item(e, r) for e, r in inbound],
            "outbound": [_item(e, r) for e, r in outbound],
            "heads": {
                "in": {"seq": in_head[0], "hash": in_head[1]},
                "out": {"seq": out_head[0], "hash": out_head[1]},
            },
            "cosigned": None if last is None else last.note,
            "more": len(inbound) == PAGE or len(outbound) == PAGE,
        }

    def _check_fresh(self, created: str) -> None:
        skew = self.evidence.settings.clock_skew_s
        offset = (parse_rfc3339(created) - self.evidence.clock.now()).total_seconds()
        if abs(offset) > skew:
            raise MalformedMessage(
                f"the recovery request was made {offset:.0f} s from this node's clock "
                f"(at most {skew} s either way)",
                hint="check both nodes' clocks (NTP)",
            )

    def cosign(self, payload: Any) -> str:
        """Co-sign a restored peer's new log, if it proves its recovery (see the module)."""
        if not isinstance(payload, dict) or set(payload) != {
            "checkpoint",
            "base_size",
            "proof",
            "statement",
            "index",
            "inclusion",
        }:
            raise MalformedMessage(
                'the body must be {"checkpoint", "base_size", "proof", "statement", "index", '
                '"inclusion"}',
                hint="see docs/protocol.md, recovery after a restore",
            )
        statement = parse_statement(payload["statement"])
        party = statement["party"]
        public = self._peer(party, statement["key"])
        check_signed(statement, public, "recovery statement")
        note = payload["checkpoint"]
        try:
            checkpoint, _ = open_checkpoint(str(note), {origin(party): public})
        except ValidationError as exc:
            raise MalformedMessage(f"the checkpoint note: {exc.message}") from exc
        base, index = payload["base_size"], payload["index"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (base, index)):
            raise MalformedMessage("base_size and index must be integers")
        if statement["peer"] != self.identity.party or checkpoint.origin != origin(party):
            raise MalformedMessage("the recovery statement is not addressed to this node")
        entry = canonical(statement)
        if not (0 <= index < checkpoint.size) or not merkle.verify_inclusion(
            entry,
            index,
            checkpoint.size,
            hashes_in(payload["inclusion"], "inclusion"),
            checkpoint.root,
        ):
            raise LogFork(
                f"the recovery statement is not entry {index} of {checkpoint.origin} at size "
                f"{checkpoint.size}",
                hint="the inclusion proof does not verify",
            )
        proof = hashes_in(payload["proof"], "proof")
        with self.db.write() as conn:
            evidence_store.lock_peer(conn, party)
            return self._cosign_locked(conn, party, statement, str(note), checkpoint, base, proof)

    def _cosign_locked(
        self,
        conn: Connection,
        party: str,
        statement: dict[str, Any],
        note: str,
        checkpoint: Any,
        base: int,
        proof: list[bytes],
    ) -> str:
        me = self.identity.party
        last = evidence_store.latest_cosigned(conn, party, me)
        if statement["cosigned_before"] != (None if last is None else last.note):
            raise Conflict(
                "the recovery statement does not name the last checkpoint of "
                f"{origin(party)} this node co-signed",
                hint="ask for the copies again (POST /federation/v1/recovery) and restate",
                cosigned=None if last is None else last.note,
            )
        heads = statement["heads"]
        _check_head(conn, party, OUT, heads["in"]["seq"], heads["in"]["hash"], "received", True)
        _check_head(conn, party, IN, heads["out"]["seq"], heads["out"]["hash"], "sent", True)
        _check_recoverable(conn, party, me, statement, base, checkpoint.size)
        base_row = store.cosigned_at(conn, party, me, base) if base else None
        base_root = bytes.fromhex(base_row[0]) if base_row else merkle.EMPTY_ROOT
        if (base and base_row is None) or not merkle.verify_consistency(
            base, checkpoint.size, base_root, checkpoint.root, proof
        ):
            raise LogFork(
                f"{origin(party)} at size {checkpoint.size} does not extend its checkpoint "
                f"of size {base} this node co-signed",
                hint="the new log must keep every entry both nodes agreed on",
            )
        now = self.evidence.now()
        cosigned = add_signature(note, self.evidence.origin, self.identity.key)
        detail = (
            f"{party} was restored from a backup and recovered: its log continues from "
            f"size {base} (co-signed by both) with a signed recovery statement at size "
            f"{checkpoint.size}; the checkpoints co-signed above size {base} are set aside"
        )
        record = evidence_store.add_fork(
            conn,
            log=party,
            kind="recovered",
            detected_at=now,
            old_size=None if last is None else last.size,
            new_size=checkpoint.size,
            old_note=None if last is None else last.note,
            new_note=cosigned,
            proof=json.dumps({"old_size": base, "new_size": checkpoint.size}),
            detail=detail,
        )
        store.retire_cosigned(conn, party, me, base, now, record)
        evidence_store.insert_cosigned(
            conn, party, me, checkpoint.size, checkpoint.root.hex(), cosigned, now
        )
        clear_alarm(conn, "log_fork", party, now, f"{party} recovered: {detail}")
        logger.warning("recovery of %s proven: %s", party, detail)
        return cosigned


def _check_recoverable(
    conn: Connection, party: str, me: str, statement: dict[str, Any], base: int, size: int
) -> None:
    """A log is recovered only after this node kept evidence that it was rolled back (or
    forked) and no recovery answered it yet; from the newest checkpoint both still agree
    on (the largest this node co-signed within the restored log); with channel heads this
    node holds, never ahead of its view. Else a peer never restored could have its whole
    co-signed history set aside."""
    if store.open_fork(conn, party, EVIDENCE_KINDS) is None:
        raise LogFork(
            f"this node holds no evidence that the log of {party} was rolled back: "
            "there is nothing to recover from",
            hint="the recovery exchange is only for a node restored from a backup; a log "
            "that was not rolled back goes on with POST /federation/v1/checkpoints",
        )
    heads = statement["heads"]
    claimed = (
        (heads["in"]["seq"], heads["in"]["hash"]),
        (heads["out"]["seq"], heads["out"]["hash"]),
    )
    seen = (store.receipted_head(conn, party, OUT), store.channel_head(conn, party, IN))
    # heads this node holds with those hashes (checked by the caller), and never ahead of
    # its view; the line goes on while the statement waits, so they may be behind it
    # (a restored node takes back every message this node holds, so it never holds none)
    if any(c[0] > s[0] or (c[0] == 0 < s[0]) for c, s in zip(claimed, seen, strict=True)):
        raise Conflict(
            f"the recovery statement's channel heads {claimed} are ahead of this node's "
            f"view of the channels with {party} {seen}, or empty where it holds messages",
            hint="ask for the copies again (POST /federation/v1/recovery) and restate",
        )
    expected = store.newest_cosigned_upto(
        conn, party, me, min(size, int(statement["restored"]["size"]))
    )
    if base != expected:
        raise Conflict(
            f"the new log of {party} must continue from size {expected}, the newest "
            f"checkpoint of the restored log this node co-signed, not from size {base}",
            hint="send the consistency proof from that size",
            expected_base_size=expected,
        )


def _item(envelope: str, receipt: str) -> dict[str, Any]:
    return {"envelope": json.loads(envelope), "receipt": json.loads(receipt)}


def _check_head(
    conn: Connection,
    peer: str,
    direction: str,
    seq: int,
    digest: str,
    what: str,
    strict: bool = False,
) -> None:
    """A head the restored node claims must be a message this node holds with that hash;
    one this node does not hold is allowed unless ``strict`` (when asking for copies, the
    asker may hold more: this node may be the one restored)."""
    if seq == 0:
        return
    row = store.at_seq(conn, peer, direction, seq)
    if row is None and strict:
        raise Conflict(
            f"the recovery statement names a message {what} at seq {seq}, which this node "
            "does not hold",
            hint="ask for the copies again (POST /federation/v1/recovery) and restate",
        )
    if row is not None and row["hash"] != digest:
        raise Conflict(
            f"the message {what} at seq {seq} has another hash here than on {peer}",
            hint="the channel forked: keep both databases and compare the envelopes",
        )

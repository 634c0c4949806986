"""The line, receiver's side: verify what a peer sends, store it once, answer with receipts.

Checks run cheapest and most certain first, and each failure has its own error:
size → shape → recipient → pinned key → signature → duplicate id → sequence → prev →
clock. The signature is checked before the write lock is taken, so forged traffic costs
the node one small read per batch (the pinned keys) and no write. A duplicate ``id``
with identical content gets the stored receipt again; the same ``id`` with other content
is refused.

A replaced key applies at once in every process of the node: each batch reads the pinned
fingerprints afresh before checking signatures (the decoded keys are cached, by
fingerprint, only to spare decoding them again), and the write transaction that stores
the batch checks them again, holding them, so that once ``hotline peer add --replace``
(another process) has returned, no envelope signed with the old key is stored.

Key changes (``services/line/keys.py``): a ``key_change`` envelope that rotates the
sender's pinned key is applied when stored, and the envelopes after it in the batch are
checked with the new key. An envelope naming an earlier key of the sender (one read of the
key history, only then) is accepted only if it stands in the channel before the stored key
change that replaced that key, and that key was valid at its ``created`` time; else it is
refused as ``key_revoked`` (``created`` is the signer's to set: a thief of a revoked key
backdates it, its place in the channel he cannot). A revocation signed by a key not
pinned yet is held for an officer and answered ``key_change_pending``, and so is a
rotation from a key whose revocation is waiting.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hotline import seclog
from hotline.clock import parse_rfc3339
from hotline.domain.bodies import check_body
from hotline.domain.line import Envelope, Receipt
from hotline.domain.notices.models import CodedMessage, parse_notice
from hotline.errors import (
    BadSignature,
    ClockSkew,
    HotlineError,
    MalformedMessage,
    MessageTooLarge,
    PhrasebookMismatch,
    PrevMismatch,
    Redo,
    ReplayConflict,
    SequenceGap,
    UnknownKey,
    ValidationError,
    WireError,
    WrongRecipient,
)
from hotline.protocol import keys
from hotline.protocol.canonical import canonical, sha256_hex
from hotline.protocol.envelope import parse, seal, verify_signature
from hotline.protocol.keychange import ENVELOPE_TYPE as KEY_CHANGE_TYPE
from hotline.services.line import keys as key_changes
from hotline.services.line.service import Line, ReceiveHook
from hotline.storage import log, peers
from hotline.storage import messages as store
from hotline.storage.db import Connection

MAX_BATCH = 256


@dataclass
class Delivery:
    """What the receiver answers: receipts for what it stored, and the first refusal."""

    receipts: list[dict[str, Any]] = field(default_factory=list)
    error: HotlineError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "receipts": self.receipts,
            "error": None if self.error is None else self.error.to_dict(),
        }


@dataclass(frozen=True)
class _Checked:
    envelope: Envelope
    wire: bytes
    digest: str
    historic: bool = False  # signed by a key of the sender's history, valid when signed


class Receiver:
    """Accepts envelopes from pinned peers for one node."""

    def __init__(self, line: Line) -> None:
        self.line = line
        # party → (fingerprint, key) as last read from the database; each batch reads the
        # fingerprints again (_fresh_keys), so this only spares decoding the keys
        self._keys: dict[str, tuple[str, Ed25519PublicKey]] = {}

    def receive(self, items: Any) -> Delivery:
        """Verify and store a batch of envelopes in order; stop at the first refusal."""
        result = Delivery()
        if not isinstance(items, list) or not items:
            result.error = MalformedMessage("'envelopes' must be a non-empty list")
            return result
        if len(items) > MAX_BATCH:
            result.error = MalformedMessage(f"at most {MAX_BATCH} envelopes per request")
            return result
        checked: list[_Checked] = []
        pinned = self._fresh_keys()
        for index, item in enumerate(items):
            try:
                checked.append(self._check_static(item, pinned))
                held_rotation = key_changes.hold_rotation(self.line, item)
                if held_rotation is not None:  # from a key whose revocation waits
                    checked.pop()
                    raise held_rotation
                pinned = _rotated(item, pinned)  # what follows a rotation is signed anew
            except (UnknownKey, BadSignature) as exc:
                again = self._stored_copy(item, pinned)
                if again is None:
                    held = key_changes.hold_revocation(self.line, item)
                    refusal: WireError = exc if held is None else held
                    refusal.context.setdefault("index", index)
                    result.error = refusal
                    break
                checked.append(again)
            except WireError as exc:
                exc.context.setdefault("index", index)
                result.error = exc
                break
        if checked:
            self._store(checked, result)
        if result.error is not None and result.error.code != UnknownKey.code:
            at = result.error.context.get("index")
            claimed = items[at] if isinstance(at, int) and at < len(items) else None
            seclog.event(
                "peer_refused",
                code=result.error.code,
                claimed=claimed.get("from") if isinstance(claimed, dict) else None,
                detail=result.error.message,
            )
        return result

    def _stored_copy(
        self, item: Any, pinned: dict[str, tuple[str, Ed25519PublicKey]]
    ) -> _Checked | None:
        """An envelope the pinned key refuses, but which is stored here byte for byte (same
        id, same hash, receipted): its signature was verified when it was first stored, and
        its sender, which offers anything it holds no receipt for, may have rotated its
        key since. It gets its stored receipt back (see ``_store_one``): refused as
        ``unknown_key``, it would block the sender's channel for good. None otherwise."""
        try:
            envelope = parse(item, Envelope)
        except WireError:
            return None
        wire = canonical(envelope.wire())
        digest = sha256_hex(wire)
        with self.line.db.read() as conn:
            stored = store.known(conn, [envelope.id])
        if envelope.from_ not in pinned or not _already_stored(envelope, digest, stored):
            return None
        return _Checked(envelope, wire, digest)

    def _check_static(self, item: Any, pinned: dict[str, tuple[str, Ed25519PublicKey]]) -> _Checked:
        """The checks that need no database state beyond the pinned keys."""
        envelope = parse(item, Envelope)
        wire = canonical(envelope.wire())
        digest = sha256_hex(wire)  # = envelope_hash(envelope)
        if len(wire) > self.line.settings.max_envelope_bytes:
            raise MessageTooLarge(
                f"envelope {envelope.id} is {len(wire)} bytes; the limit is "
                f"{self.line.settings.max_envelope_bytes}",
                hint="split the text or attach less",
            )
        if envelope.to != self.line.identity.party:
            raise WrongRecipient(
                f"envelope {envelope.id} is addressed to {envelope.to!r}, "
                f"but this node is {self.line.identity.party!r}",
                hint="check the endpoint in the sender's copy of this node's card",
            )
        historic = self._historic_key(envelope, pinned)
        try:
            verify_signature(envelope, historic or _peer_key(envelope, pinned))
        except BadSignature:  # said without naming the pinned key (see _peer_key)
            raise BadSignature(
                f"envelope {envelope.id}: the signature does not verify",
                hint="the content was changed after signing, or it was signed by another key",
            ) from None
        if envelope.ack_by is not None and parse_rfc3339(envelope.ack_by) < parse_rfc3339(
            envelope.created
        ):
            raise MalformedMessage(
                f"envelope {envelope.id} asks to be acknowledged by {envelope.ack_by}, "
                f"before it was created ({envelope.created})"
            )
        try:
            check_body(envelope.type, envelope.body)
        except ValidationError as exc:
            raise MalformedMessage(f"envelope {envelope.id}: {exc.message}") from exc
        if envelope.type == "coded_message":
            self._check_phrasebook(envelope)
        return _Checked(envelope, wire, digest, historic is not None)

    def _historic_key(
        self, envelope: Envelope, pinned: dict[str, tuple[str, Ed25519PublicKey]]
    ) -> Ed25519PublicKey | None:
        """The sender's earlier key the envelope names, if it was valid when the envelope
        was created (signed before a rotation, arriving after it); ``KeyRevoked`` if it
        was signed by a revoked key after its revocation time. None for the pinned key,
        or a key the sender never had (refused by :func:`_peer_key`)."""
        peer = pinned.get(envelope.from_)
        if peer is None or peer[0] == envelope.key:
            return None
        with self.line.db.read() as conn:
            try:
                public = key_changes.historic_envelope_key(
                    conn,
                    envelope.from_,
                    envelope.key,
                    envelope.created,
                    envelope.seq,
                    f"envelope {envelope.id}",
                )
            except UnknownKey:
                return None
        return keys.public_from_b64(public)

    def _check_phrasebook(self, envelope: Envelope) -> None:
        """A code means something only if both sides hold the same phrasebook."""
        coded = parse_notice(envelope.body)
        assert isinstance(coded, CodedMessage)  # the envelope's type said so
        try:
            self.line.identity.phrasebook.check_message(coded)
        except ValidationError as exc:
            raise PhrasebookMismatch(
                f"envelope {envelope.id}: {exc.message}", hint=exc.hint
            ) from exc

    def _fresh_keys(self) -> dict[str, tuple[str, Ed25519PublicKey]]:
        """The pinned keys as the database holds them now (one read), each decoded once
        per fingerprint; what another process pinned counts from this batch on."""
        with self.line.db.read() as conn:
            rows = peers.pinned_keys(conn)
        known = self._keys
        fresh = {}
        for party, (fingerprint, public_b64) in rows.items():
            cached = known.get(party)
            if cached is None or cached[0] != fingerprint:
                cached = (fingerprint, keys.public_from_b64(public_b64))
            fresh[party] = cached
        self._keys = fresh  # replaced whole: concurrent batches read one or the other
        return fresh

    def forget_keys(self) -> None:
        """Drop cached peer keys (after a peer's card is re-imported). Not needed for
        correctness (every batch reads the pinned fingerprints): it frees the old key."""
        self._keys = {}

    def _store(self, checked: list[_Checked], result: Delivery) -> None:
        """Store a checked batch in one transaction, with one read and one write of the
        log's state (:func:`log.batch`), retried whole on a deadlock or busy database.

        An envelope that nothing can refuse once its checks have passed (no receive hook
        for its type) is written without a savepoint of its own. Should its writes fail
        all the same, the whole transaction is rolled back and the batch stored again,
        a savepoint per envelope, so that the refusal keeps the envelopes before it.
        """
        static_error = result.error  # the refusal, if any, of an envelope after these
        try:
            self._store_batch(checked, result, static_error, savepoints=False)
        except Redo:
            self._store_batch(checked, result, static_error, savepoints=True)

    def _store_batch(
        self,
        checked: list[_Checked],
        result: Delivery,
        static_error: HotlineError | None,
        *,
        savepoints: bool,
    ) -> None:
        def work(conn: Connection) -> None:
            # a retried transaction starts again from nothing stored
            result.receipts.clear()
            result.error = static_error
            with log.batch(conn) as appended:
                # again, inside the transaction that stores: a card replaced since the
                # signatures were checked is seen here (and waits for this one on PostgreSQL)
                senders = (item.envelope.from_ for item in checked)
                pinned = peers.pinned_keys(conn, senders, lock=True)
                seen = _Seen(store.known(conn, [item.envelope.id for item in checked]))
                for item in checked:
                    hooks = self.line.hooks_for(item.envelope)
                    try:
                        sender = pinned.get(item.envelope.from_)
                        if not (
                            item.historic or _already_stored(item.envelope, item.digest, seen.known)
                        ):
                            _still_pinned(item.envelope, None if sender is None else sender[0])
                        if not (savepoints or hooks):
                            result.receipts.append(self._store_one(conn, item, seen, hooks, False))
                            continue
                        # A savepoint: a refusal raised after some of the envelope's rows were
                        # written (by a hook, say) leaves nothing of it behind, in the
                        # database or in the batch's log.
                        mark, heads = appended.mark(), dict(seen.heads)
                        try:
                            with conn.begin_nested():
                                result.receipts.append(
                                    self._store_one(conn, item, seen, hooks, True)
                                )
                        except BaseException:
                            appended.reset(mark)
                            seen.heads = heads
                            raise
                        if item.envelope.type == KEY_CHANGE_TYPE:  # applied: the new key
                            pinned |= peers.pinned_keys(conn, [item.envelope.from_])
                    except WireError as exc:
                        exc.context.setdefault("index", len(result.receipts))
                        result.error = exc
                        break
                    except HotlineError as exc:  # a capability's hook found the body wanting
                        refusal = MalformedMessage(exc.message, hint=exc.hint)
                        refusal.context["index"] = len(result.receipts)
                        result.error = refusal
                        break

        self.line.db.transaction(work)

    def _store_one(
        self,
        conn: Connection,
        item: _Checked,
        seen: _Seen,
        hooks: Sequence[ReceiveHook],
        guarded: bool,
    ) -> dict[str, Any]:
        """Store one envelope; ``guarded``: inside a savepoint of its own."""
        envelope = item.envelope
        existing = seen.known.get(envelope.id)
        if existing is not None:
            direction, digest, stored = existing
            if direction == store.IN and digest == item.digest and stored is not None:
                return dict(json.loads(stored))
            raise ReplayConflict(
                f"id {envelope.id} is already used by a different message",
                hint="an envelope id may be delivered again, but never with other content",
            )
        head = seen.heads.get(envelope.from_)
        if head is None:
            head = store.lock_channel(conn, envelope.from_, store.IN)
        self._check_order(envelope, head)
        self._check_clock(envelope)
        original = _acked_original(conn, envelope) if envelope.type == "ack" else None
        # Every check is behind: what follows writes. Without a savepoint (no hook), an
        # error from here on must not leave part of the envelope stored: see _store.
        try:
            receipt, receipt_text = self._accept(conn, item)
        except HotlineError as exc:
            if guarded:  # the savepoint takes back what was written: a refusal
                raise
            raise Redo from exc  # see _store
        seen.known[envelope.id] = (store.IN, item.digest, receipt_text)
        seen.heads[envelope.from_] = store.ChannelHead(envelope.seq, item.digest, envelope.created)
        if original is not None:
            _apply_ack(conn, envelope, original, self.line.now())
        if hooks:
            log.flush(conn)  # what a hook reads of the log is written first
        for hook in hooks:
            hook(conn, envelope, self.line.now())
        return receipt

    def _check_order(self, envelope: Envelope, head: store.ChannelHead) -> None:
        expected = head.last_seq + 1
        if envelope.seq < expected:
            raise ReplayConflict(
                f"seq {envelope.seq} from {envelope.from_!r} was already used by another "
                f"message (next expected: {expected})",
                expected_seq=expected,
            )
        if envelope.seq > expected:
            raise SequenceGap(
                f"seq {envelope.seq} from {envelope.from_!r} skips ahead: the next expected "
                f"is {expected}",
                hint="the sender must deliver the missing messages first, in order",
                expected_seq=expected,
            )
        if envelope.prev != head.last_hash:
            raise PrevMismatch(
                f"prev of envelope {envelope.id} (seq {envelope.seq}) is not the hash of the "
                f"previous envelope from {envelope.from_!r}",
                hint="the sender's chain differs from what this node received: a fork",
                expected_prev=head.last_hash,
            )

    def _check_clock(self, envelope: Envelope) -> None:
        now = self.line.clock.now()
        created = parse_rfc3339(envelope.created)
        ahead = (created - now).total_seconds()
        if ahead > self.line.settings.clock_skew_s:
            raise ClockSkew(
                f"envelope {envelope.id} was created {ahead:.0f} s in the future "
                f"(the allowed skew is {self.line.settings.clock_skew_s} s)",
                hint="check both nodes' clocks (NTP)",
            )
        if now - created > timedelta(seconds=self.line.settings.max_age_s):
            raise ClockSkew(
                f"envelope {envelope.id} was created at {envelope.created}, older than the "
                f"{self.line.settings.max_age_s} s a message may wait for delivery",
                hint="if this node was down that long and the message should still arrive, "
                "raise max_age_s (HOTLINE_MAX_AGE_S) here and restart: the channel waits for it",
            )

    def _accept(self, conn: Connection, item: _Checked) -> tuple[dict[str, Any], str]:
        """Log the envelope, sign its receipt, log that, and store the message with its
        receipt in one insert; the receipt and its canonical text."""
        envelope, now = item.envelope, self.line.now()
        index, head = log.append(conn, "envelope_in", envelope.id, item.wire, now)
        receipt = seal(
            {
                "v": 1,
                "type": "receipt",
                "envelope_id": envelope.id,
                "envelope_hash": item.digest,
                "from": self.line.identity.party,
                "to": envelope.from_,
                "seq": envelope.seq,
                "received": now,
                "log_index": index,
                "log_size": head.size,
                "log_root": head.root.hex(),
                "key": self.line.identity.fingerprint,
            },
            self.line.identity.key,
            Receipt,
        ).wire()
        receipt_bytes = canonical(receipt)
        log.append(conn, "receipt_out", envelope.id, receipt_bytes, now)
        receipt_text = receipt_bytes.decode("utf-8")
        store.insert_message(
            conn,
            id=envelope.id,
            direction=store.IN,
            peer=envelope.from_,
            seq=envelope.seq,
            created=envelope.created,
            precedence=envelope.precedence,
            type=envelope.type,
            lang=envelope.lang,
            envelope=item.wire.decode("utf-8"),
            hash=item.digest,
            state="received",
            received_at=now,
            receipt=receipt_text,
        )
        store.advance_channel(
            conn, envelope.from_, store.IN, envelope.seq, item.digest, envelope.created
        )
        store.add_event(conn, envelope.id, now, "received", seq=envelope.seq, log_index=index)
        return receipt, receipt_text


@dataclass
class _Seen:
    """What one stored batch knows without asking the database again: the messages
    already stored under its envelopes' ids (read in one query, then each one it
    stores), and the head of each inbound channel once read (it advances as the batch
    is stored, under the lock the first read took)."""

    known: dict[str, tuple[str, str, str | None]]
    heads: dict[str, store.ChannelHead] = field(default_factory=dict)


def _already_stored(
    envelope: Envelope, digest: str, stored: dict[str, tuple[str, str, str | None]]
) -> bool:
    """Whether exactly this envelope was received and receipted here before."""
    found = stored.get(envelope.id)
    return found is not None and found[0] == store.IN and found[1] == digest and bool(found[2])


def _rotated(
    item: Any, pinned: dict[str, tuple[str, Ed25519PublicKey]]
) -> dict[str, tuple[str, Ed25519PublicKey]]:
    """``pinned`` as it is after ``item``, if it is a rotation of its sender's pinned key
    (checked and applied when stored): the envelopes after it are signed with the new key."""
    sender = item.get("from") if isinstance(item, dict) else None
    peer = pinned.get(sender) if isinstance(sender, str) else None
    new = key_changes.rotation_in(item, None if peer is None else peer[0])
    if new is None or not isinstance(sender, str):
        return pinned
    return pinned | {sender: new}


def _peer_key(
    envelope: Envelope, pinned: dict[str, tuple[str, Ed25519PublicKey]]
) -> Ed25519PublicKey:
    """The pinned key of the envelope's sender, if it is the key the envelope names."""
    peer = pinned.get(envelope.from_)
    _still_pinned(envelope, None if peer is None else peer[0])
    assert peer is not None  # refused above
    return peer[1]


def _still_pinned(envelope: Envelope, fingerprint: str | None) -> None:
    """Refuse an envelope whose sender is not pinned (``fingerprint`` None), or is pinned
    with another key than the one it names.

    The caller is not authenticated yet: the answer says neither whether the party is
    pinned nor with which key; the security log does."""
    if fingerprint is not None and fingerprint == envelope.key:
        return
    seclog.event(
        "peer_refused",
        code=UnknownKey.code,
        claimed=envelope.from_,
        key=envelope.key,
        pinned_key=fingerprint,
        detail="party not pinned" if fingerprint is None else "not the pinned key",
    )
    raise UnknownKey(
        f"envelope {envelope.id}: its sender and key are not pinned on this node",
        hint="the sender's operator: check that this node imported your current "
        "card (`hotline peer add`); this node's security log says more",
    )


def _acked_original(conn: Connection, envelope: Envelope) -> dict[str, Any]:
    """The outbound message an ack refers to; refused (before anything is stored) if none."""
    body = envelope.body
    original = store.get(conn, body["ack_of"])
    if (
        original is None
        or original["direction"] != store.OUT
        or original["peer"] != envelope.from_
        or original["hash"] != body["ack_hash"]
    ):
        raise MalformedMessage(
            f"ack {envelope.id} refers to {body['ack_of']}, which is not a message this node "
            f"sent to {envelope.from_!r} with that hash",
        )
    return original


def _apply_ack(conn: Connection, envelope: Envelope, original: dict[str, Any], now: str) -> None:
    """The peer acknowledged one of our messages: mark it, even if the ack comes late."""
    store.mark_acknowledged(
        conn,
        original,
        now,
        by=f"{envelope.from_}:{envelope.body['acked_by']}",
        acked_at=envelope.body["acked_at"],
        ack_message_id=envelope.id,
        ack_message=envelope.id,
    )

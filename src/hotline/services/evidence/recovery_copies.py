"""Recovery after a restore: checking the copies a peer hands back, and storing them.

Used by ``recovery.py`` (see its docstring for the whole exchange). A page of copies is
stored in one transaction, only if every copy holds: the envelope signed by its sender's
key in force at its place in the channel, the receipt by the other side's key of the time
(``recovery_keys.py``: either side may have rotated its key in the lost part), naming
the envelope's exact hash, and the copies chaining by ``seq`` and ``prev`` from this
node's heads. A local message never delivered that stands where the peer holds another
envelope of this node is re-sealed after them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hotline.clock import parse_rfc3339
from hotline.domain.bodies import NO_ACK_TYPES
from hotline.domain.line import Envelope, Receipt
from hotline.errors import BadSignature, Conflict, MalformedMessage
from hotline.protocol import keychange, keys
from hotline.protocol.canonical import canonical, sha256_hex
from hotline.protocol.envelope import parse, seal, verify_signature
from hotline.services.evidence.recovery_keys import Signers
from hotline.services.line.identity import Identity
from hotline.services.line.service import Line
from hotline.storage import keys as key_store
from hotline.storage import links, log, peers
from hotline.storage import messages as msgs
from hotline.storage import recovery as store
from hotline.storage.db import Connection


@dataclass(frozen=True)
class Copy:
    """One envelope taken back, with its receipt, both verified."""

    envelope: Envelope
    wire: bytes
    digest: str
    receipt: Receipt
    receipt_wire: bytes


@dataclass
class Tally:
    """What one run took back: seq ranges per channel, messages re-sealed."""

    inbound: list[int] = field(default_factory=list)
    outbound: list[int] = field(default_factory=list)
    resealed: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.inbound += other.inbound
        self.outbound += other.outbound
        self.resealed += other.resealed

    def any(self) -> bool:
        return bool(self.inbound or self.outbound or self.resealed)

    def span(self, seqs: list[int]) -> list[int]:
        return [min(seqs), max(seqs)] if seqs else []


class Pages:
    """Stores verified pages of copies for one node."""

    def __init__(self, line: Line) -> None:
        self.line = line

    @property
    def identity(self) -> Identity:
        """This node's identity as it is now (a key rotation replaces it)."""
        return self.line.identity

    def store_page(self, conn: Connection, *, row: peers.PeerRow, answer: dict[str, Any]) -> Tally:
        """Verify a page of copies and store it (one transaction; all or nothing)."""
        tally = Tally()
        me, party = self.identity.party, row.party
        own = Signers.of(conn, me, self.identity.fingerprint, self._own_public())
        theirs = Signers.of(conn, party, row.fingerprint, row.public_key)
        # envelopes first, each channel in order (its rotations move its key on), then the
        # receipts: each side's receipts may be signed by a key its channel rotated to
        sent = [open_envelope(item, me, party, own) for item in answer["outbound"]]
        got = [open_envelope(item, party, me, theirs) for item in answer["inbound"]]
        outs = [check_receipt(item, env, theirs) for item, env in sent]
        ins = [check_receipt(item, env, own) for item, env in got]
        with log.batch(conn):
            msgs.lock_channel(conn, party, msgs.OUT)
            check_chain(outs, *store.receipted_head(conn, party, msgs.OUT), "sent")
            check_chain(ins, *store.channel_head(conn, party, msgs.IN), "received")
            displaced = self._displace(conn, party, outs)
            for item in outs:
                if self._put_out(conn, party, item):
                    tally.outbound.append(item.envelope.seq)
            tally.resealed += self._reseal(conn, party, displaced)
            msgs.lock_channel(conn, party, msgs.IN)
            for item in ins:
                if self._put_in(conn, party, item):
                    tally.inbound.append(item.envelope.seq)
            for item in outs:
                if item.envelope.type == "ack":
                    self._own_ack(conn, party, item)
        return tally

    def _own_public(self) -> str:
        return keys.public_b64(self.identity.key.public_key())

    def _displace(self, conn: Connection, party: str, outs: list[Copy]) -> list[dict[str, Any]]:
        """Local outbound messages without a receipt that stand where the peer holds
        another envelope of this node (signed after the restore), and every one after
        them: moved out of the way (negative seq) to be re-sealed after the copies."""
        if not outs:
            return []
        first = None
        for item in outs:
            local = store.at_seq(conn, party, msgs.OUT, item.envelope.seq)
            if local is not None and local["id"] != item.envelope.id:
                first = item.envelope.seq
                break
        if first is None:
            return []
        moved = []
        seq = first
        while (local := store.at_seq(conn, party, msgs.OUT, seq)) is not None:
            if local["receipt"] is not None:
                raise Conflict(f"message {local['id']} at seq {seq} has a receipt already")
            msgs.update_message(conn, local["id"], seq=-seq)
            moved.append(local)
            seq += 1
        # the channel's head goes back to just before them: the copies continue from there
        before = json.loads(moved[0]["envelope"])
        msgs.advance_channel(conn, party, msgs.OUT, first - 1, before["prev"], before["created"])
        return moved

    def _put_out(self, conn: Connection, party: str, item: Copy) -> bool:
        """Store one of this node's own envelopes again, delivered; False if it was here
        (then only its receipt is recorded, if missing)."""
        env, now = item.envelope, self.line.now()
        receipt_text = item.receipt_wire.decode("utf-8")
        existing = msgs.get(conn, env.id)
        if existing is not None:
            if existing["direction"] != msgs.OUT or existing["hash"] != item.digest:
                raise Conflict(f"id {env.id} is stored here with other content")
            if msgs.record_receipt(
                conn, env.id, receipt=receipt_text, delivered_at=item.receipt.received
            ):
                msgs.add_event(conn, env.id, now, "delivered", recovered_from=party)
                log.append(conn, "receipt_in", env.id, item.receipt_wire, now)
            return False
        msgs.insert_message(
            conn,
            id=env.id,
            direction=msgs.OUT,
            peer=party,
            seq=env.seq,
            created=env.created,
            precedence=env.precedence,
            type=env.type,
            lang=env.lang,
            envelope=item.wire.decode("utf-8"),
            hash=item.digest,
            state="delivered",
            delivered_at=item.receipt.received,
            receipt=receipt_text,
            attempts=1,
            due_at=None if env.type in NO_ACK_TYPES else env.ack_by,
        )
        msgs.add_event(conn, env.id, now, "recovered", peer=party, seq=env.seq, side="sent")
        if env.type == "link_test" and links.get_test(conn, env.body["test_id"]) is None:
            # the peer's answer may still be on its way: without the test it would be
            # refused ("unknown test") and block the peer's channel for good
            links.insert_test(conn, env.body["test_id"], party, env.id, env.created)
        log.append(conn, "envelope_out", env.id, item.wire, now)
        log.append(conn, "receipt_in", env.id, item.receipt_wire, now)
        _advance(conn, party, msgs.OUT, item)
        if env.type == keychange.ENVELOPE_TYPE:
            # this node's own key change, lost with the database: in its key history again
            key_store.record_change(conn, keychange.open_change(env.body).wire(), now)
        return True

    def _put_in(self, conn: Connection, party: str, item: Copy) -> bool:
        """Store an envelope the peer sent here again, with this node's own receipt."""
        env, now = item.envelope, self.line.now()
        existing = msgs.get(conn, env.id)
        if existing is not None:
            if existing["direction"] != msgs.IN or existing["hash"] != item.digest:
                raise Conflict(f"id {env.id} is stored here with other content")
            return False
        msgs.insert_message(
            conn,
            id=env.id,
            direction=msgs.IN,
            peer=party,
            seq=env.seq,
            created=env.created,
            precedence=env.precedence,
            type=env.type,
            lang=env.lang,
            envelope=item.wire.decode("utf-8"),
            hash=item.digest,
            state="received",
            received_at=item.receipt.received,
            receipt=item.receipt_wire.decode("utf-8"),
        )
        msgs.add_event(conn, env.id, now, "recovered", peer=party, seq=env.seq, side="received")
        if env.type == "link_test_reply":
            _answered(conn, party, env, item.receipt.received)
        log.append(conn, "envelope_in", env.id, item.wire, now)
        log.append(conn, "receipt_out", env.id, item.receipt_wire, now)
        _advance(conn, party, msgs.IN, item)
        if env.type == keychange.ENVELOPE_TYPE:
            # the peer's key rotation, lost with the database: pinned again, as on receipt
            log.flush(conn)
            for hook in self.line.receive_hooks.get(env.type, ()):
                hook(conn, env, now)
        if env.type == "ack":
            original = msgs.get(conn, env.body["ack_of"])
            if original is not None and original["direction"] == msgs.OUT:
                msgs.mark_acknowledged(
                    conn,
                    original,
                    now,
                    by=f"{party}:{env.body['acked_by']}",
                    acked_at=env.body["acked_at"],
                    ack_message_id=env.id,
                    ack_message=env.id,
                )
        return True

    def _own_ack(self, conn: Connection, party: str, item: Copy) -> None:
        """This node's officer had acknowledged a received message: mark it again."""
        body = item.envelope.body
        target = msgs.get(conn, body["ack_of"])
        if target is None or target["direction"] != msgs.IN or target["peer"] != party:
            return
        if msgs.acknowledge_received(
            conn,
            target["id"],
            at=body["acked_at"],
            by=body["acked_by"],
            ack_message_id=item.envelope.id,
        ):
            msgs.add_event(
                conn,
                target["id"],
                self.line.now(),
                "acknowledged",
                by=body["acked_by"],
                ack_message=item.envelope.id,
                recovered_from=party,
            )

    def _reseal(self, conn: Connection, party: str, moved: list[dict[str, Any]]) -> list[str]:
        """Sign the displaced messages again after the channel's head: same id, body and
        time, the next seq and prev. The first sealing never reached the peer (it holds
        another envelope at that seq), so no seq is delivered with two contents."""
        done = []
        for row in moved:
            head = msgs.lock_channel(conn, party, msgs.OUT)
            unsigned = {k: v for k, v in json.loads(row["envelope"]).items() if k != "sig"}
            unsigned |= {"seq": head.last_seq + 1, "prev": head.last_hash}
            envelope = seal(unsigned, self.identity.key, Envelope)
            wire = canonical(envelope.wire())
            digest, now = sha256_hex(wire), self.line.now()
            msgs.update_message(
                conn, row["id"], seq=envelope.seq, envelope=wire.decode("utf-8"), hash=digest
            )
            msgs.advance_channel(conn, party, msgs.OUT, envelope.seq, digest, envelope.created)
            msgs.add_event(
                conn,
                row["id"],
                now,
                "resealed",
                old_seq=row["seq"],
                old_hash=row["hash"],
                seq=envelope.seq,
                hash=digest,
            )
            log.append(conn, "envelope_out", row["id"], wire, now)
            done.append(str(row["id"]))
        return done


def _answered(conn: Connection, party: str, env: Envelope, at: str) -> None:
    """A recovered answer to one of this node's link tests: the test passed then."""
    test = links.get_test(conn, env.body["test_id"])
    if test is None or test["peer"] != party or test["state"] != "pending":
        return
    rtt = (parse_rfc3339(at) - parse_rfc3339(test["sent_at"])).total_seconds() * 1000
    links.record_reply(conn, test["id"], at, max(0, min(round(rtt), 2**31 - 1)), passed=True)


def open_envelope(item: Any, sender: str, receiver: str, signers: Signers) -> tuple[Any, Envelope]:
    """The envelope of one copy, signed by the key ``sender`` held when it signed it
    (``signers`` walks the sender's channel: call in channel order)."""
    if not isinstance(item, dict) or set(item) != {"envelope", "receipt"}:
        raise MalformedMessage('each copy must be {"envelope": {...}, "receipt": {...}}')
    envelope = parse(item["envelope"], Envelope)
    if envelope.from_ != sender or envelope.to != receiver:
        raise BadSignature(
            f"envelope {envelope.id} is not from {sender!r} to {receiver!r}: refused, "
            "nothing stored"
        )
    what = f"envelope {envelope.id}"
    verify_signature(envelope, signers.key(envelope.key, envelope.created, what))
    signers.after(item["envelope"])
    return item, envelope


def check_receipt(item: Any, envelope: Envelope, signers: Signers) -> Copy:
    """One copy verified: its receipt signed by the receiver's key of the time, naming
    the envelope's exact hash."""
    sender, receiver = envelope.from_, envelope.to
    wire = canonical(envelope.wire())
    digest = sha256_hex(wire)
    receipt = parse(item["receipt"], Receipt)
    what = f"the receipt of envelope {envelope.id}"
    verify_signature(receipt, signers.key(receipt.key, receipt.received, what))
    if (
        receipt.envelope_id != envelope.id
        or receipt.envelope_hash != digest
        or receipt.from_ != receiver
        or receipt.to != sender
        or receipt.seq != envelope.seq
    ):
        raise BadSignature(f"the receipt given with envelope {envelope.id} is for another one")
    return Copy(envelope, wire, digest, receipt, canonical(receipt.wire()))


def check_chain(items: list[Copy], seq: int, digest: str, what: str) -> None:
    """The copies must continue the channel from its head here, link by link."""
    for item in items:
        if item.envelope.seq != seq + 1 or item.envelope.prev != digest:
            raise Conflict(
                f"the copy of the message {what} at seq {item.envelope.seq} does not chain "
                f"from seq {seq} here: refused, nothing stored",
                hint="the next check asks again from this node's heads",
            )
        seq, digest = item.envelope.seq, item.digest


def _advance(conn: Connection, party: str, direction: str, item: Copy) -> None:
    head = msgs.lock_channel(conn, party, direction)
    if item.envelope.seq > head.last_seq:
        env = item.envelope
        msgs.advance_channel(conn, party, direction, env.seq, item.digest, env.created)

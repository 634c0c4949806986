"""The line, sender's side and reading: send, acknowledge, list, show.

Sending never touches the network: a message is signed, chained and stored in the
outbox in one transaction, and the delivery worker (``services/line/delivery.py``) carries
it. What arrives is handled in ``services/line/receive.py``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hotline.clock import Clock, parse_rfc3339, rfc3339
from hotline.config import NodeSettings
from hotline.domain.bodies import NO_ACK_TYPES, OPERATOR_TYPES, check_body
from hotline.domain.line import Envelope, Precedence
from hotline.errors import Conflict, NotFound, ValidationError
from hotline.protocol.canonical import canonical, sha256_hex
from hotline.protocol.envelope import seal
from hotline.services.line.identity import Identity
from hotline.storage import log, peers
from hotline.storage import messages as store
from hotline.storage.db import Connection, Database

ReceiveHook = Callable[[Connection, Envelope, str], None]

#: Fields of a message shown in listings (the envelope and receipt only in ``show``).
SUMMARY_FIELDS = (
    "id",
    "direction",
    "peer",
    "seq",
    "created",
    "precedence",
    "type",
    "lang",
    "state",
    "created_by",
    "received_at",
    "delivered_at",
    "acked_at",
    "acked_by",
    "ack_message_id",
    "attempts",
    "hash",
)


@dataclass
class Line:
    """The line as one node sees it."""

    db: Database
    identity: Identity
    settings: NodeSettings
    clock: Clock
    #: Called with a peer's party after a commit that queued something for it.
    on_queued: Callable[[str], None] = field(default=lambda _peer: None)
    #: Per message type, functions called inside the receiving transaction, after the
    #: envelope is stored and receipted: ``hook(conn, envelope, now)``. A hook may queue
    #: replies with :meth:`enqueue`, or raise a ``WireError`` to refuse the envelope
    #: (its rows are rolled back to a savepoint, the rest of the batch is kept).
    receive_hooks: dict[str, list[ReceiveHook]] = field(default_factory=dict)

    def on_receive(self, type_: str, hook: ReceiveHook) -> None:
        """Register ``hook`` for received envelopes of ``type_``."""
        self.receive_hooks.setdefault(type_, []).append(hook)

    def now(self) -> str:
        return rfc3339(self.clock.now())

    # -- sending ---------------------------------------------------------------------------

    def send(
        self,
        *,
        to: str,
        text: str | None = None,
        body: dict[str, Any] | None = None,
        type_: str = "text",
        precedence: str = "ROUTINE",
        lang: str | None = None,
        user: str,
        client_ref: str | None = None,
    ) -> dict[str, Any]:
        """Queue a message to ``to``; returns its summary. Idempotent on ``client_ref``."""
        if type_ not in OPERATOR_TYPES:
            raise ValidationError(f"messages of type {type_!r} cannot be sent directly")
        if body is None:
            body = {"text": text}
        body = check_body(type_, body)
        precedence = _precedence(precedence)
        lang = lang or self.identity.lang
        if lang not in ("en", "ru"):
            raise ValidationError(f"lang must be 'en' or 'ru', not {lang!r}")
        with self.db.write() as conn:
            if client_ref is not None:  # idempotent per user (see store.ref_key)
                existing = store.by_client_ref(conn, user, client_ref)
                if existing is not None:
                    return self.summary(existing)
            row, envelope = self._enqueue(
                conn,
                to=to,
                type_=type_,
                body=body,
                precedence=precedence,
                lang=lang,
                user=user,
                client_ref=client_ref,
            )
        self.on_queued(to)
        # built from the values just stored, not read back: a send is a few statements
        return self.summary(row, envelope)

    def enqueue(
        self,
        conn: Connection,
        *,
        to: str,
        type_: str,
        body: dict[str, Any],
        precedence: str,
        lang: str,
        user: str | None,
        client_ref: str | None = None,
        ack_by: str | None = None,
    ) -> str:
        """Sign the next envelope in the channel to ``to`` and store it (caller's transaction).

        A type a person acknowledges carries its deadline, ``ack_by``: this node's
        allowance for the precedence from ``created``, unless the caller names another
        (an escalation carries its own rung's).

        The caller must call ``on_queued(to)`` after its transaction commits (``send`` and
        ``acknowledge`` do; a receive hook need not: the node wakes every worker after a
        delivery is stored).
        """
        return str(
            self._enqueue(
                conn,
                to=to,
                type_=type_,
                body=body,
                precedence=precedence,
                lang=lang,
                user=user,
                client_ref=client_ref,
                ack_by=ack_by,
            )[0]["id"]
        )

    def _enqueue(
        self,
        conn: Connection,
        *,
        to: str,
        type_: str,
        body: dict[str, Any],
        precedence: str,
        lang: str,
        user: str | None,
        client_ref: str | None = None,
        ack_by: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """:meth:`enqueue`, giving the stored row and the envelope (its wire form), so
        that ``send`` answers without reading back what it has just written."""
        if not peers.is_pinned(conn, to):
            raise NotFound(
                f"no peer {to!r} is pinned on this node",
                hint="import the peer's card with `hotline peer add CARD_FILE`",
            )
        head = store.lock_channel(conn, to, store.OUT)
        now = self.now()
        unsigned = {
            "v": 1,
            "id": str(uuid.uuid4()),
            "from": self.identity.party,
            "to": to,
            "seq": head.last_seq + 1,
            "prev": head.last_hash,
            "created": now,
            "precedence": precedence,
            "type": type_,
            "lang": lang,
            "body": body,
            "key": self.identity.fingerprint,
        }
        if ack_by is None and type_ not in NO_ACK_TYPES:
            ack_by = rfc3339(parse_rfc3339(now) + self.allowance(precedence))
        if ack_by is not None:  # absent, never null: see ``Envelope.wire``
            unsigned["ack_by"] = ack_by
        envelope = seal(unsigned, self.identity.key, Envelope)
        wire_obj = envelope.wire()
        wire = canonical(wire_obj)
        digest = sha256_hex(wire)  # = envelope_hash(envelope), without a second encoding
        row = store.message_row(
            id=envelope.id,
            direction=store.OUT,
            peer=to,
            seq=envelope.seq,
            created=now,
            precedence=precedence,
            type=type_,
            lang=lang,
            envelope=wire.decode("utf-8"),
            hash=digest,
            state="queued",
            client_ref=None if client_ref is None else store.ref_key(user, client_ref),
            created_by=user,
        )
        store.insert_message(conn, **row)
        store.advance_channel(conn, to, store.OUT, envelope.seq, digest, now)
        store.add_event(conn, envelope.id, now, "created", by=user, seq=envelope.seq, hash=digest)
        log.append(conn, "envelope_out", envelope.id, wire, now)
        return row, wire_obj

    # -- acknowledging ---------------------------------------------------------------------

    def acknowledge(self, message_id: str, user: str) -> dict[str, Any]:
        """Record that ``user`` has read an inbound message and tell its sender, signed."""
        with self.db.write() as conn:
            row = store.get(conn, message_id)
            if row is None or row["direction"] != store.IN:
                raise NotFound(f"no received message {message_id!r}")
            if row["type"] == "ack":
                raise Conflict("acknowledgements are not themselves acknowledged")
            if row["acked_at"] is not None:
                return self.summary(row)
            now = self.now()
            ack_body = {
                "ack_of": row["id"],
                "ack_hash": row["hash"],
                "acked_by": user,
                "acked_at": now,
            }
            ack_id = self.enqueue(
                conn,
                to=row["peer"],
                type_="ack",
                body=check_body("ack", ack_body),
                precedence=row["precedence"],
                lang=self.identity.lang,
                user=user,
            )
            store.update_message(
                conn,
                message_id,
                state="acknowledged",
                acked_at=now,
                acked_by=user,
                ack_message_id=ack_id,
            )
            store.add_event(conn, message_id, now, "acknowledged", by=user, ack_message=ack_id)
            _settle_related(conn, row, now, user)
            row = store.get(conn, message_id)
        self.on_queued(row["peer"] if row else "")
        assert row is not None
        return self.summary(row)

    # -- reading ---------------------------------------------------------------------------

    def listing(self, direction: str, *, peer: str | None = None, limit: int = 200) -> list[Any]:
        with self.db.read() as conn:
            return [self.summary(r) for r in store.listing(conn, direction, peer=peer, limit=limit)]

    def whole_id(self, given: str) -> str:
        """A message id as given, or the one id a listing's short form (its start) names;
        an unknown id comes back as given, for the caller's usual "not found"."""
        with self.db.read() as conn:
            found = store.resolve(conn, given)
        return given if found is None else found

    def show(self, message_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = store.get(conn, message_id)
            if row is None:
                raise NotFound(f"no message {message_id!r}")
            out = self.summary(row)
            out["envelope"] = json.loads(row["envelope"])
            out["receipt"] = json.loads(row["receipt"]) if row["receipt"] else None
            out["trail"] = store.trail(conn, message_id)
            return out

    def summary(
        self, row: dict[str, Any], envelope: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A message as the API shows it, with its acknowledgement deadline.

        The deadline is the one the sender signed (``ack_by``), so both sides show the same
        time; only an envelope without one (sent before the field existed) falls back to
        this node's own allowance. ``envelope``: the row's envelope already decoded, if
        the caller has it.
        """
        if envelope is None:
            envelope = json.loads(row["envelope"])
        out = _summary(row, envelope)
        out["deadline"] = envelope.get("ack_by")
        if out["deadline"] is None and row["type"] not in NO_ACK_TYPES:
            created = parse_rfc3339(row["created"])
            out["deadline"] = rfc3339(created + self.allowance(row["precedence"]))
        return out

    def allowance(self, precedence: str) -> timedelta:
        """How long a person has to acknowledge a message of ``precedence`` (``ack_*_s``)."""
        return timedelta(seconds=self.settings.ack_deadline_s(precedence))

    def status(self) -> dict[str, Any]:
        with self.db.read() as conn:
            head = log.head(conn)
            return {
                "party": self.identity.party,
                "fingerprint": self.identity.fingerprint,
                "messages": store.counts_by_state(conn),
                "peers": [p.party for p in peers.all_peers(conn)],
                "log": {"size": head.size, "root": head.root.hex()},
            }


def _precedence(value: str) -> str:
    try:
        return Precedence(value.upper()).value
    except ValueError:
        names = ", ".join(p.value for p in Precedence)
        raise ValidationError(f"unknown precedence {value!r}", hint=f"one of {names}") from None


def _summary(row: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    out = {name: row[name] for name in SUMMARY_FIELDS}
    out["body"] = envelope["body"]
    return out


def original_of(row: dict[str, Any]) -> str:
    """The message an escalation re-addresses; any other message is its own original."""
    if row["type"] == "escalation":
        return str(json.loads(row["envelope"])["body"]["of_message"])
    return str(row["id"])


def _settle_related(conn: Connection, row: dict[str, Any], now: str, user: str) -> None:
    """Acknowledging a message settles its escalations here, and an escalation its original:
    one person's acknowledgement answers the whole ladder (the sender maps it the same way).
    """
    original_id = original_of(row)
    related = [original_id] + [
        step["detail"]["escalation_message"]
        for step in store.trail(conn, original_id)
        if step["kind"] == "escalated_to"
    ]
    for other in related:
        other_row = store.get(conn, other)
        if other != row["id"] and other_row is not None and other_row["acked_at"] is None:
            store.mark_acknowledged(conn, other_row, now, by=user, acked_at=now, via=row["id"])

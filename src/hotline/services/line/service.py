"""The line, sender's side and reading: send, acknowledge, list, show.

Sending never touches the network: a message is signed, chained and stored in the
outbox in one transaction, and the delivery worker (``services/line/delivery.py``) carries
it. What arrives is handled in ``services/line/receive.py``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from hotline.clock import Clock, parse_rfc3339, rfc3339
from hotline.config import NodeSettings
from hotline.domain.bodies import NO_ACK_TYPES, OPERATOR_TYPES, check_body
from hotline.domain.line import ApprovalBasis, Envelope, Precedence
from hotline.errors import Busy, Conflict, NotFound, ValidationError
from hotline.protocol.canonical import canonical, sha256_hex
from hotline.protocol.envelope import seal
from hotline.services.line import linkstate
from hotline.services.line.identity import Identity
from hotline.services.line.officers import officers
from hotline.storage import log, peers
from hotline.storage import messages as store
from hotline.storage.db import Connection, Database

ReceiveHook = Callable[[Connection, Envelope, str], None]
#: Called in the sending transaction for a message that carries attachments:
#: ``hook(conn, message_id, refs)`` (``services/attachments.py`` records them).
AttachHook = Callable[[Connection, str, list[dict[str, Any]]], None]

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
    #: Hooks for a received envelope that carries attachments, whatever its type.
    attachment_hooks: list[ReceiveHook] = field(default_factory=list)
    #: Called when a message with attachments is queued, in its transaction.
    on_attach: AttachHook = field(default=lambda _conn, _id, _refs: None)
    #: Concurrent sends gathered into one transaction (see :class:`GroupCommit`).
    _commits: GroupCommit[_Send] = field(
        default_factory=lambda: GroupCommit(), init=False, repr=False
    )

    def on_receive(self, type_: str, hook: ReceiveHook) -> None:
        """Register ``hook`` for received envelopes of ``type_``."""
        self.receive_hooks.setdefault(type_, []).append(hook)

    def hooks_for(self, envelope: Envelope) -> list[ReceiveHook]:
        """The receive hooks of ``envelope``: its type's, and the attachments' if it has any."""
        hooks = list(self.receive_hooks.get(envelope.type, ()))
        if envelope.attachments:
            hooks.extend(self.attachment_hooks)
        return hooks

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
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Queue a message to ``to``; returns its summary. Idempotent on ``client_ref``.

        ``attachments``: the references to sign into the envelope (``{sha256, name,
        content_type, size}``, checked by ``services/attachments.py``, which holds the bytes).
        """
        if type_ not in OPERATOR_TYPES:
            raise ValidationError(f"messages of type {type_!r} cannot be sent directly")
        if body is None:
            body = {"text": text}
        body = check_body(type_, body)
        precedence = _precedence(precedence)
        lang = lang or self.identity.lang
        if lang not in ("en", "ru"):
            raise ValidationError(f"lang must be 'en' or 'ru', not {lang!r}")
        item = _Send(to, type_, body, precedence, lang, user, client_ref, attachments or None)
        self._commits.submit(item, self._write_sends)
        if item.error is not None:
            raise item.error
        assert item.result is not None  # set by the group's writer
        return item.result

    def _write_sends(self, items: list[_Send]) -> None:
        """Store a group of sends in one transaction (one commit: see :class:`GroupCommit`).

        Each send gets its own answer: a send refused before it writes (an unknown peer)
        leaves the others in the group. Should the transaction fail otherwise, each send
        is tried again alone, so that only the one at fault fails — except when the
        database gave up or went away (``Busy``, ``DatabaseUnavailable``): then the commit
        may even have landed unseen, and signing the sends again would queue each twice;
        every caller hears the error and sends again with its ``client_ref``.
        """
        try:
            self._write_group(items)
        except Busy as exc:  # DatabaseUnavailable is a Busy
            for item in items:
                item.result, item.error = None, exc
        except Exception as exc:
            if len(items) == 1:
                items[0].result, items[0].error = None, exc
            else:
                for item in items:
                    try:
                        self._write_group([item])
                    except Exception as alone:
                        item.result, item.error = None, alone
        queued = {item.to for item in items if item.error is None}
        for peer in sorted(queued):
            self.on_queued(peer)

    def _write_group(self, items: list[_Send]) -> None:
        """Write ``items`` in one transaction; their results (or refusals) are set only
        once it has committed: an attempt rolled back leaves no answer behind."""
        answers: dict[int, tuple[dict[str, Any] | None, Exception | None]] = {}

        def work(conn: Connection) -> None:
            answers.clear()  # a retried attempt starts afresh
            # The log's row is locked first (by the transaction itself: storage/db.py);
            # then the channels, by name, as every transaction that takes several.
            targets = sorted({item.to for item in items})
            for peer in targets if len(targets) > 1 else ():
                if peers.is_pinned(conn, peer):
                    store.lock_channel(conn, peer, store.OUT)
            with log.batch(conn):
                for index, item in enumerate(items):
                    try:
                        answers[index] = (self._send_one(conn, item), None)
                    except NotFound as exc:  # refused before it wrote anything
                        answers[index] = (None, exc)

        # retried whole on a deadlock or busy database: the messages are signed afresh
        self.db.transaction(work)
        for index, item in enumerate(items):
            item.result, item.error = answers[index]

    def _send_one(self, conn: Connection, item: _Send) -> dict[str, Any]:
        if item.client_ref is not None:  # idempotent per user (see store.ref_key)
            existing = store.by_client_ref(conn, item.user, item.client_ref)
            if existing is not None:
                return self.summary(existing)
        row, envelope = self._enqueue(
            conn,
            to=item.to,
            type_=item.type_,
            body=item.body,
            precedence=item.precedence,
            lang=item.lang,
            user=item.user,
            client_ref=item.client_ref,
            attachments=item.attachments,
        )
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
        approver: tuple[str, ApprovalBasis] | None = None,
    ) -> str:
        """Sign the next envelope in the channel to ``to`` and store it (caller's transaction).

        A type a person acknowledges carries its deadline, ``ack_by``: this node's
        allowance for the precedence from ``created``, unless the caller names another
        (an escalation carries its own rung's). The envelope names ``user`` as its sender
        and ``approver`` (a user and why: see :func:`officers`) as its approver.

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
                approver=approver,
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
        approver: tuple[str, ApprovalBasis] | None = None,
        attachments: list[dict[str, Any]] | None = None,
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
        unsigned |= officers(conn, user, approver, client_ref)  # absent when none
        if attachments:  # absent, never empty: see ``Envelope.wire``
            unsigned["attachments"] = attachments
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
            due_at=None if type_ in NO_ACK_TYPES else ack_by,  # see services/line/deadlines.py
        )
        store.insert_message(conn, **row)
        if attachments:
            self.on_attach(conn, envelope.id, wire_obj["attachments"])
        store.advance_channel(conn, to, store.OUT, envelope.seq, digest, now)
        store.add_event(conn, envelope.id, now, "created", by=user, seq=envelope.seq, hash=digest)
        log.append(conn, "envelope_out", envelope.id, wire, now)
        return row, wire_obj

    def send_many(self, items: list[dict[str, Any]], *, user: str) -> list[dict[str, Any]]:
        """Queue many messages in ONE transaction (one commit); returns their summaries in
        the order given.

        Each item is what :meth:`send` takes (``to``, ``text`` or ``body``, ``type_``,
        ``precedence``, ``lang``, ``client_ref``) and becomes its own signed, chained
        envelope through :meth:`enqueue`, exactly as if sent alone; an item whose
        ``client_ref`` the user already used (earlier, or earlier in this batch) gives the
        message already queued and queues nothing. All or nothing: every item is checked
        before anything is written, and an item refused (bad body, unknown peer) refuses
        the whole batch with a :class:`ValidationError` or :class:`NotFound` naming its
        index (``context.item``), so a client can fix it and send the same batch again.
        The two-person rule for FLASH is the caller's to apply, as for :meth:`send`.
        """
        if not items:
            raise ValidationError("a batch needs at least one message", field="messages")
        limit = self.settings.max_batch_messages
        if len(items) > limit:
            raise ValidationError(
                f"a batch may hold at most {limit} messages, not {len(items)}",
                hint="split it, or raise max_batch_messages",
                field="messages",
            )
        checked = []
        for index, item in enumerate(items):
            with _item(index):
                type_ = item.get("type_", "text")
                if type_ not in OPERATOR_TYPES:
                    raise ValidationError(f"messages of type {type_!r} cannot be sent directly")
                body = item.get("body")
                body = check_body(type_, {"text": item.get("text")} if body is None else body)
                lang = item.get("lang") or self.identity.lang
                if lang not in ("en", "ru"):
                    raise ValidationError(f"lang must be 'en' or 'ru', not {lang!r}")
                precedence = _precedence(item.get("precedence", "ROUTINE"))
                checked.append((str(item["to"]), type_, body, precedence, lang, item))
        first: dict[str, int] = {}
        for index, (to, *_rest) in enumerate(checked):
            first.setdefault(to, index)

        def work(conn: Connection) -> list[dict[str, Any] | None]:
            ids: list[str] = []
            # After the log's row (locked first by the transaction: storage/db.py), every
            # channel the batch writes, in the order of the peers' names.
            for to in sorted(first):
                with _item(first[to]):
                    if peers.get(conn, to) is None:
                        raise NotFound(
                            f"no peer {to!r} is pinned on this node",
                            hint="import the peer's card with `hotline peer add CARD_FILE`",
                        )
                store.lock_channel(conn, to, store.OUT)
            with log.batch(conn):
                self._write_many(conn, checked, ids, user)
            return [store.get(conn, message_id) for message_id in ids]

        # retried whole on a deadlock or busy database: the messages are signed afresh
        rows = self.db.transaction(work)
        for peer in first:
            self.on_queued(peer)
        return [self.summary(row) for row in rows if row is not None]

    def _write_many(self, conn: Connection, checked: list[Any], ids: list[str], user: str) -> None:
        """The writes of :meth:`send_many`, in its transaction (ids appended to ``ids``)."""
        for index, (to, type_, body, precedence, lang, item) in enumerate(checked):
            client_ref = item.get("client_ref")
            with _item(index):
                if client_ref is not None:  # idempotent per user, as in ``send``
                    existing = store.by_client_ref(conn, user, client_ref)
                    if existing is not None:
                        ids.append(existing["id"])
                        continue
                ids.append(
                    self.enqueue(
                        conn,
                        to=to,
                        type_=type_,
                        body=body,
                        precedence=precedence,
                        lang=lang,
                        user=user,
                        client_ref=client_ref,
                    )
                )

    # -- acknowledging ---------------------------------------------------------------------

    def acknowledge(self, message_id: str, user: str) -> dict[str, Any]:
        """Record that ``user`` has read an inbound message and tell its sender, signed.

        The first acknowledgement to commit wins: one that finds, when it records itself,
        that another (a concurrent request, another process) got there first is rolled
        back whole — its ack envelope too — and answers with the first one's record, so
        the peer is told once and both sides name the same officer.
        """

        def work(conn: Connection) -> dict[str, Any]:
            row = store.get(conn, message_id)
            if row is None or row["direction"] != store.IN:
                raise NotFound(f"no received message {message_id!r}")
            if row["type"] == "ack":
                raise Conflict("acknowledgements are not themselves acknowledged")
            if row["acked_at"] is not None:
                return row
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
            if not store.acknowledge_received(
                conn, message_id, at=now, by=user, ack_message_id=ack_id
            ):
                # another acknowledgement committed first: undo this one, ack envelope too
                raise Conflict(f"message {message_id} was acknowledged meanwhile")
            store.add_event(conn, message_id, now, "acknowledged", by=user, ack_message=ack_id)
            _settle_related(conn, row, now, user)
            after = store.get(conn, message_id)
            assert after is not None  # read above, in this transaction
            return after

        try:
            row = self.db.transaction(work)  # retried whole on a deadlock or busy database
        except Conflict:
            with self.db.read() as conn:
                first = store.get(conn, message_id)
            if first is None or first["acked_at"] is None:
                raise  # not the race above: an ack itself, say
            return self.summary(first)
        self.on_queued(row["peer"])  # after the commit, once
        return self.summary(row)

    # -- reading ---------------------------------------------------------------------------

    def listing(self, direction: str, *, peer: str | None = None, limit: int = 200) -> list[Any]:
        with self.db.read() as conn:
            rows = [self.summary(r) for r in store.listing(conn, direction, peer=peer, limit=limit)]
            linkstate.delivery_states(conn, rows)  # queued, retrying since …, or receipted
            return rows

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
            linkstate.delivery_states(conn, [out])
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


@contextmanager
def _item(index: int) -> Iterator[None]:
    """Name the batch item a refusal is about (its index from 0), in the message and as
    ``context.item``."""
    try:
        yield
    except (ValidationError, NotFound) as exc:
        context = dict(exc.context, item=index)
        raise type(exc)(f"item {index}: {exc.message}", hint=exc.hint, **context) from exc


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


@dataclass
class _Send:
    """One caller's send, checked, waiting for its group's commit."""

    to: str
    type_: str
    body: dict[str, Any]
    precedence: str
    lang: str
    user: str
    client_ref: str | None
    attachments: list[dict[str, Any]] | None = None
    result: dict[str, Any] | None = None
    error: Exception | None = None
    #: Set when the send is done (``result`` or ``error``), or when it is to lead a group.
    wake: threading.Event = field(default_factory=threading.Event)
    done: bool = False


T = TypeVar("T", bound=_Send)


class GroupCommit(Generic[T]):
    """Concurrent writes gathered into one transaction by one writer: one commit (one
    ``fsync``, one read and write of the log's state) for all of them.

    A leader and followers: the first caller to find no writer becomes it, takes every
    write queued (its own among them, at most ``max_group``), writes them in one
    transaction, and wakes their callers; then it hands the writer's place to the
    first caller still queued, if any. A caller alone is its own group at once: nothing
    waits for company, so a lone send is as fast as before, and concurrent sends share
    the commit they would otherwise queue for one after the other.
    """

    def __init__(self, max_group: int = 64) -> None:
        self.max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[T] = []
        self._writing = False

    def submit(self, item: T, write: Callable[[list[T]], None]) -> None:
        """Queue ``item``; return once it is written (its ``result`` or ``error`` set)."""
        with self._lock:
            self._queue.append(item)
            lead = not self._writing
            self._writing = True
        if not lead:
            item.wake.wait()  # done by a leader, or made the leader
            if item.done:
                return
        self._lead(write)

    def _lead(self, write: Callable[[list[T]], None]) -> None:
        with self._lock:
            group = self._queue[: self.max_group]
            del self._queue[: self.max_group]
        try:
            write(group)
        except BaseException as exc:  # the writer failed as a whole: each caller hears it
            for item in group:  # (an answer set before the failure was never committed)
                item.result = None
                item.error = exc if isinstance(exc, Exception) else RuntimeError(str(exc))
        finally:
            for item in group:
                item.done = True
                item.wake.set()
            with self._lock:
                if self._queue:
                    self._queue[0].wake.set()  # the next writer (not done: it leads)
                else:
                    self._writing = False

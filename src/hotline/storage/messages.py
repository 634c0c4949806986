"""Messages in and out, their channels' hash-chain heads, and their trails.

The state of a message
----------------------

One state machine, and each move in it is one SQL ``UPDATE`` guarded by the row's
current columns, so that two writers (the courier recording a receipt, the receiver
storing the peer's acknowledgement) can never undo each other and nothing goes back:

======  ===========  =============================================  ==================
side    from         event (function)                               to
======  ===========  =============================================  ==================
out     (none)       sent (``insert_message``)                      ``queued``
out     queued       an attempt failed or was refused               ``sent``
                     (:func:`record_attempt_failed`)
out     queued/sent  verified receipt stored (:func:`record_receipt`)  ``delivered``, or
                                                                    ``acknowledged``
                                                                    if ``acked_at`` set
out     delivered    the peer's ack (:func:`mark_acknowledged`)     ``acknowledged``
out     queued/sent  the peer's ack before the receipt (answer      unchanged, but
                     lost, a node killed) (:func:`mark_acknowledged`)  ``acked_at`` set
in      (none)       stored and receipted (``receive``)             ``received``
in      received     an officer acknowledges (:func:`acknowledge_received`)  ``acknowledged``
======  ===========  =============================================  ==================

So ``acknowledged`` always means a stored, verified receipt (``receipt``,
``delivered_at``, a "delivered" trail step and a ``receipt_in`` log entry) *and* an
acknowledgement; ``delivered`` means the receipt without the acknowledgement. An
outbound message is offered to its peer for as long as it has no receipt
(:func:`pending_out`), whatever else is known about it: the receiver answers a message
it already holds with the receipt it stored, so the receipt always ends up here.
Invariant for outbound rows: state in (queued, sent) exactly when ``receipt`` is null.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update

from hotline.domain.line import GENESIS
from hotline.errors import Conflict, ValidationError
from hotline.storage.tables.core import channels, events, messages

OUT, IN = "out", "in"

# Built once (see storage/log.py): these run several times for every message.
_CHANNEL = select(channels.c.last_seq, channels.c.last_hash, channels.c.last_created).where(
    channels.c.peer == bindparam("p"), channels.c.direction == bindparam("d")
)
_CHANNEL_LOCKED = _CHANNEL.with_for_update()
_ADVANCE = (
    update(channels)
    .where(channels.c.peer == bindparam("p"), channels.c.direction == bindparam("d"))
    .values(
        last_seq=bindparam("new_seq"),
        last_hash=bindparam("new_hash"),
        last_created=bindparam("new_created"),
    )
)
_INSERT_EVENT = insert(events)
_INSERT_MESSAGE = insert(messages)
_GET = select(messages).where(messages.c.id == bindparam("message_id"))
_PENDING_OUT = (
    select(messages)
    .where(
        messages.c.direction == OUT,
        messages.c.peer == bindparam("peer"),
        messages.c.state.in_(("queued", "sent")),
        messages.c.receipt.is_(None),
    )
    .order_by(messages.c.seq)
    .limit(bindparam("limit"))
)
_BY_CLIENT_REF = select(messages).where(messages.c.client_ref == bindparam("key"))
_KNOWN = select(messages.c.id, messages.c.direction, messages.c.hash, messages.c.receipt).where(
    messages.c.id.in_(bindparam("ids", expanding=True))
)


@dataclass(frozen=True)
class ChannelHead:
    last_seq: int
    last_hash: str
    last_created: str | None


def lock_channel(conn: Connection, peer: str, direction: str) -> ChannelHead:
    """Read a channel's head, locking its row (PostgreSQL) until the transaction ends."""
    stmt = _CHANNEL if conn.dialect.name == "sqlite" else _CHANNEL_LOCKED
    row = conn.execute(stmt, {"p": peer, "d": direction}).first()
    if row is None:
        conn.execute(
            insert(channels).values(peer=peer, direction=direction, last_seq=0, last_hash=GENESIS)
        )
        if conn.dialect.name != "sqlite":
            return lock_channel(conn, peer, direction)
        return ChannelHead(0, GENESIS, None)
    return ChannelHead(int(row[0]), row[1], row[2])


def advance_channel(
    conn: Connection, peer: str, direction: str, seq: int, hash_: str, created: str
) -> None:
    conn.execute(
        _ADVANCE,
        {"p": peer, "d": direction, "new_seq": seq, "new_hash": hash_, "new_created": created},
    )


#: Columns a new message may leave out, and what they then hold.
_MESSAGE_DEFAULTS: dict[str, Any] = {
    "attempts": 0,
    "client_ref": None,
    "created_by": None,
    "received_at": None,
    "delivered_at": None,
    "receipt": None,
    "acked_at": None,
    "acked_by": None,
    "ack_message_id": None,
    "due_at": None,
}


def message_row(**values: Any) -> dict[str, Any]:
    """A new message's whole row: ``values`` and the defaults of the columns left out
    (what :func:`get` would read back once it is inserted)."""
    return {**_MESSAGE_DEFAULTS, **values}


def insert_message(conn: Connection, **values: Any) -> None:
    conn.execute(_INSERT_MESSAGE, message_row(**values))


def get(conn: Connection, message_id: str) -> dict[str, Any] | None:
    row = conn.execute(_GET, {"message_id": message_id}).mappings().first()
    return None if row is None else dict(row)


def known(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[str, str, str | None]]:
    """{id: (direction, hash, receipt)} of the messages already stored under ``ids``: one
    read for a whole received batch instead of one per envelope."""
    if not ids:
        return {}
    rows = conn.execute(_KNOWN, {"ids": sorted(set(ids))})
    return {mid: (direction, digest, receipt) for mid, direction, digest, receipt in rows}


def resolve(conn: Connection, given: str) -> str | None:
    """The full id of the one message whose id starts with ``given`` (listings print 8
    characters); a whole id as it is (whoever reads it next says if it is unknown); None
    when no message starts so.

    Raises ``Conflict`` when the prefix names more than one message."""
    given = given.strip().lower()
    if len(given) == 36:
        return given
    if len(given) < 6 or any(c not in "0123456789abcdef-" for c in given):
        raise ValidationError(
            f"{given!r} is not a message id: give the whole id or at least its first 6 "
            "characters, as the listings print them",
            field="message_id",
        )
    query = select(messages.c.id).where(messages.c.id.startswith(given, autoescape=True))
    found = [row[0] for row in conn.execute(query.limit(5))]
    if len(found) > 1:
        raise Conflict(
            f"{given!r} is the start of more than one message id: {', '.join(found)}"
            + (", …" if len(found) == 5 else ""),
            hint="give more characters of the id",
        )
    return found[0] if found else None


class InternalRef(str):
    """A client reference the node makes itself (``held:<id>``: an approved held message),
    never one a user gave: it is stored as it is, where no user's reference can be."""

    __slots__ = ()


def ref_key(user: str | None, client_ref: str) -> str:
    """How a client reference is stored: the node's own (:class:`InternalRef`) as it is; a
    user's as ``u:`` and the SHA-256 of their name and the reference, so that one user's
    reference is theirs alone (the same reference from two users is two messages) and no
    value a user sends can ever equal the node's own (``held:<id>`` from a user is stored
    as ``u:…``)."""
    if isinstance(client_ref, InternalRef):
        return str(client_ref)
    scoped = f"{user or ''}\n{client_ref}".encode()
    return "u:" + hashlib.sha256(scoped).hexdigest()


def by_client_ref(conn: Connection, user: str | None, client_ref: str) -> dict[str, Any] | None:
    """The message ``user`` sent earlier with ``client_ref`` (see :func:`ref_key`)."""
    key = ref_key(user, client_ref)
    first = conn.execute(_BY_CLIENT_REF, {"key": key}).mappings().first()
    return None if first is None else dict(first)


def update_message(conn: Connection, message_id: str, **values: Any) -> None:
    conn.execute(update(messages).where(messages.c.id == message_id).values(**values))


def mark_acknowledged(
    conn: Connection,
    row: dict[str, Any],
    at: str,
    *,
    by: str,
    acked_at: str,
    ack_message_id: str | None = None,
    **detail: Any,
) -> bool:
    """Record an acknowledgement of ``row`` in its trail; the first one is also kept in the
    row (``acked_at``, ``acked_by``, ``ack_message_id``). Returns whether it was the first.

    The state becomes ``acknowledged`` only if the message's receipt is stored: an ack that
    overtakes the receipt (the sender lost the receiver's answer) leaves an outbound
    message ``queued``/``sent``, still offered, and :func:`record_receipt` finishes it.
    One guarded statement, so two acks, or an ack and a receipt, cannot undo each other;
    a later ack (one arriving after another) is kept in the trail only.
    """
    first = conn.execute(
        update(messages)
        .where(messages.c.id == row["id"], messages.c.acked_at.is_(None))
        .values(
            state=case((messages.c.receipt.is_not(None), "acknowledged"), else_=messages.c.state),
            acked_at=acked_at,
            acked_by=by,
            ack_message_id=ack_message_id,
        )
    ).rowcount
    add_event(conn, row["id"], at, "acknowledged", by=by, acked_at=acked_at, **detail)
    return bool(first)


def acknowledge_received(
    conn: Connection, message_id: str, *, at: str, by: str, ack_message_id: str
) -> bool:
    """An officer acknowledges a received message: ``received`` → ``acknowledged``, only if
    nobody did before (returns False then, changing nothing: the caller rolls back)."""
    done = conn.execute(
        update(messages)
        .where(
            messages.c.id == message_id,
            messages.c.direction == IN,
            messages.c.acked_at.is_(None),
        )
        .values(state="acknowledged", acked_at=at, acked_by=by, ack_message_id=ack_message_id)
    ).rowcount
    return bool(done)


def record_receipt(conn: Connection, message_id: str, *, receipt: str, delivered_at: str) -> bool:
    """Store the verified receipt of an outbound message, once; returns whether it was
    stored now (False: it already had one, from another round, so nothing is recorded
    twice).

    The new state is decided by the row as it is in the database, not as the caller read
    it: ``acknowledged`` if the peer's acknowledgement is already here, else ``delivered``.
    """
    stored = conn.execute(
        update(messages)
        .where(
            messages.c.id == message_id,
            messages.c.direction == OUT,
            messages.c.receipt.is_(None),
        )
        .values(
            state=case((messages.c.acked_at.is_not(None), "acknowledged"), else_="delivered"),
            receipt=receipt,
            delivered_at=delivered_at,
            attempts=messages.c.attempts + 1,
        )
    ).rowcount
    return bool(stored)


def record_attempt_failed(conn: Connection, message_id: str) -> bool:
    """Count a failed attempt for an outbound message still without a receipt
    (``queued`` becomes ``sent``; ``sent`` stays); returns False, changing nothing, if it
    has its receipt already (a failure reported late must not move it back)."""
    done = conn.execute(
        update(messages)
        .where(
            messages.c.id == message_id,
            messages.c.direction == OUT,
            messages.c.receipt.is_(None),
        )
        .values(
            state=case((messages.c.state == "queued", "sent"), else_=messages.c.state),
            attempts=messages.c.attempts + 1,
        )
    ).rowcount
    return bool(done)


def pending_out(conn: Connection, peer: str, limit: int) -> list[dict[str, Any]]:
    """The oldest outbound messages to ``peer`` without a receipt, in channel order,
    whatever else is known of them (an acknowledgement may have overtaken the receipt).

    ``state in (queued, sent)`` keeps the query on ``ix_messages_pending``; it is the same
    set as ``receipt IS NULL`` (see the module's table: only a stored receipt moves an
    outbound message out of those states; migration ``0006_states`` re-opened the rows
    older versions had marked acknowledged without one)."""
    rows = conn.execute(_PENDING_OUT, {"peer": peer, "limit": limit}).mappings()
    return [dict(r) for r in rows]


def listing(
    conn: Connection, direction: str, *, peer: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    stmt = select(messages).where(messages.c.direction == direction)
    if peer:
        stmt = stmt.where(messages.c.peer == peer)
    stmt = stmt.order_by(messages.c.created.desc(), messages.c.seq.desc()).limit(limit)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def counts_by_state(conn: Connection) -> dict[str, dict[str, int]]:
    rows = conn.execute(
        select(messages.c.direction, messages.c.state, func.count()).group_by(
            messages.c.direction, messages.c.state
        )
    )
    out: dict[str, dict[str, int]] = {OUT: {}, IN: {}}
    for direction, state, count in rows:
        out[direction][state] = int(count)
    return out


def add_event(conn: Connection, message_id: str, at: str, kind: str, **detail: Any) -> None:
    conn.execute(
        _INSERT_EVENT,
        {
            "message_id": message_id,
            "at": at,
            "kind": kind,
            "detail": json.dumps(detail, ensure_ascii=False),
        },
    )


def trail(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(events).where(events.c.message_id == message_id).order_by(events.c.id)
    ).mappings()
    return [{"at": r["at"], "kind": r["kind"], "detail": json.loads(r["detail"])} for r in rows]


def of_types(conn: Connection, types: Sequence[str]) -> list[tuple[str, str, str, str, str]]:
    """(id, direction, peer, created, envelope) of every message of ``types``, oldest first."""
    rows = conn.execute(
        select(
            messages.c.id,
            messages.c.direction,
            messages.c.peer,
            messages.c.created,
            messages.c.envelope,
        )
        .where(messages.c.type.in_(types))
        .order_by(messages.c.created, messages.c.seq)
    )
    return [(mid, d, peer, created, env) for mid, d, peer, created, env in rows]


def ids_of_type(conn: Connection, ids: Iterable[str], type_: str) -> set[str]:
    """Which of ``ids`` are messages of ``type_``."""
    query = select(messages.c.id).where(messages.c.id.in_(sorted(ids)), messages.c.type == type_)
    return {mid for (mid,) in conn.execute(query)}


def origin(conn: Connection, message_id: str) -> tuple[str, str] | None:
    """(direction, peer) of a message; None if it is unknown."""
    row = conn.execute(
        select(messages.c.direction, messages.c.peer).where(messages.c.id == message_id)
    ).first()
    return None if row is None else (row[0], row[1])


def open_outbound(
    conn: Connection, states: Sequence[str], skip_types: Iterable[str]
) -> list[dict[str, Any]]:
    """(id, peer, precedence, created, envelope) of outbound messages in ``states``, not
    acknowledged (an ack may overtake the receipt), whose type is not in ``skip_types``:
    those a deadline may overtake."""
    rows = conn.execute(
        select(
            messages.c.id,
            messages.c.peer,
            messages.c.precedence,
            messages.c.created,
            messages.c.envelope,
        ).where(
            messages.c.direction == OUT,
            messages.c.state.in_(states),
            messages.c.acked_at.is_(None),
            messages.c.type.not_in(sorted(skip_types)),
        )
    ).mappings()
    return [dict(r) for r in rows]


def unacknowledged_counts(
    conn: Connection, skip_types: Iterable[str]
) -> dict[tuple[str, str], int]:
    """{(direction, precedence): messages not acknowledged}, types in ``skip_types`` aside;
    only the pairs that have some."""
    rows = conn.execute(
        select(messages.c.direction, messages.c.precedence, func.count())
        .where(messages.c.acked_at.is_(None), messages.c.type.not_in(sorted(skip_types)))
        .group_by(messages.c.direction, messages.c.precedence)
    )
    return {(direction, precedence): int(count) for direction, precedence, count in rows}


# -- when the deadline service next looks at a message (``due_at``) -------------------------

_DUE = (
    select(
        messages.c.id,
        messages.c.peer,
        messages.c.precedence,
        messages.c.created,
        messages.c.envelope,
    )
    .where(messages.c.due_at <= bindparam("now"))
    .order_by(messages.c.due_at)
)
_SET_DUE = update(messages).where(messages.c.id == bindparam("i")).values(due_at=bindparam("d"))


def due_outbound(conn: Connection, now: str) -> list[dict[str, Any]]:
    """(id, peer, precedence, created, envelope) of the messages whose ``due_at`` has come,
    read through its index: what a deadline tick must look at, earliest first."""
    return [dict(r) for r in conn.execute(_DUE, {"now": now}).mappings()]


def set_due(conn: Connection, message_id: str, due_at: str | None) -> None:
    """When the deadline service must next look at ``message_id`` (None: never again)."""
    conn.execute(_SET_DUE, {"i": message_id, "d": due_at})


def clear_due(conn: Connection, message_id: str) -> None:
    """The deadline service need not look at ``message_id`` again (it is acknowledged)."""
    set_due(conn, message_id, None)


def inbound_key_changes(conn: Connection, peer: str) -> list[tuple[int, str]]:
    """(seq, envelope) of every ``key_change`` envelope stored from ``peer``, in channel
    order: where in its channel each of its key changes stands."""
    rows = conn.execute(
        select(messages.c.seq, messages.c.envelope)
        .where(
            messages.c.type == "key_change",
            messages.c.direction == IN,
            messages.c.peer == peer,
        )
        .order_by(messages.c.seq)
    )
    return [(int(seq), env) for seq, env in rows]


def last_inbound_before(conn: Connection, peer: str, seq: int) -> str | None:
    """The ``created`` time of the last envelope stored from ``peer`` before ``seq``."""
    row = conn.execute(
        select(messages.c.created)
        .where(messages.c.direction == IN, messages.c.peer == peer, messages.c.seq < seq)
        .order_by(messages.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else str(row[0])


def receipts_from(conn: Connection, peer: str) -> list[str]:
    """The stored receipts ``peer`` signed for this node's outbound messages."""
    rows = conn.execute(
        select(messages.c.receipt).where(
            messages.c.direction == OUT,
            messages.c.peer == peer,
            messages.c.receipt.is_not(None),
        )
    )
    return [str(receipt) for (receipt,) in rows]


def ids_created_between(
    conn: Connection, start: str, end: str, exclude_types: Iterable[str] = ()
) -> list[str]:
    """Ids of the messages (both directions) created from ``start`` to ``end`` inclusive,
    oldest first; times are RFC 3339 UTC text as stored, so they compare as text."""
    query = (
        select(messages.c.id)
        .where(messages.c.created >= start, messages.c.created <= end)
        .order_by(messages.c.created, messages.c.direction, messages.c.seq)
    )
    skipped = tuple(exclude_types)
    if skipped:
        query = query.where(messages.c.type.not_in(skipped))
    return [mid for (mid,) in conn.execute(query)]

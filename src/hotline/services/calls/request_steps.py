"""How each step of a call request changes the stored request, the same on both nodes.

The sender applies a step in the transaction that queues its envelope, the receiver in the
one that stores it (see :mod:`hotline.services.calls.requests`); both call these functions,
so the two nodes keep the same state and the same timeline.
"""

from __future__ import annotations

from typing import Any

from hotline.domain.line import Envelope, Principal
from hotline.errors import Conflict, NotFound
from hotline.services.calls import common
from hotline.storage import calls as store
from hotline.storage import messages
from hotline.storage.db import Connection

ANSWER_EVENTS = {"accept": "accepted", "decline": "declined", "propose": "proposed"}


def store_request(
    conn: Connection,
    body: dict[str, Any],
    *,
    peer: str,
    sender: str,
    receiver: str,
    counterpart: dict[str, Any],
    precedence: str,
    at: str,
    message_id: str,
    user: str | None = None,
    internal_note: str | None = None,
) -> None:
    requester = Principal.model_validate(body["requester"])
    store.insert_request(
        conn,
        id=body["request_id"],
        peer=peer,
        requester_party=sender,
        requester=requester.id,
        counterpart_party=receiver,
        counterpart=body["counterpart"],
        principals={"requester": requester.wire(), "counterpart": counterpart},
        topics=body["topics"],
        message=body.get("message"),
        precedence=precedence,
        slots=body["slots"],
        answer_by=body["answer_by"],
        awaiting=receiver,
        state="requested",
        requested_at=at,
        updated_at=at,
        created_by=user,
        internal_note=internal_note,
        message_id=message_id,
    )
    detail = {"topics": body["topics"], "slots": body["slots"], "answer_by": body["answer_by"]}
    store.add_event(
        conn,
        request_id=body["request_id"],
        at=at,
        kind="requested",
        party=sender,
        detail=detail,
        user=user,
        message_id=message_id,
    )


def apply_answer(
    conn: Connection,
    row: dict[str, Any],
    body: dict[str, Any],
    *,
    party: str,
    at: str,
    message_id: str,
    user: str | None = None,
) -> None:
    answer = body["answer"]
    changes: dict[str, Any] = {"updated_at": at}
    if answer == "accept":
        changes |= {"state": "accepted", "accepted_slot": body["slot"], "awaiting": None}
    elif answer == "decline":
        changes |= {"state": "declined", "reason": body["reason"], "awaiting": None}
    else:
        changes |= {
            "state": "proposed",
            "slots": body["slots"],
            "answer_by": body["answer_by"],
            "awaiting": common.other_party(row, party),
        }
    store.update_request(conn, row["id"], **changes)
    add_answer_event(conn, body, party, at, user, message_id)


def add_answer_event(
    conn: Connection,
    body: dict[str, Any],
    party: str,
    at: str,
    user: str | None,
    message_id: str,
) -> None:
    detail = {k: v for k, v in body.items() if k not in ("request_id", "answer") and v is not None}
    store.add_event(
        conn,
        request_id=body["request_id"],
        at=at,
        kind=ANSWER_EVENTS[body["answer"]],
        party=party,
        detail=detail,
        user=user,
        message_id=message_id,
    )


def apply_withdrawal(
    conn: Connection,
    row: dict[str, Any],
    body: dict[str, Any],
    *,
    party: str,
    at: str,
    message_id: str,
    user: str | None = None,
) -> None:
    if row["state"] != "held":  # a held call crossed by a withdrawal stays held
        store.update_request(
            conn,
            row["id"],
            state="withdrawn",
            reason=body.get("reason"),
            awaiting=None,
            updated_at=at,
        )
    detail = {"reason": body["reason"]} if body.get("reason") else {}
    store.add_event(
        conn,
        request_id=row["id"],
        at=at,
        kind="withdrawn",
        party=party,
        detail=detail,
        user=user,
        message_id=message_id,
    )


def take_back_early_unanswered(conn: Connection, row: dict[str, Any], envelope: Envelope) -> None:
    """An answer or withdrawal made before the deadline undoes an early ``unanswered``."""
    if row["state"] != "unanswered" or not common.before(envelope.created, row["answer_by"]):
        return
    store.delete_events(conn, row["id"], "unanswered")
    previous = "requested" if row["awaiting"] == row["counterpart_party"] else "proposed"
    store.update_request(conn, row["id"], state=previous)
    row["state"] = previous


# -- small helpers --------------------------------------------------------------------------


def held_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The arguments of ``request`` a held request keeps (the peer and precedence are the
    held row's own)."""
    return {
        "principal": payload.get("principal"),
        "counterpart": payload.get("counterpart"),
        "topics": payload.get("topics"),
        "slots": payload.get("slots"),
        "answer_by": payload.get("answer_by"),
        "message": payload.get("message"),
        "internal_note": payload.get("internal_note"),
    }


def must(conn: Connection, request_id: str, *, lock: bool = False) -> dict[str, Any]:
    row = store.get_request(conn, request_id, lock=lock)
    if row is None:
        raise NotFound(f"no call request {request_id!r}", hint="see `hotline calls list`")
    return row


def by_client_ref(conn: Connection, user: str, client_ref: str | None) -> dict[str, Any] | None:
    """The request an earlier try by ``user`` with this idempotency key made, if any."""
    if client_ref is None:
        return None
    done = messages.by_client_ref(conn, user, client_ref)
    if done is None:
        return None
    row = store.request_by_message(conn, done["id"])
    if row is None:
        raise Conflict(
            f"client_ref {client_ref!r} was used for message {done['id']}, not a call request",
            hint="use a new client_ref",
        )
    return row


def known(conn: Connection, request_id: str, sender: str) -> dict[str, Any]:
    row = store.get_request(conn, request_id, lock=True)
    if row is None:
        raise common.refuse(f"no call request {request_id!r} on this node")
    if sender not in (row["requester_party"], row["counterpart_party"]):
        raise common.refuse(f"{sender} is not a party to call request {request_id}")
    return row


def slot_text(slot: dict[str, Any]) -> str:
    return f"{slot['start']}/{slot['minutes']}"


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A request as the API shows it (local fields included: the API is this node's)."""
    principals = row["principals"]
    return {
        "id": row["id"],
        "peer": row["peer"],
        "state": row["state"],
        "requester": {"party": row["requester_party"], **principals["requester"]},
        "counterpart": {"party": row["counterpart_party"], **principals["counterpart"]},
        "topics": row["topics"],
        "message": row["message"],
        "precedence": row["precedence"],
        "slots": row["slots"],
        "answer_by": row["answer_by"],
        "awaiting": row["awaiting"],
        "accepted_slot": row["accepted_slot"],
        "reason": row["reason"],
        "requested_at": row["requested_at"],
        "updated_at": row["updated_at"],
        "created_by": row["created_by"],
        "internal_note": row["internal_note"],
        "message_id": row["message_id"],
    }


def event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": row["at"],
        "kind": row["kind"],
        "party": row["party"],
        "detail": row["detail"],
        "user": row["user"],
        "message_id": row["message_id"],
    }

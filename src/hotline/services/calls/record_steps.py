"""How call records, privacy and readouts change the stored state, the same on both nodes.

Both the node that records a call (or writes a readout) and its peer, on receipt, apply
the step with these functions (see :mod:`hotline.services.calls.records`).
"""

from __future__ import annotations

from typing import Any

from hotline.domain.bodies import check_body
from hotline.errors import NotFound, ValidationError
from hotline.services.calls import common
from hotline.services.calls.common import READOUT_REJECTED
from hotline.storage import calls as store
from hotline.storage.db import Connection

VISIBILITIES = ("internal", "shared", "public")


def apply_record(
    conn: Connection,
    row: dict[str, Any],
    body: dict[str, Any],
    *,
    party: str,
    message_id: str,
    user: str | None = None,
) -> None:
    at = common.envelope_created(conn, message_id)
    values = {
        "held_at": body["held_at"],
        "minutes": body["minutes"],
        "participants": body["participants"],
        "interpreters": body["interpreters"],
        "recorded_by_party": party,
        "recorded_by": user,
        "recorded_at": at,
        "message_id": message_id,
    }
    detail = {"held_at": body["held_at"], "minutes": body["minutes"]}
    if store.get_call(conn, row["id"]) is None:
        store.insert_call(conn, id=row["id"], private_parties="", **values)
        store.add_event(
            conn,
            request_id=row["id"],
            at=body["held_at"],
            kind="held",
            party=party,
            detail=detail,
            user=user,
            message_id=message_id,
        )
    else:
        store.update_call(conn, row["id"], **values)
        store.update_events(
            conn,
            row["id"],
            "held",
            at=body["held_at"],
            party=party,
            detail=detail,
            user=user,
            message_id=message_id,
        )
    store.update_request(conn, row["id"], state="held", awaiting=None, updated_at=at)


def apply_privacy(conn: Connection, call_id: str, party: str, private: bool) -> None:
    call = must_call(conn, call_id)
    parties = {p for p in call["private_parties"].split(",") if p}
    parties = parties | {party} if private else parties - {party}
    store.update_call(conn, call_id, private_parties=",".join(sorted(parties)))


# -- small helpers --------------------------------------------------------------------------


def check_visibility(visibility: str) -> None:
    if visibility not in VISIBILITIES:
        raise ValidationError(
            f"unknown visibility {visibility!r}",
            hint="internal, shared or public",
            field="visibility",
        )


def check_readout(conn: Connection, readout_id: str) -> None:
    """Validate the readout as it would travel, before anything is sent or kept."""
    row = must_readout(conn, readout_id)
    check_body(
        "call_readout",
        {
            "readout_id": readout_id,
            "call_id": row["call_id"],
            "visibility": "shared",
            "title": row["title"],
            "text": row["text"],
            "issued_by": row["issued_by"],
            "published_at": row["written_at"],
        },
    )


def must_call(conn: Connection, call_id: str, *, lock: bool = False) -> dict[str, Any]:
    call = store.get_call(conn, call_id, lock=lock)
    if call is None:
        raise NotFound(
            f"no held call {call_id!r}",
            hint="record the call first: `hotline calls record REQUEST_ID`",
        )
    return call


def must_readout(conn: Connection, readout_id: str, *, lock: bool = False) -> dict[str, Any]:
    row = store.get_readout(conn, readout_id, lock=lock)
    if row is None:
        raise NotFound(f"no readout {readout_id!r}")
    return row


def call(row: dict[str, Any]) -> dict[str, Any]:
    parties = [p for p in row["private_parties"].split(",") if p]
    return {
        "id": row["id"],
        "held_at": row["held_at"],
        "minutes": row["minutes"],
        "participants": row["participants"],
        "interpreters": row["interpreters"],
        "recorded_by_party": row["recorded_by_party"],
        "recorded_by": row["recorded_by"],
        "recorded_at": row["recorded_at"],
        "private_requested_by": parties,
        "details_private": len(parties) >= 2,
        "internal_note": row["internal_note"],
        "message_id": row["message_id"],
    }


def rejections(conn: Connection, call_id: str) -> dict[str, list[dict[str, Any]]]:
    """The local rejections of our held public readouts of a call, by readout id."""
    found: dict[str, list[dict[str, Any]]] = {}
    for event in store.events(conn, [call_id]):
        if event["kind"] == READOUT_REJECTED:
            rejection = {
                "by": event["user"],
                "at": event["at"],
                "reason": event["detail"]["reason"],
            }
            found.setdefault(event["detail"]["readout_id"], []).append(rejection)
    return found


def sent_as(row: dict[str, Any]) -> str | None:
    """The visibility the peer holds this readout at (None: it never left this node)."""
    if row["status"] in ("sent", "received"):
        return str(row["visibility"])
    if row["status"] == "awaiting_approval" and row["message_id"] is not None:
        return "shared"  # widened from shared to public: the public version waits
    return None


def readout(
    row: dict[str, Any], rejections: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any]:
    keys = (
        "id",
        "call_id",
        "party",
        "visibility",
        "status",
        "lang",
        "title",
        "text",
        "issued_by",
        "written_by",
        "written_at",
        "approved_by",
        "approved_at",
        "published_at",
        "message_id",
    )
    view = {key: row[key] for key in keys}
    view["sent_as"] = sent_as(row)
    view["rejections"] = (rejections or {}).get(row["id"], [])
    return view

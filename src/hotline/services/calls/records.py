"""Held calls and their readouts, on both nodes.

A call is recorded once it was held (``call_record``: when, how long, participants,
interpreters, who asked for it). Either side may record it; if both do and the records
cross, the requesting side's record stands on both nodes. Internal notes on a call stay in
this node's database and are never put in a body.

Each side writes its own readouts:

- ``internal``: kept on this node, never sent;
- ``shared``: sent to the peer (``call_readout``), not for publication;
- ``public``: sent to the peer and for publication (Markdown export). When the call's
  details are kept private (either side asked, ``call_privacy``; *by mutual agreement*
  once both have), a public readout is held until a second person — a commander who did
  not write it — approves it; only then is it sent. That person may instead reject it,
  with a reason: the readout goes back to what it was (internal, or shared if it had
  already gone out as shared) and the rejection is kept on this node, in the call's
  ``call_events`` as a local ``rejected`` step (no message, never in a timeline).

A readout widened from shared to public stays readable as shared while the public
version awaits approval: ``sent_as`` in its view says what the peer holds.

A call is held no earlier than it was requested and no later than now (on receipt: now
plus the allowed clock skew); a record outside that window is refused on both sides.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hotline.clock import parse_rfc3339
from hotline.domain.bodies import check_body
from hotline.domain.line import Envelope
from hotline.errors import Conflict, Forbidden, NotFound, ValidationError
from hotline.render.i18n import check_lang
from hotline.services.auth import User
from hotline.services.calls import common
from hotline.services.calls import record_steps as steps
from hotline.services.calls.common import APPROVE_ROLES, READOUT_REJECTED, WRITE_ROLES, require
from hotline.services.line.service import Line
from hotline.storage import calls as store
from hotline.storage.db import Connection

_RANK = {v: i for i, v in enumerate(steps.VISIBILITIES)}


class CallRecords:
    """Held calls, the privacy agreement about them, and both sides' readouts."""

    def __init__(self, line: Line) -> None:
        self.line = line
        line.on_receive("call_record", self._received_record)
        line.on_receive("call_privacy", self._received_privacy)
        line.on_receive("call_readout", self._received_readout)

    # -- recording a call -----------------------------------------------------------------

    def record(
        self,
        request_id: str,
        *,
        held_at: str,
        minutes: int,
        participants: list[dict[str, Any]],
        user: User,
        interpreters: list[dict[str, Any]] | None = None,
        private: bool = False,
        internal_note: str | None = None,
    ) -> dict[str, Any]:
        """Record that the accepted call was held; with ``private``, ask to keep it private."""
        require(user, WRITE_ROLES, "record a call")
        me = self.line.identity.party
        held = common.utc(held_at, "held_at")
        if parse_rfc3339(held) > self.line.clock.now():
            raise ValidationError(
                f"held_at {held} is in the future",
                hint="record a call once it has been held, with the time it began (UTC)",
                field="held_at",
            )
        with self.line.db.write() as conn:
            row = store.get_request(conn, request_id, lock=True)
            if row is None:
                raise NotFound(f"no call request {request_id!r}", hint="see `hotline calls list`")
            if row["state"] != "accepted":
                raise Conflict(
                    f"the request is {row['state']}; only an accepted call can be recorded held"
                )
            if common.before(held, row["requested_at"]):
                raise ValidationError(
                    f"held_at {held} is before the call was requested ({row['requested_at']})",
                    hint="give the time the call began (UTC); check the date and the time zone",
                    field="held_at",
                )
            body = {
                "call_id": request_id,
                "requested_by": row["requester_party"],
                "held_at": held,
                "minutes": minutes,
                "participants": participants,
                "interpreters": interpreters or [],
            }
            wire = check_body("call_record", body)
            message_id = self._send(conn, row["peer"], "call_record", wire, user)
            steps.apply_record(conn, row, wire, party=me, message_id=message_id, user=user.name)
            if internal_note is not None:
                store.update_call(conn, request_id, internal_note=internal_note)
            if private:
                self._send_privacy(conn, row["peer"], request_id, True, user)
            view = self._call_view(conn, request_id)
        self.line.on_queued(row["peer"])
        return view

    def set_private(self, call_id: str, private: bool, *, user: User) -> dict[str, Any]:
        """Ask (or stop asking) to keep the call's details private; the peer is told."""
        require(user, WRITE_ROLES, "change a call's privacy")
        with self.line.db.write() as conn:
            call = steps.must_call(conn, call_id, lock=True)
            peer = self._peer_of(conn, call_id)
            self._send_privacy(conn, peer, call_id, private, user)
            view = self._call_view(conn, call["id"])
        self.line.on_queued(peer)
        return view

    def _send_privacy(
        self, conn: Connection, peer: str, call_id: str, private: bool, user: User
    ) -> None:
        wire = check_body("call_privacy", {"call_id": call_id, "details_private": private})
        self._send(conn, peer, "call_privacy", wire, user)
        steps.apply_privacy(conn, call_id, self.line.identity.party, private)

    # -- readouts -------------------------------------------------------------------------

    def write_readout(
        self,
        call_id: str,
        *,
        title: str,
        text: str,
        visibility: str,
        user: User,
        lang: str | None = None,
        issued_by: str | None = None,
    ) -> dict[str, Any]:
        """Write this side's readout; shared and public ones are sent (public: maybe held)."""
        require(user, WRITE_ROLES, "write a readout")
        steps.check_visibility(visibility)
        lang = check_lang(lang or self.line.identity.lang)
        readout_id = str(uuid.uuid4())
        with self.line.db.write() as conn:
            steps.must_call(conn, call_id)
            store.insert_readout(
                conn,
                id=readout_id,
                call_id=call_id,
                party=self.line.identity.party,
                visibility="internal",
                status="kept",
                lang=lang,
                title=title,
                text=text,
                issued_by=issued_by,
                written_by=user.name,
                written_at=self.line.now(),
            )
            steps.check_readout(conn, readout_id)
            peer = self._widen(conn, readout_id, visibility, user)
            view = self._readout_view(conn, readout_id)
        if peer:
            self.line.on_queued(peer)
        return view

    def publish(self, readout_id: str, visibility: str, *, user: User) -> dict[str, Any]:
        """Widen one of our readouts: internal to shared or public, shared to public."""
        require(user, WRITE_ROLES, "publish a readout")
        steps.check_visibility(visibility)
        with self.line.db.write() as conn:
            row = self._ours(conn, readout_id)
            if _RANK[visibility] <= _RANK[row["visibility"]]:
                raise Conflict(
                    f"the readout is already {row['visibility']}",
                    hint="a readout can only be widened: internal → shared → public",
                )
            peer = self._widen(conn, readout_id, visibility, user)
            view = self._readout_view(conn, readout_id)
        if peer:
            self.line.on_queued(peer)
        return view

    def approve(self, readout_id: str, *, user: User) -> dict[str, Any]:
        """A second person approves a public readout of a call kept private; it is sent."""
        require(user, APPROVE_ROLES, "approve a public readout")
        with self.line.db.write() as conn:
            self._awaiting(conn, readout_id, user, "approve it", "approve it")
            now = self.line.now()
            store.update_readout(conn, readout_id, approved_by=user.name, approved_at=now)
            peer = self._send_readout(conn, readout_id, "public", user)
            view = self._readout_view(conn, readout_id)
        self.line.on_queued(peer)
        return view

    def _awaiting(
        self, conn: Connection, readout_id: str, user: User, verb: str, others: str
    ) -> dict[str, Any]:
        """Our readout held for a second approval, which ``user`` (not its writer) decides."""
        row = self._ours(conn, readout_id)
        if row["status"] != "awaiting_approval":
            raise Conflict(f"the readout is {row['status']}, not awaiting approval")
        if user.name == row["written_by"]:
            raise Forbidden(
                f"the person who wrote a readout cannot also {verb}",
                hint=f"another commander must {others} (two-person rule)",
            )
        return row

    def reject(self, readout_id: str, *, reason: str, user: User) -> dict[str, Any]:
        """A second person refuses a held public readout; it goes back to what it was.

        Back to ``shared`` (still sent) if it had gone out as shared, else ``internal``.
        Who refused it, when and why are kept on this node; nothing is sent.
        """
        require(user, APPROVE_ROLES, "reject a public readout")
        if not reason.strip():
            raise ValidationError(
                "say why the readout is rejected", hint="--reason TEXT", field="reason"
            )
        with self.line.db.write() as conn:
            row = self._awaiting(conn, readout_id, user, "decide on it", "approve or reject it")
            sent = row["message_id"] is not None
            store.update_readout(
                conn,
                readout_id,
                visibility="shared" if sent else "internal",
                status="sent" if sent else "kept",
            )
            store.add_event(
                conn,
                request_id=row["call_id"],
                at=self.line.now(),
                kind=READOUT_REJECTED,
                party=self.line.identity.party,
                detail={"readout_id": readout_id, "visibility": "public", "reason": reason},
                user=user.name,
                message_id=None,
            )
            view = self._readout_view(conn, readout_id)
        return view

    def _widen(self, conn: Connection, readout_id: str, visibility: str, user: User) -> str | None:
        """Set the visibility; send (or hold for approval). Returns the peer told, if any."""
        if visibility == "internal":
            return None
        row = steps.must_readout(conn, readout_id)
        call = steps.must_call(conn, row["call_id"])
        if visibility == "public" and call["private_parties"]:
            store.update_readout(conn, readout_id, visibility="public", status="awaiting_approval")
            return None
        return self._send_readout(conn, readout_id, visibility, user)

    def _send_readout(self, conn: Connection, readout_id: str, visibility: str, user: User) -> str:
        row = steps.must_readout(conn, readout_id)
        now = self.line.now()
        body = {
            "readout_id": readout_id,
            "call_id": row["call_id"],
            "visibility": visibility,
            "title": row["title"],
            "text": row["text"],
            "issued_by": row["issued_by"],
            "published_at": now,
        }
        peer = self._peer_of(conn, row["call_id"])
        wire = check_body("call_readout", body)
        message_id = self.line.enqueue(
            conn,
            to=peer,
            type_="call_readout",
            body=wire,
            precedence="ROUTINE",
            lang=row["lang"],
            user=user.name,
        )
        store.update_readout(
            conn,
            readout_id,
            visibility=visibility,
            status="sent",
            published_at=now,
            message_id=message_id,
        )
        return peer

    # -- reading --------------------------------------------------------------------------

    def get_call(self, call_id: str) -> dict[str, Any]:
        with self.line.db.read() as conn:
            return self._call_view(conn, call_id)

    def calls(self) -> list[dict[str, Any]]:
        with self.line.db.read() as conn:
            return [steps.call(c) for c in store.list_calls(conn)]

    def readouts(self, call_id: str, visibility: str = "internal") -> dict[str, Any]:
        """The call and the readouts of both sides at ``visibility`` or wider, side by side.

        ``internal`` shows every readout this node holds (ours in all states); ``shared``
        and ``public`` show readouts as they have gone out or come in (``sent_as``): one
        sent as shared and now awaiting approval as public is still shown as shared.
        """
        steps.check_visibility(visibility)
        me = self.line.identity.party
        with self.line.db.read() as conn:
            call = self._call_view(conn, call_id)
            peer = self._peer_of(conn, call_id)
            rows = store.readouts_of(conn, call_id)
            rejections = steps.rejections(conn, call_id)
        sides: dict[str, list[dict[str, Any]]] = {me: [], peer: []}
        for row in rows:
            view = steps.readout(row, rejections)
            standing = view["visibility"] if visibility == "internal" else view["sent_as"]
            if standing is not None and _RANK[standing] >= _RANK[visibility]:
                sides.setdefault(row["party"], []).append(view)
        return {"call": call, "visibility": visibility, "sides": sides}

    def _readout_view(self, conn: Connection, readout_id: str) -> dict[str, Any]:
        row = steps.must_readout(conn, readout_id)
        return steps.readout(row, steps.rejections(conn, row["call_id"]))

    def _call_view(self, conn: Connection, call_id: str) -> dict[str, Any]:
        call = steps.call(steps.must_call(conn, call_id))
        request = store.get_request(conn, call_id)
        assert request is not None  # calls.id references call_requests.id
        call["principals"] = {
            "requester": {
                "party": request["requester_party"],
                **request["principals"]["requester"],
            },
            "counterpart": {
                "party": request["counterpart_party"],
                **request["principals"]["counterpart"],
            },
        }
        call["topics"] = request["topics"]
        return call

    # -- helpers --------------------------------------------------------------------------

    def _send(self, conn: Connection, peer: str, type_: str, wire: Any, user: User) -> str:
        return self.line.enqueue(
            conn,
            to=peer,
            type_=type_,
            body=wire,
            precedence="ROUTINE",
            lang=self.line.identity.lang,
            user=user.name,
        )

    def _peer_of(self, conn: Connection, call_id: str) -> str:
        request = store.get_request(conn, call_id)
        if request is None:
            raise NotFound(f"no call {call_id!r}")
        return str(request["peer"])

    def _ours(self, conn: Connection, readout_id: str) -> dict[str, Any]:
        row = steps.must_readout(conn, readout_id, lock=True)
        if row["party"] != self.line.identity.party:
            raise Forbidden("this is the peer's readout; only its own side can change it")
        return row

    # -- the peer acts --------------------------------------------------------------------

    def _received_record(self, conn: Connection, envelope: Envelope, _now: str) -> None:
        body = envelope.body
        row = store.get_request(conn, body["call_id"], lock=True)
        if row is None or envelope.from_ not in (row["requester_party"], row["counterpart_party"]):
            raise common.refuse(f"a record of an unknown call {body['call_id']}")
        if body["requested_by"] != row["requester_party"]:
            raise common.refuse("the record names another requesting side")
        if row["state"] not in ("accepted", "held", "withdrawn"):
            raise common.refuse(f"a record of a {row['state']} call request")
        latest = self.line.clock.now() + timedelta(seconds=self.line.settings.clock_skew_s)
        if common.before(body["held_at"], row["requested_at"]):
            raise common.refuse(f"a call held at {body['held_at']}, before it was requested")
        if parse_rfc3339(body["held_at"]) > latest:
            raise common.refuse(f"a call held at {body['held_at']}, in the future")
        existing = store.get_call(conn, body["call_id"])
        if existing is not None and envelope.from_ != row["requester_party"]:
            return  # both sides recorded it: the requesting side's record stands
        steps.apply_record(conn, row, body, party=envelope.from_, message_id=envelope.id)

    def _received_privacy(self, conn: Connection, envelope: Envelope, _now: str) -> None:
        body = envelope.body
        if store.get_call(conn, body["call_id"]) is None:
            raise common.refuse(f"privacy of an unknown call {body['call_id']}")
        steps.apply_privacy(conn, body["call_id"], envelope.from_, body["details_private"])

    def _received_readout(self, conn: Connection, envelope: Envelope, now: str) -> None:
        body = envelope.body
        if store.get_call(conn, body["call_id"]) is None:
            raise common.refuse(f"a readout of an unknown call {body['call_id']}")
        existing = store.get_readout(conn, body["readout_id"])
        values = {
            "visibility": body["visibility"],
            "status": "received",
            "lang": envelope.lang,
            "title": body["title"],
            "text": body["text"],
            "issued_by": body["issued_by"],
            "published_at": body["published_at"],
            "message_id": envelope.id,
        }
        if existing is None:
            store.insert_readout(
                conn,
                id=body["readout_id"],
                call_id=body["call_id"],
                party=envelope.from_,
                written_at=now,
                **values,
            )
        elif existing["party"] == envelope.from_ and existing["call_id"] == body["call_id"]:
            store.update_readout(conn, body["readout_id"], **values)  # widened by its side
        else:
            raise common.refuse(f"readout {body['readout_id']} belongs to another side or call")


# -- applying a step (the same on both nodes) ---------------------------------------------

"""Call requests and their answers, on both nodes: request, accept, decline, propose other
slots, withdraw, and *unanswered* when the deadline passes.

Every step is a signed message (``call_request``, ``call_answer``, ``call_withdrawal``)
and each node applies it with the same function, so the two nodes keep the same state
and the same timeline. The sender applies a step in the transaction that queues its
envelope; the receiver in the transaction that stores it (a receive hook).

Where two steps cross on the wire, the rules make both nodes end alike:

- a withdrawal wins over an answer it crosses (the requester withdrew first on its side);
- a held call wins over a withdrawal it crosses;
- an answer made before the deadline counts even if it arrives after the requester's node
  marked the request unanswered: the early mark is taken back. An honest node never
  answers at or after the deadline by its own clock, so only an answer whose ``created``
  is before ``answer_by`` can arrive.
"""

from __future__ import annotations

import uuid
from typing import Any

from hotline.clock import rfc3339
from hotline.domain.bodies import check_body
from hotline.domain.calls import OPEN_STATES
from hotline.domain.line import Envelope, Principal
from hotline.errors import Conflict, Forbidden, ValidationError
from hotline.services.auth import User
from hotline.services.calls import common
from hotline.services.calls import request_steps as steps
from hotline.services.calls.common import WRITE_ROLES, require
from hotline.services.line.service import Line
from hotline.storage import calls as store
from hotline.storage import messages, users
from hotline.storage.db import Connection
from hotline.storage.messages import InternalRef


class CallRequests:
    """Requests for calls between this party's principals and a peer's."""

    def __init__(self, line: Line) -> None:
        self.line = line
        line.on_receive("call_request", self._received_request)
        line.on_receive("call_answer", self._received_answer)
        line.on_receive("call_withdrawal", self._received_withdrawal)

    # -- this side acts -------------------------------------------------------------------

    def request(
        self,
        *,
        to: str,
        principal: str,
        counterpart: str,
        topics: list[str],
        slots: list[dict[str, Any]],
        answer_by: str,
        user: User,
        precedence: str = "ROUTINE",
        message: str | None = None,
        internal_note: str | None = None,
        client_ref: str | None = None,
    ) -> dict[str, Any]:
        """Ask ``to``'s principal ``counterpart`` for a call with our ``principal``."""
        identity = self.line.identity
        with self.line.db.write() as conn:
            done = steps.by_client_ref(conn, user.name, client_ref)
            if done is not None:
                return self._view(conn, done)
            wire, theirs, level = self._prepare(
                conn,
                to=to,
                principal=principal,
                counterpart=counterpart,
                topics=topics,
                slots=slots,
                answer_by=answer_by,
                message=message,
                precedence=precedence,
                user=user,
            )
            message_id = self.line.enqueue(
                conn,
                to=to,
                type_="call_request",
                body=wire,
                precedence=level,
                lang=identity.lang,
                user=user.name,
                client_ref=client_ref,
            )
            steps.store_request(
                conn,
                wire,
                peer=to,
                sender=identity.party,
                receiver=to,
                counterpart=theirs.wire(),
                precedence=level,
                at=common.envelope_created(conn, message_id),
                message_id=message_id,
                user=user.name,
                internal_note=internal_note,
            )
            view = self._view(conn, steps.must(conn, wire["request_id"]))
        self.line.on_queued(to)
        return view

    def _prepare(
        self,
        conn: Connection,
        *,
        to: str,
        principal: str,
        counterpart: str,
        topics: list[str],
        slots: list[dict[str, Any]],
        answer_by: str,
        message: str | None,
        precedence: str,
        user: User,
    ) -> tuple[dict[str, Any], Principal, str]:
        """Everything ``request`` refuses, refused without storing anything: the signed
        body, the peer's principal and the precedence, ready to send."""
        require(user, WRITE_ROLES, "request a call")
        body = {
            "request_id": str(uuid.uuid4()),
            "requester": common.our_principal(self.line.identity, principal).wire(),
            "counterpart": counterpart,
            "topics": topics,
            "slots": self._slots(slots),
            "answer_by": common.future(answer_by, "answer_by", self.line.clock.now()),
            "message": message,
        }
        level = common.precedence(precedence)
        theirs = common.peer_principal(conn, to, counterpart)
        return check_body("call_request", body), theirs, level

    # -- held for a second person (FLASH, two-person rule: services/held.py) ----------------

    def check_held(self, to: str, payload: dict[str, Any], user_name: str) -> None:
        """Refuse now what sending the held request as ``user_name`` would refuse."""
        user = self._requester(user_name)
        fields = steps.held_fields(payload)
        del fields["internal_note"]  # kept on this node: nothing to check
        with self.line.db.read() as conn:
            self._prepare(conn, to=to, user=user, precedence="FLASH", **fields)

    def send_held(self, held: dict[str, Any]) -> str:
        """Send an approved held request as its requester; returns the message's id.

        Sent with the client reference ``held:<id>``, so approving again after an
        interrupted approval finds the request already made rather than making another.
        """
        ref = InternalRef(f"held:{held['id']}")
        with self.line.db.read() as conn:
            done = steps.by_client_ref(conn, held["requested_by"], ref)
        if done is not None:
            return str(done["message_id"])
        user = self._requester(held["requested_by"])
        fields = steps.held_fields(held["payload"])
        now = rfc3339(self.line.clock.now())
        if not common.before(now, common.utc(fields["answer_by"], "answer_by")):
            raise Conflict(
                f"the answer deadline {fields['answer_by']} has passed (now is {now}): "
                "this held call request can no longer be sent",
                hint="reject it, and make a new request with a later answer_by",
            )
        made = self.request(
            to=held["peer"], user=user, precedence=held["precedence"], client_ref=ref, **fields
        )
        return str(made["message_id"])

    def _requester(self, name: str) -> User:
        """The person who asked, with the roles they hold now."""
        with self.line.db.read() as conn:
            row = users.get(conn, name)
        if row is None or row.disabled:
            gone = "no longer exists" if row is None else "is disabled"
            raise Conflict(
                f"{name}, who asked for this call request, {gone} on this node",
                hint="reject it; someone on watch makes a new request",
            )
        return User(row.name, row.roles)

    def answer(
        self,
        request_id: str,
        *,
        answer: str,
        user: User,
        slot: dict[str, Any] | None = None,
        slots: list[dict[str, Any]] | None = None,
        reason: str | None = None,
        answer_by: str | None = None,
        held_ref: InternalRef | None = None,
    ) -> dict[str, Any]:
        """Accept one slot, decline with a reason, or propose other slots and a deadline.

        An answer to a FLASH request goes out FLASH, so with the two-person rule on it is
        sent only as an approved held message (``held_ref``: see :meth:`send_held_answer`);
        the API and the console hold it (:meth:`answer_needs_approval`).
        """
        require(user, WRITE_ROLES, "answer a call request")
        me = self.line.identity.party
        body = self._answer_body(request_id, answer, slot, slots, reason, answer_by)
        with self.line.db.write() as conn:
            row = self._awaiting_me(conn, request_id)
            if held_ref is None and self._needs_approval(row):
                raise Forbidden(
                    "an answer to a FLASH call request leaves only once a second person "
                    "approves it",
                    hint="answer from the console or the API: the answer is held for approval",
                )
            wire = self._checked_answer(row, body)
            message_id = self._send(conn, row, "call_answer", wire, user, client_ref=held_ref)
            at = common.envelope_created(conn, message_id)
            steps.apply_answer(
                conn, row, wire, party=me, at=at, user=user.name, message_id=message_id
            )
            view = self._view(conn, steps.must(conn, request_id))
        self.line.on_queued(row["peer"])
        return view

    def _answer_body(
        self,
        request_id: str,
        answer: str,
        slot: dict[str, Any] | None,
        slots: list[dict[str, Any]] | None,
        reason: str | None,
        answer_by: str | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"request_id": request_id, "answer": answer, "reason": reason}
        if slot is not None:
            body["slot"] = self._slots([slot])[0]
        if slots is not None:
            body["slots"] = self._slots(slots)
        if answer_by is not None:
            body["answer_by"] = common.future(answer_by, "answer_by", self.line.clock.now())
        return body

    def _checked_answer(self, row: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        wire = check_body("call_answer", body)
        if wire["answer"] == "accept" and wire["slot"] not in row["slots"]:
            raise ValidationError(
                "the accepted slot is not one of the slots on the table",
                hint="accept one of: " + ", ".join(steps.slot_text(s) for s in row["slots"]),
                field="slot",
            )
        return wire

    def _needs_approval(self, row: dict[str, Any]) -> bool:
        return self.line.settings.flash_two_person and row["precedence"] == "FLASH"

    # -- answers held for a second person (an answer to a FLASH request is FLASH) ---------

    def answer_needs_approval(self, request_id: str) -> str | None:
        """The peer to hold an answer to ``request_id`` for, when that answer needs a second
        person's approval (the request is FLASH and the two-person rule is on); else None."""
        with self.line.db.read() as conn:
            row = steps.must(conn, request_id)
        return str(row["peer"]) if self._needs_approval(row) else None

    def check_held_answer(self, to: str, payload: dict[str, Any], user_name: str) -> None:
        """Refuse now what sending the held answer as ``user_name`` would refuse."""
        user = self._requester(user_name)
        require(user, WRITE_ROLES, "answer a call request")
        fields = _answer_fields(payload)
        body = self._answer_body(**fields)
        with self.line.db.read() as conn:
            row = steps.must(conn, fields["request_id"])
            if row["peer"] != to:
                raise ValidationError(f"call request {row['id']} is with {row['peer']}, not {to}")
            self._check_awaiting(row)
            self._checked_answer(row, body)

    def send_held_answer(self, held: dict[str, Any]) -> str:
        """Send an approved held answer as the person who wrote it; returns the message's id.

        Sent with the client reference ``held:<id>``, so approving again after an
        interrupted approval finds the answer already sent rather than answering twice.
        """
        ref = InternalRef(f"held:{held['id']}")
        with self.line.db.read() as conn:
            done = messages.by_client_ref(conn, held["requested_by"], ref)
        if done is not None:
            return str(done["id"])
        user = self._requester(held["requested_by"])
        fields = _answer_fields(held["payload"])
        request_id = fields.pop("request_id")
        self.answer(request_id, user=user, held_ref=ref, **fields)
        with self.line.db.read() as conn:
            sent = messages.by_client_ref(conn, held["requested_by"], ref)
        assert sent is not None  # just sent with this reference
        return str(sent["id"])

    def withdraw(self, request_id: str, *, user: User, reason: str | None = None) -> dict[str, Any]:
        """Withdraw our request (or cancel the accepted call); the peer is told, signed."""
        require(user, WRITE_ROLES, "withdraw a call request")
        me = self.line.identity.party
        with self.line.db.write() as conn:
            row = steps.must(conn, request_id, lock=True)
            if row["requester_party"] != me:
                raise Forbidden(
                    "only the side that asked for the call may withdraw it",
                    hint="decline it instead",
                )
            if row["state"] not in (*OPEN_STATES, "accepted"):
                raise Conflict(f"the request is {row['state']}; there is nothing to withdraw")
            self._check_deadline(row)
            wire = check_body("call_withdrawal", {"request_id": request_id, "reason": reason})
            message_id = self._send(conn, row, "call_withdrawal", wire, user)
            at = common.envelope_created(conn, message_id)
            steps.apply_withdrawal(
                conn, row, wire, party=me, at=at, user=user.name, message_id=message_id
            )
            view = self._view(conn, steps.must(conn, request_id))
        self.line.on_queued(row["peer"])
        return view

    def check_deadlines(self) -> list[str]:
        """Record as unanswered every request whose deadline has come; returns their ids.

        A request becomes unanswered exactly at ``answer_by``: the check compares with the
        node's clock (``answer_by <= now``) and the timeline entry carries ``answer_by``
        itself, whenever the check happens to run.
        """
        now = rfc3339(self.line.clock.now())
        with self.line.db.read() as conn:
            due = store.due_requests(conn, OPEN_STATES, now)
        marked = []
        for request_id in due:
            with self.line.db.write() as conn:
                row = store.get_request(conn, request_id, lock=True)
                if row is None or row["state"] not in OPEN_STATES or row["answer_by"] > now:
                    continue
                store.update_request(conn, request_id, state="unanswered", updated_at=now)
                store.add_event(
                    conn,
                    request_id=request_id,
                    at=row["answer_by"],
                    kind="unanswered",
                    party=row["awaiting"],
                    detail={"answer_by": row["answer_by"], "awaiting": row["awaiting"]},
                )
                marked.append(request_id)
        return marked

    # -- reading --------------------------------------------------------------------------

    def get(self, request_id: str) -> dict[str, Any]:
        with self.line.db.read() as conn:
            return self._view(conn, steps.must(conn, request_id))

    def listing(self, *, peer: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        with self.line.db.read() as conn:
            return [steps.public(r) for r in store.list_requests(conn, peer=peer, state=state)]

    def _view(self, conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
        out = steps.public(row)
        out["timeline"] = [steps.event(e) for e in common.timeline(store.events(conn, [row["id"]]))]
        call = store.get_call(conn, row["id"])
        out["call"] = None if call is None else {"id": call["id"], "held_at": call["held_at"]}
        return out

    # -- helpers --------------------------------------------------------------------------

    def _slots(self, slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
        now = self.line.clock.now()
        if not isinstance(slots, list) or not slots:
            raise ValidationError("give at least one slot", field="slots")
        out = []
        for index, slot in enumerate(slots):
            if not isinstance(slot, dict) or not isinstance(slot.get("start"), str):
                raise ValidationError(f"slots[{index}] needs a start time", field="slots")
            out.append(
                {**slot, "start": common.future(slot["start"], f"slots[{index}].start", now)}
            )
        return out

    def _awaiting_me(self, conn: Connection, request_id: str) -> dict[str, Any]:
        row = steps.must(conn, request_id, lock=True)
        self._check_awaiting(row)
        return row

    def _check_awaiting(self, row: dict[str, Any]) -> None:
        me = self.line.identity.party
        if row["state"] not in OPEN_STATES:
            raise Conflict(f"the request is {row['state']}; it takes no more answers")
        if row["awaiting"] != me:
            raise Conflict(
                f"the request waits for {row['awaiting']}'s answer, not this side's",
                hint="withdraw it, or wait for the answer",
            )
        self._check_deadline(row)

    def _check_deadline(self, row: dict[str, Any]) -> None:
        if row["state"] in OPEN_STATES and not common.before(
            rfc3339(self.line.clock.now()), row["answer_by"]
        ):
            raise Conflict(
                f"the deadline {row['answer_by']} has passed: the request is unanswered",
                hint="make a new request",
            )

    def _send(
        self,
        conn: Connection,
        row: dict[str, Any],
        type_: str,
        wire: Any,
        user: User,
        client_ref: str | None = None,
    ) -> str:
        return self.line.enqueue(
            conn,
            to=row["peer"],
            type_=type_,
            body=wire,
            precedence=row["precedence"],
            lang=self.line.identity.lang,
            user=user.name,
            client_ref=client_ref,
        )

    # -- the peer acts --------------------------------------------------------------------

    def _received_request(self, conn: Connection, envelope: Envelope, _now: str) -> None:
        body = envelope.body
        if store.get_request(conn, body["request_id"]) is not None:
            raise common.refuse(f"call request {body['request_id']} already exists")
        ours = {p.id: p for p in self.line.identity.principals}
        counterpart = ours.get(body["counterpart"])
        steps.store_request(
            conn,
            body,
            peer=envelope.from_,
            sender=envelope.from_,
            receiver=envelope.to,
            # a principal since removed from principals.json is kept by id, not refused:
            # refusing would stop the whole channel
            counterpart=counterpart.wire() if counterpart else {"id": body["counterpart"]},
            precedence=envelope.precedence,
            at=envelope.created,
            message_id=envelope.id,
        )

    def _received_answer(self, conn: Connection, envelope: Envelope, _now: str) -> None:
        body = envelope.body
        row = steps.known(conn, body["request_id"], envelope.from_)
        if row["state"] == "withdrawn":  # crossed our withdrawal: withdrawn stays
            steps.add_answer_event(conn, body, envelope.from_, envelope.created, None, envelope.id)
            return
        steps.take_back_early_unanswered(conn, row, envelope)
        if row["state"] not in OPEN_STATES or row["awaiting"] != envelope.from_:
            raise common.refuse(f"an answer from {envelope.from_} to a {row['state']} request")
        if body["answer"] == "accept" and body["slot"] not in row["slots"]:
            raise common.refuse("the accepted slot was never proposed")
        steps.apply_answer(
            conn, row, body, party=envelope.from_, at=envelope.created, message_id=envelope.id
        )

    def _received_withdrawal(self, conn: Connection, envelope: Envelope, _now: str) -> None:
        body = envelope.body
        row = steps.known(conn, body["request_id"], envelope.from_)
        if envelope.from_ != row["requester_party"]:
            raise common.refuse("a withdrawal from the side that was asked")
        if row["state"] == "withdrawn":
            raise common.refuse("the request was already withdrawn")
        steps.take_back_early_unanswered(conn, row, envelope)
        steps.apply_withdrawal(
            conn, row, body, party=envelope.from_, at=envelope.created, message_id=envelope.id
        )


# -- applying a step (the same on both nodes) ---------------------------------------------


def _answer_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The answer's fields from a held answer's payload (as the API took them)."""
    return {
        "request_id": payload["request_id"],
        "answer": payload["answer"],
        "slot": payload.get("slot"),
        "slots": payload.get("slots"),
        "reason": payload.get("reason"),
        "answer_by": payload.get("answer_by"),
    }

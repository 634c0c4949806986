"""Acknowledgement deadlines by precedence, and escalation up this side's own ladder.

A message a person must acknowledge (not the machine types; call requests, call answers
and watch-level notices included) has a deadline: its ``created`` time plus the
precedence's allowance (FLASH 10 min, IMMEDIATE 30 min, PRIORITY 3 h, ROUTINE 6 h by
default), signed into the envelope as ``ack_by`` so that the receiver shows the sender's
deadline. When it passes without an acknowledgement, the sender's node raises an
``ack_overdue`` alarm and the escalation climbs OUR OWN ladder — the contacts on this
node's own card (``contacts.json``): step *n* alerts our rung *n* (the original went out
under the duty desk, rung 0; step 1 is our watch commander, step 2 the next …); each
further allowance without an acknowledgement climbs one more rung. Every step is an event
in the trail and the rung to alert is written on the alarm, which the console, ``hotline
alarms`` and ``hotline escalation`` show with the peer's out-of-band contacts (phone,
satellite phone, fax … from the peer's signed card) as a checklist; each attempt an
officer makes is recorded and logged (``services/line/escalation.py``).

Nothing is sent to the peer for a step: an ``escalation`` envelope would queue behind the
undelivered original when the line is down (issue 15), and when the line is up the
original itself is on the peer's console with its signed deadline. Older nodes sent
``escalation`` envelopes; this node still accepts them (and an acknowledgement of one
acknowledges its original). An acknowledgement — or, for a call request, the peer's
answer — stops the ladder and clears the alarm; the trail shows every step.

Without contacts on our own card the alarm is raised and the ladder is exhausted at once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.bodies import ANSWERED_CALL_TYPES, NO_ACK_TYPES
from hotline.domain.line import Contact, Envelope
from hotline.errors import MalformedMessage
from hotline.services.alarms import clear_alarm, note_on_alarm, raise_alarm
from hotline.services.line.service import Line, original_of
from hotline.storage import calls as calls_store
from hotline.storage import links as store
from hotline.storage import messages
from hotline.storage.db import Connection

OPEN_STATES = ("queued", "sent", "delivered")


def first_deadline(row: dict[str, Any], allowance: timedelta) -> datetime:
    """The deadline the message was sent with (``ack_by``); for an envelope from before
    that field, ``created`` plus this node's allowance."""
    ack_by = json.loads(row["envelope"]).get("ack_by")
    if ack_by is not None:
        return parse_rfc3339(ack_by)
    return parse_rfc3339(row["created"]) + allowance


def _call_step_from_before_deadlines(row: dict[str, Any]) -> bool:
    """A call step sent before call steps had deadlines (no ``ack_by``): the peer was never
    asked to acknowledge it, so it never escalates (migration ``0006_due_at`` may have
    given it a ``due_at`` on a node upgraded from before that revision)."""
    return row["type"] in ANSWERED_CALL_TYPES and "ack_by" not in json.loads(row["envelope"])


class Deadlines:
    def __init__(self, line: Line) -> None:
        self.line = line
        line.on_receive("escalation", self._received_escalation)
        line.on_receive("ack", self._received_ack)
        line.on_receive("call_answer", self._received_call_step)
        line.on_receive("call_withdrawal", self._received_call_step)

    def tick(self) -> None:
        """Escalate every outbound message whose current allowance has run out.

        Runs every second, so it reads only the messages whose ``due_at`` has come (an
        indexed column: the first deadline, moved on by each escalation step, cleared by
        an acknowledgement), not every unacknowledged message; the write lock is taken for
        those alone, and each is checked again under it.
        """
        now = self.line.clock.now()
        with self.line.db.read() as conn:
            due = messages.due_outbound(conn, rfc3339(now))
        for row in due:
            self._escalate_if_due(row, now)

    def _escalate_if_due(self, row: dict[str, Any], now: datetime) -> None:
        allowance = self.line.allowance(row["precedence"])
        first = first_deadline(row, allowance)

        def work(conn: Connection) -> None:
            fresh = messages.get(conn, row["id"])
            if fresh is None:
                return
            if (
                fresh["acked_at"] is not None
                or fresh["state"] not in OPEN_STATES
                or fresh["type"] in NO_ACK_TYPES
                or _call_step_from_before_deadlines(fresh)
            ):
                messages.clear_due(conn, row["id"])  # nothing more to wait for
                return
            steps = store.escalation_steps(conn, row["id"])
            due = first + allowance * len(steps)
            if now < due:  # not yet (e.g. backfilled from the first deadline): look then
                messages.set_due(conn, row["id"], rfc3339(due))
                return
            at = rfc3339(now)
            raise_alarm(
                conn,
                "ack_overdue",
                row["id"],
                at,
                peer=row["peer"],
                precedence=row["precedence"],
                deadline=rfc3339(first),
            )
            following = rfc3339(first + allowance * (len(steps) + 1))
            contact = self._own_rung(len(steps) + 1)
            if contact is None:
                if not steps or steps[-1]["contact_id"] != "(end)":
                    store.add_escalation(conn, row["id"], len(steps) + 1, "(end)", "", at)
                    messages.add_event(
                        conn, row["id"], at, "escalation_exhausted", steps=len(steps)
                    )
                    messages.set_due(conn, row["id"], following)
                else:
                    # The ladder was exhausted a rung ago and the alarm raised again (above,
                    # if someone had cleared it): nothing more is due. Left due, the message
                    # would be read and written at every tick, forever (a long outage: every
                    # outstanding message, one write each per second).
                    messages.clear_due(conn, row["id"])
                return
            self._climb(conn, row["id"], len(steps) + 1, contact, at, following)
            messages.set_due(conn, row["id"], following)
            return

        # retried whole on a deadlock or busy database; nothing is queued for the peer
        self.line.db.transaction(work)

    def _own_rung(self, step: int) -> Contact | None:
        """Our own rung ``step`` (0 is the duty desk who sent it), if the ladder has one."""
        contacts = self.line.identity.contacts
        return contacts[step] if step < len(contacts) else None

    def _climb(
        self, conn: Connection, message_id: str, step: int, rung: Contact, at: str, next_at: str
    ) -> None:
        """Alert our own rung ``rung``: a step in the trail and on the alarm, nothing sent."""
        store.add_escalation(conn, message_id, step, rung.id, "", at)
        messages.add_event(
            conn,
            message_id,
            at,
            "escalated",
            step=step,
            contact=rung.id,
            role=rung.role_en,
            role_ru=rung.role_ru,
            side="own",
            next_at=next_at,
        )
        note_on_alarm(
            conn,
            "ack_overdue",
            message_id,
            step=step,
            alert=rung.id,
            alert_role_en=rung.role_en,
            alert_role_ru=rung.role_ru,
            escalated_at=at,
            next_at=next_at,
        )

    # -- receive hooks ---------------------------------------------------------------------

    def _received_escalation(self, conn: Connection, envelope: Envelope, now: str) -> None:
        """The peer escalated one of its messages to us: it must be one we hold."""
        original = messages.get(conn, envelope.body["of_message"])
        if original is None or original["hash"] != envelope.body["of_hash"]:
            raise MalformedMessage(
                f"escalation {envelope.id} names {envelope.body['of_message']}, which this "
                f"node has not received with that hash"
            )
        messages.add_event(
            conn,
            original["id"],
            now,
            "escalated_to",
            contact=envelope.body["contact_id"],
            escalation_message=envelope.id,
        )

    def _received_ack(self, conn: Connection, envelope: Envelope, now: str) -> None:
        """An ack of an escalation acknowledges the original too; either stops the ladder."""
        acked = messages.get(conn, envelope.body["ack_of"])
        assert acked is not None  # the ack was checked against our outbox before the hooks
        original_id = original_of(acked)
        original = messages.get(conn, original_id)
        if original_id != acked["id"] and original is not None and original["acked_at"] is None:
            messages.mark_acknowledged(
                conn,
                original,
                now,
                by=f"{envelope.from_}:{envelope.body['acked_by']}",
                acked_at=envelope.body["acked_at"],
                ack_message_id=envelope.id,
                via=acked["id"],
            )
        messages.clear_due(conn, acked["id"])
        messages.clear_due(conn, original_id)
        clear_alarm(conn, "ack_overdue", original_id, now, "acknowledged")

    def _received_call_step(self, conn: Connection, envelope: Envelope, now: str) -> None:
        """The peer answered (or withdrew) a call request: a person there has read our
        steps of it, so none of them is overdue any more (the ack may still follow)."""
        request_id = envelope.body.get("request_id")
        request = calls_store.get_request(conn, str(request_id))
        if request is None:
            return  # the calls service refuses it
        ids = {request["message_id"]} | {
            e["message_id"] for e in calls_store.events(conn, [request["id"]]) if e["message_id"]
        }
        for message_id in sorted(ids):
            row = messages.get(conn, message_id)
            if row is None or row["direction"] != messages.OUT or row["acked_at"] is not None:
                continue
            messages.clear_due(conn, message_id)
            clear_alarm(conn, "ack_overdue", message_id, now, "answered")

"""Acknowledgement deadlines by precedence, and escalation down the peer's contact ladder.

A message a person must acknowledge (not the machine types) has a deadline: its
``created`` time plus the precedence's allowance (FLASH 10 min, IMMEDIATE 30 min,
PRIORITY 3 h, ROUTINE 6 h by default), signed into the envelope as ``ack_by`` so that the
receiver shows the sender's deadline. When it passes without an acknowledgement, the
sender's node raises an ``ack_overdue`` alarm and re-addresses the message to the next
contact on the peer's card (an ``escalation`` envelope naming the original and its hash,
whose own ``ack_by`` is the next rung's deadline); each further allowance without an
acknowledgement climbs one more rung. An acknowledgement at any step — of the original or
of any escalation — stops the ladder and clears the alarm; the trail shows every step.

Ladder: the original is for the first contact (the duty desk); step *n* goes to contact
*n* (0-based), so a card with contacts [duty desk, watch commander, chief of staff] gives
two escalation steps. Without contacts on the card the alarm is raised and nothing is
re-addressed.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.bodies import NO_ACK_TYPES
from hotline.domain.line import Envelope
from hotline.errors import MalformedMessage
from hotline.services.alarms import clear_alarm, raise_alarm
from hotline.services.line.service import Line, original_of
from hotline.storage import links as store
from hotline.storage import messages, peers
from hotline.storage.db import Connection

OPEN_STATES = ("queued", "sent", "delivered")


def first_deadline(row: dict[str, Any], allowance: timedelta) -> datetime:
    """The deadline the message was sent with (``ack_by``); for an envelope from before
    that field, ``created`` plus this node's allowance."""
    ack_by = json.loads(row["envelope"]).get("ack_by")
    if ack_by is not None:
        return parse_rfc3339(ack_by)
    return parse_rfc3339(row["created"]) + allowance


class Deadlines:
    def __init__(self, line: Line) -> None:
        self.line = line
        line.on_receive("escalation", self._received_escalation)
        line.on_receive("ack", self._received_ack)

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

        def work(conn: Connection) -> bool:
            fresh = messages.get(conn, row["id"])
            if fresh is None:
                return False
            if (
                fresh["acked_at"] is not None
                or fresh["state"] not in OPEN_STATES
                or fresh["type"] in NO_ACK_TYPES
            ):
                messages.clear_due(conn, row["id"])  # nothing more to wait for
                return False
            steps = store.escalation_steps(conn, row["id"])
            due = first + allowance * len(steps)
            if now < due:  # not yet (e.g. backfilled from the first deadline): look then
                messages.set_due(conn, row["id"], rfc3339(due))
                return False
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
            contact = self._next_contact(conn, row["peer"], len(steps) + 1)
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
                return False
            self._readdress(conn, fresh, len(steps) + 1, contact, at, following)
            messages.set_due(conn, row["id"], following)
            return True

        # retried whole on a deadlock or busy database; the worker is woken once, after
        if self.line.db.transaction(work):
            self.line.on_queued(row["peer"])

    def _next_contact(self, conn: Connection, peer: str, step: int) -> dict[str, Any] | None:
        row = peers.get(conn, peer)
        contacts = json.loads(row.card).get("contacts", []) if row else []
        return dict(contacts[step]) if step < len(contacts) else None

    def _readdress(
        self,
        conn: Connection,
        row: dict[str, Any],
        step: int,
        contact: dict[str, Any],
        at: str,
        ack_by: str,
    ) -> None:
        """Send step ``step`` to ``contact``; its deadline is when the next rung is due."""
        body = {
            "of_message": row["id"],
            "of_hash": row["hash"],
            "step": step,
            "contact_id": contact["id"],
            "contact_role_en": contact["role_en"],
            "contact_role_ru": contact["role_ru"],
        }
        escalation_id = self.line.enqueue(
            conn,
            to=row["peer"],
            type_="escalation",
            body=body,
            precedence=row["precedence"],
            lang=row["lang"],
            user=None,
            ack_by=ack_by,
        )
        store.add_escalation(conn, row["id"], step, contact["id"], escalation_id, at)
        messages.add_event(
            conn,
            row["id"],
            at,
            "escalated",
            step=step,
            contact=contact["id"],
            role=contact["role_en"],
            escalation_message=escalation_id,
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

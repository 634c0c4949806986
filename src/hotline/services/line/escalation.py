"""Escalation off the line: the checklist of the peer's out-of-band contacts, and the
officer's record of each attempt to reach them.

When a message is overdue (``services/line/deadlines.py``) the line may be the very thing
that is broken, so the peer is reached some other way: the voice, satellite-phone, fax and
other-network contacts on the peer's SIGNED card (``Contact.channels``), listed rung by
rung as a checklist. Each attempt (who tried which channel, when, with what result) is an
:class:`~hotline.domain.links.OobAttempt` signed by this node and appended to its Merkle
log (kind ``oob_attempt``, ref the message id) in the same transaction as a trail event,
so the message's evidence bundle carries it with an inclusion proof. Nothing is sent to
the peer: the record is this node's own word about what its officers did.
"""

from __future__ import annotations

import json
from typing import Any

from hotline.domain.line import Contact
from hotline.domain.links import OobAttempt
from hotline.errors import Conflict, NotFound, ValidationError
from hotline.protocol import keys
from hotline.protocol.canonical import canonical
from hotline.protocol.envelope import signing_bytes
from hotline.services.alarms import open_alarm
from hotline.services.line.service import Line
from hotline.storage import evidence as log_store
from hotline.storage import log, messages, peers
from hotline.storage.db import Connection

LOG_KIND = "oob_attempt"
RESULTS = ("reached", "no_answer", "busy", "failed")
#: Attempts one message may have: what one evidence bundle carries.
MAX_ATTEMPTS = 200  # = hotline.services.evidence.attempts.MAX_ATTEMPTS


def peer_contacts(conn: Connection, peer: str) -> list[Contact]:
    """The contact ladder on the peer's pinned (signed, verified) card."""
    row = peers.get(conn, peer)
    if row is None:
        return []
    return [Contact.model_validate(c) for c in json.loads(row.card).get("contacts", [])]


def attempts_of(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    """The attempts logged about ``message_id``, oldest first, with their log index."""
    return [
        json.loads(stored.entry) | {"log_index": stored.idx}
        for stored in log_store.entries_for(conn, message_id)
        if stored.kind == LOG_KIND
    ]


def find_channel(contacts: list[Contact], given: str) -> tuple[Contact, dict[str, Any]]:
    """The rung and channel ``given`` names: ``RUNG/CHANNEL``, or a channel id that only
    one rung has."""
    rung_id, _, channel_id = given.rpartition("/")
    found = [
        (rung, channel.wire())
        for rung in contacts
        for channel in rung.channels
        if channel.id == channel_id and rung_id in ("", rung.id)
    ]
    if len(found) == 1:
        return found[0]
    known = ", ".join(f"{r.id}/{c.id}" for r in contacts for c in r.channels) or "none"
    if not found:
        raise ValidationError(
            f"the peer's card has no out-of-band contact {given!r}",
            hint=f"one of: {known} (see `hotline escalation show MESSAGE`)",
            field="contact",
        )
    raise ValidationError(
        f"several rungs of the peer's ladder have a channel {channel_id!r}",
        hint=f"name it as RUNG/CHANNEL: one of {known}",
        field="contact",
    )


class Escalation:
    def __init__(self, line: Line) -> None:
        self.line = line

    def checklist(self, message_id: str) -> dict[str, Any]:
        """Where the message's escalation stands: our rung to alert, the peer's contacts
        with every out-of-band channel, and the attempts recorded so far."""
        with self.line.db.read() as conn:
            row = self._outbound(conn, message_id)
            contacts = peer_contacts(conn, row["peer"])
            attempts = attempts_of(conn, message_id)
            alarm = open_alarm(conn, "ack_overdue", message_id)
            steps = [
                {"step": e["detail"].get("step"), "at": e["at"], **e["detail"]}
                for e in messages.trail(conn, message_id)
                if e["kind"] in ("escalated", "escalation_exhausted")
            ]
        return {
            "message_id": message_id,
            "peer": row["peer"],
            "precedence": row["precedence"],
            "type": row["type"],
            "state": row["state"],
            "deadline": json.loads(row["envelope"]).get("ack_by"),
            "acked_at": row["acked_at"],
            "overdue": alarm is not None,
            "alarm": alarm,
            "steps": steps,
            "contacts": [_rung(contact, attempts) for contact in contacts],
            "attempts": attempts,
        }

    def record(
        self, message_id: str, *, contact: str, result: str, note: str | None, user: str
    ) -> dict[str, Any]:
        """Record (sign, log) one attempt to reach the peer off the line."""
        if result not in RESULTS:
            raise ValidationError(
                f"result must be one of {', '.join(RESULTS)}, not {result!r}", field="result"
            )
        note = note.strip() if note else None

        def work(conn: Connection) -> dict[str, Any]:
            row = self._outbound(conn, message_id)
            rung, channel = find_channel(peer_contacts(conn, row["peer"]), contact)
            if len(attempts_of(conn, message_id)) >= MAX_ATTEMPTS:
                raise Conflict(
                    f"message {message_id} already has {MAX_ATTEMPTS} attempts recorded",
                    hint="note further attempts in the watch log; its evidence bundle holds "
                    f"at most {MAX_ATTEMPTS}",
                )
            at = self.line.now()
            unsigned = {
                "v": 1,
                "type": LOG_KIND,
                "message_id": message_id,
                "message_hash": row["hash"],
                "party": self.line.identity.party,
                "peer": row["peer"],
                "officer": user,
                "rung": rung.id,
                "channel": channel["id"],
                "kind": channel["kind"],
                "value": channel["value"],
                "result": result,
                "note": note or None,
                "at": at,
                "key": self.line.identity.fingerprint,
            }
            unsigned["sig"] = keys.sign(self.line.identity.key, signing_bytes(unsigned))
            wire = OobAttempt.model_validate(unsigned).model_dump(mode="json")
            index, _head = log.append(conn, LOG_KIND, message_id, canonical(wire), at)
            messages.add_event(
                conn,
                message_id,
                at,
                LOG_KIND,
                by=user,
                rung=rung.id,
                channel=channel["id"],
                result=result,
                log_index=index,
            )
            return wire | {"log_index": index}

        return self.line.db.transaction(work)

    @staticmethod
    def _outbound(conn: Connection, message_id: str) -> dict[str, Any]:
        row = messages.get(conn, message_id)
        if row is None or row["direction"] != messages.OUT:
            raise NotFound(
                f"no message {message_id!r} sent by this node",
                hint="escalation is about messages this node sent; see `hotline outbox`",
            )
        return row


def _rung(contact: Contact, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """One rung of the peer's ladder as a checklist: each channel with its attempts."""
    out = contact.wire()
    out["channels"] = [
        channel.wire()
        | {
            "ref": f"{contact.id}/{channel.id}",
            "attempts": [
                {k: a[k] for k in ("at", "officer", "result", "note", "log_index")}
                for a in attempts
                if a["rung"] == contact.id and a["channel"] == channel.id
            ],
        }
        for channel in contact.channels
    ]
    return out

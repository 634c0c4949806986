"""The watch handover: the outgoing officer signs off with a note, the incoming officer
reads it and signs that they have taken over (issue 17).

Two people, each with their own session: the outgoing officer writes a note and signs
(the open items at that moment — received messages not acknowledged, ours awaiting the
other side, held FLASH messages, open alarms — are stored with it as the summary); the
handover then *awaits* the incoming officer, who sees the note and the summary, may add a
note of their own, and signs. The incoming officer is never the outgoing one. One
handover awaits at a time; its outgoing officer may withdraw it (a wrong note) and sign
again.

Every step is stored (``handovers``, listed as the handover history) and written to the
security log (``handover_signed``, ``handover_withdrawn``) for the audit trail. Handovers
are not entries of the node's signed log: that log holds what the line between the parties
did and is what a peer co-signs; a change of watch is this side's internal business.
"""

from __future__ import annotations

import uuid
from typing import Any

from hotline import seclog
from hotline.clock import Clock, rfc3339
from hotline.errors import Conflict, Forbidden, NotFound, ValidationError
from hotline.storage import handovers as store
from hotline.storage.db import Connection, Database

NOTE_MAX = 4000
HISTORY = 50


class Handovers:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def awaiting(self) -> dict[str, Any] | None:
        """The handover waiting for its incoming officer, if any."""
        with self.db.read() as conn:
            return store.awaiting(conn)

    def history(self, limit: int = HISTORY) -> list[dict[str, Any]]:
        """Handovers, newest first (awaiting, complete and withdrawn)."""
        with self.db.read() as conn:
            return store.history(conn, limit)

    def sign_off(self, user: str, note: str, summary: dict[str, Any]) -> dict[str, Any]:
        """The outgoing officer signs off with ``note``; ``summary`` is what is open now."""
        note = _note(note, required=True)
        handover_id = str(uuid.uuid4())
        with self.db.write() as conn:
            pending = store.awaiting(conn)
            if pending is not None:
                raise Conflict(
                    f"a handover signed by {pending['outgoing']} at {pending['outgoing_at']}"
                    " is still waiting for the incoming officer",
                    hint="the incoming officer takes it over, or its author withdraws it",
                    handover=pending["id"],
                )
            at = rfc3339(self.clock.now())
            store.insert_handover(conn, handover_id, user=user, note=note, at=at, summary=summary)
            out = store.get(conn, handover_id)
        if out is None:  # read back in the same transaction
            raise NotFound(f"no handover {handover_id}")
        seclog.event("handover_signed", user=user, role="outgoing", handover=handover_id)
        return out

    def take_over(self, handover_id: str, user: str, note: str = "") -> dict[str, Any]:
        """The incoming officer signs that they have taken the watch over."""
        note = _note(note, required=False)
        with self.db.write() as conn:
            row = self._awaiting(conn, handover_id)
            if row["outgoing"] == user:
                raise Forbidden(
                    "the officer handing the watch over cannot also take it over",
                    hint="the incoming officer signs with their own login",
                )
            at = rfc3339(self.clock.now())
            if not store.take_over(conn, handover_id, user=user, note=note, at=at):
                raise Conflict(f"handover {handover_id} was taken over meanwhile")
            out = store.get(conn, handover_id)
        if out is None:
            raise NotFound(f"no handover {handover_id}")
        seclog.event("handover_signed", user=user, role="incoming", handover=handover_id)
        return out

    def withdraw(self, handover_id: str, user: str) -> dict[str, Any]:
        """The outgoing officer takes back a sign-off nobody has taken over yet."""
        with self.db.write() as conn:
            row = self._awaiting(conn, handover_id)
            if row["outgoing"] != user:
                raise Forbidden(f"only {row['outgoing']}, who signed it, may withdraw it")
            if not store.withdraw(conn, handover_id):
                raise Conflict(f"handover {handover_id} was taken over meanwhile")
            out = store.get(conn, handover_id)
        if out is None:
            raise NotFound(f"no handover {handover_id}")
        seclog.event("handover_withdrawn", user=user, handover=handover_id)
        return out

    def _awaiting(self, conn: Connection, handover_id: str) -> dict[str, Any]:
        row = store.get(conn, handover_id, lock=True)
        if row is None:
            raise NotFound(f"no handover {handover_id}")
        if row["state"] != "awaiting":
            by = f" by {row['incoming']}" if row["incoming"] else ""
            raise Conflict(f"handover {handover_id} is already {row['state']}{by}")
        return row


def _note(note: str, *, required: bool) -> str:
    note = note.strip()
    if required and not note:
        raise ValidationError(
            "note: write what the incoming officer must know (or 'nothing to add')",
            field="note",
        )
    if len(note) > NOTE_MAX:
        raise ValidationError(f"note: at most {NOTE_MAX} characters", field="note")
    return note

"""The two-person rule for FLASH: a FLASH message leaves only when a second person approves.

A FLASH message interrupts the other side's chain of command at once; one person alone
does not send it. When ``flash_two_person`` is on (the default), sending a FLASH message,
coded message or notice — from the API or the console — does not queue it: it is *held*,
checked as it would be on sending (a body that would be refused is refused now, not at
approval), and listed for approval. Another person on watch approves it (it is then sent
as the requester's message, with the hold and the approval in its trail) or rejects it
with a reason. The requester can neither approve nor reject their own.

Other capabilities hold their FLASH messages here too without this module knowing them
(they are built after it): a capability registers a kind with :meth:`HeldMessages.register`,
giving how to check it as sending would and how to send it as the requester. The calls
register ``call`` (a call request) and ``answer`` (the answer to a peer's FLASH call
request, which goes out FLASH).

Held messages are stored (``held_messages``), so a restart loses none. An approval is
refused while the author is disabled (the message would leave in their name). A client
reference is the user's own: the same one from two users holds two messages. Approval is
idempotent: the message is sent with the node's own client reference ``held:<id>``
(:class:`~hotline.storage.messages.InternalRef`, stored apart from every user's reference,
so no message a user sends can pass for it), so an approval
interrupted between the decision and the sending is completed by approving again. An
approval whose sending is refused (a call request whose answer deadline has passed, a peer
no longer pinned) is taken back: the message stays held, to be rejected or approved later.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from hotline.clock import Clock, rfc3339
from hotline.config import NodeSettings
from hotline.domain.bodies import check_body
from hotline.errors import ConfigError, Conflict, Forbidden, HotlineError, NotFound, ValidationError
from hotline.services.line.service import Line
from hotline.services.notices.service import Notices
from hotline.services.policy import WATCH
from hotline.storage import held as store
from hotline.storage import messages as message_store
from hotline.storage import peers, users
from hotline.storage.db import Connection
from hotline.storage.messages import InternalRef

KIND_LENGTH = 10  # the length of held_messages.kind

#: The kinds this module sends itself; others are registered (:meth:`HeldMessages.register`).
BUILT_IN = ("text", "code", "notice")

#: ``check(to, payload, user_name)``: refuse now what sending would refuse.
Check = Callable[[str, dict[str, Any], str], None]
#: ``send(row)``: send an approved held row as its requester, with the client reference
#: ``held:<id>``; returns the message's id.
Send = Callable[[dict[str, Any]], str]


class HeldMessages:
    def __init__(self, line: Line, notices: Notices, settings: NodeSettings, clock: Clock) -> None:
        self.line = line
        self.notices = notices
        self.settings = settings
        self.clock = clock
        self._registered: dict[str, tuple[Check, Send]] = {}

    @property
    def kinds(self) -> tuple[str, ...]:
        return BUILT_IN + tuple(self._registered)

    def register(self, kind: str, check: Check, send: Send) -> None:
        """Hold FLASH messages of another capability's ``kind`` (see the module's docstring)."""
        if kind in self.kinds or len(kind) > KIND_LENGTH:
            raise ConfigError(f"held kind {kind!r} is taken or longer than {KIND_LENGTH}")
        self._registered[kind] = (check, send)

    def required(self, precedence: str) -> bool:
        """Whether a message of ``precedence`` needs a second person's approval."""
        return self.settings.flash_two_person and precedence.upper() == "FLASH"

    # -- holding ---------------------------------------------------------------------------

    def hold(
        self,
        kind: str,
        *,
        to: str,
        payload: dict[str, Any],
        precedence: str,
        lang: str | None,
        user: str,
        client_ref: str | None = None,
    ) -> dict[str, Any]:
        """Check the message as sending would, and keep it for approval. Idempotent on
        ``client_ref``."""
        if kind not in self.kinds:
            raise ValidationError(f"kind must be one of {', '.join(self.kinds)}, not {kind!r}")
        self._check(kind, to, payload, user)
        now = rfc3339(self.clock.now())
        with self.line.db.write() as conn:
            if client_ref is not None:
                found = store.by_client_ref(conn, user, client_ref)
                if found is not None:
                    return found
            held_id = str(uuid.uuid4())
            store.insert_held(
                conn,
                held_id,
                kind=kind,
                peer=to,
                precedence=precedence.upper(),
                lang=lang,
                payload=payload,
                client_ref=client_ref,
                requested_by=user,
                requested_at=now,
            )
            return self._get(conn, held_id)

    def _check(self, kind: str, to: str, payload: dict[str, Any], user: str) -> None:
        """Refuse now what sending would refuse: unknown peer, bad body, blocking rules."""
        with self.line.db.read() as conn:
            if peers.get(conn, to) is None:
                raise NotFound(f"no peer {to!r} is pinned on this node")
        if kind in self._registered:
            self._registered[kind][0](to, payload, user)
            return
        if kind == "text":
            check_body("text", {"text": payload.get("text")})
            return
        if kind == "code":
            code = payload.get("code")
            if not isinstance(code, int) or isinstance(code, bool):
                raise ValidationError(f"code must be a number, not {code!r}", field="code")
            notice: Any = self.notices.phrasebook.coded_message(code).model_dump(mode="json")
        else:
            notice = payload.get("notice")
        self.notices.sendable(to, notice, payload.get("accept_conflict"))

    # -- deciding --------------------------------------------------------------------------

    def approve(self, held_id: str, user: str) -> dict[str, Any]:
        """A second person approves: the message is sent, as the requester's."""
        now = rfc3339(self.clock.now())
        ref = InternalRef(f"held:{held_id}")

        # Each transaction below is retried whole on a deadlock or busy database; the
        # sending between them is idempotent on ``ref`` (and retried in ``Line.send``).
        def decide(conn: Connection) -> tuple[dict[str, Any], HotlineError | None]:
            row = self._get(conn, held_id, lock=True)
            self._decidable(row, user, "approve", retry_ok=True)
            refusal = self._author_refusal(conn, row)
            if refusal is not None:
                # an approval interrupted before sending is taken back: to be rejected
                if message_store.by_client_ref(conn, row["requested_by"], ref) is None:
                    store.take_back(conn, held_id)
                else:  # it left before the author was disabled: finish recording that
                    refusal = None
            if row["state"] == "held" and refusal is None:
                store.approve(conn, held_id, user, now)
            return row, refusal

        row, refusal = self.line.db.transaction(decide)
        if refusal is not None:
            raise refusal
        try:
            message = self._send(row)
        except HotlineError:  # refused, so nothing was sent: it stays held
            with self.line.db.write() as conn:
                if message_store.by_client_ref(conn, row["requested_by"], ref) is None:
                    store.take_back(conn, held_id)
            raise

        def record(conn: Connection) -> dict[str, Any]:
            store.mark_sent(conn, held_id, message)
            trail = {e["kind"] for e in message_store.trail(conn, message)}
            if "held" not in trail:
                message_store.add_event(
                    conn, message, row["requested_at"], "held", by=row["requested_by"]
                )
                message_store.add_event(
                    conn,
                    message,
                    row["decided_at"] or now,
                    "approved",
                    by=row["decided_by"] or user,
                )
            return self._get(conn, held_id)

        return self.line.db.transaction(record)

    def reject(self, held_id: str, user: str, reason: str) -> dict[str, Any]:
        """A second person rejects the message, saying why; it is never sent."""
        if not reason.strip():
            raise ValidationError("reason: say why the message is not sent", field="reason")
        now = rfc3339(self.clock.now())
        with self.line.db.write() as conn:
            row = self._get(conn, held_id, lock=True)
            self._decidable(row, user, "reject", retry_ok=False)
            store.reject(conn, held_id, user, now, reason.strip())
            return self._get(conn, held_id)

    def _decidable(self, row: dict[str, Any], user: str, action: str, *, retry_ok: bool) -> None:
        if row["requested_by"] == user:
            raise Forbidden(
                f"{user} asked for this FLASH message and may not {action} it",
                hint="a second person on watch approves or rejects it",
            )
        if row["state"] == "held" or (retry_ok and row["state"] == "approved"):
            return
        by = f" by {row['decided_by']}" if row["decided_by"] else ""
        raise Conflict(f"held message {row['id']} is already {row['state']}{by}")

    def _author_refusal(self, conn: Connection, row: dict[str, Any]) -> Conflict | None:
        """The refusal to send in the name of an author since disabled, removed or no
        longer on watch (no role that may send), if so."""
        author = users.get(conn, row["requested_by"])
        off_watch = author is not None and not set(author.roles) & WATCH
        if author is None or author.disabled or off_watch:
            gone = (
                "no longer exists"
                if author is None
                else "has been disabled"
                if author.disabled
                else "no longer has a role that may send"
            )
            return Conflict(
                f"{row['requested_by']}, who wrote held message {row['id']}, {gone} on this "
                "node: it is not sent in their name",
                hint="reject it; someone on watch sends it again in their own name if it must go",
            )
        return None

    def _send(self, row: dict[str, Any]) -> str:
        if row["kind"] in self._registered:
            return self._registered[row["kind"]][1](row)
        payload, ref = row["payload"], InternalRef(f"held:{row['id']}")
        common: dict[str, Any] = {
            "precedence": row["precedence"],
            "user": row["requested_by"],
            "client_ref": ref,
        }
        if row["kind"] == "text":
            sent = self.line.send(
                to=row["peer"],
                text=payload["text"],
                lang=row["lang"],
                attachments=payload.get("attachments"),  # references checked when held
                **common,
            )
            return str(sent["id"])
        if row["kind"] == "code":
            done = self.notices.send_code(row["peer"], payload["code"], **common)
        else:
            done = self.notices.send(
                row["peer"],
                payload["notice"],
                lang=row["lang"],
                accept_conflict=payload.get("accept_conflict"),
                attachments=payload.get("attachments"),  # references checked when held
                **common,
            )
        return str(done["message"]["id"])

    # -- reading ---------------------------------------------------------------------------

    def listing(self, state: str | None = "held") -> list[dict[str, Any]]:
        with self.line.db.read() as conn:
            return store.listing(conn, state)

    def get(self, held_id: str) -> dict[str, Any]:
        with self.line.db.read() as conn:
            return self._get(conn, held_id)

    def _get(self, conn: Connection, held_id: str, *, lock: bool = False) -> dict[str, Any]:
        row = store.get(conn, held_id, lock=lock)
        if row is None:
            raise NotFound(f"no held message {held_id}")
        return row

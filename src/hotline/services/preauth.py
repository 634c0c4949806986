"""Pre-authorised safety warnings: the FLASH warnings that go out without a second person.

The two-person rule (:mod:`hotline.services.held`) holds every FLASH message for a second
person's approval. For the seconds that matter (the Su-24 case: 17 s in the other side's
airspace), a commander authorises in advance a *safety warning*: a coded message (the
phrasebook's code, e.g. 11 "Request that your aircraft remain clear of the area we have
declared") to one peer, for one aircraft (a track id or callsign) and one area, valid in
one time window. While it is valid, anyone on watch sends it FLASH in one action, with no
second person -- anyone but its authoriser: two people still decide, one in advance, one
now. Only the phrasebook's safety warnings (:data:`SAFETY_CODES`) may be authorised so.
Everything else FLASH keeps the two-person rule.

Each use is recorded and shown: a row of ``safety_uses`` beside the authorisation; a
``preauthorised`` step in the message's trail (who authorised it, which authorisation);
a ``safety_warning`` alarm (subject: the message id), so every commander sees it until a
commander other than the sender clears it (:mod:`hotline.services.alarms`); and the
``safety_warning_sent`` security event. The message itself is a signed, chained envelope
in the evidence log like every other.

A commander can revoke an authorisation (with a reason); one revoked or out of its window
is refused. Limit: the coded message carries no parameters on the wire, so the aircraft
and the area are in the authorisation, the trail and the alarm, not in the envelope.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from hotline import seclog
from hotline.clock import Clock, parse_rfc3339, rfc3339
from hotline.errors import Conflict, Forbidden, NotFound, ValidationError
from hotline.services.alarms import raise_alarm
from hotline.services.line.service import Line
from hotline.services.notices.service import Notices
from hotline.services.policy import WATCH
from hotline.storage import messages as message_store
from hotline.storage import preauth as store
from hotline.storage import users
from hotline.storage.messages import InternalRef

#: Who may authorise in advance (a second person's judgement, given ahead of time).
AUTHORISERS = frozenset({"commander"})
#: The longest an authorisation may be valid: a standing warrant is not a safeguard.
MAX_VALIDITY = timedelta(days=7)
#: The phrasebook codes that are safety-of-flight (or of navigation) warnings, the only ones
#: a commander may authorise in advance: 9 "Request immediate deconfliction", 10 "Our
#: aircraft will remain clear of the area you have declared", 11/12 "Request that your
#: aircraft/ships remain clear of the area we have declared", 19 "Our forces have been
#: instructed to avoid any unsafe action". Statements of state responsibility (20 "not
#: intentional"), launch changes (13, 14) and the rest keep the two-person rule.
SAFETY_CODES = frozenset({9, 10, 11, 12, 19})


class SafetyWarnings:
    def __init__(self, line: Line, notices: Notices, clock: Clock) -> None:
        self.line = line
        self.notices = notices
        self.clock = clock

    def authorise(
        self,
        user: str,
        *,
        to: str,
        code: int,
        aircraft: str,
        area: str,
        valid_from: str,
        valid_until: str,
        note: str | None = None,
    ) -> dict[str, Any]:
        """A commander authorises a safety warning in advance; returns it."""
        self._has_role(user, AUTHORISERS, "authorise safety warnings in advance")
        start, end = _when(valid_from, "valid_from"), _when(valid_until, "valid_until")
        now = self.clock.now()
        if end <= start or end <= now:
            raise ValidationError(
                f"valid_until {valid_until} must be after valid_from and after now",
                field="valid_until",
            )
        if end - start > MAX_VALIDITY:
            raise ValidationError(
                f"an authorisation is valid for at most {MAX_VALIDITY.days} days",
                hint="authorise again when the operation goes on",
                field="valid_until",
            )
        # refuse now what sending would refuse (an unknown code or peer, a rule)
        self.notices.sendable(
            to, self.notices.phrasebook.coded_message(code).model_dump(mode="json")
        )
        if code not in SAFETY_CODES:
            raise ValidationError(
                f"code {code} is not a safety warning: only codes "
                f"{', '.join(map(str, sorted(SAFETY_CODES)))} may be authorised in advance",
                hint="send it FLASH the ordinary way: a second person approves it",
                field="code",
            )
        preauth_id = str(uuid.uuid4())
        row: dict[str, Any] = {
            "id": preauth_id,
            "peer": to,
            "code": code,
            "aircraft": aircraft,
            "area": area,
            "valid_from": rfc3339(start),
            "valid_until": rfc3339(end),
            "note": note,
            "authorised_by": user,
            "authorised_at": rfc3339(now),
        }
        with self.line.db.write() as conn:
            store.insert_preauth(conn, row)
        seclog.event("safety_preauthorised", preauth=preauth_id, code=code, peer=to)
        return self.get(preauth_id)

    def revoke(self, preauth_id: str, user: str, reason: str) -> dict[str, Any]:
        """A commander ends an authorisation before its time, saying why."""
        self._has_role(user, AUTHORISERS, "revoke safety warnings")
        if not reason.strip():
            raise ValidationError("reason: say why the authorisation ends", field="reason")
        row = self.get(preauth_id)
        if row["revoked_at"] is not None:
            raise Conflict(f"authorisation {preauth_id} was already revoked by {row['revoked_by']}")
        with self.line.db.write() as conn:
            store.revoke(conn, preauth_id, user, rfc3339(self.clock.now()), reason.strip())
        seclog.event("safety_preauth_revoked", preauth=preauth_id)
        return self.get(preauth_id)

    def warn(self, preauth_id: str, user: str, client_ref: str | None = None) -> dict[str, Any]:
        """Send a pre-authorised warning FLASH now, with no second person; returns the
        message and the use. Idempotent on ``client_ref`` (the user's): a retry after a
        lost answer, or after a crash between sending and recording, sends nothing more
        and records the use once."""
        self._has_role(user, WATCH, "send a safety warning")
        row = self.get(preauth_id)
        now = self.clock.now()
        if row["authorised_by"] == user:
            raise Forbidden(
                f"{user} authorised {preauth_id} and may not also send it: a warning sent "
                "without a second person still takes two people, one who authorised it in "
                "advance and another who sends it now",
                hint="someone else on watch sends it, or send it FLASH the ordinary way",
            )
        if row["revoked_at"] is not None:
            raise Conflict(
                f"authorisation {preauth_id} was revoked by {row['revoked_by']}: "
                f"{row['revoke_reason']}",
                hint="send it FLASH the ordinary way: a second person approves it",
            )
        if not parse_rfc3339(row["valid_from"]) <= now <= parse_rfc3339(row["valid_until"]):
            raise Conflict(
                f"authorisation {preauth_id} is valid from {row['valid_from']} until "
                f"{row['valid_until']}, not now",
                hint="send it FLASH the ordinary way: a second person approves it",
            )
        use_id = str(uuid.uuid4())
        key = use_id if client_ref is None else _digest(preauth_id, user, client_ref)
        sent = self.notices.send_code(
            row["peer"],
            int(row["code"]),
            precedence="FLASH",
            user=user,
            # names the authorisation: its commander is signed in as the approver
            client_ref=InternalRef(f"preauth:{preauth_id}:{key}"),
        )
        message_id = str(sent["message"]["id"])
        at = rfc3339(self.clock.now())
        with self.line.db.write() as conn:
            done = store.use_of_message(conn, message_id)
            if done is not None:  # a retry: sent and recorded already
                return {"message": sent["message"], "rendering": sent["rendering"], "use": done}
            store.insert_use(conn, use_id, preauth_id, message_id, user, at)
            message_store.add_event(
                conn, message_id, at, "preauthorised", by=row["authorised_by"], preauth=preauth_id
            )
            raise_alarm(
                conn,
                "safety_warning",
                message_id,
                at,
                preauth=preauth_id,
                code=row["code"],
                peer=row["peer"],
                aircraft=row["aircraft"],
                area=row["area"],
                sent_by=user,
                authorised_by=row["authorised_by"],
            )
        seclog.event(
            "safety_warning_sent",
            preauth=preauth_id,
            message_id=message_id,
            code=row["code"],
            peer=row["peer"],
            authorised_by=row["authorised_by"],
        )
        use = {"id": use_id, "message_id": message_id, "used_by": user, "used_at": at}
        return {"message": sent["message"], "rendering": sent["rendering"], "use": use}

    # -- reading ---------------------------------------------------------------------------

    def listing(self) -> list[dict[str, Any]]:
        with self.line.db.read() as conn:
            return [self._shown(r) for r in store.listing(conn)]

    def get(self, preauth_id: str) -> dict[str, Any]:
        with self.line.db.read() as conn:
            row = store.get(conn, preauth_id)
            if row is None:
                raise NotFound(
                    f"no safety warning authorisation {preauth_id}",
                    hint="hotline safety list shows them",
                )
            return self._shown(row | {"uses": store.uses_of(conn, preauth_id)})

    def _shown(self, row: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        valid = row["revoked_at"] is None and (
            parse_rfc3339(row["valid_from"]) <= now <= parse_rfc3339(row["valid_until"])
        )
        return row | {"valid_now": valid}

    def _has_role(self, user: str, roles: frozenset[str], what: str) -> None:
        with self.line.db.read() as conn:
            account = users.get(conn, user)
        if account is None or account.disabled or not set(account.roles) & roles:
            raise Forbidden(
                f"{user} may not {what}",
                hint=f"it takes the role {' or '.join(sorted(roles))}",
            )


def _digest(*parts: str) -> str:
    """A short key for a user's client reference (the message's column holds 100).

    >>> len(_digest("p", "officer", "retry-1"))
    32
    """
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _when(text: str, field: str) -> datetime:
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise ValidationError(f"{field}: {exc}", field=field) from None

"""Helpers shared by the calls services: roles, times, principals, the envelope's time.

Who may do what (``docs/calls.md``): people with the ``officer``, ``commander`` or
``admin`` role request, answer and record calls, write readouts and propose watch-level
changes; only a ``commander`` approves a watch-level change or a public readout held
for approval, and never the person who proposed or wrote it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.line import Precedence, Principal
from hotline.errors import Forbidden, MalformedMessage, NotFound, ValidationError
from hotline.services.auth import User
from hotline.services.line.identity import Identity
from hotline.storage import messages, peers
from hotline.storage.db import Connection

WRITE_ROLES = frozenset({"officer", "commander", "admin"})
APPROVE_ROLES = frozenset({"commander"})

#: The ``call_events`` kind of a local step: a held public readout rejected on this node.
#: It is no step of the request (no message, not on the peer), so timelines leave it out.
READOUT_REJECTED = "rejected"


def require(user: User, roles: frozenset[str], action: str) -> None:
    """Refuse ``user`` unless they hold one of ``roles``."""
    if not roles & set(user.roles):
        raise Forbidden(
            f"{user.name} may not {action}",
            hint=f"this needs the role {' or '.join(sorted(roles))}",
        )


def utc(text: str, field: str) -> str:
    """``text`` as this node stores and sends times: RFC 3339 UTC, milliseconds, ``Z``."""
    try:
        return rfc3339(parse_rfc3339(text))
    except (ValueError, TypeError):
        raise ValidationError(
            f"{field} {text!r} is not a UTC time",
            hint="write it as RFC 3339 in UTC, e.g. 2026-11-22T14:00:00Z",
            field=field,
        ) from None


def future(text: str, field: str, now: datetime) -> str:
    """A normalised time that must be later than ``now``."""
    value = utc(text, field)
    if parse_rfc3339(value) <= now:
        raise ValidationError(
            f"{field} {value} is not in the future (now is {rfc3339(now)})", field=field
        )
    return value


def before(a: str, b: str) -> bool:
    """Whether time ``a`` is strictly earlier than time ``b``."""
    return parse_rfc3339(a) < parse_rfc3339(b)


def precedence(value: str) -> str:
    try:
        return Precedence(value.upper()).value
    except ValueError:
        names = ", ".join(p.value for p in Precedence)
        raise ValidationError(f"unknown precedence {value!r}", hint=f"one of {names}") from None


def our_principal(identity: Identity, principal_id: str) -> Principal:
    for principal in identity.principals:
        if principal.id == principal_id:
            return principal
    known = ", ".join(p.id for p in identity.principals) or "none"
    raise NotFound(
        f"{principal_id!r} is not one of this party's principals (known: {known})",
        hint="principals are listed in principals.json beside hotline.toml",
    )


def peer_principals(conn: Connection, party: str) -> list[Principal]:
    """The principals on the peer's pinned card."""
    row = peers.get(conn, party)
    if row is None:
        raise NotFound(
            f"no peer {party!r} is pinned on this node",
            hint="import the peer's card with `hotline peer add CARD_FILE`",
        )
    card = json.loads(row.card)
    return [Principal.model_validate(p) for p in card.get("principals", [])]


def peer_principal(conn: Connection, party: str, principal_id: str) -> Principal:
    found = peer_principals(conn, party)
    for principal in found:
        if principal.id == principal_id:
            return principal
    known = ", ".join(p.id for p in found) or "none"
    raise NotFound(
        f"{party} has no principal {principal_id!r} on its card (known: {known})",
        hint="ask the peer for a fresh card and import it with `hotline peer add`",
    )


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps of requests both nodes share: ``events`` without this node's local ones."""
    return [e for e in events if e["kind"] != READOUT_REJECTED]


def envelope_created(conn: Connection, message_id: str) -> str:
    """The ``created`` time of an envelope this transaction just queued."""
    row = messages.get(conn, message_id)
    if row is None:  # enqueue stores it in the same transaction
        raise NotFound(f"no message {message_id!r}")
    return str(row["created"])


def other_party(row: dict[str, Any], party: str) -> str:
    """The request's other side, seen from ``party``."""
    return str(
        row["counterpart_party"] if party == row["requester_party"] else row["requester_party"]
    )


def refuse(message: str, **context: Any) -> MalformedMessage:
    """A received call message that no honest peer in the same state could send."""
    return MalformedMessage(message, hint="the two nodes disagree about this call", **context)

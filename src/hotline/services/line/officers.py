"""Who an envelope names: its sending officer and, for a held message, its approver.

Both are signed into the envelope (``sender``, ``approver``: docs/protocol.md), so that an
evidence bundle proves who sent a message and who let it leave, not only what it said.
An officer is named as this node knows them: the account's name and its display name
(``hotline user display-name``) when it has one. A message the node sends by itself (no
operator) names nobody: the fields are then absent, as on every envelope from before them.

The approver comes from the caller (a watch-level change: the commander who approved it)
or from the node's own client reference that the sending carries
(:class:`~hotline.storage.messages.InternalRef`): ``held:<id>`` (a FLASH message approved
under the two-person rule: its ``decided_by``) and ``preauth:<id>:<key>`` (a safety
warning: the commander who authorised it in advance).
"""

from __future__ import annotations

from typing import Any

from hotline.domain.line import ApprovalBasis
from hotline.storage import held, preauth, users
from hotline.storage.db import Connection
from hotline.storage.messages import InternalRef


def officers(
    conn: Connection,
    user: str | None,
    approver: tuple[str, ApprovalBasis] | None,
    client_ref: str | None,
) -> dict[str, Any]:
    """The ``sender`` and ``approver`` members of an envelope; each absent when none."""
    out: dict[str, Any] = {}
    sender = _officer(conn, user)
    if sender is not None:
        out["sender"] = sender
    if approver is None and isinstance(client_ref, InternalRef):
        approver = _approver_of(conn, str(client_ref))
    if approver is not None:
        named = _officer(conn, approver[0])
        if named is not None:
            out["approver"] = named | {"basis": approver[1]}
    return out


def _officer(conn: Connection, user: str | None) -> dict[str, Any] | None:
    """``{"user", "name"}`` of an account on this node; None for no account."""
    account = None if user is None else users.get(conn, user)
    if account is None:
        return None
    named: dict[str, Any] = {"user": account.name}
    if account.display_name:
        named["name"] = account.display_name
    return named


def _approver_of(conn: Connection, ref: str) -> tuple[str, ApprovalBasis] | None:
    kind, _, rest = ref.partition(":")
    if kind == "held":
        row = held.get(conn, rest)
        if row is not None and row["decided_by"]:
            return str(row["decided_by"]), "two_person"
    elif kind == "preauth":
        row = preauth.get(conn, rest.partition(":")[0])
        if row is not None:
            return str(row["authorised_by"]), "preauthorised"
    return None

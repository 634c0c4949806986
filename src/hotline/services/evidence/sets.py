"""Evidence sets: one file proving every message of an incident case or a time window.

A set is built from the single-message bundles of :mod:`~hotline.services.evidence.bundle`
(each made and checked exactly as ``hotline evidence export --message`` makes it, so
whatever a single bundle carries — receipts, acknowledgements, out-of-band attempts,
key changes, and anything added to it later — a set carries too), wrapped with its scope
and signed by this node. :mod:`~hotline.services.evidence.verify_set` checks it offline.
"""

from __future__ import annotations

import json
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.bodies import SYSTEM_TYPES
from hotline.errors import Conflict, NotFound, ValidationError
from hotline.protocol import keys
from hotline.protocol.canonical import canonical
from hotline.protocol.envelope import signing_bytes
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.service import Evidence
from hotline.services.evidence.verify_set import MAX_MESSAGES, SET_FORMAT, verify_set
from hotline.storage import messages


def export_set(
    evidence: Evidence,
    message_ids: list[str],
    scope: dict[str, Any],
    *,
    allow_uncosigned: bool = False,
) -> bytes:
    """The set proving ``message_ids`` (in that order) for ``scope`` as bytes to write.

    ``scope`` is ``{"case": id}`` or ``{"from": t, "to": t}`` (RFC 3339, as stored).
    Refused when there is nothing to prove, too much, or when it would not verify.
    """
    if not message_ids:
        raise NotFound(
            f"no message to prove in {_words(scope)}",
            hint="check the case id (`hotline case list`) or widen the window",
        )
    if len(message_ids) > MAX_MESSAGES:
        raise ValidationError(
            f"{len(message_ids)} messages in {_words(scope)}; a set holds at most {MAX_MESSAGES}",
            hint="export a narrower window",
        )
    audit = evidence.audit()  # once: it rereads the whole log (evidence.md, "Cost")
    bundles = [
        json.loads(export_bundle(evidence, mid, allow_uncosigned=allow_uncosigned, audit=audit))
        for mid in message_ids
    ]
    obj: dict[str, Any] = {
        "format": SET_FORMAT,
        "scope": scope,
        "exported_by": evidence.identity.party,
        "exported_at": evidence.now(),
        "message_ids": list(message_ids),
        "bundles": bundles,
    }
    obj["sig"] = keys.sign(evidence.identity.key, signing_bytes(obj))
    raw = canonical(obj) + b"\n"
    verdict = verify_set(raw, allow_uncosigned=allow_uncosigned)
    if not verdict.ok:
        failed = verdict.failed + [f for _, v in verdict.messages for f in v.failed]
        raise Conflict(
            "the evidence set does not verify, so it is not written: " + "; ".join(failed),
            hint="the stored messages may have been changed; compare with a backup",
        )
    return raw


def _words(scope: dict[str, Any]) -> str:
    if "case" in scope:
        return f"case {scope['case']}"
    return f"the window {scope['from']} to {scope['to']}"


def window(evidence: Evidence, start: str, end: str) -> tuple[list[str], dict[str, Any]]:
    """The ids of the messages created in a window, and the set's scope for it.

    Every message counts but the nodes' own (acknowledgements, link tests, track reports,
    key changes): an acknowledgement is in the bundle of the message it acknowledges.
    """
    try:
        first, last = rfc3339(parse_rfc3339(start)), rfc3339(parse_rfc3339(end))
    except ValueError as exc:
        raise ValidationError(
            f"--from/--to: {exc}", hint="give RFC 3339 UTC times, e.g. 2026-11-14T07:00:00Z"
        ) from None
    if last < first:
        raise ValidationError(f"the window ends ({end}) before it starts ({start})")
    with evidence.db.read() as conn:
        ids = messages.ids_created_between(conn, first, last, SYSTEM_TYPES)
    return ids, {"from": first, "to": last}

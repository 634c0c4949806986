"""Evidence bundles: one message's life, proven from this node's log, in one JSON file.

A bundle holds the envelope, its receipt, the acknowledgement and the receipt for it —
each as the exact canonical bytes that were logged — and the officers' signed attempts
to reach the peer off the line about it (``attempts``, when there are any), with their
positions and inclusion proofs in this node's log, a checkpoint of that log co-signed by
the peer, both nodes' signed cards (public keys and fingerprints), the key changes that
chain each party's earlier keys to its card's key (after a rotation), and this node's
signature over the whole.
The file is RFC 8785 canonical JSON and a newline, so any change to any byte shows.

Export works on the node's database directly (the node need not run); the bundle is
checked with :func:`~hotline.services.evidence.verify.verify_bundle` before it is
returned, so a node never hands out evidence that does not verify.
"""

from __future__ import annotations

import json
from typing import Any

from hotline.errors import Conflict, LogFork, NotFound
from hotline.protocol import keys
from hotline.protocol.canonical import canonical
from hotline.protocol.envelope import signing_bytes
from hotline.services.evidence.attempts import KIND as ATTEMPT_KIND
from hotline.services.evidence.audit import LogAudit
from hotline.services.evidence.files import bundle_files
from hotline.services.evidence.service import Evidence
from hotline.services.evidence.verify import FORMAT, KINDS, ROLES, verify_bundle
from hotline.storage import attachments, messages, peers
from hotline.storage import evidence as store
from hotline.storage import keys as key_history
from hotline.storage.evidence import StoredEntry


def export_bundle(
    evidence: Evidence,
    message_id: str,
    *,
    allow_uncosigned: bool = False,
    audit: LogAudit | None = None,
) -> bytes:
    """The bundle for ``message_id`` as bytes to write; refused when it would not verify.

    ``audit``: the log's audit made already (an evidence set makes one for all its
    messages: the audit rereads the whole log)."""
    row, peer_card, entries, cosigned = _gather(evidence, message_id)
    attempts = _attempts(evidence, message_id)
    audit = evidence.audit() if audit is None else audit
    if not audit.whole:
        raise LogFork(
            f"this node's log is damaged, so it cannot prove anything: {audit.summary()}",
            hint="restore the database from a backup; `GET /api/v1/log/forks` shows the evidence",
        )
    needed = max(entry.idx for _role, entry in [*entries, *attempts]) + 1
    if cosigned is None or cosigned.size < needed:
        if not allow_uncosigned:
            raise _not_covered(evidence, row["peer"], needed, cosigned)
        note, audit = evidence.sign_checkpoint(audit)
        size, is_cosigned = audit.size, False
    else:
        note, size, is_cosigned = cosigned.note, cosigned.size, True
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "message_id": message_id,
        "exported_by": evidence.identity.party,
        "exported_at": evidence.now(),
        "cosigned": is_cosigned,
        "cards": {
            evidence.identity.party: evidence.identity.card().wire(),
            row["peer"]: peer_card,
        },
        "checkpoint": note,
        "entries": [_entry(role, stored, audit, size) for role, stored in entries],
    }
    if attempts:  # absent when none: a bundle without any is what it always was
        bundle["attempts"] = [_attempt(stored, audit, size) for _, stored in attempts]
    files = _files(evidence, row)
    if files:  # absent when none, likewise
        bundle["attachments"] = files
    changes = _key_changes(evidence, [evidence.identity.party, row["peer"]])
    if changes:  # the chain from each party's earlier keys to the key on its card
        bundle["key_changes"] = changes
    bundle["sig"] = keys.sign(evidence.identity.key, signing_bytes(bundle))
    raw = canonical(bundle) + b"\n"
    verdict = verify_bundle(raw, allow_uncosigned=allow_uncosigned)
    if not verdict.ok:
        raise Conflict(
            "the bundle does not verify, so it is not written: " + "; ".join(verdict.failed),
            hint="the stored messages may have been changed; compare with a backup",
        )
    return raw


def _gather(
    evidence: Evidence, message_id: str
) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, StoredEntry]], store.SignedRow | None]:
    """The message row, the peer's pinned card, the entries by role, the last co-signed."""
    with evidence.db.read() as conn:
        row = messages.get(conn, message_id)
        if row is None:
            raise NotFound(f"no message {message_id!r} on this node")
        peer = peers.get(conn, row["peer"])
        if peer is None:
            raise NotFound(f"the peer {row['peer']!r} of message {message_id} is not pinned")
        refs = {"envelope": message_id, "receipt": message_id}
        if row["ack_message_id"]:
            refs |= {"ack": row["ack_message_id"], "ack_receipt": row["ack_message_id"]}
        found = {ref: store.entries_for(conn, ref) for ref in set(refs.values())}
        cosigned = store.latest_cosigned(conn, evidence.identity.party, row["peer"])
    side = "sender" if row["direction"] == messages.OUT else "receiver"
    entries = []
    for role, kind in zip(ROLES, KINDS[side], strict=True):
        match = next((e for e in found.get(refs.get(role, ""), []) if e.kind == kind), None)
        if match is not None:
            entries.append((role, match))
    if not entries or entries[0][0] != "envelope":
        raise NotFound(f"message {message_id} is not in this node's log")
    return row, json.loads(peer.card), entries, cosigned


def _files(evidence: Evidence, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The bytes of the message's attachments held whole here (``evidence/files.py``)."""
    refs = json.loads(row["envelope"]).get("attachments", [])
    stored: dict[str, bytes] = {}
    with evidence.db.read() as conn:
        for ref in refs:
            blob = attachments.get(conn, ref["sha256"])
            if blob is not None and blob["state"] == "complete":
                stored[ref["sha256"]] = b"".join(attachments.chunks(conn, ref["sha256"]))
    return bundle_files(refs, stored)


def _attempts(evidence: Evidence, message_id: str) -> list[tuple[str, StoredEntry]]:
    """The out-of-band attempts logged about the message (``evidence/attempts.py``)."""
    with evidence.db.read() as conn:
        found = store.entries_for(conn, message_id)
    return [(ATTEMPT_KIND, e) for e in found if e.kind == ATTEMPT_KIND]


def _attempt(stored: StoredEntry, audit: LogAudit, size: int) -> dict[str, Any]:
    out = _entry("", stored, audit, size)
    del out["role"]
    return out


def _key_changes(evidence: Evidence, parties: list[str]) -> dict[str, list[dict[str, Any]]]:
    with evidence.db.read() as conn:
        found = {party: key_history.changes(conn, party) for party in parties}
    return {party: changes for party, changes in found.items() if changes}


def _entry(role: str, stored: StoredEntry, audit: LogAudit, size: int) -> dict[str, Any]:
    return {
        "role": role,
        "kind": stored.kind,
        "index": stored.idx,
        "entry": stored.entry.decode("utf-8"),
        "leaf_hash": stored.leaf_hash.hex(),
        "proof": [h.hex() for h in audit.inclusion_proof(stored.idx, size)],
    }


def _not_covered(
    evidence: Evidence, peer: str, needed: int, cosigned: store.SignedRow | None
) -> Conflict:
    latest = f"the latest has size {cosigned.size}" if cosigned else "there is none yet"
    interval = evidence.settings.checkpoint_interval_s
    return Conflict(
        f"no checkpoint of this log co-signed by {peer} covers entry {needed - 1} yet ({latest})",
        hint=f"with the node running, `hotline evidence exchange` (or wait for the next "
        f"exchange, every {interval} s) and export again; or pass --allow-uncosigned for a "
        "bundle signed by this node only, marked as such",
    )

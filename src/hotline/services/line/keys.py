"""Key rotation and compromise: this node's own key changes, and its peers'.

Own key (``hotline key rotate`` / ``hotline key revoke``, node stopped): a new key is made,
a key change signed (``protocol/keychange.py``), recorded in the key history and queued
to every pinned peer as a ``key_change`` envelope, in its channel after everything
already queued; then the new key replaces the old in the key file.

A peer's rotation arrives in its channel, signed by the pinned (old) key, and is applied
by :func:`on_key_change` (a receive hook) in the transaction that stores it: everything
the peer queued before it was signed with the old key and arrives first; everything
after it is signed with the new key. A peer's revocation is signed by the new key only,
which is not pinned: the receiver holds it (:func:`hold_revocation`) until an officer
confirms the new fingerprint out of band (:func:`confirm`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hotline import seclog
from hotline.domain.keys import KeyChange
from hotline.domain.line import Envelope
from hotline.errors import (
    ConfigError,
    Conflict,
    KeyChangePending,
    KeyRevoked,
    MalformedMessage,
    NotFound,
    UnknownKey,
    WireError,
)
from hotline.protocol import keychange, keys, tls
from hotline.protocol.envelope import open_card, parse, verify_signature
from hotline.protocol.keychange import ENVELOPE_TYPE, REVOCATION, KeyPeriod
from hotline.services.alarms import clear_alarm, note_on_alarm, raise_alarm
from hotline.services.line.service import Line
from hotline.storage import keys as store
from hotline.storage import messages, peers
from hotline.storage.db import Connection

#: Alarm kinds a peer's key change raises (``services/alarms.py``).
ROTATED_ALARM = "peer_key_changed"
PENDING_ALARM = "peer_key_pending"
NEXT_SUFFIX = ".next"  # the new key, written before the key file is replaced


# -- a peer's key changes --------------------------------------------------------------------


def apply_change(
    conn: Connection, change: KeyChange, at: str, *, allow_plain_http: bool = False
) -> None:
    """Pin the change's new card and key; the old key joins the history. The new card
    passes the checks ``hotline peer add`` makes (no plain-HTTP endpoint unless allowed)."""
    card, _ = open_card(change.card)
    problem = tls.plain_http_problem(card.endpoints, allow_plain_http)
    if problem:
        raise MalformedMessage(f"the new card of {change.party} in its key change: {problem}")
    _refuse_key_again(conn, change)
    peers.upsert(conn, card, json.dumps(card.wire()), at)
    store.drop_pending(conn, change.party)
    clear_alarm(conn, PENDING_ALARM, change.party, at, f"key {change.new_key} pinned")
    store.record_change(conn, change.wire(), at)
    raise_alarm(
        conn,
        ROTATED_ALARM,
        change.party,
        at,
        peer=change.party,
        type=change.type,
        reason=_said(change),
        old_key=change.old_key,
        new_key=change.new_key,
        effective=change.effective,
        revoked_from=change.revoked_from,
    )
    seclog.event(
        "peer_key_rotated" if change.type == keychange.ROTATION else "peer_key_revoked",
        peer=change.party,
        key=change.new_key,
        old_key=change.old_key,
        effective=change.effective,
        revoked_from=change.revoked_from,
    )


def _refuse_key_again(conn: Connection, change: KeyChange) -> None:
    """A key is never taken up again: a change back to a key of the party's history
    (A→B, then B→A) would give one key two periods, which no history can say."""
    known = store.get(conn, change.party, change.new_key)
    if known is not None and known.state != "pending":
        raise MalformedMessage(
            f"the key change of {change.party} names the key {change.new_key}, which "
            f"{change.party} already had: a retired or revoked key is never used again",
            hint=f"{change.party}'s operator: change to a newly generated key "
            "(`hotline key rotate`)",
        )


def _said(change: KeyChange) -> str:
    """The alarm's line, e.g. ``ru rotated its key: ed25519:ab… → ed25519:cd… at T``."""
    if change.type == keychange.ROTATION:
        return (
            f"{change.party} rotated its key: {change.old_key} → {change.new_key} "
            f"at {change.effective}"
        )
    return (
        f"{change.party} revoked its key {change.old_key} from {change.revoked_from} "
        f"(confirmed out of band): now {change.new_key}"
    )


def on_key_change(
    conn: Connection, envelope: Envelope, now: str, *, allow_plain_http: bool = False
) -> None:
    """Receive hook for ``key_change`` envelopes: apply a rotation signed by the pinned
    key; a change already applied (a confirmed revocation, delivered) changes nothing."""
    change = keychange.open_change(envelope.body)
    if change.party != envelope.from_:
        raise MalformedMessage(f"{envelope.from_} sent the key change of {change.party}")
    pinned = peers.get(conn, change.party)
    current = None if pinned is None else pinned.fingerprint
    if current == change.new_key:
        return
    if change.type == REVOCATION:
        raise KeyChangePending(_pending_message(change), hint=_confirm_hint(change))
    if change.old_key != current or envelope.key != current:
        raise UnknownKey(
            f"the key rotation of {change.party} chains from the key {change.old_key}, "
            "not from its pinned key",
            hint="only a rotation signed by the pinned key is applied",
        )
    if _revocation_pending(conn, change.party, change.old_key):  # held by hold_rotation
        raise KeyChangePending(_held_rotation_message(change), hint=_confirm_hint(change))
    _check_effective(conn, change, envelope)
    apply_change(conn, change, now, allow_plain_http=allow_plain_http)


def _check_effective(conn: Connection, change: KeyChange, envelope: Envelope) -> None:
    """Refuse a rotation that takes effect before the last thing we hold signed with
    the old key (the envelope before it in the channel, a receipt): backdated, it would
    retire the old key before what it signed, and the peer would disown it."""
    signed = [messages.last_inbound_before(conn, change.party, envelope.seq)]
    for text in messages.receipts_from(conn, change.party):
        receipt = json.loads(text)
        if receipt.get("key") == change.old_key:
            signed.append(receipt.get("received"))
    times = [t for t in signed if isinstance(t, str)]
    latest = max(times, key=keychange.parse_time, default=None)
    if latest is not None and keychange.parse_time(change.effective) < keychange.parse_time(latest):
        raise MalformedMessage(
            f"the key rotation of {change.party} takes effect at {change.effective}, before "
            f"{latest}, when its old key {change.old_key} last signed here: refused, it "
            "would disown what that key signed",
            hint=f"{change.party}'s operator: check the node's clock, then rotate again",
        )


def _revocation_pending(conn: Connection, party: str, old_key: str) -> bool:
    """Whether a revocation of ``party``'s key ``old_key`` waits for an officer."""
    for row in store.of_party(conn, party):
        if row.state == "pending" and row.change is not None:
            held = json.loads(row.change)
            if held.get("type") == REVOCATION and held.get("old_key") == old_key:
                return True
    return False


def hold_rotation(line: Line, item: Any) -> KeyChangePending | None:
    """Hold a rotation signed by a key whose revocation waits for an officer: its
    signer may be the thief of that key. It waits beside the revocation, and the officer
    confirms the one read out of band (:func:`confirm`); None if ``item`` is not one."""
    if not isinstance(item, dict) or item.get("type") != ENVELOPE_TYPE:
        return None
    try:
        change = keychange.open_change(item.get("body"))
    except WireError:
        return None
    if change.type != keychange.ROTATION or change.party != item.get("from"):
        return None
    now = line.now()

    def work(conn: Connection) -> bool:
        if not _revocation_pending(conn, change.party, change.old_key):
            return False
        if store.add_pending(conn, change.wire(), now):
            note_on_alarm(
                conn,
                PENDING_ALARM,
                change.party,
                reason=_held_rotation_message(change),
                rotation_held=change.new_key,
            )
            seclog.event(
                "peer_key_rotation_held",
                peer=change.party,
                key=change.new_key,
                old_key=change.old_key,
            )
        return True

    if not line.db.transaction(work):
        return None
    return KeyChangePending(_held_rotation_message(change), hint=_confirm_hint(change))


def _held_rotation_message(change: KeyChange) -> str:
    return (
        f"{change.party} rotates its key {change.old_key} to {change.new_key}, while a "
        f"revocation of {change.old_key} waits: both held until an officer confirms the "
        "new key read out of band (the rotation may come from the key's thief)"
    )


def rotation_in(item: Any, pinned_fp: str | None) -> tuple[str, Ed25519PublicKey] | None:
    """The new key of a ``key_change`` envelope that rotates ``pinned_fp`` (the receiver
    checks the envelopes after it in the same batch with it); None for anything else."""
    if not isinstance(item, dict) or item.get("type") != ENVELOPE_TYPE:
        return None
    try:
        change = keychange.open_change(item.get("body"))
    except WireError:
        return None
    if change.type != keychange.ROTATION or change.old_key != pinned_fp:
        return None
    return change.new_key, keys.public_from_b64(change.new_public_key)


def _revocation_in(line: Line, item: Any) -> KeyChange | None:
    """The revocation an envelope to this node carries, signed (envelope and change) by
    the new key it names; None for anything else."""
    try:
        envelope = parse(item, Envelope)
        if envelope.type != ENVELOPE_TYPE:
            return None
        change = keychange.open_change(envelope.body)
        if change.type != REVOCATION or envelope.key != change.new_key:
            return None
        verify_signature(envelope, keys.public_from_b64(change.new_public_key))
    except WireError:
        return None
    if change.party != envelope.from_ or envelope.to != line.identity.party:
        return None
    return change


def hold_revocation(line: Line, item: Any) -> KeyChangePending | None:
    """Hold a peer's revocation (a ``key_change`` envelope signed by its new, unpinned key)
    until an officer confirms it; the refusal to answer, or None if ``item`` is not one."""
    change = _revocation_in(line, item)
    if change is None:
        return None
    now = line.now()

    def work(conn: Connection) -> bool:
        pinned = peers.get(conn, change.party)
        if pinned is None or pinned.fingerprint != change.old_key:
            return False
        if store.add_pending(conn, change.wire(), now):
            raise_alarm(
                conn,
                PENDING_ALARM,
                change.party,
                now,
                peer=change.party,
                reason=_pending_message(change),
                old_key=change.old_key,
                new_key=change.new_key,
                revoked_from=change.revoked_from,
            )
            seclog.event(
                "peer_key_revocation_held",
                peer=change.party,
                key=change.new_key,
                old_key=change.old_key,
                revoked_from=change.revoked_from,
            )
        return True

    if not line.db.transaction(work):
        return None
    return KeyChangePending(_pending_message(change), hint=_confirm_hint(change))


def _pending_message(change: KeyChange) -> str:
    return (
        f"{change.party} revoked its key {change.old_key} from {change.revoked_from} and "
        f"names the new key {change.new_key}: held until an officer confirms it out of band"
    )


def _confirm_hint(change: KeyChange) -> str:
    return (
        f"read the new fingerprint with {change.party} over another channel, then "
        f"`hotline peer confirm-key {change.party} FINGERPRINT`"
    )


def confirm(
    conn: Connection, party: str, fingerprint: str, at: str, *, allow_plain_http: bool = False
) -> KeyChange:
    """Apply the pending revocation of ``party`` whose new key is ``fingerprint`` (as an
    officer read it out of band: spaces and case do not matter)."""
    wanted = normalise_fingerprint(fingerprint)
    row = store.get(conn, party, wanted)
    if row is None or row.state != "pending" or row.change is None:
        waiting = [r.fingerprint for r in store.of_party(conn, party) if r.state == "pending"]
        raise NotFound(
            f"no key change of {party} waiting for confirmation has the key {wanted}",
            hint=f"waiting: {', '.join(waiting)}" if waiting else "nothing waits for confirmation",
        )
    change = keychange.open_change(json.loads(row.change))
    pinned = peers.get(conn, party)
    if pinned is None or pinned.fingerprint != change.old_key:
        raise Conflict(f"{party}'s pinned key is no longer the one this change revokes")
    apply_change(conn, change, at, allow_plain_http=allow_plain_http)
    seclog.event("peer_key_confirmed", peer=party, key=change.new_key, source="cli")
    return change


def normalise_fingerprint(text: str) -> str:
    """``ed25519:<hex>`` from a fingerprint as typed or read aloud (groups, any case)."""
    digits = "".join(text.split(":", 1)[-1].split()).lower()
    return "ed25519:" + digits


def periods(conn: Connection, party: str) -> list[KeyPeriod]:
    """The party's keys as recorded here (pending ones left out), oldest first."""
    return [
        KeyPeriod(r.fingerprint, r.public_key, r.valid_from, r.valid_to, r.revoked_from)
        for r in store.of_party(conn, party)
        if r.state != "pending"
    ]


def historic_key(conn: Connection, party: str, fingerprint: str, at: str, what: str) -> str:
    """The public key (base64) of ``party``'s key ``fingerprint`` if it was valid at
    ``at``: refused if revoked by then (``KeyRevoked``) or never known (``UnknownKey``)."""
    return keychange.key_at(periods(conn, party), fingerprint, at, what).public_key


def historic_envelope_key(
    conn: Connection, party: str, fingerprint: str, at: str, seq: int, what: str
) -> str:
    """:func:`historic_key` for an envelope at ``seq`` of ``party``'s channel: an
    earlier key signs only envelopes up to the key change that replaced it in the
    channel, whatever time they claim (the signer sets it: a thief backdates)."""
    public = historic_key(conn, party, fingerprint, at, what)
    replaced_at = _change_position(conn, party, fingerprint)
    # seq == replaced_at: the change itself (a rotation is signed by the old key) offered
    # again; anything else there is refused as a replay of that seq
    if replaced_at is None or seq > replaced_at:
        where = "not stored yet" if replaced_at is None else f"at seq {replaced_at}"
        raise KeyRevoked(
            f"{what} (seq {seq}) is signed by {party}'s key {fingerprint}, replaced by the "
            f"key change {where} of its channel: that key signs nothing after it",
            hint="anything signed by a replaced key after the change may be forged; ask "
            "the peer to send it again with its new key",
        )
    return public


def _change_position(conn: Connection, party: str, fingerprint: str) -> int | None:
    """The seq, in ``party``'s channel to this node, of the stored key change that
    replaced its key ``fingerprint``; None if none is stored."""
    for seq, text in messages.inbound_key_changes(conn, party):
        body = json.loads(text).get("body")
        if isinstance(body, dict) and body.get("old_key") == fingerprint:
            return seq
    return None


def historic_receipt_key(
    conn: Connection, party: str, fingerprint: str, at: str, sent: str, what: str
) -> str:
    """:func:`historic_key` for a receipt of this node's message created at ``sent``
    (this node's clock): an earlier key receipts only messages made before this node
    applied the change that replaced it, whatever time the receipt claims."""
    public = historic_key(conn, party, fingerprint, at, what)
    row = store.get(conn, party, fingerprint)
    if row is None or keychange.parse_time(sent) > keychange.parse_time(row.recorded_at):
        raise KeyRevoked(
            f"{what} is signed by {party}'s key {fingerprint}, for a message made after "
            "that key was replaced here: it is not trusted",
            hint="ask the peer to receipt it again with its new key",
        )
    return public


# -- this node's own key --------------------------------------------------------------------


@dataclass(frozen=True)
class OwnChange:
    change: KeyChange
    peers: list[str]


def rotate_own(line: Line, key_path: Path, *, revoked_from: str | None = None) -> OwnChange:
    """Replace this node's key: a rotation (``revoked_from`` None) signed by both keys and
    queued with the old one; or a revocation signed by the new key only and queued with
    it. The new key is written beside the key file first, then replaces it."""
    next_path = key_path.with_name(key_path.name + NEXT_SUFFIX)
    if next_path.exists():
        raise ConfigError(
            f"{next_path} exists: an earlier key change did not finish",
            hint="run `hotline key finish` to complete it",
        )
    old, new = line.identity.key, keys.generate()
    now = line.now()
    card = replace(line.identity, key=new).card()
    if revoked_from is None:
        change = keychange.make_rotation(old, new, card, now)
        sender = line
    else:
        change = keychange.make_revocation(old.public_key(), new, card, now, revoked_from)
        sender = replace(line, identity=replace(line.identity, key=new))
    keys.save_private(new, next_path)
    try:
        targets = line.db.transaction(lambda conn: _queue_change(conn, sender, change, now))
    except BaseException:
        next_path.unlink()
        raise
    finish_own(line, key_path)
    what = "key_rotated" if revoked_from is None else "key_revoked"
    seclog.event(what, key=change.new_key, old_key=change.old_key, revoked_from=revoked_from)
    return OwnChange(change, targets)


def _queue_change(conn: Connection, sender: Line, change: KeyChange, now: str) -> list[str]:
    """Queue ``change`` to every pinned peer (signed by ``sender``'s key) and record it."""
    targets = [row.party for row in peers.all_peers(conn)]
    for peer in targets:
        sender.enqueue(
            conn,
            to=peer,
            type_=ENVELOPE_TYPE,
            body=change.wire(),
            precedence="IMMEDIATE",
            lang=sender.identity.lang,
            user=None,
        )
    store.record_change(conn, change.wire(), now)
    return targets


def finish_own(line: Line, key_path: Path) -> bool:
    """Put the new key in place of the old, if the key history says it is current (a key
    change interrupted between its commit and the file swap); False if nothing to do."""
    next_path = key_path.with_name(key_path.name + NEXT_SUFFIX)
    if not next_path.exists():
        return False
    new = keys.load_private(next_path)
    fp = keys.fingerprint(new.public_key())
    with line.db.read() as conn:
        row = store.get(conn, line.identity.party, fp)
    if row is None or row.state != "current":
        next_path.unlink()  # made, never committed: the old key stays
        return False
    os.replace(next_path, key_path)
    return True


def own_history(line: Line) -> list[dict[str, Any]]:
    with line.db.read() as conn:
        return [_row(r) for r in store.of_party(conn, line.identity.party)]


def peer_history(line: Line, party: str) -> list[dict[str, Any]]:
    with line.db.read() as conn:
        return [_row(r) for r in store.of_party(conn, party)]


def _row(row: store.KeyRow) -> dict[str, Any]:
    return {
        "fingerprint": row.fingerprint,
        "state": row.state,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "revoked_from": row.revoked_from,
        "change_type": None if row.change is None else json.loads(row.change).get("type"),
    }

"""Key changes: a node's signing key rotated (or revoked after a compromise), and the
key history that lets old signatures keep verifying.

A **key change** is a signed object (``docs/protocol.md``, "Key changes")::

    {"v": 1, "type": "key_rotation" | "key_revocation", "party": "ru",
     "old_key": FP, "old_public_key": B64, "new_key": FP, "new_public_key": B64,
     "effective": T, ["revoked_from": T0,] "card": NEW_CARD, ["sig_old": ..,] "sig_new": ..}

Both signatures are over the RFC 8785 canonical JSON of the object without ``sig_old``
and ``sig_new``. A **rotation** is signed by the old key (it vouches for the new one) and
by the new key (it proves its holder has it): a peer applies it without a person. A
**revocation** is signed by the new key only (the old one is compromised and can vouch
for nothing): a peer holds it until an officer confirms the new fingerprint out of band.
``NEW_CARD`` is the node's card with the new key, self-signed by it.

A **key history** (:class:`KeyPeriod`, oldest first) is rebuilt from the current key and
the chain of changes: each key is valid from the ``effective`` time of the change that
introduced it until the ``effective`` time of the next; a revoked key is not trusted for
anything signed at or after its ``revoked_from``. :func:`key_at` answers which key may
have signed something at a given time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hotline.domain.keys import KeyChange
from hotline.domain.line import PeerCard
from hotline.errors import BadSignature, KeyRevoked, MalformedMessage, UnknownKey
from hotline.protocol import keys
from hotline.protocol.canonical import canonical, refuse_floats
from hotline.protocol.envelope import describe, open_card

ROTATION = "key_rotation"
REVOCATION = "key_revocation"
#: The envelope type that carries a key change over the line (its body is the change).
ENVELOPE_TYPE = "key_change"
_SIGS = ("sig_old", "sig_new")


def parse_time(text: str) -> datetime:
    """An RFC 3339 UTC time (``TIME_PATTERN``), to compare: as text, ``…:05Z`` would sort
    after ``…:05.2Z``."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedMessage(f"{text!r} is not a valid time") from None


def _signing_bytes(obj: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in obj.items() if k not in _SIGS})


def make_rotation(
    old: Ed25519PrivateKey, new: Ed25519PrivateKey, card: PeerCard, effective: str
) -> KeyChange:
    """A rotation from ``old`` to ``new`` (``card`` made with ``new``), signed by both."""
    unsigned = _unsigned(ROTATION, old.public_key(), new, card, effective)
    message = _signing_bytes(unsigned)
    signed = unsigned | {"sig_old": keys.sign(old, message), "sig_new": keys.sign(new, message)}
    return open_change(signed)


def make_revocation(
    old_public: Ed25519PublicKey,
    new: Ed25519PrivateKey,
    card: PeerCard,
    effective: str,
    revoked_from: str,
) -> KeyChange:
    """A revocation of the compromised key ``old_public`` from ``revoked_from`` on, in
    favour of ``new``: signed by the new key only."""
    unsigned = _unsigned(REVOCATION, old_public, new, card, effective)
    unsigned["revoked_from"] = revoked_from
    signed = unsigned | {"sig_new": keys.sign(new, _signing_bytes(unsigned))}
    return open_change(signed)


def _unsigned(
    kind: str, old: Ed25519PublicKey, new: Ed25519PrivateKey, card: PeerCard, effective: str
) -> dict[str, Any]:
    return {
        "v": 1,
        "type": kind,
        "party": card.party,
        "old_key": keys.fingerprint(old),
        "old_public_key": keys.public_b64(old),
        "new_key": keys.fingerprint(new.public_key()),
        "new_public_key": keys.public_b64(new.public_key()),
        "effective": effective,
        "card": card.wire(),
    }


def open_change(obj: Any) -> KeyChange:
    """Parse a key change and check it: fingerprints of its keys, its new card (the
    party's, self-signed by the new key), the new key's signature and, on a rotation,
    the old key's. A rotation without the old key's signature is refused."""
    if not isinstance(obj, dict):
        raise MalformedMessage("a key change must be a JSON object")
    refuse_floats(obj)
    try:
        change = KeyChange.model_validate(obj)
    except pydantic.ValidationError as exc:
        raise MalformedMessage(
            f"malformed key change: {describe(exc)}",
            hint="see docs/protocol.md, 'Key changes'",
        ) from exc
    old = keys.public_from_b64(change.old_public_key)
    new = keys.public_from_b64(change.new_public_key)
    if keys.fingerprint(old) != change.old_key or keys.fingerprint(new) != change.new_key:
        raise BadSignature("the key change's fingerprints are not those of its keys")
    if change.old_key == change.new_key:
        raise MalformedMessage("a key change must name a new key, not the old one again")
    card, card_key = open_card(change.card)
    if card.party != change.party or keys.fingerprint(card_key) != change.new_key:
        raise BadSignature("the key change's card is not the party's card with the new key")
    message = _signing_bytes(change.wire())
    if not keys.verify(new, change.sig_new, message):
        raise BadSignature("the key change is not signed by its new key")
    if change.type == ROTATION:
        _check_rotation(change, old, message)
    elif change.sig_old is not None or change.revoked_from is None:
        raise MalformedMessage(
            "a key revocation carries revoked_from and only the new key's signature"
        )
    elif parse_time(change.revoked_from) > parse_time(change.effective):
        raise MalformedMessage("a key revocation cannot start after the new key takes effect")
    return change


def _check_rotation(change: KeyChange, old: Ed25519PublicKey, message: bytes) -> None:
    if change.revoked_from is not None:
        raise MalformedMessage("a key rotation carries no revoked_from")
    if change.sig_old is None or not keys.verify(old, change.sig_old, message):
        raise BadSignature(
            f"refused as a rotation: the old key {change.old_key} did not sign it",
            hint="a rotation is signed by the old key and the new; a compromised key is "
            "replaced with `hotline key revoke`, confirmed out of band",
        )


@dataclass(frozen=True)
class KeyPeriod:
    """One key of a party and when it may have signed."""

    fingerprint: str
    public_key: str  # base64 of the 32 raw bytes
    valid_from: str | None  # None: since the party was first pinned
    valid_to: str | None  # None: still current
    revoked_from: str | None = None
    introduced_by: str | None = None  # key_rotation | key_revocation | None (first key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "revoked_from": self.revoked_from,
            "introduced_by": self.introduced_by,
        }


def history(current_key: str, changes: list[dict[str, Any]]) -> list[KeyPeriod]:
    """The party's keys, oldest first, from its current key's fingerprint back through
    ``changes`` (each checked with :func:`open_change`). A change that does not chain to
    the current key (from an unknown key, or a fork) is refused."""
    opened = [open_change(obj) for obj in changes]
    by_new = {change.new_key: change for change in opened}
    if len(by_new) != len(opened):
        raise BadSignature("two key changes introduce the same key: the history forks")
    periods: list[KeyPeriod] = []
    fp, valid_to, revoked = current_key, None, None
    public = None
    while fp in by_new:
        change = by_new.pop(fp)
        public = change.new_public_key
        periods.append(KeyPeriod(fp, public, change.effective, valid_to, revoked, change.type))
        fp, valid_to, revoked = change.old_key, change.effective, change.revoked_from
        public = change.old_public_key
        if any(p.fingerprint == fp for p in periods):
            raise BadSignature("the key history loops back on itself")
    if by_new:
        stray = next(iter(by_new.values()))
        raise UnknownKey(
            f"the key change to {stray.new_key} does not chain from {current_key} back: "
            f"its old key {stray.old_key} is unknown",
            hint="only a change signed within the party's own chain of keys is accepted",
        )
    if public is None:
        return []
    periods.append(KeyPeriod(fp, public, None, valid_to, revoked, None))
    return periods[::-1]


def key_at(periods: list[KeyPeriod], fingerprint: str, at: str, what: str) -> KeyPeriod:
    """The period of ``fingerprint`` if it may have signed ``what`` at ``at``.

    Refused (:class:`KeyRevoked`) at or after a revoked key's ``revoked_from``, or after
    a retired key's ``valid_to`` (a rotation retires a key: nothing signed later is its
    holder's). Unknown fingerprints raise :class:`UnknownKey`."""
    for period in periods:
        if period.fingerprint != fingerprint:
            continue
        if period.revoked_from is not None and parse_time(at) >= parse_time(period.revoked_from):
            raise KeyRevoked(
                f"{what} was signed at {at} by the key {fingerprint}, revoked from "
                f"{period.revoked_from} (compromised): it is not trusted",
                hint="anything signed by a revoked key after its revocation time may be "
                "forged; ask the peer to send it again with its new key",
            )
        if period.valid_to is not None and parse_time(at) > parse_time(period.valid_to):
            raise KeyRevoked(
                f"{what} was signed at {at} by the key {fingerprint}, retired at "
                f"{period.valid_to} by a key rotation",
                hint="the peer's node still signs with its old key: it must restart on its new key",
            )
        return period
    raise UnknownKey(f"{what} is signed by the key {fingerprint}, not in the party's history")

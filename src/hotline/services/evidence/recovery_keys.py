"""Recovery after a restore: which key of a party signed each copy taken back.

A party may have changed its key in the part the restored node lost: its copies are then
signed by the key in force when each was signed, not by the key pinned now (restored
with the database). :class:`Signers` holds the party's key history as this node recorded
it (``services/line/keys.py``), and walks the party's own channel in order: a
``key_change`` rotation among the copies, once verified, retires the key in force and
brings in the new one (as the ordinary receive path does). Each envelope and receipt is
checked against the key that was valid for its signer at the time it names
(:func:`hotline.protocol.keychange.key_at`): a revoked or unknown key is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hotline.errors import BadSignature, KeyRevoked, UnknownKey
from hotline.protocol import keychange, keys
from hotline.protocol.keychange import KeyPeriod
from hotline.services.line import keys as key_changes
from hotline.storage.db import Connection


@dataclass
class Signers:
    """One party's keys while its copies are checked, oldest first; the last in force."""

    party: str
    periods: list[KeyPeriod]

    @classmethod
    def of(cls, conn: Connection, party: str, fingerprint: str, public_b64: str) -> Signers:
        """From the key history kept here; ``fingerprint`` (pinned now) is the key in
        force at this node's heads."""
        periods = key_changes.periods(conn, party)
        if not any(p.fingerprint == fingerprint for p in periods):
            periods.append(KeyPeriod(fingerprint, public_b64, None, None))
        return cls(party, periods)

    @property
    def current(self) -> str:
        return self.periods[-1].fingerprint

    def key(self, fingerprint: str, at: str, what: str) -> Ed25519PublicKey:
        """The public key ``fingerprint`` if it was this party's at ``at``."""
        try:
            period = keychange.key_at(self.periods, fingerprint, at, what)
        except (UnknownKey, KeyRevoked) as exc:
            raise BadSignature(
                f"{exc.message}: refused, nothing stored",
                hint="the peer's copies must be signed by the keys this node knows of "
                f"{self.party} (its key history and the rotations among the copies)",
            ) from exc
        return keys.public_from_b64(period.public_key)

    def publics(self) -> list[Ed25519PublicKey]:
        """Every key of this party not revoked, newest first: for what carries no time
        (a checkpoint note co-signed before a rotation)."""
        return [
            keys.public_from_b64(p.public_key)
            for p in reversed(self.periods)
            if p.revoked_from is None
        ]

    def after(self, item: Any) -> None:
        """Move on past a verified envelope of this party: if it rotates the key in force,
        the new key is in force from the rotation's ``effective`` time."""
        if key_changes.rotation_in(item, self.current) is None:
            return
        change = keychange.open_change(item["body"])
        self.periods[-1] = replace(self.periods[-1], valid_to=change.effective)
        self.periods.append(
            KeyPeriod(
                change.new_key,
                change.new_public_key,
                change.effective,
                None,
                None,
                change.type,
            )
        )

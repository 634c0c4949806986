"""A key change's wire shape: a node's signing key rotated, or revoked after a
compromise (``docs/protocol.md``, "Key changes"; checked in ``protocol/keychange.py``).
It travels as the body of a ``key_change`` envelope."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.domain.line import FINGERPRINT_PATTERN, PARTY_PATTERN, TIME_PATTERN


class KeyChange(BaseModel):
    """The wire shape of a key change (shape only: :func:`open_change` checks it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    v: Literal[1]
    type: Literal["key_rotation", "key_revocation"]
    party: str = Field(pattern=PARTY_PATTERN)
    old_key: str = Field(pattern=FINGERPRINT_PATTERN)
    old_public_key: str = Field(min_length=1, max_length=100)
    new_key: str = Field(pattern=FINGERPRINT_PATTERN)
    new_public_key: str = Field(min_length=1, max_length=100)
    effective: str = Field(pattern=TIME_PATTERN)
    revoked_from: str | None = Field(default=None, pattern=TIME_PATTERN)
    card: dict[str, Any]
    sig_old: str | None = Field(default=None, min_length=1, max_length=200)
    sig_new: str = Field(min_length=1, max_length=200)

    def wire(self) -> dict[str, Any]:
        """As signed and as it travels: absent members, never null."""
        return {k: v for k, v in self.model_dump(mode="json").items() if v is not None}

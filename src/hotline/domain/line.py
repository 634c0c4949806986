"""The line's vocabulary: precedence, the signed envelope, the receipt, the peer card.

These models check *shape* only (types, patterns, ranges); whether a signature is
good or a sequence number fits is the protocol's business (``hotline.protocol``).
Wire names follow ``docs/protocol.md``; ``from`` is a Python keyword, so the field is
``from_`` with the alias ``from``.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from hotline.domain.attachments import MAX_ATTACHMENTS, AttachmentRef, check_refs

PARTY_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"
HASH_PATTERN = r"^[0-9a-f]{64}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
FINGERPRINT_PATTERN = r"^ed25519:[0-9a-f]{64}$"
GENESIS = "0" * 64  # ``prev`` of the first envelope in a channel


class Precedence(StrEnum):
    """How urgent a message is, highest first."""

    FLASH = "FLASH"
    IMMEDIATE = "IMMEDIATE"
    PRIORITY = "PRIORITY"
    ROUTINE = "ROUTINE"


PrecedenceName = Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]
Lang = Literal["en", "ru"]


#: Unicode categories a card's names, titles and endpoints may not hold: control (C0,
#: C1), format (bidirectional controls, zero-width characters), surrogates, line and
#: paragraph separators. A card is the peer's own text, printed to the people who pin it.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(value: Any) -> Any:
    """Refuse a card text (or list of texts) holding a control or bidirectional character."""
    for text in value if isinstance(value, list) else [value]:
        for char in text if isinstance(text, str) else "":
            if unicodedata.category(char) in HIDDEN_CATEGORIES:
                raise ValueError(
                    f"holds the control or formatting character U+{ord(char):04X}, "
                    "which a card may not carry"
                )
    return value


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON object exactly as it travels (aliases applied)."""
        return self.model_dump(by_alias=True, mode="json")


USER_PATTERN = r"^[a-z][a-z0-9._-]{1,63}$"  # an operator's name (``services/auth.py``)

#: Why a second person's name is on an envelope: they approved a held FLASH message (the
#: two-person rule), approved a watch-level change, or authorised a safety warning ahead.
ApprovalBasis = Literal["two_person", "watch_level", "preauthorised"]


class Officer(_Wire):
    """The sending officer of an envelope as their node knows them: the account's name
    and, when the node has one, their display name (absent on the wire otherwise)."""

    user: str = Field(pattern=USER_PATTERN)
    name: str | None = Field(default=None, min_length=1, max_length=200)

    _printable = field_validator("name")(printable)

    @model_serializer(mode="wrap")
    def _absent_when_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if out.get("name") is None:
            out.pop("name", None)
        return out


class Approver(Officer):
    """The second person whose decision let the envelope leave, and on what ``basis``."""

    basis: ApprovalBasis


class Envelope(_Wire):
    """One signed message in a (sender, receiver) channel.

    ``ack_by`` is the sender's acknowledgement deadline, signed with the rest, so that
    both sides show the same time however each is configured; it is absent (not null) on
    the wire for messages no person acknowledges. ``sender`` (the officer who sent it) and
    ``approver`` (who approved it, for a held message) are signed too, so that evidence
    proves who as well as what; each is absent on the wire when there is none (a message
    the node sends by itself, an envelope from before they existed), which keeps every
    older envelope's bytes and signature as they were. ``attachments`` (the files the message
    carries, by SHA-256: ``domain/attachments.py``) is absent, not empty, when there are
    none, for the same reason.
    """

    v: Literal[1]
    id: str = Field(pattern=UUID_PATTERN)
    from_: str = Field(alias="from", pattern=PARTY_PATTERN)
    to: str = Field(pattern=PARTY_PATTERN)
    seq: int = Field(ge=1)
    prev: str = Field(pattern=HASH_PATTERN)
    created: str = Field(pattern=TIME_PATTERN)
    ack_by: str | None = Field(default=None, pattern=TIME_PATTERN)
    sender: Officer | None = None
    approver: Approver | None = None
    attachments: list[AttachmentRef] | None = Field(
        default=None, min_length=1, max_length=MAX_ATTACHMENTS
    )
    precedence: PrecedenceName
    type: str = Field(pattern=r"^[a-z][a-z_]{0,39}$")
    lang: Lang
    body: dict[str, Any]
    key: str = Field(pattern=FINGERPRINT_PATTERN)
    sig: str = Field(min_length=1, max_length=200)

    def wire(self) -> dict[str, Any]:
        """As it travels: an envelope without a deadline has no ``ack_by`` member at all
        (what was signed), never ``"ack_by": null``."""
        out = super().wire()
        for optional in ("ack_by", "sender", "approver", "attachments"):
            if out[optional] is None:
                del out[optional]
        return out

    @field_validator("attachments")
    @classmethod
    def _distinct(cls, value: list[AttachmentRef] | None) -> list[AttachmentRef] | None:
        return None if value is None else check_refs(value)


class Receipt(_Wire):
    """The receiver's signed word that it stored an envelope, and where in its log."""

    v: Literal[1]
    type: Literal["receipt"]
    envelope_id: str = Field(pattern=UUID_PATTERN)
    envelope_hash: str = Field(pattern=HASH_PATTERN)
    from_: str = Field(alias="from", pattern=PARTY_PATTERN)
    to: str = Field(pattern=PARTY_PATTERN)
    seq: int = Field(ge=1)
    received: str = Field(pattern=TIME_PATTERN)
    log_index: int = Field(ge=0)
    log_size: int = Field(ge=1)
    log_root: str = Field(pattern=HASH_PATTERN)
    key: str = Field(pattern=FINGERPRINT_PATTERN)
    sig: str = Field(min_length=1, max_length=200)


class Principal(_Wire):
    """A person who holds calls for a party (e.g. the Chairman of the Joint Chiefs)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    name_en: str = Field(min_length=1, max_length=200)
    name_ru: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    title_ru: str = Field(min_length=1, max_length=200)

    _printable = field_validator("name_en", "name_ru", "title_en", "title_ru")(printable)


ChannelKind = Literal["voice", "satphone", "fax", "network", "other"]


class Channel(_Wire):
    """One out-of-band way to reach a rung when the line is down: a phone, a satellite
    phone, a fax, an address on another network. ``hours`` (free text, e.g. "24/7" or
    "06:00-22:00 UTC") is absent on the wire when not given."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    kind: ChannelKind
    value: str = Field(min_length=1, max_length=200)
    label_en: str = Field(min_length=1, max_length=200)
    label_ru: str = Field(min_length=1, max_length=200)
    hours: str | None = Field(default=None, min_length=1, max_length=100)

    _printable = field_validator("value", "label_en", "label_ru", "hours")(printable)

    @model_serializer(mode="wrap")
    def _absent_when_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if out.get("hours") is None:
            out.pop("hours", None)
        return out


class Contact(_Wire):
    """One rung of a party's escalation ladder (duty desk, watch commander, …), in order,
    with the out-of-band channels that reach it (``channels``: absent on the wire when
    there are none, so that a card signed before they existed still verifies)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    role_en: str = Field(min_length=1, max_length=200)
    role_ru: str = Field(min_length=1, max_length=200)
    channels: list[Channel] = Field(default_factory=list, max_length=10)

    _printable = field_validator("role_en", "role_ru")(printable)

    @field_validator("channels")
    @classmethod
    def _distinct_channels(cls, value: list[Channel]) -> list[Channel]:
        ids = [channel.id for channel in value]
        if len(set(ids)) != len(ids):
            raise ValueError("two channels of one contact share an id")
        return value

    @model_serializer(mode="wrap")
    def _absent_when_empty(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if not out.get("channels"):
            out.pop("channels", None)
        return out


class PeerCard(_Wire):
    """What one node hands another, out of band, to be pinned: who it is and its key.

    ``tls_cert`` (base64 DER) and ``tls_pin`` (``sha256:`` + hex SHA-256 of the
    certificate's SubjectPublicKeyInfo) name the node's TLS certificate; they are absent
    (not null) on the wire of an older card that has none, which keeps its signature good.
    """

    v: Literal[1]
    party: str = Field(pattern=PARTY_PATTERN)
    name_en: str = Field(min_length=1, max_length=200)
    name_ru: str = Field(min_length=1, max_length=200)
    lang: Lang
    endpoints: list[str] = Field(min_length=1, max_length=8)
    public_key: str
    fingerprint: str = Field(pattern=FINGERPRINT_PATTERN)
    phrasebook_version: str = Field(min_length=1, max_length=40)
    phrasebook_hash: str = Field(pattern=HASH_PATTERN)
    principals: list[Principal] = Field(default_factory=list, max_length=50)
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    tls_cert: str | None = Field(default=None, min_length=1, max_length=8000)
    tls_pin: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")
    sig: str = Field(min_length=1, max_length=200)

    _printable = field_validator("name_en", "name_ru", "endpoints")(printable)

    def wire(self) -> dict[str, Any]:
        """As signed: a card without a TLS certificate has no ``tls_*`` members at all."""
        out = super().wire()
        for name in ("tls_cert", "tls_pin"):
            if out[name] is None:
                del out[name]
        return out


class TextBody(BaseModel):
    """Body of a ``text`` message: free text in the sender's language."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    text: str = Field(min_length=1, max_length=20_000)


class AckBody(BaseModel):
    """Body of an ``ack`` message: a person at the receiver has read the message."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    ack_of: str = Field(pattern=UUID_PATTERN)
    ack_hash: str = Field(pattern=HASH_PATTERN)
    acked_by: str = Field(min_length=1, max_length=100)
    acked_at: str = Field(pattern=TIME_PATTERN)
